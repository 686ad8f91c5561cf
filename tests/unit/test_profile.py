"""Longitudinal profiles (tools/profile.py) and their plot: a hand-made
3-segment drainage run with one reverse slope, a branch joining it, a pipe
touching it only in geometry, crossing pipes, and the demo district."""
import copy
import pathlib
import sys
import xml.etree.ElementTree as ET

import pytest
from shapely.geometry import LineString, Point

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import make_project  # noqa: E402

from renewal_planner.layers.errors import InputError  # noqa: E402
from renewal_planner.tools import plots  # noqa: E402
from renewal_planner.tools.profile import longitudinal_profile  # noqa: E402
from renewal_planner.tools.section import load_settings  # noqa: E402


def pt(uid, x, y, ground=10.0, utility="PS", depth=None):
    return {"geometry": Point(x, y), "uid": uid, "utility": utility, "ground_elev": ground, "depth": depth}


def ps(uid, a, b, xa, xb, da, db, ya=0.0, yb=0.0, dia=400):
    return {"geometry": LineString([(xa, ya), (xb, yb)]), "uid": uid, "utility": "PS", "subclass": "WS",
            "start_uid": a, "end_uid": b, "depth_start": da, "depth_end": db, "depth_ref": "invert",
            "diameter_mm": dia}


def run_layers():
    """A -> B -> C -> D along y = 0 (30 m each), ground 10 everywhere.
    Invert depths A 2.0, B 2.1, C 2.05, D 2.3: inverts 8.0, 7.9, 7.95, 7.7, so
    B -> C rises by 0.05 (> 0.02: reverse). S2 is digitised against the flow.
    F -> B: a branch joining at B from the north (invert at B 7.95).
    X1: a PS segment whose geometry starts at D but whose uids name other points.
    JS1 crosses S3 at x = 75 (top depth 1.0, DN200: 9.0..8.8);
    RQ1 crosses S2 at x = 45 (top depth 1.5, DN200: 8.5..8.3)."""
    points = [pt("A", 0, 0), pt("B", 30, 0), pt("C", 60, 0), pt("D", 90, 0), pt("F", 30, 30),
              pt("X", 90, 0), pt("Y", 120, 0)]
    segments = [
        ps("S1", "A", "B", 0, 30, 2.0, 2.1),
        ps("S2", "C", "B", 60, 30, 2.05, 2.1),
        ps("S3", "C", "D", 60, 90, 2.05, 2.3),
        ps("S6", "F", "B", 30, 30, 1.8, 2.05, ya=30, yb=0, dia=300),
        ps("X1", "X", "Y", 90, 120, 2.4, 2.5),
        {"geometry": LineString([(75, -5), (75, 5)]), "uid": "JS1", "utility": "JS",
         "depth_start": 1.0, "depth_end": 1.0, "depth_ref": "top", "diameter_mm": 200},
        {"geometry": LineString([(45, -5), (45, 5)]), "uid": "RQ1", "utility": "RQ",
         "depth_start": 1.5, "depth_end": 1.5, "depth_ref": "top", "diameter_mm": 200, "pressure_mpa": 0.2},
    ]
    return points, segments


@pytest.fixture
def net(tmp_path):
    points, segments = run_layers()
    return make_project(tmp_path, pipe_point=points, pipe_segment=segments)


def test_run_follows_the_uids_downhill_with_chainage(net):
    pr = longitudinal_profile(net, "S1")
    s = pr.segments
    assert list(s["uid"]) == ["S1", "S2", "S3"]          # not the branch S6, not X1 (geometry only)
    assert list(s["from_point"]) == ["A", "B", "C"] and list(s["to_point"]) == ["B", "C", "D"]
    assert list(s["digitised_forward"]) == [True, False, True]
    assert pr.gravity and pr.direction == "invert"
    assert s["ch0"].tolist() == pytest.approx([0, 30, 60]) and s["ch1"].tolist() == pytest.approx([30, 60, 90])
    assert s["invert0"].tolist() == pytest.approx([8.0, 7.9, 7.95])
    assert s["invert1"].tolist() == pytest.approx([7.9, 7.95, 7.7])
    assert s["top0"].tolist() == pytest.approx([8.4, 8.3, 8.35])
    assert s["ground0"].tolist() == pytest.approx([10.0, 10.0, 10.0])
    assert s["slope_permille"].tolist() == pytest.approx([100 / 30, -50 / 30, 250 / 30])
    assert list(pr.nodes["point"]) == ["A", "B", "C", "D"]
    assert pr.nodes["chainage"].tolist() == pytest.approx([0, 30, 60, 90])


def test_reverse_slope_flagged_only_where_it_is(net):
    pr = longitudinal_profile(net, "S3")
    assert list(pr.segments["uid"]) == ["S1", "S2", "S3"]  # any segment of the run gives the run
    assert pr.segments["reverse"].tolist() == [False, True, False]
    assert list(pr.reverse["uid"]) == ["S2"]
    assert pr.segments.set_index("uid").loc["S2", "rise"] == pytest.approx(0.05)
    # the tolerance is data: at 0.06 m the 0.05 m rise is within it
    cfg = copy.deepcopy(load_settings())
    cfg["profile"]["reverse_slope_tolerance_m"] = 0.06
    assert not longitudinal_profile(net, "S3", settings=cfg).segments["reverse"].any()


