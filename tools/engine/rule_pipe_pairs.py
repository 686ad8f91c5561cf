"""Pipe-to-pipe clearances: horizontal_clearance and vertical_clearance.

horizontal_clearance: pairs of pipes that neither share a point (a common
start_uid/end_uid) nor meet (cross or touch: centreline distance 0, those are
connections or crossings, vertical_clearance's business), whose wall-to-wall
distance (centreline distance - width_a/2 - width_b/2) is below the pair's
clearance. Candidates: one bounding-box STRtree query over the pipes' edges,
grown per pipe by the largest value the table can require; the distances are
closed-form segment-to-segment measures in numpy, the smallest per pair.

vertical_clearance: at each proper crossing of two centrelines, the gap
between the upper pipe's outer bottom and the lower pipe's outer top (upper =
higher centre at the crossing; negative when they overlap in height).
Elevations come from the pipe model; where a pipe's ground is unknown the
other pipe's ground at the crossing is used (it is the same surface), and
where neither is known the gap follows from the two depths alone.
"""
from __future__ import annotations

import numpy as np

from .findings import classify_min, new_findings, order_pairs
from .pipes import LAYER

H_RULE = "horizontal_clearance"
V_RULE = "vertical_clearance"


def _empty(rule):
    return new_findings(rule, LAYER, [], LAYER, [], [], [], "m", "", "", "", [])


def _attr_codes(f, rows=None):
    """Per pipe (of ``rows``, default all) a code of its combination of the
    attributes the pair tables can test (utility, diameter, pressure, burial),
    and one pipe (frame row) per code: (codes, representative row per code)."""
    import pandas as pd

    rows = np.arange(len(f)) if rows is None else np.asarray(rows, dtype=np.int64)
    key = np.zeros(len(rows), dtype=np.int64)
    for col in ("utility", "diameter_mm", "pressure_mpa", "burial"):
        ser = f[col].iloc[rows] if len(rows) != len(f) else f[col]
        if col in ("diameter_mm", "pressure_mpa"):
            ser = pd.to_numeric(ser, errors="coerce")
        c, u = pd.factorize(ser, use_na_sentinel=True)
        c = np.asarray(c, dtype=np.int64) + 1  # missing -> 0
        key = key * (len(u) + 1) + c
        if len(u) > 1000:  # keep the mixed radix small: renumber
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64)
    uk, code = np.unique(key, return_inverse=True)
    code = code.astype(np.int64)
    rep = np.zeros(len(uk), dtype=np.int64)
    rep[code[::-1]] = rows[::-1]
    return code, rep


def _lookup_reps(rules, rule, f, pa, pb):
    """rules.lookup for the pipe pairs (pa, pb) (frame rows): values, citations."""
    import pandas as pd

    util = f["utility"].iloc[np.concatenate([pa, pb])].to_numpy(dtype=object)
    ua, ub = util[:len(pa)], util[len(pa):]
    at = {}
    for c in ("diameter_mm", "pressure_mpa"):
        v = pd.to_numeric(f[c].iloc[np.concatenate([pa, pb])], errors="coerce").to_numpy(float)
        at[c] = (v[:len(pa)], v[len(pa):])
    v = f["burial"].iloc[np.concatenate([pa, pb])].to_numpy(dtype=object)
    at["burial"] = (v[:len(pa)], v[len(pa):])
    req, entry = rules.lookup(
        rule, "pairs", ua, ub, attrs_b={c: v[1] for c, v in at.items()},
        attrs_a={c: v[0] for c, v in at.items()}, symmetric=True)
    n_entries = len(rules.entries(rule, "pairs"))
    cites = np.array([rules.entry_source(rule, i) for i in range(n_entries)] + [""], dtype=object)
    return req, cites[np.where(entry >= 0, entry, n_entries)]


