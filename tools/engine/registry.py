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


def rule_function(rule_id: str):
    module, func, _ = RULES[rule_id]
    mod = importlib.import_module(f"{__package__}.{module}")
    return getattr(mod, func)
