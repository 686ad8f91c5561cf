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


def _attrs(f, idx):
    import pandas as pd

    return {
        "diameter_mm": pd.to_numeric(f["diameter_mm"], errors="coerce").to_numpy(float)[idx],
        "pressure_mpa": pd.to_numeric(f["pressure_mpa"], errors="coerce").to_numpy(float)[idx],
        "burial": f["burial"].to_numpy(dtype=object)[idx],
    }


def _required(rules, rule, f, ia, ib):
    """Pair-table value and citation per pair, looked up once per distinct
    combination of the attributes the table can test."""
    import pandas as pd

    util = f["utility"].to_numpy(dtype=object)
    at = _attrs(f, slice(None))
    cols = {"ua": util[ia], "ub": util[ib]}
    for k, v in at.items():
        cols[k + "_a"], cols[k + "_b"] = v[ia], v[ib]
    keys = pd.DataFrame(cols)
    code = keys.groupby(list(cols), dropna=False, sort=False).ngroup().to_numpy()
    first = np.zeros(code.max() + 1 if len(code) else 0, dtype=np.int64)
    first[code[::-1]] = np.arange(len(code))[::-1]
    u = keys.iloc[first]
    req, entry = rules.lookup(
        rule, "pairs", u["ua"].to_numpy(dtype=object), u["ub"].to_numpy(dtype=object),
        attrs_b={k: u[k + "_b"].to_numpy() for k in at}, attrs_a={k: u[k + "_a"].to_numpy() for k in at},
        symmetric=True)
    n_entries = len(rules.entries(rule, "pairs"))
    cites = np.array([rules.entry_source(rule, i) for i in range(n_entries)] + [""], dtype=object)
    return req[code], cites[np.where(entry >= 0, entry, n_entries)][code]


def _uid_text(series):
    return series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)


def _cross(ax, ay, bx, by):
    return ax * by - ay * bx


def _point_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = np.where(den > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(den > 0, den, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def edge_candidates(pm, reach):
    """Edge pairs of different pipes whose boxes, grown by ``reach`` (per pipe),
    overlap: (edge arrays, qi, ti) with line(qi) < line(ti). A bounding-box query
    only; the exact measures are closed-form numpy on the edges."""
    import shapely

    cache = getattr(pm, "_edge_tree", None)
    if cache is None:  # built once per run, shared by both clearance rules
        li = pm.line_index
        e = _edges_of(li)
        a, b = li.coords[e], li.coords[e + 1]
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        tree = shapely.STRtree(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]))
        cache = pm._edge_tree = (li, e, a, b, lo, hi, tree)
    li, e, a, b, lo, hi, tree = cache
    line = li.idx[e]
    r = np.asarray(reach, float)[line] if np.ndim(reach) else np.full(len(e), float(reach))
    qi, ti = tree.query(shapely.box(lo[:, 0] - r, lo[:, 1] - r, hi[:, 0] + r, hi[:, 1] + r))
    m = line[qi] < line[ti]
    return dict(a=a, b=b, line=line, t0=li.t[e], t1=li.t[e + 1]), qi[m], ti[m]


def _edges_of(li):
    from .pipes import _edges

    return _edges(li.coords, li.idx)


def _group_min(la, lb, val, n):
    """Per (la, lb) pair the smallest value: (la, lb, min)."""
    key = la.astype(np.int64) * n + lb
    o = np.argsort(key, kind="stable")
    key, val = key[o], val[o]
    start = np.concatenate([[True], key[1:] != key[:-1]]) if len(key) else np.zeros(0, bool)
    idx = np.nonzero(start)[0]
    mins = np.minimum.reduceat(val, idx) if len(idx) else np.zeros(0)
    k = key[idx]
    return k // n, k % n, mins


