"""Finding messages in Chinese and English (stored in the conflict table).

Placeholders: {a} {b} feature uids, {m} measured, {r} required, {u} unit.
"""
from __future__ import annotations

import re
import string

import numpy as np

# The text states the measured value and the requirement, never "less than":
# a "possible" finding can be a near miss that meets the requirement only
# within the survey uncertainty; those get POSSIBLE_SUFFIX.
POSSIBLE_SUFFIX = ("（可能：在测量误差范围内）", " (possible: within the survey uncertainty)")

MESSAGES = {
    "pipe_under_road": ("管线 {a} 位于规划车行道 {b} 下，长度 {m:.2f} m",
                        "pipe {a} lies under planned carriageway {b} for {m:.2f} m"),
    "crossing_angle": ("管线 {a} 与道路 {b} 交叉角 {m:.1f}°（要求 ≥ {r:.0f}°）",
                       "pipe {a} crosses road {b} at {m:.1f}° (required at least {r:.0f}°)"),
    "cover_depth": ("管线 {a} 最小覆土 {m:.2f} m（要求 ≥ {r:.2f} m）",
                    "pipe {a} has {m:.2f} m of cover (required at least {r:.2f} m)"),
    "depth_unknown": ("管线 {a} 埋深无法确定（无埋深、无高程、无DEM）",
                      "depth of pipe {a} cannot be known (no depth, no elevations, no DEM)"),
    "horizontal_clearance": ("管线 {a} 与 {b} 水平净距 {m:.2f} m（要求 ≥ {r:.2f} m）",
                             "pipes {a} and {b} are {m:.2f} m apart wall to wall (required at least {r:.2f} m)"),
    "vertical_clearance": ("管线 {a} 与 {b} 交叉处垂直净距 {m:.2f} m（要求 ≥ {r:.2f} m）",
                           "pipes {a} and {b} cross with a vertical gap of {m:.2f} m (required at least {r:.2f} m)"),
    "tree_pipe_clearance": ("树木 {a} 距管线 {b} 外缘 {m:.2f} m（要求 ≥ {r:.2f} m）",
                            "tree {a} is {m:.2f} m from the edge of pipe {b} (required at least {r:.2f} m)"),
    "stall_over_structure": ("车位 {a} 与 {b} 距离 {m:.2f} m（要求 {r:.2f} m）",
                             "stall {a} is {m:.2f} m from {b} (required {r:.2f} m)"),
    "fire_lane_obstruction": ("{a} 占用消防车通道 {b}，面积 {m:.2f} m²",
                              "{a} stands in fire lane {b} ({m:.2f} m²)"),
    "fire_lane_width": ("消防车通道 {a} 净宽 {m:.2f} m（要求 ≥ {r:.2f} m）",
                        "fire lane {a} has a clear width of {m:.2f} m (required at least {r:.2f} m)"),
    "works_over_pipes": ("作业面 {a} 开挖底距管线 {b} 管顶 {m:.2f} m（安全余量 {r:.2f} m）",
                         "works {a} dig to {m:.2f} m above the top of pipe {b} (margin {r:.2f} m)"),
    "building_clearance": ("管线 {a} 距建筑 {b} {m:.2f} m（要求 ≥ {r:.2f} m）",
                           "pipe {a} is {m:.2f} m from building {b} (required at least {r:.2f} m)"),
}


def format_messages(df):
    """(message_zh, message_en) for a findings frame: two Series on ``df.index``.

    Vectorised per rule: the template is split into its literal parts and
    fields; numbers are formatted once per value with the template's own
    format spec, and the parts are joined by Arrow. The text is exactly what
    ``template.format(a=..., b=..., m=..., r=...)`` gives row by row (tested).
    """
    import pandas as pd
    import pyarrow as pa

    n = len(df)
    out = {}
    if n:
        values = {"a": _arrow_or_texts(df["uid_a"]), "b": _arrow_or_texts(df["uid_b"]),
                  "m": _numbers(df["measured"]), "r": _numbers(df["required"])}
        codes, uniques = pd.factorize(df["rule_id"])
        codes = np.asarray(codes)
        groups = [(np.flatnonzero(codes == k), MESSAGES[rid]) for k, rid in enumerate(uniques)]
        perm = np.concatenate([rows for rows, _ in groups])
        inverse = np.empty(n, dtype=np.int64)
        inverse[perm] = np.arange(n)
        caches = [{} for _ in groups]
        for lang in (0, 1):
            parts = [_render(tpl[lang], values, rows, c) for (rows, tpl), c in zip(groups, caches)]
            out[lang] = parts[0] if len(parts) == 1 else pa.concat_arrays(parts).take(pa.array(inverse))
    else:
        out = {0: pa.array([], pa.large_string()), 1: pa.array([], pa.large_string())}
    if n and "certainty" in df.columns:
        possible = (df["certainty"] == "possible").to_numpy(dtype=bool, na_value=False)
        if possible.any():
            import pyarrow.compute as pc

            mask = pa.array(possible)
            for lang in (0, 1):
                a = out[lang]
                suffixed = pc.binary_join_element_wise(a, pa.scalar(POSSIBLE_SUFFIX[lang], a.type),
                                                       pa.scalar("", a.type))
                out[lang] = pc.if_else(mask, suffixed, a)
    return _text_series(out[0], df.index), _text_series(out[1], df.index)