def test_a_branch_joins_the_run_downstream(net):
    pr = longitudinal_profile(net, "S6")
    assert list(pr.segments["uid"]) == ["S6", "S2", "S3"]
    assert list(pr.segments["from_point"]) == ["F", "B", "C"]


def test_crossing_pipes_at_their_chainage_and_gap(net):
    pr = longitudinal_profile(net, "S1")
    c = pr.crossings.set_index("uid")
    assert set(c.index) == {"JS1", "RQ1"}  # S6 and X1 are connections / not crossings
    assert c.loc["RQ1", "chainage"] == pytest.approx(45.0)
    assert c.loc["JS1", "chainage"] == pytest.approx(75.0)
    assert c.loc["JS1", ["top", "bottom"]].tolist() == pytest.approx([9.0, 8.8])
    # run at x = 75: invert 7.825, top 8.225 -> gap 0.575 >= PS-JS 0.40
    assert c.loc["JS1", "gap"] == pytest.approx(0.575)
    assert c.loc["JS1", "required"] == pytest.approx(0.40) and not c.loc["JS1", "breach"]
    # run at x = 45: invert 7.925, top 8.325; RQ bottom 8.3 -> -0.025 < 0.15
    assert c.loc["RQ1", "gap"] == pytest.approx(-0.025)
    assert bool(c.loc["RQ1", "breach"])


def test_non_gravity_runs_follow_the_digitised_direction(tmp_path):
    points = [pt("A", 0, 0, utility="JS"), pt("B", 30, 0, utility="JS"), pt("C", 60, 0, utility="JS")]
    segs = [{"geometry": LineString([(0, 0), (30, 0)]), "uid": "W1", "utility": "JS", "start_uid": "A",
             "end_uid": "B", "depth_start": 1.0, "depth_end": 1.5, "diameter_mm": 200},
            {"geometry": LineString([(30, 0), (60, 0)]), "uid": "W2", "utility": "JS", "start_uid": "B",
             "end_uid": "C", "depth_start": 1.5, "depth_end": 1.0, "diameter_mm": 200}]
    path = make_project(tmp_path, pipe_point=points, pipe_segment=segs)
    pr = longitudinal_profile(path, "W2")
    assert list(pr.segments["uid"]) == ["W1", "W2"] and pr.direction == "digitised"
    assert not pr.gravity and not pr.segments["reverse"].any()  # rises are no reverse slope for water


def test_explicit_run_and_bad_input(net):
    pr = longitudinal_profile(net, uids=["S3", "S2", "S1"])
    assert list(pr.segments["uid"]) == ["S1", "S2", "S3"]  # oriented downhill
    with pytest.raises(InputError, match="S1 and S3 are not connected"):
        longitudinal_profile(net, uids=["S1", "S3"])
    with pytest.raises(InputError, match="no active pipe segment with uid 'NOPE'"):
        longitudinal_profile(net, "NOPE")
    with pytest.raises(InputError, match="pick a pipe"):
        longitudinal_profile(net)


def test_profile_plot_marks_the_reverse_slope(net, tmp_path):
    pr = longitudinal_profile(net, "S1")
    fig = plots.plot_profile(pr)
    ax = fig.axes[0]
    gids = {a.get_gid(): a for a in list(ax.lines) + list(ax.texts) if a.get_gid()}
    assert "reverse:S2" in gids and "reverse:S1" not in gids and "reverse:S3" not in gids
    assert gids["invert:S2"].get_linewidth() > gids["invert:S1"].get_linewidth()
    assert gids["invert:S3"].get_xdata() == pytest.approx([60, 90])
    assert gids["invert:S3"].get_ydata() == pytest.approx([7.95, 7.7])
    assert gids["slope:S1"].get_text() == "3.3‰"
    assert "倒坡" in gids["slope:S2"].get_text() and "-1.7‰" in gids["slope:S2"].get_text()
    assert gids["crossing:JS1"].get_xdata() == pytest.approx([75, 75])
    assert gids["crossing:JS1"].get_ydata() == pytest.approx([8.8, 9.0])
    assert "breach:crossing:RQ1:marker" in gids and "breach:crossing:JS1:marker" not in gids
    svg = plots.export(fig, str(tmp_path / "p.svg"))
    ids = {e.get("id") for e in ET.parse(svg).getroot().iter() if e.get("id")}
    assert {"reverse:S2", "crossing:JS1", "crossing:RQ1"} <= ids
    assert "纵断面" in open(svg, encoding="utf-8").read()


def test_demo_branch_sewer_runs_into_the_arterial_main(tmp_path_factory):
    from renewal_planner.tools.demo import build_demo

    out = build_demo(str(tmp_path_factory.mktemp("demo")), with_styles=False)
    pr = longitudinal_profile(out["project"], "YS0024-YS0025")
    s = pr.segments
    assert pr.direction == "invert"
    # the run stays on the same class and is connected point to point
    assert (s["utility"] == "PS").all()
    assert list(s["to_point"].iloc[:-1]) == list(s["from_point"].iloc[1:])
    # it falls overall, and every flagged segment rises by more than the tolerance
    assert s["invert0"].iloc[0] > s["invert1"].iloc[-1]
    assert (s.loc[s["reverse"], "rise"] > 0.02).all() and (s.loc[~s["reverse"], "rise"] <= 0.02).all()
    # the arterial's pressure pipes and cables cross it where it joins the arterial main
    assert {"DL", "TX", "RQ", "JS"} <= set(pr.crossings["utility"])
