"""Finding messages in Chinese and English (stored in the conflict table).

Placeholders: {a} {b} feature uids, {m} measured, {r} required, {u} unit.
"""

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
    """(message_zh, message_en) lists for a findings frame."""
    zh, en = [], []
    for rule, a, b, m, r in zip(df["rule_id"], df["uid_a"], df["uid_b"], df["measured"], df["required"]):
        tzh, ten = MESSAGES[rule]
        kw = dict(a=a, b=b, m=_num(m), r=_num(r))
        zh.append(tzh.format(**kw))
        en.append(ten.format(**kw))
    return zh, en


def _num(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return x
