"""building_clearance (tools/engine/rule_buildings.py)."""
import pathlib
import sys
import tempfile

import pytest
from hypothesis import example, given, settings, strategies as st
from shapely.geometry import LineString, box

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import make_project, run_rule  # noqa: E402


def pipe(coords, utility="JS", dn=300, acc_h=0.05, depth=1.0, **kw):
    return dict(geometry=LineString(coords), utility=utility, diameter_mm=dn, depth_start=depth,
                depth_end=depth, depth_ref="top", acc_h=acc_h, **kw)


def rows(f):
    return {(a, b): (m, r, c, g) for a, b, m, r, c, g in
            zip(f["uid_a"], f["uid_b"], f["measured"], f["required"], f["certainty"], f.geometry)}


def test_clearances(tmp_path):
    p = make_project(tmp_path, pipe_segment=[
        pipe([(0, 0), (100, 0)]),                   # S1 JS DN300, 2 m from B1: 1.85 < 3.0
        pipe([(0, 40), (100, 40)], dn=200),         # S2 JS DN200 1.2 m from B2: 1.1 >= 1.0 -> none
        pipe([(25, 60), (25, 90)], utility="DL"),   # S3 passes under B3: 0
    ], building=[dict(geometry=box(60, 2, 80, 20)), dict(geometry=box(0, 41.2, 10, 50)),
                 dict(geometry=box(20, 70, 30, 80))])
    f = rows(run_rule(p, "building_clearance"))
    assert set(f) == {("S1", "B1"), ("S3", "B3")}
    m, r, c, g = f[("S1", "B1")]
    assert (m, r, c) == (pytest.approx(1.85), 3.0, "certain")
    # the stretch within the clearance: centreline within 3.15 m of the box
    x = (3.15 ** 2 - 2 ** 2) ** 0.5
    assert g.equals_exact(LineString([(60 - x, 0), (80 + x, 0)]), 1e-6)
    m, r, c, g = f[("S3", "B3")]
    assert (m, r) == (0.0, 0.6)
    assert g.length == pytest.approx(10 + 2 * (0.6 + 0.15))


def test_deeper_than_foundation(tmp_path):
    # PS DN400, top 2.0 m deep: bottom 2.4 m; 2.8 m (wall) from the buildings
    p = make_project(tmp_path, pipe_segment=[pipe([(0, 0), (100, 0)], utility="PS", dn=400, depth=2.0)],
                     building=[dict(geometry=box(10, 3.0, 20, 10), foundation_depth_m=1.5),   # deeper: 3.0
                               dict(geometry=box(40, 3.0, 50, 10), foundation_depth_m=3.0),   # shallower: 2.5
                               dict(geometry=box(70, 3.0, 80, 10))])                          # unknown: 2.5
    f = rows(run_rule(p, "building_clearance"))
    assert set(f) == {("S1", "B1")}
    assert f[("S1", "B1")][:3] == (pytest.approx(2.8), 3.0, "certain")


@pytest.mark.parametrize("gap,expect", [(2.9, "certain"), (2.97, "possible"), (3.03, "possible"), (3.06, None)])
def test_band(tmp_path, gap, expect):
    p = make_project(tmp_path, pipe_segment=[pipe([(0, 0), (100, 0)], dn=400)],
                     building=[dict(geometry=box(40, 0.2 + gap, 50, 20))])
    f = run_rule(p, "building_clearance")
    if expect is None:
        assert len(f) == 0
    else:
        assert list(f["certainty"]) == [expect]
        assert f["measured"][0] == pytest.approx(gap)


REQ = {"DL": 0.6, "TX": 1.5}
c = st.floats(0, 40, allow_nan=False)


def _stretch_within(line, poly, dist):
    """Exact length of the 2-point ``line`` within ``dist`` of the convex ``poly``: the
    distance along a line to a convex set is convex, so the stretch is one interval of the
    line's parameter, found by bisection (a buffered polygon's chords are off by up to
    ~1e-2 m where the line grazes a rounded corner)."""
    import shapely

    (ax, ay), (bx, by) = line.coords

    def d(t):
        return shapely.distance(shapely.points(ax + t * (bx - ax), ay + t * (by - ay)), poly)

    lo, hi = 0.0, 1.0            # the nearest point: ternary search on the convex distance
    for _ in range(200):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        lo, hi = (lo, m2) if d(m1) <= d(m2) else (m1, hi)
    best = (lo + hi) / 2
    if d(best) > dist:
        return 0.0

    def edge(inside, outside):   # bisection between a point within dist and one beyond
        for _ in range(200):
            mid = (inside + outside) / 2
            inside, outside = (mid, outside) if d(mid) <= dist else (inside, mid)
        return inside

    t0 = 0.0 if d(0.0) <= dist else edge(best, 0.0)
    t1 = 1.0 if d(1.0) <= dist else edge(best, 1.0)
    return (t1 - t0) * line.length


