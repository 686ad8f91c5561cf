"""Tree-row geometry (tools/tree_row.py) against hand-made cases."""
import pathlib
import sys

import pytest
import shapely
from shapely.geometry import LineString, Point, box

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import layer_frame, make_project, run_rule  # noqa: E402

from renewal_planner.layers.errors import InputError  # noqa: E402
from renewal_planner.tools.rowgeom import read_obstacles  # noqa: E402
from renewal_planner.tools.tree_row import tree_row  # noqa: E402

# gas main DN200 (outer width 0.2 m) along y = 0 from x 0 to 30; clearance tree-RQ 1.2 m (CJJ 75 table 6.2.1)
GAS = dict(geometry=LineString([(0, 0), (30, 0)]), utility="RQ", diameter_mm=200, pressure_mpa=0.2,
           uid="RQ1", acc_h=0.0, depth_start=1.0, depth_end=1.0)
LANE = dict(geometry=box(41, -2, 48, 4), uid="XF1")


def obstacles(*pipes, lanes=(LANE,)):
    return {"pipe_segment": layer_frame("pipe_segment", list(pipes)),
            "fire_lane": layer_frame("fire_lane", list(lanes))}


def test_tree_row_along_a_gas_main_skips_the_right_positions():
    # row 1 m off the main: edge distance 0.9 < 1.2 for x <= 30; beyond the end hypot(6, 1) - 0.1
    df = tree_row([(0, 1), (60, 1)], 6.0, species="国槐", kind="tree", obstacles=obstacles(GAS))
    assert len(df) == 11
    assert [p.x for p in df.geometry] == pytest.approx(list(range(0, 61, 6)))
    skipped = dict(zip(df["chainage_m"], df["reason"]))
    assert {s for s, r in skipped.items() if r == "pipe"} == {0, 6, 12, 18, 24, 30}
    # x 42 lies inside the lane; x 48 is on its edge (not inside)
    assert skipped[42] == "fire_lane" and skipped[48] == "" and skipped[36] == ""
    assert df.loc[df["chainage_m"] == 12, "reason_en"].item() == \
        "0.90 m from the edge of pipe RQ1, less than 1.20 m"
    assert "RQ1" in df.loc[df["chainage_m"] == 12, "reason_zh"].item()
    assert (df["species"] == "国槐").all() and (df["kind"] == "tree").all()


def test_diagonal_row_against_hand_computed_clearance():
    # y = 0.5 + 0.05 x: edge distance y - 0.1 < 1.2 while x < 16
    line = LineString([(0, 0.5), (60, 3.5)])
    df = tree_row(line, 6.0, obstacles=obstacles(dict(GAS, geometry=LineString([(-10, 0), (100, 0)])), lanes=()))
    x = [p.x for p in df.geometry]
    expect = [xx < 16 for xx in x]
    assert df["skipped"].tolist() == expect
    assert sum(expect) == 3


def test_kind_and_class_pick_the_table_value():
    # water DN100 along y = 0; row at y = 1.2: edge distance 1.15
    js = dict(geometry=LineString([(-5, 0), (50, 0)]), utility="JS", diameter_mm=100, uid="JS1")
    line = [(0, 1.2), (12, 1.2)]
    assert tree_row(line, 6, kind="tree", obstacles=obstacles(js, lanes=()))["skipped"].all()   # 1.5
    assert not tree_row(line, 6, kind="shrub", obstacles=obstacles(js, lanes=()))["skipped"].any()  # 1.0
    # a 2.0 m wide box section (width_mm) beats diameter: edge 1.2 - 1.0 = 0.2 < 1.0
    box_pipe = dict(js, utility="DL", diameter_mm=100, width_mm=2000, height_mm=500)
    assert tree_row(line, 6, kind="shrub", obstacles=obstacles(box_pipe, lanes=()))["skipped"].all()


def test_placed_trees_raise_no_finding_skipped_ones_do(tmp_path):
    """Independent oracle: the check engine's tree_pipe_clearance and fire_lane_obstruction."""
    df = tree_row([(0, 0.5), (60, 3.5)], 3.0, obstacles=obstacles(GAS))
    trees = [dict(geometry=g, uid=f"T{k}", kind="tree") for k, g in zip(df["slot"], df.geometry)]
    p = make_project(tmp_path, tree=trees, pipe_segment=[GAS], fire_lane=[LANE])
    hit_pipe = set(run_rule(p, "tree_pipe_clearance")["uid_a"])
    hit_lane = set(run_rule(p, "fire_lane_obstruction")["uid_a"])
    assert hit_pipe == {f"T{k}" for k, r in zip(df["slot"], df["reason"]) if "pipe" in r}
    assert hit_lane == {f"T{k}" for k, r in zip(df["slot"], df["reason"]) if "fire_lane" in r}
    assert hit_pipe and hit_lane


def test_spacing_and_end():
    df = tree_row([(0, 0), (10, 0)], 4.0)
    assert df["chainage_m"].tolist() == [0, 4, 8]
    df = tree_row([(0, 0), (12, 0)], 4.0)
    assert df["chainage_m"].tolist() == [0, 4, 8, 12]
    assert not df["skipped"].any()


def test_abandoned_pipe_read_from_project_does_not_block(tmp_path):
    p = make_project(tmp_path, pipe_segment=[GAS, dict(GAS, uid="RQ0", status="abandoned",
                                                          geometry=LineString([(30, 0), (60, 0)]))],
                     renovation_area=[dict(geometry=box(-10, -10, 70, 10), community="甲小区")])
    obs = read_obstacles(p, (0, -5, 60, 5), ["pipe_segment", "fire_lane", "renovation_area"])
    df = tree_row([(0, 1), (60, 1)], 6.0, obstacles=obs)
    assert set(df.loc[df["skipped"], "chainage_m"]) == {0, 6, 12, 18, 24, 30}
    assert (df["community"] == "甲小区").all()


def test_bad_input():
    with pytest.raises(InputError, match="zero length"):
        tree_row([(3, 3), (3, 3)], 6)
    with pytest.raises(InputError, match="spacing"):
        tree_row([(0, 0), (10, 0)], 0)
    with pytest.raises(InputError, match="kind"):
        tree_row([(0, 0), (10, 0)], 5, kind="palm")
    with pytest.raises(InputError, match="line"):
        tree_row(Point(0, 0), 5)
