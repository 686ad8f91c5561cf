"""Finding messages in Chinese and English (stored in the conflict table).

Placeholders: {a} {b} feature uids, {m} measured, {r} required, {u} unit.
"""
from __future__ import annotations

import string

import numpy as np

MESSAGES = {
    "pipe_under_road": ("管线 {a} 位于规划车行道 {b} 下，长度 {m:.2f} m",
                        "pipe {a} lies under planned carriageway {b} for {m:.2f} m"),
    "crossing_angle": ("管线 {a} 与道路 {b} 交叉角 {m:.1f}°，小于 {r:.0f}°",
                       "pipe {a} crosses road {b} at {m:.1f}°, less than {r:.0f}°"),
    "cover_depth": ("管线 {a} 最小覆土 {m:.2f} m，小于要求 {r:.2f} m",
                    "pipe {a} has {m:.2f} m of cover, less than the required {r:.2f} m"),
    "depth_unknown": ("管线 {a} 埋深无法确定（无埋深、无高程、无DEM）",
                      "depth of pipe {a} cannot be known (no depth, no elevations, no DEM)"),
    "horizontal_clearance": ("管线 {a} 与 {b} 水平净距 {m:.2f} m，小于 {r:.2f} m",
                             "pipes {a} and {b} are {m:.2f} m apart wall to wall, less than {r:.2f} m"),
    "vertical_clearance": ("管线 {a} 与 {b} 交叉处垂直净距 {m:.2f} m，小于 {r:.2f} m",
                           "pipes {a} and {b} cross with a vertical gap of {m:.2f} m, less than {r:.2f} m"),
    "tree_pipe_clearance": ("树木 {a} 距管线 {b} 外缘 {m:.2f} m，小于 {r:.2f} m",
                            "tree {a} is {m:.2f} m from the edge of pipe {b}, less than {r:.2f} m"),
    "stall_over_structure": ("车位 {a} 与 {b} 距离 {m:.2f} m（要求 {r:.2f} m）",
                             "stall {a} is {m:.2f} m from {b} (required {r:.2f} m)"),
    "fire_lane_obstruction": ("{a} 占用消防车通道 {b}，面积 {m:.2f} m²",
                              "{a} stands in fire lane {b} ({m:.2f} m²)"),
    "fire_lane_width": ("消防车通道 {a} 净宽 {m:.2f} m，小于 {r:.2f} m",
                        "fire lane {a} has a clear width of {m:.2f} m, less than {r:.2f} m"),
    "works_over_pipes": ("作业面 {a} 开挖底距管线 {b} 管顶 {m:.2f} m（安全余量 {r:.2f} m）",
                         "works {a} dig to {m:.2f} m above the top of pipe {b} (margin {r:.2f} m)"),
    "building_clearance": ("管线 {a} 距建筑 {b} {m:.2f} m，小于 {r:.2f} m",
                           "pipe {a} is {m:.2f} m from building {b}, less than {r:.2f} m"),
}


def format_messages(df):
    """(message_zh, message_en) for a findings frame: two Series on ``df.index``.

    Vectorised per rule: the template is split into its literal parts and
    fields; numbers are formatted once per value with the template's own
    format spec, and the parts are joined by Arrow. The text is exactly what
    ``template.format(a=..., b=..., m=..., r=...)`` gives row by row (tested).
    """
    import pandas as pd

    n = len(df)
    rule = _texts(df["rule_id"])
    zh = np.empty(n, dtype=object)
    en = np.empty(n, dtype=object)
    if n:
        values = {"a": _texts(df["uid_a"]), "b": _texts(df["uid_b"]),
                  "m": _numbers(df["measured"]), "r": _numbers(df["required"])}
        codes, uniques = pd.factorize(rule)
        for k, rid in enumerate(uniques):
            rows = np.flatnonzero(codes == k)
            tzh, ten = MESSAGES[rid]
            zh[rows] = _render(tzh, values, rows)
            en[rows] = _render(ten, values, rows)
    dtype = pd.Series(["x"]).dtype  # the text dtype of a list of str (pandas 3: "str")
    return (pd.Series(zh, index=df.index, dtype=dtype), pd.Series(en, index=df.index, dtype=dtype))


def _render(template: str, values: dict, rows: np.ndarray) -> np.ndarray:
    parts = []
    for literal, field, spec, conv in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if field is None:
            continue
        v = values[field][rows]
        if conv:
            v = np.asarray([format({"r": repr, "s": str, "a": ascii}[conv](x), spec) for x in v], object)
        elif spec or field in ("m", "r"):
            v = np.asarray(list(map(("{:" + spec + "}").format, v.tolist())), dtype=object)
        else:
            v = np.asarray(list(map(str, v.tolist())), dtype=object)
        parts.append(v)
    if not any(isinstance(p, np.ndarray) for p in parts):
        return np.full(len(rows), "".join(parts), dtype=object)
    out = None
    for p in parts:  # object-array + is one C loop per part
        out = (np.full(len(rows), p, dtype=object) if isinstance(p, str) else p) if out is None else out + p
    return out


def _texts(col) -> np.ndarray:
    """Column values as the Python objects ``zip(df[col])`` would yield."""
    return np.asarray(col.to_numpy(dtype=object), dtype=object)


def _numbers(col) -> np.ndarray:
    """float(x) of every value, NaN where it is not a number (as ``_num``)."""
    try:
        return np.asarray(col.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    except (TypeError, ValueError):
        return np.asarray([_num(x) for x in col], dtype=float)


def _num(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return x