@settings(max_examples=20, deadline=None)
@given(pipes=st.lists(st.tuples(c, c, c, c, st.sampled_from(["JS", "DL", "TX"]), st.sampled_from([100, 300])),
                      min_size=1, max_size=5),
       blds=st.lists(st.tuples(c, c, st.floats(2, 15), st.floats(2, 15)), min_size=1, max_size=4))
# a pipe grazing a rounded corner of the clearance: where a buffered-polygon oracle was 1.3e-4 m off
@example(pipes=[(30.0, 0.0, 38.4375, 25.5, "JS", 300)], blds=[(19.8125, 23.25, 14.625, 2.0)])
def test_oracle(pipes, blds):
    ps = [pipe([(a, b), (x, y)], utility=u, dn=dn, acc_h=0.1) for a, b, x, y, u, dn in pipes if (a, b) != (x, y)]
    bs = [dict(geometry=box(x, y, x + w, y + h)) for x, y, w, h in blds]
    if not ps:
        return
    with tempfile.TemporaryDirectory() as d:
        f = rows(run_rule(make_project(d, pipe_segment=ps, building=bs), "building_clearance"))
    want = {}
    for i, pp in enumerate(ps, 1):
        for j, b in enumerate(bs, 1):
            w = pp["diameter_mm"] / 1000
            r = (1.0 if pp["diameter_mm"] <= 200 else 3.0) if pp["utility"] == "JS" else REQ[pp["utility"]]
            m = max(0.0, pp["geometry"].distance(b["geometry"]) - w / 2)
            if m - 0.1 < r:
                stretch = _stretch_within(pp["geometry"], b["geometry"], r + w / 2)
                want[(f"S{i}", f"B{j}")] = (m, stretch)
    assert set(f) == set(want)
    for k, (m, stretch) in want.items():
        assert f[k][0] == pytest.approx(m, abs=1e-6)
        if stretch > 1e-3:
            assert f[k][3].length == pytest.approx(stretch, rel=1e-4, abs=1e-4)


@settings(max_examples=15, deadline=None)
@given(lines=st.lists(st.lists(st.tuples(c, c), min_size=3, max_size=4), min_size=1, max_size=3),
       blds=st.lists(st.tuples(c, c, st.floats(2, 15), st.floats(2, 15)), min_size=1, max_size=3))
def test_oracle_polylines(lines, blds):
    # pipes of several vertex segments (DL: 0.6 m), buildings crossed or not
    ps = [pipe(cs, utility="DL", dn=100, acc_h=0.1) for cs in lines if LineString(cs).length > 0]
    bs = [dict(geometry=box(x, y, x + w, y + h)) for x, y, w, h in blds]
    if not ps:
        return
    with tempfile.TemporaryDirectory() as d:
        f = rows(run_rule(make_project(d, pipe_segment=ps, building=bs), "building_clearance"))
    want = {}
    for i, pp in enumerate(ps, 1):
        for j, b in enumerate(bs, 1):
            m = max(0.0, pp["geometry"].distance(b["geometry"]) - 0.05)
            if m - 0.1 < 0.6:
                want[(f"S{i}", f"B{j}")] = m
    assert set(f) == set(want)
    for k, m in want.items():
        assert f[k][0] == pytest.approx(m, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["PS", "JS", "RQ", "DL", "XX", None]),
                          st.sampled_from([100.0, 200.0, 300.0, float("nan")]),
                          st.sampled_from([0.005, 0.1, 0.3, 1.0, float("nan")]),
                          st.sampled_from(["ZM", "GK", None]),
                          st.sampled_from([1.0, 0.0, float("nan")])), min_size=1, max_size=40))
def test_lookup_distinct_equals_lookup(rows_):
    # the distinct-combination lookup gives RuleSet.lookup's answer on every row
    import numpy as np
    import pandas as pd

    from renewal_planner.tools.engine.plan_join import lookup_distinct
    from renewal_planner.tools.ruleset import load_rules

    rules = load_rules()
    cls = pd.Series([r[0] for r in rows_], dtype="str")
    attrs = {"diameter_mm": pd.Series([r[1] for r in rows_], dtype=float),
             "pressure_mpa": pd.Series([r[2] for r in rows_], dtype=float),
             "burial": pd.Series([r[3] for r in rows_], dtype="str"),
             "deeper_than_foundation": np.array([r[4] for r in rows_])}
    v, e = lookup_distinct(rules, "building_clearance", "pairs", cls, attrs)
    plain = {k: (x.to_numpy(dtype=object) if x.dtype == "str" else np.asarray(x, float)) for k, x in attrs.items()}
    v0, e0 = rules.lookup("building_clearance", "pairs", None, cls.to_numpy(dtype=object), attrs_b=plain)
    assert np.array_equal(e, e0)
    assert np.allclose(v, v0, equal_nan=True)
