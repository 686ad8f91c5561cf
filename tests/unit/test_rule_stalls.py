"""stall_over_structure (tools/engine/rule_stalls.py)."""
import pathlib
import sys
import tempfile

import pytest
from hypothesis import given, settings, strategies as st
from shapely.geometry import Point, box, Polygon

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import make_project, run_rule  # noqa: E402


def point(x, y, app, **kw):
    return dict(geometry=Point(x, y), utility="PS", appurtenance=app, **kw)


def rows(f):
    return {(a, b): (m, r, s, c) for a, b, m, r, s, c in
            zip(f["uid_a"], f["uid_b"], f["measured"], f["required"], f["severity"], f["certainty"])}


def test_covers_and_hydrants(tmp_path):
    stall = box(0, 0, 2.5, 5)
    p = make_project(tmp_path, parking_stall=[dict(geometry=stall)], pipe_point=[
        point(1, 1, "manhole", depth=1.0),            # P1 under the stall: 0
        point(2.8, 2.5, "manhole", depth=1.0),        # P2 0.3 m off, radius 0.35 (default 0.7): finding
        point(3.2, 2.5, "manhole", depth=1.0),        # P3 0.7 m off: none
        point(2.5 + 0.9, 2.5, "valve_chamber", cover_size=2.0, acc_h=0.0),   # P4 radius 1.0 from cover_size
        point(6.5, 2.5, "hydrant", depth=1.0),        # P5 4 m: error
        point(8.5, 2.5, "hydrant", depth=1.0),        # P6 6 m: none
        point(1, 2, "none"),                          # P7 no appurtenance
        point(1, 3, "transformer"),                   # P8 not in the list
    ])
    f = rows(run_rule(p, "stall_over_structure"))
    assert set(f) == {("C1", "P1"), ("C1", "P2"), ("C1", "P4"), ("C1", "P5")}
    assert f[("C1", "P1")] == (0.0, 0.35, "warning", "certain")
    assert f[("C1", "P2")][:3] == (pytest.approx(0.3), 0.35, "warning")
    assert f[("C1", "P4")][:2] == (pytest.approx(0.9), 1.0)
    assert f[("C1", "P5")][:3] == (pytest.approx(4.0), 5.0, "error")


def test_edge_covers_manhole_though_centroid_far(tmp_path):
    # a long angled stall: its centroid is metres away, its corner reaches over the cover
    stall = Polygon([(0, 0), (5, 5), (7, 3), (2, -2)])
    p = make_project(tmp_path, parking_stall=[dict(geometry=stall)],
                     pipe_point=[point(7.2, 3.0, "manhole", acc_h=0.05)])
    f = rows(run_rule(p, "stall_over_structure"))
    assert f[("C1", "P1")][0] == pytest.approx(0.2)
    assert f[("C1", "P1")][3] == "certain"


@pytest.mark.parametrize("gap,expect", [(0.25, "certain"), (0.32, "possible"), (0.38, "possible"),
                                        (0.41, None)])
def test_band(tmp_path, gap, expect):
    # manhole radius 0.35, point acc 0.05 (depth 1 m, CJJ 61 default)
    p = make_project(tmp_path, parking_stall=[dict(geometry=box(0, 0, 2.5, 5))],
                     pipe_point=[point(2.5 + gap, 2, "manhole", depth=0.5)])
    f = run_rule(p, "stall_over_structure")
    if expect is None:
        assert len(f) == 0
    else:
        assert list(f["certainty"]) == [expect]


c = st.floats(0, 20, allow_nan=False)
RADIUS = {"manhole": 0.35, "valve": 0.15, "inlet": 0.25}


@settings(max_examples=20, deadline=None)
@given(stalls=st.lists(st.tuples(c, c, st.floats(0, 90)), min_size=1, max_size=5),
       pts=st.lists(st.tuples(c, c, st.sampled_from(["manhole", "valve", "inlet", "hydrant", "none"])),
                    min_size=1, max_size=10))
def test_oracle(stalls, pts):
    from shapely import affinity

    ss = [dict(geometry=affinity.rotate(box(x, y, x + 2.5, y + 5), a, origin=(x, y))) for x, y, a in stalls]
    ps = [point(x, y, k, acc_h=0.1) for x, y, k in pts]
    with tempfile.TemporaryDirectory() as d:
        f = rows(run_rule(make_project(d, parking_stall=ss, pipe_point=ps), "stall_over_structure"))
    want = {}
    for i, s in enumerate(ss, 1):
        for j, q in enumerate(ps, 1):
            k = q["appurtenance"]
            if k == "none":
                continue
            dd = s["geometry"].distance(q["geometry"])
            if k == "hydrant":
                hit = dd - 0.1 < 5.0
            else:
                hit = dd - 0.1 <= RADIUS[k]
            if hit:
                want[(f"C{i}", f"P{j}")] = dd
    assert set(f) == set(want)
    for kk, dd in want.items():
        assert f[kk][0] == pytest.approx(dd, abs=1e-6)