def _text_series(arr, index):
    """A Series of the text dtype pandas gives a list of str (pandas 3: "str"), from Arrow."""
    import pandas as pd

    dtype = pd.Series(["x"]).dtype
    try:
        return pd.Series(pd.array(arr, dtype=dtype), index=index)
    except (TypeError, ValueError):  # pragma: no cover - pandas without Arrow strings
        return pd.Series(arr.to_pylist(), index=index, dtype=dtype)


def _render(template: str, values: dict, rows: np.ndarray, cache: dict):
    """The messages of ``rows`` from ``template``, as an Arrow large_string array
    (``cache``: formatted fields of these rows, shared by both languages)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = []
    for literal, field, spec, conv in string.Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal, pa.large_string()))
        if field is None:
            continue
        key = (field, spec, conv)
        if key not in cache and isinstance(values[field], pa.Array):
            if not spec and not conv:  # text as it is: Arrow take, no Python objects
                v = values[field]
                cache[key] = v if len(rows) == len(v) and (rows == np.arange(len(v))).all() else v.take(pa.array(rows))
            else:
                values[field] = np.asarray(values[field].to_numpy(zero_copy_only=False), dtype=object)
        if key not in cache:
            v = values[field][rows]
            if conv:
                v = [format({"r": repr, "s": str, "a": ascii}[conv](x), spec) for x in v]
            elif field in ("m", "r") and _FIXED.fullmatch(spec or ""):
                v = _format_fixed(v, int(spec[1:-1]))
            elif spec or field in ("m", "r"):
                v = list(map(("{:" + spec + "}").format, v.tolist()))
            else:
                v = list(map(str, v.tolist()))
            cache[key] = v if isinstance(v, pa.Array) else pa.array(v, pa.large_string())
        parts.append(cache[key])
    if not any(isinstance(p, pa.Array) for p in parts):
        return pa.array(["".join(p.as_py() for p in parts)] * len(rows), pa.large_string())
    return pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))


_FIXED = re.compile(r"\.[0-9]f")


def _format_fixed(x: np.ndarray, decimals: int):
    """``format(v, f".{decimals}f")`` of every value, vectorised (Arrow strings).

    Rounded with integers; the values whose scaled fraction lies too close to
    a half for float arithmetic to decide it the way Python does (which rounds
    the exact binary value), and the huge and non-finite ones, are formatted
    by Python itself. The sign is Python's too: -0.001 gives "-0.00".
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    x = np.asarray(x, dtype=float)
    scale = 10.0 ** decimals
    a = np.abs(x)
    y = a * scale
    with np.errstate(invalid="ignore"):
        frac = y - np.floor(y)
        unsure = ~np.isfinite(x) | (y >= 1e9) | (np.abs(frac - 0.5) < 1e-6)
    k = np.where(unsure, 0.0, np.rint(y)).astype(np.int64)
    whole = pa.array(k // int(scale)).cast(pa.large_string())
    sign = pa.array(np.where(np.signbit(x), "-", ""), pa.large_string())
    if decimals:
        dec = pc.utf8_lpad(pa.array(k % int(scale)).cast(pa.large_string()), decimals, "0")
        out = pc.binary_join_element_wise(sign, whole, pa.scalar(".", pa.large_string()), dec,
                                          pa.scalar("", pa.large_string()))
    else:
        out = pc.binary_join_element_wise(sign, whole, pa.scalar("", pa.large_string()))
    if unsure.any():
        idx = np.flatnonzero(unsure)
        fix = pa.array([format(v, f".{decimals}f") for v in x[idx].tolist()], pa.large_string())
        out = np.asarray(out.to_numpy(zero_copy_only=False), dtype=object)
        out[idx] = fix.to_numpy(zero_copy_only=False)
        out = pa.array(out, pa.large_string())
    return out


def _arrow_or_texts(col):
    """A text column as an Arrow large_string array when it is Arrow-backed
    text without missing values (no Python objects), else as ``_texts``."""
    import pyarrow as pa

    arr = getattr(col, "array", None)
    if hasattr(arr, "__arrow_array__"):
        try:
            a = pa.array(arr)
            if isinstance(a, pa.ChunkedArray):
                a = a.combine_chunks()
            if (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)) and a.null_count == 0:
                return a.cast(pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            pass
    return _texts(col)


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
