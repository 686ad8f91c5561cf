"""cover_depth: hand-computed cases (GB 50014 / GB 50028 minimum cover), the
certainty band, the split at road edges, decoys and skipped pipes."""
import pathlib
import sys

import numpy as np
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from shapely.geometry import LineString, box

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import MemoryContext, make_project, run_rule  # noqa: E402


def seg(y, cover, x0=0.0, x1=100.0, **kw):
    c0, c1 = cover if isinstance(cover, tuple) else (cover, cover)
    d = {"geometry": LineString([(x0, y), (x1, y)]), "utility": "JS", "diameter_mm": 300,
         "depth_start": c0, "depth_end": c1, "depth_ref": "top", "acc_v": 0.05}
    d.update(kw)
    return d


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cover")
    path = make_project(
        tmp,
        planned_road=[
            {"uid": "RC", "geometry": box(-10, 95, 110, 125), "part": "carriageway", "status": "planned"},
            {"uid": "RX", "geometry": box(40, 180, 60, 220), "part": "whole", "status": "existing"},
            {"uid": "SW", "geometry": box(-10, 295, 110, 305), "part": "sidewalk", "status": "planned"},
            {"uid": "RD", "geometry": box(200, 200, 210, 210), "part": "carriageway", "status": "planned"},
        ],
        pipe_segment=[
            seg(100, 0.62, uid="UNDER_CERTAIN"),          # JS under carriageway: 0.62 + 0.05 < 0.7
            seg(110, 0.68, uid="UNDER_POSSIBLE"),         # 0.68 - 0.05 < 0.7 <= 0.68 + 0.05
            seg(120, 0.76, uid="UNDER_OK"),               # 0.76 - 0.05 >= 0.7
            seg(0, 0.58, uid="ELSE_POSSIBLE"),            # 0.58 + 0.05 >= 0.6
            seg(10, 0.64, uid="ELSE_NEAR"),               # near miss: 0.64 - 0.05 < 0.6
            seg(20, 0.66, uid="ELSE_OK"),
            seg(30, (0.4, 1.4), uid="SLOPE"),             # short where cover < 0.65: x < 25
            seg(200, 0.72, uid="CROSS"),                  # fine outside, short under RX (40..60)
            seg(300, 0.66, uid="SIDEWALK"),               # a sidewalk is "elsewhere"
            {"geometry": LineString([(190, 190), (199, 230)]), "uid": "DECOY", "utility": "JS",
             "diameter_mm": 300, "depth_start": 0.66, "depth_end": 0.66, "acc_v": 0.05},
            seg(400, None, uid="UNKNOWN", depth_start=None, depth_end=None),
            seg(410, 0.1, uid="OVERHEAD", burial="JK"),
            # drainage to the invert: DN400 invert 1.05 -> top 0.65; under RC 0.65 + 0.01 < 0.7
            seg(105, 1.05, uid="PS_INV", utility="PS", diameter_mm=400, depth_ref="invert", acc_v=0.01),
            seg(500, 0.3, uid="GONE", status="abandoned"),
        ])
    f = run_rule(path, "cover_depth")
    return {(a, b): r for a, b, r in zip(f["uid_a"], f["uid_b"], f.itertuples())}


def test_rows_and_values(findings):
    want = {
        ("UNDER_CERTAIN", "RC"): (0.62, 0.7, "certain"),
        ("UNDER_POSSIBLE", "RC"): (0.68, 0.7, "possible"),
        ("ELSE_POSSIBLE", ""): (0.58, 0.6, "possible"),
        ("ELSE_NEAR", ""): (0.64, 0.6, "possible"),
        ("SLOPE", ""): (0.4, 0.6, "certain"),
        ("CROSS", "RX"): (0.72, 0.7, "possible"),
        ("PS_INV", "RC"): (0.65, 0.7, "certain"),
    }
    assert set(findings) == set(want)
    for k, (m, r, c) in want.items():
        row = findings[k]
        assert row.measured == pytest.approx(m), k
        assert row.required == pytest.approx(r), k
        assert row.certainty == c, k
        assert row.severity == "error" and row.unit == "m"
        assert row.layer_a == "pipe_segment"
        assert row.layer_b == ("planned_road" if k[1] else "")
    assert "GB 50014-2021" in findings[("PS_INV", "RC")].rule_source
    assert "[unconfirmed]" in findings[("SLOPE", "")].rule_source