def _required(rules, rule, f, ia, ib):
    """Pair-table value and citation per pair, looked up once per distinct
    combination of the attributes the table can test."""
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    if len(ia) == 0:
        return np.zeros(0), np.zeros(0, dtype=object)
    rows = np.unique(np.concatenate([ia, ib]))
    code, rep = _attr_codes(f, rows)
    pos = np.zeros(int(rows[-1]) + 1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    k = np.int64(len(rep))
    pair = code[pos[ia]] * k + code[pos[ib]]
    upair, inv = np.unique(pair, return_inverse=True)
    req, cite = _lookup_reps(rules, rule, f, rep[upair // k], rep[upair % k])
    return req[inv], cite[inv]


class PairTable:
    """The pair table of ``rule`` for every combination of pipe attributes:
    ``value(a, b)`` / ``cite(a, b)`` for pipe rows a, b (built once per run)."""

    MAX_CODES = 3000

    def __init__(self, pm, rules, rule):
        f = pm.frame
        self.code, rep = _attr_codes(f)
        k = len(rep)
        self.ok = k <= self.MAX_CODES
        if not self.ok:
            return
        ga, gb = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        req, cite = _lookup_reps(rules, rule, f, rep[ga.ravel()], rep[gb.ravel()])
        self.req = req.reshape(k, k)
        self.cites = cite.reshape(k, k)

    def value(self, a, b):
        return self.req[self.code[a], self.code[b]]

    def cite(self, a, b):
        return self.cites[self.code[a], self.code[b]]


def pair_table(pm, rules, rule) -> PairTable:
    cache = getattr(pm, "_pair_tables", None)
    if cache is None:
        cache = pm._pair_tables = {}
    if rule not in cache:
        cache[rule] = PairTable(pm, rules, rule)
    return cache[rule]


def _end_codes(f, rows):
    """Integer codes of start_uid / end_uid of pipes ``rows`` (-1: none)."""
    import pandas as pd

    vals = pd.concat([f["start_uid"].iloc[rows], f["end_uid"].iloc[rows]], ignore_index=True)
    vals = vals.where(vals.notna() & (vals.astype(object) != ""), None)
    codes, _ = pd.factorize(vals, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    return codes[:len(rows)], codes[len(rows):]


def _cross(ax, ay, bx, by):
    return ax * by - ay * bx


def _point_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = np.where(den > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(den > 0, den, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _closest(px, py, ax, ay, bx, by):
    """Closest point on segment a-b to p: (x, y, distance)."""
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = np.where(den > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(den > 0, den, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    cx, cy = ax + t * dx, ay + t * dy
    return cx, cy, np.hypot(px - cx, py - cy)


class Edges:
    """The straight edges of every pipe, sorted along a Morton curve (so that
    neighbours lie close in memory), as flat coordinate arrays."""

    def __init__(self, pm):
        from .pipes import _edges, spatial_order

        li = pm.line_index
        e = _edges(li.coords, li.idx)
        a, b = li.coords[e], li.coords[e + 1]
        o = spatial_order((a + b) / 2.0)
        e, a, b = e[o], a[o], b[o]
        self.x0, self.y0 = np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1])
        self.x1, self.y1 = np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(b[:, 1])
        self.line = li.idx[e].astype(np.int64)
        self.t0, self.t1 = li.t[e], li.t[e + 1]
        self.lo = np.column_stack([np.minimum(self.x0, self.x1), np.minimum(self.y0, self.y1)])
        self.hi = np.column_stack([np.maximum(self.x0, self.x1), np.maximum(self.y0, self.y1)])

    def __len__(self):
        return len(self.line)

    def pairs(self, grow=0.0, chunk: int = 1 << 19):
        """Edge pairs of different pipes whose boxes, grown by ``grow`` (per
        edge), overlap: chunks of (i, j) with line(i) < line(j)."""
        from .pipes import GridJoin

        g = np.asarray(grow, float)[:, None] if np.ndim(grow) else float(grow)
        gj = GridJoin(self.lo - g, self.hi + g)
        line = self.line
        for i, j in gj.pairs(chunk):
            li, lj = line[i], line[j]
            keep = li != lj
            i, j, li, lj = i[keep], j[keep], li[keep], lj[keep]
            swap = li > lj
            yield np.where(swap, j, i), np.where(swap, i, j)


def edges_of(pm) -> Edges:
    """The pipe model's Edges, built once per run and shared by both rules."""
    e = getattr(pm, "_edges_sorted", None)
    if e is None:
        e = pm._edges_sorted = Edges(pm)
    return e


def _segment_distance(E, i, j):
    """Closed-form distance between edges i and j (0 where they cross)."""
    x0, y0, x1, y1 = E.x0, E.y0, E.x1, E.y1
    px0, py0, px1, py1 = x0[i], y0[i], x1[i], y1[i]
    qx0, qy0, qx1, qy1 = x0[j], y0[j], x1[j], y1[j]
    d = _point_segment(px0, py0, qx0, qy0, qx1, qy1)
    np.minimum(d, _point_segment(px1, py1, qx0, qy0, qx1, qy1), out=d)
    np.minimum(d, _point_segment(qx0, qy0, px0, py0, px1, py1), out=d)
    np.minimum(d, _point_segment(qx1, qy1, px0, py0, px1, py1), out=d)
    rx, ry = px1 - px0, py1 - py0
    sx, sy = qx1 - qx0, qy1 - qy0
    d1 = _cross(sx, sy, px0 - qx0, py0 - qy0)
    d2 = _cross(sx, sy, px1 - qx0, py1 - qy0)
    d3 = _cross(rx, ry, qx0 - px0, qy0 - py0)
    d4 = _cross(rx, ry, qx1 - px0, qy1 - py0)
    d[(d1 * d2 < 0) & (d3 * d4 < 0)] = 0.0
    return d


def _closest_points(E, i, j):
    """Closest points between edges i and j (they do not cross): (N x 2, N x 2)."""
    x0, y0, x1, y1 = E.x0, E.y0, E.x1, E.y1
    px0, py0, px1, py1 = x0[i], y0[i], x1[i], y1[i]
    qx0, qy0, qx1, qy1 = x0[j], y0[j], x1[j], y1[j]
    cand = [
        (px0, py0) + _closest(px0, py0, qx0, qy0, qx1, qy1),
        (px1, py1) + _closest(px1, py1, qx0, qy0, qx1, qy1),
        _closest(qx0, qy0, px0, py0, px1, py1)[:2] + (qx0, qy0) + _closest(qx0, qy0, px0, py0, px1, py1)[2:],
        _closest(qx1, qy1, px0, py0, px1, py1)[:2] + (qx1, qy1) + _closest(qx1, qy1, px0, py0, px1, py1)[2:],
    ]
    dist = np.stack([c[4] for c in cand])
    k = np.argmin(dist, axis=0)
    r = np.arange(len(k))
    p = np.stack([np.stack([c[0] for c in cand])[k, r], np.stack([c[1] for c in cand])[k, r]], axis=1)
    q = np.stack([np.stack([c[2] for c in cand])[k, r], np.stack([c[3] for c in cand])[k, r]], axis=1)
    return p, q


def _group_min(la, lb, val, n):
    """Per (la, lb) pair the smallest value: (la, lb, min, position of the min)."""
    key = la.astype(np.int64) * n + lb
    o = np.lexsort((val, key))
    key = key[o]
    start = np.ones(len(key), bool)
    start[1:] = key[1:] != key[:-1]
    pos = o[start]
    k = key[start]
    return k // n, k % n, val[pos], pos


def check_horizontal_clearance(ctx, chunk: int = 1 << 17):
    import shapely

    from .parallel import map_ordered, rule_threads

    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    n = len(f)
    if n < 2:
        return _empty(H_RULE)
    max_req = max(float(e["value"]) for e in rules.entries(H_RULE, "pairs"))
    w = f["width_m"].to_numpy(float)
    acc = f["acc_h"].to_numpy(float)
    accu = np.nan_to_num(acc, nan=0.0)
    tab = pair_table(pm, rules, H_RULE)
    E = edges_of(pm)
    line = E.line
    # near when d - w_a/2 - w_b/2 - acc_a - acc_b < max_req, i.e. d < g_a + g_b:
    # boxes grown by g each (a hair more for rounding) cannot miss a near pair
    half = w / 2.0 + acc
    grow = (max_req / 2.0 + half[line]) * (1 + 1e-9) + 1e-9
    def measure(i, j):
        d = _segment_distance(E, i, j)
        li, lj = line[i], line[j]
        if tab.ok:
            # the finding test of classify_min with the pair's own requirement;
            # touching / crossing edge pairs are kept to exclude their pairs
            req = tab.value(li, lj)
            keep = (d - w[li] / 2.0 - w[lj] / 2.0 - (accu[li] + accu[lj]) < req) | (d <= 1e-9)
        else:
            keep = d - half[li] - half[lj] < max_req
        return i[keep], j[keep], d[keep]

    eis, ejs, ds = [], [], []
    for i, j, d in map_ordered(measure, E.pairs(grow, chunk), rule_threads(ctx)):
        eis.append(i)
        ejs.append(j)
        ds.append(d)
        ctx.check_cancelled()
    if not eis:
        return _empty(H_RULE)
    ei, ej, d = np.concatenate(eis), np.concatenate(ejs), np.concatenate(ds)
    a, b, d, pos = _group_min(line[ei], line[ej], d, n)
    ei, ej = ei[pos], ej[pos]
    keep = d > 1e-9  # crossing or touching: not a parallel run
    a, b, d, ei, ej = a[keep], b[keep], d[keep], ei[keep], ej[keep]
    if len(a) == 0:
        return _empty(H_RULE)
    measured = d - w[a] / 2.0 - w[b] / 2.0
    if tab.ok:
        req, cite = tab.value(a, b), tab.cite(a, b)
    else:
        req, cite = _required(rules, H_RULE, f, a, b)
    hit, cert = classify_min(measured, req, acc[a] + acc[b])
    hit &= np.isfinite(req)
    a, b, measured, req, cert, cite = a[hit], b[hit], measured[hit], req[hit], cert[hit], cite[hit]
    ei, ej = ei[hit], ej[hit]
    if len(a) == 0:
        return _empty(H_RULE)
    # pipes that share an end point (start_uid / end_uid) are connected
    rows = np.unique(np.concatenate([a, b]))
    s, e = _end_codes(f, rows)
    pos = np.zeros(n, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    sa, ea, sb, eb = s[pos[a]], e[pos[a]], s[pos[b]], e[pos[b]]

    def shares(x, y):
        return (x >= 0) & (x == y)

    keep = ~(shares(sa, sb) | shares(sa, eb) | shares(ea, sb) | shares(ea, eb))
    a, b, measured, req, cert, cite = a[keep], b[keep], measured[keep], req[keep], cert[keep], cite[keep]
    ei, ej = ei[keep], ej[keep]
    if len(a) == 0:
        return _empty(H_RULE)
    ab = np.concatenate([a, b])
    uid = f["uid"].iloc[ab].to_numpy(dtype=object)
    ua, ub, swap = order_pairs(uid[:len(a)], uid[len(a):])
    p, q = _closest_points(E, ei, ej)  # on a's edge, on b's edge
    start = np.where(swap[:, None], q, p)
    end = np.where(swap[:, None], p, q)
    geom = shapely.linestrings(np.stack([start, end], axis=1))
    return new_findings(H_RULE, LAYER, ua, LAYER, ub, measured, req, "m", rules.severity(H_RULE),
                        cert, cite, geom)


def crossing_points(pm, eps: float = 1e-9):
    """Proper crossings of pipe centrelines (inside both lines, not at their
    ends; collinear overlaps are not crossings): (ia, ib, xy, pair_of_point)
    with ia < ib, points grouped by pair, and the fractions along a and b."""
    E = edges_of(pm)
    line = E.line
    las, lbs, xys, gas, gbs = [], [], [], [], []
    for qi, ti in E.pairs(0.0):
        px0, py0, qx0, qy0 = E.x0[qi], E.y0[qi], E.x0[ti], E.y0[ti]
        rx, ry = E.x1[qi] - px0, E.y1[qi] - py0
        sx, sy = E.x1[ti] - qx0, E.y1[ti] - qy0
        wx, wy = qx0 - px0, qy0 - py0
        den = _cross(rx, ry, sx, sy)
        ok = den != 0
        dd = np.where(ok, den, 1.0)
        tp = _cross(wx, wy, sx, sy) / dd
        tq = _cross(wx, wy, rx, ry) / dd
        ok &= (tp >= 0) & (tp <= 1) & (tq >= 0) & (tq <= 1)
        qi, ti, tp, tq = qi[ok], ti[ok], tp[ok], tq[ok]
        ga = E.t0[qi] + tp * (E.t1[qi] - E.t0[qi])
        gb = E.t0[ti] + tq * (E.t1[ti] - E.t0[ti])
        ok = (ga > eps) & (ga < 1 - eps) & (gb > eps) & (gb < 1 - eps)
        qi, tp = qi[ok], tp[ok]
        las.append(line[qi])
        lbs.append(line[ti[ok]])
        xys.append(np.column_stack([E.x0[qi] + (E.x1[qi] - E.x0[qi]) * tp,
                                    E.y0[qi] + (E.y1[qi] - E.y0[qi]) * tp]))
        gas.append(ga[ok])
        gbs.append(gb[ok])
    if not las:
        z = np.zeros(0, np.int64)
        return z, z, np.zeros((0, 2)), z, np.zeros(0), np.zeros(0)
    la, lb, xy = np.concatenate(las), np.concatenate(lbs), np.concatenate(xys)
    ga, gb = np.concatenate(gas), np.concatenate(gbs)
    n = len(pm)
    key = la.astype(np.int64) * n + lb
    xr, yr = np.round(xy[:, 0], 6), np.round(xy[:, 1], 6)
    o = np.lexsort((yr, xr, key))
    key, xr, yr, xy, ga, gb = key[o], xr[o], yr[o], xy[o], ga[o], gb[o]
    dup = np.zeros(len(key), bool)
    dup[1:] = (key[1:] == key[:-1]) & (xr[1:] == xr[:-1]) & (yr[1:] == yr[:-1])
    key, xy, ga, gb = key[~dup], xy[~dup], ga[~dup], gb[~dup]
    uk, pidx = np.unique(key, return_inverse=True)
    return uk // n, uk % n, xy, pidx, ga, gb


def check_vertical_clearance(ctx):
    import shapely

    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    if len(f) < 2:
        return _empty(V_RULE)
    ia, ib, xy, pidx, ta, tb = crossing_points(pm)
    known = f["depth_known"].to_numpy(bool)
    ok = known[ia[pidx]] & known[ib[pidx]] if len(pidx) else np.zeros(0, bool)
    xy, pidx, ta, tb = xy[ok], pidx[ok], ta[ok], tb[ok]
    if len(pidx) == 0:
        return _empty(V_RULE)
    a, b = ia[pidx], ib[pidx]
    ga, gb = pm.ground_at_t(a, ta), pm.ground_at_t(b, tb)
    ga_, gb_ = np.where(np.isfinite(ga), ga, gb), np.where(np.isfinite(gb), gb, ga)
    ga_, gb_ = np.nan_to_num(ga_, nan=0.0), np.nan_to_num(gb_, nan=0.0)
    top_a, bot_a = ga_ - pm.cover_at_t(a, ta), ga_ - pm.bottom_depth_at_t(a, ta)
    top_b, bot_b = gb_ - pm.cover_at_t(b, tb), gb_ - pm.bottom_depth_at_t(b, tb)
    a_upper = (top_a + bot_a) >= (top_b + bot_b)
    gap = np.where(a_upper, bot_a - top_b, bot_b - top_a)

    up, inv = np.unique(pidx, return_inverse=True)
    meas = np.full(len(up), np.inf)
    np.minimum.at(meas, inv, gap)
    pa, pb = ia[up], ib[up]
    tab = pair_table(pm, rules, V_RULE)
    if tab.ok:
        req, cite = tab.value(pa, pb), tab.cite(pa, pb)
    else:
        req, cite = _required(rules, V_RULE, f, pa, pb)
    accv = f["acc_v"].to_numpy(float)
    hit, cert = classify_min(meas, req, accv[pa] + accv[pb])
    hit &= np.isfinite(req)
    # geometry for the findings only: a Point, or a MultiPoint where they cross several times
    keep = hit[inv]
    xy_h, inv_h = xy[keep], np.cumsum(hit)[inv[keep]] - 1
    count = np.bincount(inv_h, minlength=int(hit.sum()))
    geom = np.empty(int(hit.sum()), dtype=object)
    one = count == 1
    first = np.zeros(len(count), dtype=np.int64)
    first[inv_h[::-1]] = np.arange(len(inv_h))[::-1]
    geom[one] = shapely.points(xy_h[first[one]])
    if (~one).any():
        many = ~one[inv_h]
        _, grp = np.unique(inv_h[many], return_inverse=True)
        geom[~one] = shapely.multipoints(xy_h[many], indices=grp)
    pa, pb = pa[hit], pb[hit]
    uid = f["uid"].iloc[np.concatenate([pa, pb])].to_numpy(dtype=object)
    ua, ub, _ = order_pairs(uid[:len(pa)], uid[len(pa):])
    return new_findings(V_RULE, LAYER, ua, LAYER, ub, meas[hit], req[hit], "m",
                        rules.severity(V_RULE), cert[hit], cite[hit], geom)