def check_horizontal_clearance(ctx, chunk: int = 2_000_000):
    import shapely

    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    n = len(f)
    if n < 2:
        return _empty(H_RULE)
    max_req = max(float(e["value"]) for e in rules.entries(H_RULE, "pairs"))
    w = f["width_m"].to_numpy(float)
    acc = f["acc_h"].to_numpy(float)
    reach = max_req + w / 2.0 + w.max() / 2.0 + acc + acc.max()
    E, qi, ti = edge_candidates(pm, reach)
    A, B, line = E["a"], E["b"], E["line"]
    las, lbs, ds = [], [], []
    for k in range(0, len(qi), chunk):
        i, j = qi[k:k + chunk], ti[k:k + chunk]
        p0, p1, q0, q1 = A[i], B[i], A[j], B[j]
        d = np.minimum.reduce([
            _point_segment(p0[:, 0], p0[:, 1], q0[:, 0], q0[:, 1], q1[:, 0], q1[:, 1]),
            _point_segment(p1[:, 0], p1[:, 1], q0[:, 0], q0[:, 1], q1[:, 0], q1[:, 1]),
            _point_segment(q0[:, 0], q0[:, 1], p0[:, 0], p0[:, 1], p1[:, 0], p1[:, 1]),
            _point_segment(q1[:, 0], q1[:, 1], p0[:, 0], p0[:, 1], p1[:, 0], p1[:, 1])])
        rx, ry = p1[:, 0] - p0[:, 0], p1[:, 1] - p0[:, 1]
        sx, sy = q1[:, 0] - q0[:, 0], q1[:, 1] - q0[:, 1]
        d1 = _cross(sx, sy, p0[:, 0] - q0[:, 0], p0[:, 1] - q0[:, 1])
        d2 = _cross(sx, sy, p1[:, 0] - q0[:, 0], p1[:, 1] - q0[:, 1])
        d3 = _cross(rx, ry, q0[:, 0] - p0[:, 0], q0[:, 1] - p0[:, 1])
        d4 = _cross(rx, ry, q1[:, 0] - p0[:, 0], q1[:, 1] - p0[:, 1])
        d = np.where((d1 * d2 < 0) & (d3 * d4 < 0), 0.0, d)
        near = d - w[line[i]] / 2.0 - w[line[j]] / 2.0 - acc[line[i]] - acc[line[j]] < max_req
        las.append(line[i][near])
        lbs.append(line[j][near])
        ds.append(d[near])
        ctx.check_cancelled()
    if not las:
        return _empty(H_RULE)
    a, b, d = _group_min(np.concatenate(las), np.concatenate(lbs), np.concatenate(ds), n)
    s = _uid_text(f["start_uid"])
    e = _uid_text(f["end_uid"])

    def shares(x, y):
        return (x != "") & (x == y)

    share = (shares(s[a], s[b]) | shares(s[a], e[b]) | shares(e[a], s[b]) | shares(e[a], e[b]))
    meets = d <= 1e-9  # crossing or touching: not a parallel run
    keep = ~share & ~meets
    a, b, d = a[keep], b[keep], d[keep]
    if len(a) == 0:
        return _empty(H_RULE)
    measured = d - w[a] / 2.0 - w[b] / 2.0
    req, cite = _required(rules, H_RULE, f, a, b)
    hit, cert = classify_min(measured, req, acc[a] + acc[b])
    hit &= np.isfinite(req)
    a, b, measured, req, cert, cite = a[hit], b[hit], measured[hit], req[hit], cert[hit], cite[hit]
    if len(a) == 0:
        return _empty(H_RULE)
    uid = f["uid"].to_numpy(dtype=object)
    ua, ub, swap = order_pairs(uid[a], uid[b])
    first = np.where(swap, b, a)
    second = np.where(swap, a, b)
    geom = shapely.shortest_line(pm.geoms[first], pm.geoms[second])
    return new_findings(H_RULE, LAYER, ua, LAYER, ub, measured, req, "m", rules.severity(H_RULE),
                        cert, cite, geom)


def crossing_points(pm, eps: float = 1e-9):
    """Proper crossings of pipe centrelines (inside both lines, not at their
    ends; collinear overlaps are not crossings): (ia, ib, xy, pair_of_point)
    with ia < ib, points grouped by pair, and the fractions along a and b."""
    E, qi, ti = edge_candidates(pm, 0.0)
    A, B, line = E["a"], E["b"], E["line"]
    p0, p1, q0, q1 = A[qi], B[qi], A[ti], B[ti]
    r = p1 - p0
    s = q1 - q0
    w = q0 - p0
    den = _cross(r[:, 0], r[:, 1], s[:, 0], s[:, 1])
    ok = den != 0
    dd = np.where(ok, den, 1.0)
    tp = _cross(w[:, 0], w[:, 1], s[:, 0], s[:, 1]) / dd
    tq = _cross(w[:, 0], w[:, 1], r[:, 0], r[:, 1]) / dd
    ok &= (tp >= 0) & (tp <= 1) & (tq >= 0) & (tq <= 1)
    ga = E["t0"][qi] + tp * (E["t1"][qi] - E["t0"][qi])
    gb = E["t0"][ti] + tq * (E["t1"][ti] - E["t0"][ti])
    ok &= (ga > eps) & (ga < 1 - eps) & (gb > eps) & (gb < 1 - eps)
    la, lb = line[qi][ok], line[ti][ok]
    xy = p0[ok] + r[ok] * tp[ok][:, None]
    ga, gb = ga[ok], gb[ok]
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
    uid = f["uid"].to_numpy(dtype=object)
    ua, ub, _ = order_pairs(uid[pa], uid[pb])
    return new_findings(V_RULE, LAYER, ua[hit], LAYER, ub[hit], meas[hit], req[hit], "m",
                        rules.severity(V_RULE), cert[hit], cite[hit], geom)
