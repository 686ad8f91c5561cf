"""Stall-row geometry (tools/stall_row.py) against hand-made cases."""
import math
import pathlib
import sys

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import layer_frame, make_project, run_rule  # noqa: E402

from renewal_planner.layers.errors import InputError  # noqa: E402
from renewal_planner.tools import layouts  # noqa: E402
from renewal_planner.tools.rowgeom import read_obstacles  # noqa: E402
from renewal_planner.tools.stall_row import stall_row  # noqa: E402

# A 48 m row, perpendicular stalls 2.4 x 5.3 on the left (y 0..5.3):
# slot k spans x = 2.4k .. 2.4(k+1), 20 slots.
ROW = [(0.0, 0.0), (48.0, 0.0)]


def obstacles():
    return {
        "fire_lane": layer_frame("fire_lane", [dict(geometry=box(10, -2, 14, 10), uid="XF1")]),
        "pipe_point": layer_frame("pipe_point", [
            dict(geometry=Point(20.0, 2.0), utility="PS", appurtenance="manhole", uid="M1", acc_h=0.0),
            # a valve just above the row, cover 0.3 (r 0.15), 0.1 m from slots 10 and 11
            dict(geometry=Point(26.4, 5.4), utility="JS", appurtenance="valve", cover_size=0.3, uid="V1",
                 acc_h=0.0),
            dict(geometry=Point(31.0, 2.0), utility="JS", appurtenance="none", uid="N1", acc_h=0.0),
            dict(geometry=Point(40.1, -3.0), utility="JS", appurtenance="hydrant", uid="H1", acc_h=0.0),
        ]),
        "tree": layer_frame("tree", [dict(geometry=Point(1.0, 7.0), kind="tree", crown_m=4.0, uid="T1")]),
        "building": layer_frame("building", [dict(geometry=box(46.5, 3, 50, 10), uid="B1")]),
        "renovation_area": layer_frame("renovation_area", [
            dict(geometry=box(0, -10, 24, 20), community="甲小区", uid="A1"),
            dict(geometry=box(24, -10, 60, 20), community="乙小区", uid="A2")]),
    }


def same(a, b, tol=1e-9):
    """Same polygon up to float noise."""
    return a.symmetric_difference(b).area < tol and a.hausdorff_distance(b) < 1e-6


EXPECTED_SKIPS = {0: "tree", 4: "fire_lane", 5: "fire_lane", 8: "structure", 10: "structure",
                  11: "structure", 15: "hydrant", 16: "hydrant", 17: "hydrant", 18: "hydrant",
                  19: "building"}


def test_row_across_lane_manhole_hydrant_leaves_exactly_the_right_gaps():
    df = stall_row(ROW, "perpendicular", obstacles=obstacles())
    assert len(df) == 20
    skipped = {int(s): r for s, r, k in zip(df["slot"], df["reason"], df["skipped"]) if k}
    assert skipped == EXPECTED_SKIPS
    placed = df[~df["skipped"]]
    assert list(placed["slot"]) == [1, 2, 3, 6, 7, 9, 12, 13, 14]
    assert list(placed["stall_no"]) == [f"P{i}" for i in range(1, 10)]
    assert df.loc[df["skipped"], "stall_no"].isna().all()
    # reasons name the obstacle, in both languages
    r = df.set_index("slot")
    assert r.loc[4, "reason_en"] == "on fire lane XF1" and "XF1" in r.loc[4, "reason_zh"]
    assert "M1" in r.loc[8, "reason_en"] and "V1" in r.loc[10, "reason_en"]
    assert "H1" in r.loc[16, "reason_en"] and "消火栓" in r.loc[16, "reason_zh"]
    # each slot is the hand-computed rectangle
    for k in (1, 14):
        assert same(df.geometry.iloc[k], box(2.4 * k, 0, 2.4 * (k + 1), 5.3))
    assert (placed["stall_type"] == "perpendicular").all()
    assert (placed["width_m"] == 2.4).all() and (placed["length_m"] == 5.3).all()
    assert (placed["angle_deg"] == 90).all()
    # community from the area under the stall (slot 9 ends at x 24.0, slot 12 starts at 28.8)
    assert r.loc[9, "community"] == "甲小区" and r.loc[12, "community"] == "乙小区"