def test_geometry_is_the_short_stretch(findings):
    g = findings[("SLOPE", "")].geometry
    assert g.length == pytest.approx(25.0)
    assert g.hausdorff_distance(LineString([(0, 30), (25, 30)])) < 1e-9
    g = findings[("CROSS", "RX")].geometry
    assert g.hausdorff_distance(LineString([(40, 200), (60, 200)])) < 1e-9
    # the whole pipe outside: both sides of nothing, the full length
    assert findings[("ELSE_POSSIBLE", "")].geometry.length == pytest.approx(100.0)


def test_stretch_on_both_sides_of_a_road(tmp_path):
    # cover 0.62 throughout; road 40..60: outside it (0..40, 60..100) r = 0.6 (+0.05: possible),
    # under it r = 0.7 (certain): two rows; the outside row holds both stretches
    path = make_project(tmp_path,
                        planned_road=[{"uid": "R", "geometry": box(40, -10, 60, 10), "part": "carriageway"}],
                        pipe_segment=[seg(0, 0.62, uid="P")])
    f = run_rule(path, "cover_depth")
    rows = {b: (m, c, g) for b, m, c, g in zip(f["uid_b"], f["measured"], f["certainty"], f.geometry)}
    assert set(rows) == {"", "R"}
    assert rows["R"][1] == "certain" and rows[""][1] == "possible"
    assert rows["R"][2].length == pytest.approx(20.0)
    assert rows[""][2].length == pytest.approx(80.0)
    assert len(rows[""][2].geoms) == 2


# -- property test against a scalar oracle ---------------------------------------
def oracle(pipes, roads, rules):
    """Plain loops with shapely scalar operations, sampling nothing: cover is
    linear, so evaluate it at every vertex of the exact intersection pieces."""
    mins = rules.group("cover_depth", "min_cover")
    out = {}
    for p in pipes:
        g = p["geometry"]
        c0, c1 = p["depth_start"], p["depth_end"]
        u = p["acc_v"]
        req = mins[p["utility"]].value
        inside_any = shapely.Polygon()
        for r in roads:
            inside_any = inside_any.union(r["geometry"])
            piece = g.intersection(r["geometry"])
            piece = shapely.difference(piece, r["geometry"].boundary)  # interior only
            if piece.length <= 1e-9:
                continue
            ts = [g.project(shapely.Point(xy), normalized=True)
                  for part in getattr(piece, "geoms", [piece]) for xy in part.coords]
            m = min(c0 + (c1 - c0) * t for t in ts)
            if m - u < req[1]:
                out[(p["uid"], r["uid"])] = m
        rest = g.difference(inside_any)
        if rest.length > 1e-9:
            ts = [g.project(shapely.Point(xy), normalized=True)
                  for part in getattr(rest, "geoms", [rest]) for xy in part.coords]
            m = min(c0 + (c1 - c0) * t for t in ts)
            if m - u < req[0]:
                out[(p["uid"], "")] = m
    return out


cover = st.floats(0.2, 1.5).map(lambda v: round(v, 3))
num = st.integers(0, 40)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(num, num, num, num, cover, cover, st.sampled_from(["JS", "RQ", "PS"])),
                min_size=1, max_size=5),
       st.lists(st.tuples(num, num, st.integers(2, 15), st.integers(2, 15)), min_size=0, max_size=3))
def test_matches_oracle(pipes, roads):
    prows = [{"uid": f"S{i}", "geometry": LineString([(x0, y0), (x1 + 0.5, y1 + 0.25)]), "utility": u,
              "diameter_mm": 200, "depth_start": c0, "depth_end": c1, "depth_ref": "top", "acc_v": 0.02}
             for i, (x0, y0, x1, y1, c0, c1, u) in enumerate(pipes)]
    rrows = [{"uid": f"R{i}", "geometry": box(x + 0.3, y + 0.3, x + w, y + h), "part": "carriageway"}
             for i, (x, y, w, h) in enumerate(roads)]
    ctx = MemoryContext(pipe_segment=prows, planned_road=rrows)
    from renewal_planner.tools.engine.rule_cover import check_cover_depth

    f = check_cover_depth(ctx)
    got = {(a, b): m for a, b, m in zip(f["uid_a"], f["uid_b"], f["measured"])}
    want = oracle(prows, rrows, ctx.rules)
    assert set(got) == set(want)
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-6)
