"""Compiled kernels (tools/engine/kernels.py) against their numpy / hashlib references."""
import hashlib

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from renewal_planner.tools.engine import kernels
from renewal_planner.tools.engine.findings import conflict_id, conflict_ids
from renewal_planner.tools.engine.parallel import map_spans, spans
from renewal_planner.tools.engine.plan_join import PointGrid

needs_numba = pytest.mark.skipif(not kernels.enabled(), reason="numba not installed or disabled")


def _brute(px0, py0, px1, py1, qx0, qy0, qx1, qy1):
    out = set()
    for i in range(len(qx0)):
        for j in range(len(px0)):
            if px0[j] <= qx1[i] and px1[j] >= qx0[i] and py0[j] <= qy1[i] and py1[j] >= qy0[i]:
                out.add((i, j))
    return out


coord = st.integers(0, 40).map(float)  # a coarse lattice: many touching boxes and ties


@needs_numba
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coord, coord, st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=40),
       st.lists(st.tuples(coord, coord, st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=40),
       st.sampled_from([None, 1.0, 3.0, 50.0]), st.integers(1, 3))
def test_grid_kernel_same_pairs_and_order_as_numpy(feats, queries, cell, threads):
    f = np.array(feats, float)
    q = np.array(queries, float)
    fx0, fy0, fx1, fy1 = f[:, 0], f[:, 1], f[:, 0] + f[:, 2], f[:, 1] + f[:, 3]
    g = PointGrid((fx0 + fx1) / 2, (fy0 + fy1) / 2, box=(fx0, fy0, fx1, fy1), cell=cell)
    qx0, qy0, qx1, qy1 = q[:, 0], q[:, 1], q[:, 0] + q[:, 2], q[:, 1] + q[:, 3]
    # threads with tiny chunks so that several spans really run
    import renewal_planner.tools.engine.parallel as par

    old = par.MIN_CHUNK
    par.MIN_CHUNK = 1
    try:
        a = kernels.grid_pairs(g, qx0, qy0, qx1, qy1, threads=threads)
    finally:
        par.MIN_CHUNK = old
    b = g.pairs_numpy(qx0, qy0, qx1, qy1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert set(zip(a[0].tolist(), a[1].tolist())) == _brute(fx0, fy0, fx1, fy1, qx0, qy0, qx1, qy1)


def test_grid_points_both_paths(monkeypatch):
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 1000, 3000), rng.uniform(0, 1000, 3000)
    g = PointGrid(x, y, extent_hint=20)
    qx, qy, w = rng.uniform(0, 1000, 500), rng.uniform(0, 1000, 500), rng.uniform(0, 40, 500)
    q, f = g.pairs(qx, qy, qx + w, qy + w, threads=2)
    want = _brute(x, y, x, y, qx, qy, qx + w, qy + w)
    assert set(zip(q.tolist(), f.tolist())) == want and len(q) == len(want)
    monkeypatch.setenv("RENEWAL_PLANNER_NUMBA", "0")
    assert not kernels.enabled()
    q2, f2 = g.pairs(qx, qy, qx + w, qy + w, threads=2)
    assert np.array_equal(q, q2) and np.array_equal(f, f2)


@needs_numba
@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=150), min_size=1, max_size=30), st.integers(1, 3))
def test_sha1_kernel_matches_hashlib(keys, threads):
    import renewal_planner.tools.engine.parallel as par

    old = par.MIN_CHUNK
    par.MIN_CHUNK = 1
    try:
        got = kernels.sha1_hex16(pa.array(keys, pa.large_string()), threads=threads)
    finally:
        par.MIN_CHUNK = old
    assert got.tolist() == [hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for k in keys]


@needs_numba
def test_sha1_kernel_block_edges():
    # padding edge cases: 55, 56, 63, 64, 119, 120 bytes (one / two / three blocks)
    keys = ["x" * k for k in (0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300)] + ["管线\x1fP-1"]
    got = kernels.sha1_hex16(pa.array(keys, pa.string()))
    assert got.tolist() == [hashlib.sha1(k.encode()).hexdigest()[:16] for k in keys]


def test_conflict_ids_same_with_and_without_numba(monkeypatch):
    import pandas as pd

    uid_a = pd.Series([f"P{i}" for i in range(300)], dtype="str")
    uid_b = pd.Series([f"R{i % 7}" for i in range(300)], dtype="str")
    a = conflict_ids("pipe_under_road", "pipe_segment", uid_a, "planned_road", uid_b, threads=2)
    monkeypatch.setenv("RENEWAL_PLANNER_NUMBA", "0")
    b = conflict_ids("pipe_under_road", "pipe_segment", uid_a, "planned_road", uid_b)
    assert a.tolist() == b.tolist()
    assert a[5] == conflict_id("pipe_under_road", "pipe_segment", "P5", "planned_road", "R5")


