"""Compiled kernels (numba) for the hottest joins, with numpy fallbacks.

numba is optional: imported lazily on the first call; when it is missing,
fails to compile, or ``RENEWAL_PLANNER_NUMBA=0``, the numpy code gives the
same results (same pairs, same order; tested in tests/unit/test_kernels.py).
Kernels are compiled with ``cache=True`` (about a second the very first time,
then loaded from the cache in ~10 ms); when the package folder is not
writable the cache goes to ``~/.cache/renewal_planner/numba`` (NUMBA_CACHE_DIR
wins when set). Every kernel is ``nogil``: rules run chunks of one in threads
(tools/engine/parallel.py).
"""
from __future__ import annotations

import os
import threading

import numpy as np

from ...layers import numba_env

_lock = threading.Lock()
_state = {}


def enabled() -> bool:
    """True when the compiled kernels are in use."""
    return _compiled() is not None


def _compiled():
    if not numba_env.enabled():
        return None
    if "mod" in _state:
        return _state["mod"]
    with _lock:
        if "mod" not in _state:
            _state["mod"] = _build()
    return _state["mod"]


def _build():
    try:
        numba = numba_env.import_numba(os.path.dirname(os.path.abspath(__file__)))
    except Exception:  # noqa: BLE001 - not installed or broken: the numpy path
        return None
    try:
        return _Kernels(numba)
    except Exception:  # noqa: BLE001 - a compile failure must not stop the checks
        return None


class _Kernels:
    def __init__(self, numba):
        jit = numba.njit(nogil=True, cache=True)
        self.grid_pairs = jit(_grid_pairs_py)
        # compile now (or load from the cache) with the types used, so that an
        # error shows here and not in the middle of a rule
        f = np.zeros(1)
        i = np.zeros(2, np.int64)
        self.grid_pairs(f, f, f, f, 0.0, 0.0, 1.0, 1, 1, 0.0, 0.0, i, i[:1], f, f, f, f)
        self.sha1_hex16 = jit(_sha1_hex16_py)
        self.sha1_hex16(np.zeros(1, np.uint8), np.zeros(2, np.int64), np.zeros((1, 16), np.uint8))
        # the fused near joins and the helpers they call (module globals the
        # kernels name: the compiled versions must be in place first)
        g = globals()
        inline = numba.njit(nogil=True, cache=True, inline="always")
        g["_pt_seg_j"] = inline(_pt_seg_py)
        g["_cells_j"] = inline(_cells_py)
        g["_grow_j"] = jit(_grow_py)
        g["_out_j"] = inline(_out_py)
        g["_push_j"] = inline(_push_py)
        g["_trim_j"] = inline(_trim_py)
        g["_seg_seg_j"] = inline(_seg_seg_py)
        self.near_seg_points = jit(_near_seg_points_py)
        self.near_segs_polys = jit(_near_segs_polys_py)
        self.near_seg_points(f, f, f, f, i[:1], f, f, f, np.zeros((1, 2)), 0.0, 0.0, 1.0, 1, 1, i, i[:1], f, f,
                             i[:1], f)
        self.near_segs_polys(f, f, f, f, i[:1], f, f, f, f, 0.0, 0.0, 1.0, 1, 1, 0.0, 0.0, i, i[:1], f, f, f, f,
                             i[:1], i[:1], f, f, f, f, f)


def _grid_pairs_py(qx0, qy0, qx1, qy1, x0, y0, cell, nc, nr, hx, hy, start, order, sx0, sy0, sx1, sy1):
    """PointGrid._pairs as one loop (numba): (query, feature) pairs whose closed
    boxes meet, in the numpy path's order (query, grid row, grid position)."""
    m = len(qx0)
    cap = max(16, 2 * m)
    oq = np.empty(cap, np.int64)
    of = np.empty(cap, np.int64)
    k = 0
    for i in range(m):
        a0, a1, b0, b1 = qx0[i], qx1[i], qy0[i], qy1[i]
        c0 = min(max(np.floor((a0 - hx - x0) / cell), 0.0), nc - 1.0)
        c1 = min(max(np.floor((a1 + hx - x0) / cell), -1.0), nc - 1.0)
        r0 = min(max(np.floor((b0 - hy - y0) / cell), 0.0), nr - 1.0)
        r1 = min(max(np.floor((b1 + hy - y0) / cell), -1.0), nr - 1.0)
        if not (c1 >= c0 and r1 >= r0):  # also skips NaN boxes
            continue
        ic0, ic1 = int(c0), int(c1)
        for r in range(int(r0), int(r1) + 1):
            base = r * nc
            lo = start[base + ic0]
            hi = start[base + ic1 + 1]
            for p in range(lo, hi):
                if sx0[p] <= a1 and sx1[p] >= a0 and sy0[p] <= b1 and sy1[p] >= b0:
                    if k == cap:
                        cap *= 2
                        nq = np.empty(cap, np.int64)
                        nf = np.empty(cap, np.int64)
                        nq[:k] = oq[:k]
                        nf[:k] = of[:k]
                        oq, of = nq, nf
                    oq[k] = i
                    of[k] = order[p]
                    k += 1
    return oq[:k].copy(), of[:k].copy()


