"""works_over_pipes: cover left under the dig bottom, hand computed; cut pipes;
surface-only works; decoys; a property test against a scalar oracle."""
import pathlib
import sys

import pytest
import shapely
from hypothesis import given, settings, strategies as st
from shapely.geometry import LineString, Polygon, box

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import MemoryContext, make_project, run_rule  # noqa: E402
from renewal_planner.tools.engine.rule_works import check_works_over_pipes  # noqa: E402


def pipe(y, d0, d1, uid, **kw):
    d = {"geometry": LineString([(0, y), (100, y)]), "uid": uid, "utility": "JS", "diameter_mm": 200,
         "depth_start": d0, "depth_end": d1, "depth_ref": "top", "acc_v": 0.05}
    d.update(kw)
    return d


def test_hand_cases(tmp_path):
    path = make_project(
        tmp_path,
        pipe_segment=[
            pipe(0, 1.0, 2.0, "S1"),                     # top 1.0 + x/100
            pipe(50, 0.8, 0.8, "S2"),
            pipe(100, 1.2, 1.2, "S3", depth_ref="invert", diameter_mm=400),  # top 0.8
            pipe(150, 1.0, 1.0, "S4"),
            pipe(200, None, None, "S5", depth_start=None, depth_end=None),
            dict(pipe(0, 1.0, 1.0, "S6"), geometry=LineString([(200, 300), (300, 400)])),
        ],
        renovation_work=[
            # over S1 at x 10..30: top 1.1..1.3, dig 1.0 -> left 0.1..0.3: certain warning, 0.1
            {"uid": "W1", "geometry": box(10, -2, 30, 2), "excavation_depth_m": 1.0},
            # over S1 at x 80..90: top 1.8..1.9, dig 0.9 -> 0.9 left: none
            {"uid": "W2", "geometry": box(80, -2, 90, 2), "excavation_depth_m": 0.9},
            # surface only over S2: skipped
            {"uid": "W3", "geometry": box(0, 45, 100, 55), "excavation_depth_m": 0.0},
            # dig 1.0 over S2 (top 0.8): cuts it, -0.2 -> error, certain
            {"uid": "W4", "geometry": box(40, 45, 60, 55), "excavation_depth_m": 1.0},
            # over S3 (invert): top 0.8, dig 0.3 -> 0.5 left: within acc_v 0.05 of the margin: possible
            {"uid": "W5", "geometry": box(40, 95, 60, 105), "excavation_depth_m": 0.3},
            # U-shaped works over S4: both arms cross it, the notch (20..30) does not
            {"uid": "W6", "geometry": Polygon([(10, 140), (20, 140), (20, 160), (30, 160), (30, 140),
                                                (40, 140), (40, 170), (10, 170)]),
             "excavation_depth_m": 0.7},
            # decoy: inside the bounding box of the diagonal S6, 55 m from the line
            {"uid": "W7", "geometry": box(205, 380, 225, 395), "excavation_depth_m": 2.0},
            # unknown depth: skipped (depth_unknown reports it)
            {"uid": "W8", "geometry": box(0, 195, 100, 205), "excavation_depth_m": 3.0},
        ])
    f = run_rule(path, "works_over_pipes")
    got = {(a, b): r for a, b, r in zip(f["uid_a"], f["uid_b"], f.itertuples())}
    assert set(got) == {("W1", "S1"), ("W4", "S2"), ("W5", "S3"), ("W6", "S4")}
    r = got[("W1", "S1")]
    assert (r.measured, r.required, r.severity, r.certainty) == (pytest.approx(0.1), 0.5, "warning", "certain")
    assert r.layer_a == "renovation_work" and r.layer_b == "pipe_segment" and r.unit == "m"
    assert r.geometry.hausdorff_distance(LineString([(10, 0), (30, 0)])) < 1e-9
    r = got[("W4", "S2")]
    assert (r.measured, r.severity, r.certainty) == (pytest.approx(-0.2), "error", "certain")
    r = got[("W5", "S3")]
    assert (r.measured, r.severity, r.certainty) == (pytest.approx(0.5), "warning", "possible")
    # the U crosses S4 twice (x 10..20 and 30..40): one row, both stretches, 0.3 left
    r = got[("W6", "S4")]
    assert r.measured == pytest.approx(0.3)
    assert r.geometry.geom_type == "MultiLineString" and len(r.geometry.geoms) == 2
    assert r.geometry.length == pytest.approx(20.0)
    assert "local" in r.rule_source


def oracle(pipes, works, margin):
    out = {}
    for w in works:
        if w["excavation_depth_m"] <= 0:
            continue
        for p in pipes:
            g = p["geometry"]
            inside = shapely.difference(g.intersection(w["geometry"]), w["geometry"].boundary)
            if inside.length <= 1e-9:
                continue
            ts = [g.project(shapely.Point(xy), normalized=True)
                  for part in getattr(inside, "geoms", [inside]) for xy in part.coords]
            left = min(p["depth_start"] + (p["depth_end"] - p["depth_start"]) * t for t in ts) \
                - w["excavation_depth_m"]
            if left - p["acc_v"] < margin:
                out[(w["uid"], p["uid"])] = left
    return out


n = st.integers(0, 30)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(n, n, n, n, st.floats(0.3, 3), st.floats(0.3, 3)), min_size=1, max_size=5),
       st.lists(st.tuples(n, n, st.integers(1, 12), st.integers(1, 12), st.sampled_from([0.0, 0.5, 1.5, 2.5])),
                min_size=1, max_size=3))
def test_matches_oracle(pipes, works):
    prows = [{"uid": f"S{i}", "geometry": LineString([(x0, y0), (x1 + 0.3, y1 + 0.7)]), "utility": "RQ",
              "diameter_mm": 100, "depth_start": round(a, 3), "depth_end": round(b, 3), "depth_ref": "top",
              "acc_v": 0.1} for i, (x0, y0, x1, y1, a, b) in enumerate(pipes)]
    wrows = [{"uid": f"W{i}", "geometry": box(x + 0.2, y + 0.2, x + w, y + h), "excavation_depth_m": e}
             for i, (x, y, w, h, e) in enumerate(works)]
    ctx = MemoryContext(pipe_segment=prows, renovation_work=wrows)
    f = check_works_over_pipes(ctx)
    got = {(a, b): m for a, b, m in zip(f["uid_a"], f["uid_b"], f["measured"])}
    want = oracle(prows, wrows, float(ctx.rules.value("works_over_pipes", "margin_m")))
    assert set(got) == set(want)
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-6)