def test_placed_stalls_raise_no_finding_and_skipped_ones_do(tmp_path):
    """Independent oracle: the check engine's own rules on every candidate."""
    obs = obstacles()
    df = stall_row(ROW, obstacles=obs)
    cand = [dict(geometry=g, uid=f"S{k}", stall_type="perpendicular") for k, g in zip(df["slot"], df.geometry)]

    def rows(name):
        f = obs[name]
        return [dict(r, geometry=g) for r, g in zip(f.drop(columns="geometry").to_dict("records"), f.geometry)]

    p = make_project(tmp_path, parking_stall=cand, pipe_point=rows("pipe_point"), fire_lane=rows("fire_lane"))
    hit = set(run_rule(p, "stall_over_structure")["uid_a"]) | set(run_rule(p, "fire_lane_obstruction")["uid_a"])
    expect = {f"S{k}" for k, r in EXPECTED_SKIPS.items() if r in ("structure", "hydrant", "fire_lane")}
    assert hit == expect


def test_hydrant_boundary_and_cover_size_touching():
    # stall 0..2.4 x 0..5.3; hydrant exactly 5 m below the kerb: not closer than 5 m -> placed
    obs = {"pipe_point": layer_frame("pipe_point", [
        dict(geometry=Point(1.0, -5.0), utility="JS", appurtenance="hydrant", uid="H")])}
    df = stall_row([(0, 0), (2.4, 0)], obstacles=obs)
    assert not df["skipped"].any()
    obs["pipe_point"] = layer_frame("pipe_point", [
        dict(geometry=Point(1.0, -4.99), utility="JS", appurtenance="hydrant", uid="H")])
    assert stall_row([(0, 0), (2.4, 0)], obstacles=obs)["skipped"].all()
    # a manhole cover touching the stall edge counts (distance == radius): cover 1.0 at 0.5 m
    obs["pipe_point"] = layer_frame("pipe_point", [
        dict(geometry=Point(1.0, -0.5), utility="PS", appurtenance="manhole", cover_size=1.0, uid="M")])
    assert stall_row([(0, 0), (2.4, 0)], obstacles=obs)["reason"].tolist() == ["structure"]
    # default cover of a valve (0.3 -> r 0.15) at 0.2 m: clear
    obs["pipe_point"] = layer_frame("pipe_point", [
        dict(geometry=Point(1.0, -0.2), utility="JS", appurtenance="valve", uid="V")])
    assert not stall_row([(0, 0), (2.4, 0)], obstacles=obs)["skipped"].any()


def test_tree_point_inside_and_default_crown():
    trees = layer_frame("tree", [dict(geometry=Point(1.2, 2.0), kind="tree", uid="T1"),      # inside slot 0
                                 dict(geometry=Point(3.6, 5.7), kind="tree", uid="T2"),      # 0.4 m off slot 1, default r 0.5
                                 dict(geometry=Point(6.0, 5.9), kind="tree", uid="T3")])     # 0.6 m off slot 2
    df = stall_row([(0, 0), (9.6, 0)], obstacles={"tree": trees})
    assert df["reason"].tolist() == ["tree", "tree", "", ""]


@pytest.mark.parametrize("angle", [30, 45, 60])
def test_angled_stall_shape(angle):
    w, l = layouts.stall_size("angled")[:2]
    assert (w, l) == (2.8, 6.0)
    df = stall_row([(0, 0), (40, 0)], "angled", angle_deg=angle)
    t = math.radians(angle)
    pitch = w / math.sin(t)
    assert len(df) == math.floor(40 / pitch + 1e-9)
    g = df.geometry.iloc[1]
    xy = shapely.get_coordinates(g)[:4]
    # kerb edge from pitch to 2 pitch, long sides of 6.0 m leaving the kerb at the angle
    assert xy[0] == pytest.approx([pitch, 0]) and xy[1] == pytest.approx([2 * pitch, 0])
    side = xy[2] - xy[1]
    assert np.hypot(*side) == pytest.approx(l)
    assert math.degrees(math.atan2(side[1], side[0])) == pytest.approx(angle)
    assert g.area == pytest.approx(w * l)
    # the long sides are w apart
    assert LineString([xy[0], xy[3]]).distance(Point(xy[1])) == pytest.approx(w)
    assert (df["angle_deg"] == angle).all() and (df["stall_type"] == "angled").all()
    # neighbours share their long side, no overlap
    assert df.geometry.iloc[0].intersection(g).area == pytest.approx(0, abs=1e-9)


