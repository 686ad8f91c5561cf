"""tree_pipe_clearance (tools/engine/rule_trees.py), CJJ 75-97 table 6.2.1."""
import pathlib
import sys
import tempfile

import pytest
from hypothesis import given, settings, strategies as st
from shapely.geometry import LineString, Point

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import make_project, run_rule  # noqa: E402


def pipe(coords, utility="JS", dn=300, acc_h=0.05, **kw):
    return dict(geometry=LineString(coords), utility=utility, diameter_mm=dn, depth_start=1.0,
                depth_end=1.0, acc_h=acc_h, **kw)


def tree(x, y, kind="tree", status="existing"):
    return dict(geometry=Point(x, y), kind=kind, status=status)


def rows(f):
    return {(a, b): (m, r, s, c) for a, b, m, r, s, c in
            zip(f["uid_a"], f["uid_b"], f["measured"], f["required"], f["severity"], f["certainty"])}


def test_table_values_and_decoy(tmp_path):
    p = make_project(tmp_path, pipe_segment=[
        pipe([(0, 0), (100, 0)]),                                  # S1 JS DN300, edge at y=0.15
        pipe([(0, 50), (100, 50)], utility="TX", burial="ZM"),     # S2 TX direct
        pipe([(0, 100), (100, 200)]),                              # S3 long diagonal decoy
    ], tree=[
        tree(50, 1.35, status="planned"),      # T1 1.2 m from the JS edge: 1.5 required -> error
        tree(50, 51.35, kind="shrub"),         # T2 shrub 1.2 m from TX direct (1.0): none
        tree(60, 0.05),                        # T3 centre over the pipe: 0, warning
        tree(80, 120),                         # T4 inside S3's bbox, far from the line
    ])
    f = rows(run_rule(p, "tree_pipe_clearance"))
    assert set(f) == {("T1", "S1"), ("T3", "S1")}
    m, r, s, c = f[("T1", "S1")]
    assert (m, r, s, c) == (pytest.approx(1.2), 1.5, "error", "certain")
    assert f[("T3", "S1")][:3] == (0.0, 1.5, "warning")


@pytest.mark.parametrize("gap,expect", [(1.40, "certain"), (1.47, "possible"), (1.53, "possible"),
                                        (1.56, None)])
def test_band(tmp_path, gap, expect):
    # JS 1.5 m, pipe acc 0.05: certain below 1.45, possible up to 1.55
    p = make_project(tmp_path, pipe_segment=[pipe([(0, 0), (100, 0)], dn=200)],
                     tree=[tree(30, 0.1 + gap)])
    f = run_rule(p, "tree_pipe_clearance")
    if expect is None:
        assert len(f) == 0
    else:
        assert list(f["certainty"]) == [expect]
        assert f["measured"][0] == pytest.approx(gap)
        assert f.geometry[0].length == pytest.approx(gap)


def test_tx_in_duct_needs_more_than_direct(tmp_path):
    p = make_project(tmp_path, pipe_segment=[pipe([(0, 0), (100, 0)], utility="TX", dn=100, burial="GK")],
                     tree=[tree(10, 1.25), tree(20, 1.25, kind="shrub")])
    f = rows(run_rule(p, "tree_pipe_clearance"))
    assert set(f) == {("T1", "S1")}  # tree: 1.5 in duct; shrub: 1.0
    assert f[("T1", "S1")][1] == 1.5


TABLE = {"tree": {"JS": 1.5, "PS": 1.5, "RQ": 1.2}, "shrub": {"JS": 1.0, "PS": 1.0, "RQ": 1.2}}
c = st.floats(0, 30, allow_nan=False)


@settings(max_examples=20, deadline=None)
@given(pipes=st.lists(st.tuples(c, c, c, c, st.sampled_from(["JS", "PS", "RQ"]), st.sampled_from([100, 300, 800])),
                      min_size=1, max_size=5),
       trees=st.lists(st.tuples(c, c, st.sampled_from(["tree", "shrub"])), min_size=1, max_size=8))
def test_oracle(pipes, trees):
    ps = [pipe([(a, b), (x, y)], utility=u, dn=dn, acc_h=0.1) for a, b, x, y, u, dn in pipes
          if (a, b) != (x, y)]
    ts = [tree(x, y, kind=k) for x, y, k in trees]
    if not ps:
        return
    with tempfile.TemporaryDirectory() as d:
        f = rows(run_rule(make_project(d, pipe_segment=ps, tree=ts), "tree_pipe_clearance"))
    want = {}
    for j, t in enumerate(ts, 1):
        for i, pp in enumerate(ps, 1):
            m = max(0.0, t["geometry"].distance(pp["geometry"]) - pp["diameter_mm"] / 2000)
            r = TABLE[t["kind"]][pp["utility"]]
            if m - 0.1 < r:
                want[(f"T{j}", f"S{i}")] = (m, "certain" if m + 0.1 < r else "possible")
    assert set(f) == set(want)
    for k, (m, cert) in want.items():
        assert f[k][0] == pytest.approx(m, abs=1e-6)
        assert f[k][3] == cert


@settings(max_examples=15, deadline=None)
@given(lines=st.lists(st.lists(st.tuples(c, c), min_size=3, max_size=4), min_size=1, max_size=3),
       trees=st.lists(st.tuples(c, c, st.sampled_from(["tree", "shrub"])), min_size=1, max_size=6))
def test_oracle_polylines(lines, trees):
    # pipes of several vertex segments: the nearest segment of each pair counts
    ps = [pipe(cs, utility="JS", dn=300, acc_h=0.1) for cs in lines if LineString(cs).length > 0]
    ts = [tree(x, y, kind=k) for x, y, k in trees]
    if not ps:
        return
    with tempfile.TemporaryDirectory() as d:
        f = rows(run_rule(make_project(d, pipe_segment=ps, tree=ts), "tree_pipe_clearance"))
    want = {}
    for j, t in enumerate(ts, 1):
        for i, pp in enumerate(ps, 1):
            m = max(0.0, t["geometry"].distance(pp["geometry"]) - 0.15)
            if m - 0.1 < TABLE[t["kind"]]["JS"]:
                want[(f"T{j}", f"S{i}")] = m
    assert set(f) == set(want)
    for k, m in want.items():
        assert f[k][0] == pytest.approx(m, abs=1e-6)
