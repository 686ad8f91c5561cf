"""Which function checks which rule. Modules are imported only when their
rule runs, so one rule's dependencies never slow another down."""
from __future__ import annotations

import importlib

# rule_id -> (module in tools/engine, function, layers it reads)
RULES = {
    "pipe_under_road": ("rule_roads", "check_pipe_under_road", ("pipe_segment", "planned_road")),
    "crossing_angle": ("rule_roads", "check_crossing_angle", ("pipe_segment", "planned_road")),
    "cover_depth": ("rule_cover", "check_cover_depth", ("pipe_segment", "pipe_point", "planned_road")),
    "depth_unknown": ("pipes", "check_depth_unknown", ("pipe_segment", "pipe_point")),
    "horizontal_clearance": ("rule_pipe_pairs", "check_horizontal_clearance", ("pipe_segment",)),
    "vertical_clearance": ("rule_pipe_pairs", "check_vertical_clearance", ("pipe_segment", "pipe_point")),
    "tree_pipe_clearance": ("rule_trees", "check_tree_pipe_clearance", ("tree", "pipe_segment")),
    "stall_over_structure": ("rule_stalls", "check_stall_over_structure", ("parking_stall", "pipe_point")),
    "fire_lane_obstruction": ("rule_fire", "check_fire_lane_obstruction",
                              ("fire_lane", "parking_stall", "tree", "building")),
    "fire_lane_width": ("rule_fire", "check_fire_lane_width", ("fire_lane", "parking_stall", "tree", "building")),
    "works_over_pipes": ("rule_works", "check_works_over_pipes", ("renovation_work", "pipe_segment", "pipe_point")),
    "building_clearance": ("rule_buildings", "check_building_clearance", ("pipe_segment", "building")),
}

# The attribute columns the engine reads of each layer (besides the geometry):
# the union of what the rules and the pipe model (pipes.py) use. Descriptive
# fields (source, updated_at, note, owner, names, survey dates, ...) are never
# read by a check: at a million pipe segments every text column costs ~0.1-0.3 s
# of reading. A rule that starts using another field must add it here (a
# missing column is a KeyError in that rule's tests, never a silent NULL).
# Layers not listed are read with all their model fields.
LAYER_COLUMNS = {
    "pipe_segment": ("uid", "status", "utility", "subclass", "start_uid", "end_uid", "diameter_mm",
                     "width_mm", "height_mm", "depth_start", "depth_end", "depth_ref", "burial",
                     "pressure_mpa", "voltage_kv", "cable_count", "acc_h", "acc_v"),
    "pipe_point": ("uid", "status", "utility", "subclass", "feature", "appurtenance", "ground_elev",
                   "depth", "cover_size", "acc_h", "acc_v"),
    "planned_road": ("uid", "status", "road_class", "part", "red_line_width_m"),
    "tree": ("uid", "status", "kind", "crown_m", "dbh_cm"),
    "parking_stall": ("uid", "status", "stall_type", "width_m", "length_m", "angle_deg"),
    "fire_lane": ("uid", "status", "required_width_m"),
    "building": ("uid", "status", "floors", "foundation_depth_m"),
    "renovation_work": ("uid", "status", "area_uid", "work_type", "excavation_depth_m"),
}


def rule_layers(rule_ids) -> list:
    """The layers the given rules read, in first-use order."""
    out = []
    for rid in rule_ids:
        for name in RULES[rid][2]:
            if name not in out:
                out.append(name)
    return out


def layer_columns(rule_ids=None) -> dict:
    """layer -> attribute columns to read for a run of ``rule_ids`` (all rules when None)."""
    names = rule_layers(rule_ids if rule_ids is not None else list(RULES))
    return {n: list(LAYER_COLUMNS[n]) for n in names if n in LAYER_COLUMNS}


def rule_function(rule_id: str):
    module, func, _ = RULES[rule_id]
    mod = importlib.import_module(f"{__package__}.{module}")
    return getattr(mod, func)