def test_parallel_and_right_side():
    df = stall_row([(0, 0), (30, 0)], "parallel", side="right")
    assert len(df) == 5
    assert same(df.geometry.iloc[2], box(12, -2.5, 18, 0))
    assert (df["width_m"] == 2.5).all() and (df["length_m"] == 6.0).all() and (df["angle_deg"] == 0).all()


def test_numbering_prefix_start_digits():
    df = stall_row([(0, 0), (12, 0)], prefix="CW-", start_no=101, digits=4)
    assert df["stall_no"].tolist() == ["CW-0101", "CW-0102", "CW-0103", "CW-0104", "CW-0105"]


def test_accessible_share_and_aisle():
    # 48 m: 20 plain stalls -> 5 % needs 1 accessible stall; with it (3.6 m) 18 more fit
    df = stall_row(ROW, accessible_share=0.05)
    assert df["stall_type"].tolist() == ["accessible"] + ["perpendicular"] * 18
    assert same(df.geometry.iloc[0], box(0, 0, 3.6, 5.3))
    assert df["width_m"].iloc[0] == pytest.approx(3.6)
    # 20 %: k = 4 -> 4 x 3.6 + 14 x 2.4 = 48 -> 18 stalls, ceil(3.6) = 4
    df = stall_row(ROW, accessible_share=0.2)
    assert (df["stall_type"] == "accessible").sum() == 4 and len(df) == 18
    # the GB 55019 housing share 0.5 % still gives one accessible stall in a short row
    df = stall_row([(0, 0), (12, 0)], accessible_share=0.005)
    assert (df["stall_type"] == "accessible").sum() == 1
    # an accessible slot on a fire lane does not count: another one is added
    lane = {"fire_lane": layer_frame("fire_lane", [dict(geometry=box(-1, -1, 3, 10), uid="XF")])}
    df = stall_row(ROW, accessible_share=0.05, obstacles=lane)
    placed = df[~df["skipped"]]
    assert df["skipped"].tolist()[:1] == [True] and (placed["stall_type"] == "accessible").sum() == 1
    assert placed["stall_type"].iloc[0] == "accessible"


def test_ev_share_from_the_row_end():
    df = stall_row([(0, 0), (24, 0)], ev_share=0.2)
    assert df["stall_type"].tolist() == ["perpendicular"] * 8 + ["ev_charging"] * 2


def test_bent_kerb_inner_corner_not_doubled():
    df = stall_row([(0, 0), (12, 0), (12, 10)], side="left")
    placed = df[~df["skipped"]]
    u = shapely.union_all(placed.geometry.values)
    assert u.area == pytest.approx(placed.geometry.area.sum())  # no overlaps among placed
    assert "stall" in set(df["reason"])


def test_bad_input():
    with pytest.raises(InputError, match="zero length"):
        stall_row([(1, 1), (1, 1)])
    with pytest.raises(InputError, match="width"):
        stall_row(ROW, width_m=0)
    with pytest.raises(InputError, match="angle"):
        stall_row(ROW, "angled", angle_deg=90)
    with pytest.raises(InputError, match="layout"):
        stall_row(ROW, "diagonal")
    assert len(stall_row([(0, 0), (2.0, 0)])) == 0  # shorter than a stall: nothing


def test_obstacles_read_from_a_project_skip_abandoned(tmp_path):
    p = make_project(tmp_path, fire_lane=[dict(geometry=box(10, -2, 14, 10), uid="XF1"),
                                          dict(geometry=box(30, -2, 34, 10), uid="XF2", status="abandoned")],
                     renovation_area=[dict(geometry=box(0, -10, 60, 20), community="甲小区")])
    obs = read_obstacles(p, (0, -10, 48, 10), ["fire_lane", "pipe_point", "renovation_area"])
    df = stall_row(ROW, obstacles=obs)
    assert set(df.loc[df["skipped"], "slot"]) == {4, 5}
    assert (df["community"] == "甲小区").all()