@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3000))
def test_spans_cover_the_range_in_order(n, threads, min_chunk):
    sp = spans(n, threads, min_chunk)
    assert len(sp) <= threads
    flat = [i for s, e in sp for i in range(s, e)]
    assert flat == list(range(n))


def test_map_spans_keeps_order():
    out = map_spans(lambda s, e: list(range(s, e)), 100_000, 3, min_chunk=10)
    assert [x for part in out for x in part] == list(range(100_000))


# ---------------------------------------------------------------------------
# fused near joins (tree / building rules): compiled == numpy, both == brute force
# ---------------------------------------------------------------------------
def _both_paths(monkeypatch, fn, *args, threads=1):
    import renewal_planner.tools.engine.parallel as par

    monkeypatch.setattr(par, "MIN_CHUNK", 1)  # several spans really run
    a = fn(*args, threads=threads)
    monkeypatch.setenv("RENEWAL_PLANNER_NUMBA", "0")
    assert not kernels.enabled()
    b = fn(*args, threads=threads)
    monkeypatch.delenv("RENEWAL_PLANNER_NUMBA")
    return a, b


def _layout(draw_segs, nline):
    s = np.array(draw_segs, float)
    ax, ay = s[:, 0], s[:, 1]
    bx, by = s[:, 0] + s[:, 2], s[:, 1] + s[:, 3]
    line = np.minimum(np.arange(len(s)) // 2, nline - 1)  # two segments per line, like a polyline
    return ax, ay, bx, by, line


seg_st = st.lists(st.tuples(coord, coord, st.integers(-8, 8).map(float), st.integers(-8, 8).map(float)),
                  min_size=1, max_size=24)
BORDER = 1e-9  # pairs this close to their threshold may fall either way (GEOS vs closed form rounding)


@needs_numba
@settings(max_examples=50, deadline=None)
@given(seg_st, st.lists(st.tuples(coord, coord, st.integers(0, 1)), min_size=1, max_size=30),
       st.sampled_from([None, 1.0, 4.0]), st.integers(1, 3), st.randoms(use_true_random=False))
def test_near_segments_points_same_both_paths_and_brute(segs, pts, cell, threads, rnd):
    import shapely

    from renewal_planner.tools.engine.plan_join import near_segments_points

    ax, ay, bx, by, line = _layout(segs, max(1, (len(segs) + 1) // 2))
    nl = int(line.max()) + 1
    p = np.array(pts, float)
    kind = p[:, 2].astype(np.int64)
    req = np.array([[rnd.choice([0.5, 1.0, 2.5, np.nan, np.inf]) for _ in range(2)] for _ in range(nl)])
    hw = np.array([rnd.choice([0.0, 0.25, 0.5]) for _ in range(nl)])
    ua = np.array([rnd.choice([0.0, 0.3]) for _ in range(nl)])
    ub = np.array([rnd.choice([0.0, 0.2]) for _ in range(len(p))])
    rfin = np.where(np.isfinite(req), req, np.nan)
    r = np.fmax(rfin[:, 0], rfin[:, 1]) + hw + ua + ub.max()
    if nl > 1:
        r[0] = np.nan  # a line with no requirement takes no part
    g = PointGrid(p[:, 0], p[:, 1], cell=cell)
    mp = pytest.MonkeyPatch()
    try:
        a, b = _both_paths(mp, near_segments_points, g, ax, ay, bx, by, line, r, hw, ua, req, kind, ub,
                           threads=threads)
    finally:
        mp.undo()
    for x, y in zip(a, b):
        assert np.array_equal(x, y)  # same pairs, order and bits
    q, f, d, t = a
    got = set(zip(q.tolist(), f.tolist()))
    lines = shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1))
    for i in range(len(ax)):
        li = line[i]
        for j in range(len(p)):
            dg = shapely.distance(lines[i], shapely.Point(p[j, 0], p[j, 1]))
            rq = req[li, kind[j]]
            lhs = max(dg - hw[li], 0.0) - (ua[li] + ub[j])
            want = bool(np.isfinite(r[li]) and np.isfinite(rq) and lhs < rq)
            if abs(lhs - rq) < BORDER:
                continue
            assert ((i, j) in got) == want, (i, j, dg, rq)
    for k in range(len(q)):  # exact distances and nearest points
        dg = shapely.distance(lines[q[k]], shapely.Point(p[f[k], 0], p[f[k], 1]))
        assert abs(d[k] - dg) <= 1e-9
        nx, ny = ax[q[k]] + t[k] * (bx[q[k]] - ax[q[k]]), ay[q[k]] + t[k] * (by[q[k]] - ay[q[k]])
        assert abs(np.hypot(nx - p[f[k], 0], ny - p[f[k], 1]) - dg) <= 1e-9


poly_st = st.lists(st.tuples(coord, coord, st.integers(1, 8), st.integers(1, 8), st.booleans()),
                   min_size=1, max_size=15)


@needs_numba
@settings(max_examples=50, deadline=None)
@given(seg_st, poly_st, st.integers(1, 3), st.randoms(use_true_random=False))
def test_near_segments_polygons_same_both_paths_and_brute(segs, polys, threads, rnd):
    import shapely

    from renewal_planner.tools.engine.plan_join import PolyEdges, grid_for_geoms, near_segments_polygons

    ax, ay, bx, by, line = _layout(segs, max(1, (len(segs) + 1) // 2))
    nl = int(line.max()) + 1
    # boxes and L shapes (concave: a centroid or bbox test would be wrong)
    geoms = []
    for x, y, w, h, ell in polys:
        if ell and w > 1 and h > 1:
            geoms.append(shapely.Polygon([(x, y), (x + w, y), (x + w, y + 1), (x + 1, y + 1), (x + 1, y + h),
                                          (x, y + h)]))
        else:
            geoms.append(shapely.box(x, y, x + w, y + h))
    geoms = np.array(geoms, dtype=object)
    req = np.array([rnd.choice([0.0, 0.5, 1.5, 3.0]) for _ in range(nl)])
    hw = np.array([rnd.choice([0.0, 0.25]) for _ in range(nl)])
    ua = np.array([rnd.choice([0.0, 0.3]) for _ in range(nl)])
    ub = np.array([rnd.choice([0.0, 0.2]) for _ in range(len(geoms))])
    r = req + hw + ua + ub.max()
    g = grid_for_geoms(geoms, extent_hint=rnd.choice([None, 2.0, 10.0]))
    mp = pytest.MonkeyPatch()
    try:
        a, b = _both_paths(mp, near_segments_polygons, g, PolyEdges(geoms), ax, ay, bx, by, line, r, hw, ua,
                           req, ub, threads=threads)
    finally:
        mp.undo()
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    q, f, d, t = a
    got = set(zip(q.tolist(), f.tolist()))
    lines = shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1))
    for i in range(len(ax)):
        li = line[i]
        for j in range(len(geoms)):
            dg = shapely.distance(lines[i], geoms[j])
            lhs = max(dg - hw[li], 0.0) - (ua[li] + ub[j])
            if abs(lhs - req[li]) < BORDER:
                continue
            assert ((i, j) in got) == (lhs < req[li]), (i, j, dg)
    for k in range(len(q)):
        dg = shapely.distance(lines[q[k]], geoms[f[k]])
        assert abs(d[k] - dg) <= 1e-9
        nx, ny = ax[q[k]] + t[k] * (bx[q[k]] - ax[q[k]]), ay[q[k]] + t[k] * (by[q[k]] - ay[q[k]])
        assert abs(shapely.distance(shapely.Point(nx, ny), geoms[f[k]]) - dg) <= 1e-9


@needs_numba
@pytest.mark.parametrize("threads", [1, 2])
def test_near_joins_past_the_first_output_block_same_both_paths(threads):
    """Thousands of passing pairs per span: the compiled kernels' output
    columns (1,024 rows at first) are doubled several times; the pairs, their
    order and bits are still the numpy path's."""
    import shapely

    from renewal_planner.tools.engine.plan_join import (PolyEdges, grid_for_geoms, near_segments_points,
                                                        near_segments_polygons)

    rng = np.random.default_rng(3)
    n = 400
    ax, ay = rng.uniform(0, 60, n), rng.uniform(0, 60, n)
    bx, by = ax + rng.uniform(-5, 5, n), ay + rng.uniform(-5, 5, n)
    line = np.arange(n) // 2
    nl = int(line.max()) + 1
    hw, ua = np.full(nl, 0.25), np.zeros(nl)
    px, py = rng.uniform(0, 60, 3000), rng.uniform(0, 60, 3000)
    kind = rng.integers(0, 2, len(px)).astype(np.int64)
    req = np.tile([4.0, 2.5], (nl, 1))
    ub = np.full(len(px), 0.1)
    r = req.max(axis=1) + hw + ua + ub.max()
    mp = pytest.MonkeyPatch()
    try:
        a, b = _both_paths(mp, near_segments_points, PointGrid(px, py), ax, ay, bx, by, line, r, hw, ua, req,
                           kind, ub, threads=threads)
    finally:
        mp.undo()
    assert len(a[0]) > 4 * 1024
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    cx, cy = rng.uniform(0, 60, 1500), rng.uniform(0, 60, 1500)
    geoms = shapely.box(cx, cy, cx + rng.uniform(1, 4, len(cx)), cy + rng.uniform(1, 4, len(cx)))
    reqp, ubp = np.full(nl, 3.0), np.zeros(len(geoms))
    mp = pytest.MonkeyPatch()
    try:
        a, b = _both_paths(mp, near_segments_polygons, grid_for_geoms(geoms), PolyEdges(geoms), ax, ay, bx, by,
                           line, reqp + hw + ua, hw, ua, reqp, ubp, threads=threads)
    finally:
        mp.undo()
    assert len(a[0]) > 4 * 1024
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