def grid_pairs(grid, qx0, qy0, qx1, qy1, threads: int = 1):
    """(query, feature) pairs of a PointGrid (see PointGrid.pairs), compiled,
    over ``threads`` threads; None when the kernels are off (the caller then
    uses its numpy path)."""
    K = _compiled()
    if K is None:
        return None
    from .parallel import map_spans

    g = grid
    args = (float(g.x0), float(g.y0), float(g.cell), int(g.nc), int(g.nr), float(g.hx), float(g.hy),
            g.start, g.order, g.sx0, g.sy0, g.sx1, g.sy1)
    qs = [np.ascontiguousarray(a, dtype=float) for a in (qx0, qy0, qx1, qy1)]

    def run(s, e):
        q, f = K.grid_pairs(qs[0][s:e], qs[1][s:e], qs[2][s:e], qs[3][s:e], *args)
        return q + s, f

    return _spans_concat(map_spans(run, len(qs[0]), threads), 2)


# ---------------------------------------------------------------------------
# SHA-1 (FIPS 180-4) of many short keys: the conflict ids
# ---------------------------------------------------------------------------
def _sha1_hex16_py(data, offsets, out):
    """out[i] = the first 16 hex digits (ASCII) of sha1(data[offsets[i]:offsets[i+1]])."""
    M = np.uint64(0xFFFFFFFF)
    hexd = np.array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102], dtype=np.uint8)
    n = len(offsets) - 1
    maxlen = 0
    for i in range(n):
        maxlen = max(maxlen, offsets[i + 1] - offsets[i])
    buf = np.zeros(((maxlen + 8) // 64 + 1) * 64, np.uint8)
    w = np.empty(80, np.uint64)
    for i in range(n):
        s = offsets[i]
        L = offsets[i + 1] - s
        total = ((L + 8) // 64 + 1) * 64
        # the padded message: data, 0x80, zeros, the length in bits (big-endian)
        for p in range(L):
            buf[p] = data[s + p]
        buf[L] = 0x80
        for p in range(L + 1, total - 8):
            buf[p] = 0
        bits = np.uint64(L) * np.uint64(8)
        for k in range(8):
            buf[total - 1 - k] = np.uint8((bits >> np.uint64(8 * k)) & np.uint64(0xFF))
        h0 = np.uint64(0x67452301)
        h1 = np.uint64(0xEFCDAB89)
        h2 = np.uint64(0x98BADCFE)
        h3 = np.uint64(0x10325476)
        h4 = np.uint64(0xC3D2E1F0)
        for b0 in range(0, total, 64):
            for t in range(16):
                q = b0 + 4 * t
                w[t] = ((np.uint64(buf[q]) << np.uint64(24)) | (np.uint64(buf[q + 1]) << np.uint64(16))
                        | (np.uint64(buf[q + 2]) << np.uint64(8)) | np.uint64(buf[q + 3]))
            for t in range(16, 80):
                x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = ((x << np.uint64(1)) | (x >> np.uint64(31))) & M
            a, b, c, d, e = h0, h1, h2, h3, h4
            for t in range(80):
                if t < 20:
                    f = ((b & c) | ((~b) & d)) & M
                    k_ = np.uint64(0x5A827999)
                elif t < 40:
                    f = b ^ c ^ d
                    k_ = np.uint64(0x6ED9EBA1)
                elif t < 60:
                    f = (b & c) | (b & d) | (c & d)
                    k_ = np.uint64(0x8F1BBCDC)
                else:
                    f = b ^ c ^ d
                    k_ = np.uint64(0xCA62C1D6)
                tmp = ((((a << np.uint64(5)) | (a >> np.uint64(27))) & M) + f + e + k_ + w[t]) & M
                e = d
                d = c
                c = ((b << np.uint64(30)) | (b >> np.uint64(2))) & M
                b = a
                a = tmp
            h0 = (h0 + a) & M
            h1 = (h1 + b) & M
            h2 = (h2 + c) & M
            h3 = (h3 + d) & M
            h4 = (h4 + e) & M
        for k in range(8):
            out[i, k] = hexd[(h0 >> np.uint64(28 - 4 * k)) & np.uint64(0xF)]
            out[i, 8 + k] = hexd[(h1 >> np.uint64(28 - 4 * k)) & np.uint64(0xF)]


def sha1_hex16(keys, threads: int = 1):
    """First 16 hex digits of sha1 of every key of an Arrow (large_)binary /
    string array without nulls, as a NumPy 'U16' array; None when the
    kernels are off."""
    K = _compiled()
    if K is None:
        return None
    import pyarrow as pa

    from .parallel import map_spans

    if pa.types.is_string(keys.type) or pa.types.is_binary(keys.type):
        keys = keys.cast(pa.large_binary())
    n = len(keys)
    _, ob, db = keys.buffers()
    # writable copies: one compiled signature (a read-only view would compile another)
    offsets = np.frombuffer(ob, dtype=np.int64)[keys.offset:keys.offset + n + 1].copy()
    data = np.frombuffer(db, dtype=np.uint8).copy() if db is not None else np.zeros(1, np.uint8)
    out = np.empty((n, 16), np.uint8)

    def run(a, b):
        K.sha1_hex16(data, offsets[a:b + 1], out[a:b])

    map_spans(run, n, threads, min_chunk=1 << 14)
    return out.view("S16").ravel().astype("U16")


# ---------------------------------------------------------------------------
# fused near joins: grid candidates, exact closed-form distance and the rule's
# threshold in one pass (tree and building rules). Each returns only the
# pairs that pass, in the order of the numpy reference (query, grid row, grid
# position), with the same float operations (tested against it and against
# brute force in tests/unit/test_kernels.py).
# ---------------------------------------------------------------------------
def _pt_seg_py(px, py, ax, ay, bx, by):
    """plan_join.point_segment for one pair: (distance, t)."""
    dx = bx - ax
    dy = by - ay
    dd = dx * dx + dy * dy
    t = 0.0
    if dd > 0:
        t = ((px - ax) * dx + (py - ay) * dy) / dd
    if t < 0.0:
        t = 0.0
    elif t > 1.0:
        t = 1.0
    return np.hypot(ax + t * dx - px, ay + t * dy - py), t


def _seg_seg_py(ax, ay, bx, by, cx, cy, dx, dy):
    """plan_join.segment_segment for one pair: (distance, t along a-b)."""
    d1, _t1 = _pt_seg_j(ax, ay, cx, cy, dx, dy)
    d2, _t2 = _pt_seg_j(bx, by, cx, cy, dx, dy)
    d3, t3 = _pt_seg_j(cx, cy, ax, ay, bx, by)
    d4, t4 = _pt_seg_j(dx, dy, ax, ay, bx, by)
    d = min(min(d1, d2), min(d3, d4))
    if d == d1:
        t = 0.0
    elif d == d2:
        t = 1.0
    elif d == d3:
        t = t3
    else:
        t = t4
    o1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    o2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    o3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    o4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    if o1 * o2 < 0 and o3 * o4 < 0:
        ex = bx - ax
        ey = by - ay
        fx = dx - cx
        fy = dy - cy
        den = ex * fy - ey * fx
        tc = ((cx - ax) * fy - (cy - ay) * fx) / den
        if tc != tc:
            tc = 0.0
        t = min(max(tc, 0.0), 1.0)
        d = 0.0
    return d, t


def _cells_py(a0, a1, b0, b1, x0, y0, cell, nc, nr, hx, hy):
    c0 = min(max(np.floor((a0 - hx - x0) / cell), 0.0), nc - 1.0)
    c1 = min(max(np.floor((a1 + hx - x0) / cell), -1.0), nc - 1.0)
    r0 = min(max(np.floor((b0 - hy - y0) / cell), 0.0), nr - 1.0)
    r1 = min(max(np.floor((b1 + hy - y0) / cell), -1.0), nr - 1.0)
    return c0, c1, r0, r1


def _near_seg_points_py(ax, ay, bx, by, line, r, hw, ua, req, x0, y0, cell, nc, nr, start, order, sx, sy,
                        kind, ub):
    """Segments (queries; their line's r, hw, ua, req through ``line``)
    against grid points: pairs with max(d - hw, 0) - (ua + ub) < req[l, kind[f]]
    (finite), as (i, f, d, t); segments whose line's r is not finite are skipped."""
    m = len(ax)
    oq, of, od, ot = _out_j()
    k = 0
    inf = np.inf
    for i in range(m):
        li = line[i]
        ri = r[li]
        if not (ri > -inf and ri < inf):
            continue
        a0 = min(ax[i], bx[i]) - ri
        a1 = max(ax[i], bx[i]) + ri
        b0 = min(ay[i], by[i]) - ri
        b1 = max(ay[i], by[i]) + ri
        c0, c1, r0, r1 = _cells_j(a0, a1, b0, b1, x0, y0, cell, nc, nr, 0.0, 0.0)
        if not (c1 >= c0 and r1 >= r0):
            continue
        ic0, ic1 = int(c0), int(c1)
        for rr in range(int(r0), int(r1) + 1):
            base = rr * nc
            for p in range(start[base + ic0], start[base + ic1 + 1]):
                px = sx[p]
                py = sy[p]
                if px <= a1 and px >= a0 and py <= b1 and py >= b0:
                    f = order[p]
                    rq = req[li, kind[f]]
                    if not (rq < inf):
                        continue
                    d, t = _pt_seg_j(px, py, ax[i], ay[i], bx[i], by[i])
                    ms = max(d - hw[li], 0.0)
                    if ms - (ua[li] + ub[f]) < rq:
                        oq, of, od, ot, k = _push_j(oq, of, od, ot, k, i, f, d, t)
    return _trim_j(oq, of, od, ot, k)


def _near_segs_polys_py(ax, ay, bx, by, line, r, hw, ua, req, x0, y0, cell, nc, nr, hx, hy, start, order,
                        sx0, sy0, sx1, sy1, estart, ecount, ex0, ey0, ex1, ey1, ub):
    """Segments (queries; their line's r, hw, ua, req through ``line``)
    against grid polygons: plan_join.segment_polygon's (d, t) with
    max(d - hw, 0) - (ua + ub) < req[l], as (i, f, d, t); segments whose
    line's r is not finite are skipped."""
    m = len(ax)
    oq, of, od, ot = _out_j()
    k = 0
    inf = np.inf
    for i in range(m):
        li = line[i]
        ri = r[li]
        if not (ri > -inf and ri < inf):
            continue
        sxa = ax[i]
        sya = ay[i]
        sxb = bx[i]
        syb = by[i]
        a0 = min(sxa, sxb) - ri
        a1 = max(sxa, sxb) + ri
        b0 = min(sya, syb) - ri
        b1 = max(sya, syb) + ri
        c0, c1, r0, r1 = _cells_j(a0, a1, b0, b1, x0, y0, cell, nc, nr, hx, hy)
        if not (c1 >= c0 and r1 >= r0):
            continue
        ic0, ic1 = int(c0), int(c1)
        for rr in range(int(r0), int(r1) + 1):
            base = rr * nc
            for p in range(start[base + ic0], start[base + ic1 + 1]):
                if sx0[p] <= a1 and sx1[p] >= a0 and sy0[p] <= b1 and sy1[p] >= b0:
                    f = order[p]
                    dmin = np.inf
                    tmin = np.inf
                    cross = 0
                    for e in range(estart[f], estart[f] + ecount[f]):
                        d, t = _seg_seg_j(sxa, sya, sxb, syb, ex0[e], ey0[e], ex1[e], ey1[e])
                        if d < dmin:
                            dmin = d
                            tmin = t
                        elif d == dmin and t < tmin:
                            tmin = t
                        if (ey0[e] > sya) != (ey1[e] > sya):
                            xc = ex0[e] + (sya - ey0[e]) * (ex1[e] - ex0[e]) / (ey1[e] - ey0[e])
                            if sxa < xc:
                                cross += 1
                    if cross % 2 == 1:
                        dmin = 0.0
                        tmin = 0.0
                    ms = max(dmin - hw[li], 0.0)
                    if ms - (ua[li] + ub[f]) < req[li]:
                        oq, of, od, ot, k = _push_j(oq, of, od, ot, k, i, f, dmin, tmin)
    return _trim_j(oq, of, od, ot, k)


# the growable output of the near kernels: (query, feature, d, t) columns
# filled up to k, doubled when full
def _out_py():
    """Empty output columns (room for 1024 pairs)."""
    cap = 1024
    return (np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.float64),
            np.empty(cap, np.float64))


def _push_py(oq, of, od, ot, k, i, f, d, t):
    """Write the pair (i, f, d, t) at row k, doubling the columns first when
    they are full: the (maybe new) columns and k + 1."""
    if k == len(oq):
        oq, of, od, ot = _grow_j(oq, of, od, ot, k)
    oq[k] = i
    of[k] = f
    od[k] = d
    ot[k] = t
    return oq, of, od, ot, k + 1


def _grow_py(oq, of, od, ot, k):
    """The columns copied into ones twice as long (the rare path: not inlined)."""
    cap = 2 * k
    nq = np.empty(cap, np.int64)
    nf = np.empty(cap, np.int64)
    nd = np.empty(cap, np.float64)
    nt = np.empty(cap, np.float64)
    nq[:k] = oq[:k]
    nf[:k] = of[:k]
    nd[:k] = od[:k]
    nt[:k] = ot[:k]
    return nq, nf, nd, nt


def _trim_py(oq, of, od, ot, k):
    """The first k rows of the columns, as arrays of their own."""
    return oq[:k].copy(), of[:k].copy(), od[:k].copy(), ot[:k].copy()


# names the compiled kernels call (set to their compiled versions by _Kernels)
_pt_seg_j = _pt_seg_py
_seg_seg_j = _seg_seg_py
_cells_j = _cells_py
_out_j = _out_py
_push_j = _push_py
_grow_j = _grow_py
_trim_j = _trim_py


def _f64(a):
    return np.ascontiguousarray(a, dtype=np.float64)


def _i64(a):
    return np.ascontiguousarray(a, dtype=np.int64)


def _spans_concat(parts, k):
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(k))


def _near_spans(kernel, ax, ay, bx, by, line, per_line, args, threads):
    """A fused near kernel over spans of the segments a-b (queries) on
    ``threads`` threads: its (i, f, d, t), i counted over all segments.
    ``per_line``: the arrays indexed through ``line``; ``args``: the rest."""
    from .parallel import map_spans

    q = [_f64(a) for a in (ax, ay, bx, by)] + [_i64(line)]
    per = tuple(_f64(a) for a in per_line)

    def run(s, e):
        out = kernel(*(a[s:e] for a in q), *per, *args)
        return (out[0] + s,) + tuple(out[1:])

    return _spans_concat(map_spans(run, len(q[0]), threads), 4)


def near_seg_points(grid, ax, ay, bx, by, line, r, hw, ua, req, kind, ub, threads: int = 1):
    """Compiled PointGrid (of points) x segments near join, see
    plan_join.near_segments_points; None when the kernels are off."""
    K = _compiled()
    if K is None:
        return None
    g = grid
    args = (float(g.x0), float(g.y0), float(g.cell), int(g.nc), int(g.nr), g.start, g.order,
            _f64(g.sx0), _f64(g.sy0), _i64(kind), _f64(ub))
    return _near_spans(K.near_seg_points, ax, ay, bx, by, line, (r, hw, ua, req), args, threads)


def near_segs_polys(grid, edges, ax, ay, bx, by, line, r, hw, ua, req, ub, threads: int = 1):
    """Compiled segments x PointGrid of polygons near join, see
    plan_join.near_segments_polygons; None when the kernels are off."""
    K = _compiled()
    if K is None:
        return None
    g = grid
    args = (float(g.x0), float(g.y0), float(g.cell), int(g.nc), int(g.nr), float(g.hx), float(g.hy),
            g.start, g.order, _f64(g.sx0), _f64(g.sy0), _f64(g.sx1), _f64(g.sy1),
            _i64(edges.start), _i64(edges.count), _f64(edges.x0), _f64(edges.y0), _f64(edges.x1),
            _f64(edges.y1), _f64(ub))
    return _near_spans(K.near_segs_polys, ax, ay, bx, by, line, (r, hw, ua, req), args, threads)
