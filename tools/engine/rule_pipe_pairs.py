"""Pipe-to-pipe clearances: horizontal_clearance and vertical_clearance.

horizontal_clearance: pairs of pipes that neither share a point (a common
start_uid/end_uid) nor meet (cross or touch: centreline distance 0, those are
connections or crossings, vertical_clearance's business), whose wall-to-wall
distance (centreline distance - width_a/2 - width_b/2) is below the pair's
clearance. Candidates from one STRtree dwithin query bounded per pipe by the
largest value the table can require.

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
    util = f["utility"].to_numpy(dtype=object)
    req, entry = rules.lookup(rule, "pairs", util[ia], util[ib], attrs_b=_attrs(f, ib),
                              attrs_a=_attrs(f, ia), symmetric=True)
    n_entries = len(rules.entries(rule, "pairs"))
    cites = np.array([rules.entry_source(rule, i) for i in range(n_entries)] + [""], dtype=object)
    return req, cites[np.where(entry >= 0, entry, n_entries)]


def _uid_text(series):
    return series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)


def horizontal_candidates(pm, max_required):
    """(ia, ib) index pairs (ia < ib) of pipes that may be within clearance."""
    import shapely

    f = pm.frame
    w = f["width_m"].to_numpy(float)
    acc = f["acc_h"].to_numpy(float)
    reach = max_required + w / 2.0 + w.max() / 2.0 + acc + acc.max()
    tree = shapely.STRtree(pm.geoms)
    qi, ti = tree.query(pm.geoms, predicate="dwithin", distance=reach)
    m = qi < ti
    return qi[m], ti[m]


def check_horizontal_clearance(ctx, chunk: int = 2_000_000):
    import shapely

    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    if len(f) < 2:
        return _empty(H_RULE)
    max_req = max(float(e["value"]) for e in rules.entries(H_RULE, "pairs"))
    ia, ib = horizontal_candidates(pm, max_req)
    s = _uid_text(f["start_uid"])
    e = _uid_text(f["end_uid"])

    def shares(x, y):
        return (x != "") & (x == y)

    w = f["width_m"].to_numpy(float)
    acc = f["acc_h"].to_numpy(float)
    out = []
    for k in range(0, len(ia), chunk):
        a, b = ia[k:k + chunk], ib[k:k + chunk]
        share = (shares(s[a], s[b]) | shares(s[a], e[b]) | shares(e[a], s[b]) | shares(e[a], e[b]))
        a, b = a[~share], b[~share]
        d = shapely.distance(pm.geoms[a], pm.geoms[b])
        meets = d <= 0.0  # crossing or touching: not a parallel run
        a, b, d = a[~meets], b[~meets], d[~meets]
        measured = d - w[a] / 2.0 - w[b] / 2.0
        req, cite = _required(rules, H_RULE, f, a, b)
        u = acc[a] + acc[b]
        hit, cert = classify_min(measured, req, u)
        hit &= np.isfinite(req)
        out.append((a[hit], b[hit], measured[hit], req[hit], cert[hit], cite[hit]))
        ctx.check_cancelled()
    if not out:
        return _empty(H_RULE)
    a, b, measured, req, cert, cite = (np.concatenate(x) for x in zip(*out))
    if len(a) == 0:
        return _empty(H_RULE)
    uid = f["uid"].to_numpy(dtype=object)
    ua, ub, swap = order_pairs(uid[a], uid[b])
    first = np.where(swap, b, a)
    second = np.where(swap, a, b)
    geom = shapely.shortest_line(pm.geoms[first], pm.geoms[second])
    return new_findings(H_RULE, LAYER, ua, LAYER, ub, measured, req, "m", rules.severity(H_RULE),
                        cert, cite, geom)


def crossing_points(pm):
    """Proper crossings of pipe centrelines: (ia, ib, xy, pair_of_point) with ia < ib."""
    import shapely

    tree = shapely.STRtree(pm.geoms)
    qi, ti = tree.query(pm.geoms, predicate="crosses")
    m = qi < ti
    ia, ib = qi[m], ti[m]
    if len(ia) == 0:
        return ia, ib, np.zeros((0, 2)), np.zeros(0, np.int64)
    inter = shapely.intersection(pm.geoms[ia], pm.geoms[ib])
    parts, pidx = shapely.get_parts(inter, return_index=True)
    pt = shapely.get_type_id(parts) == 0
    parts, pidx = parts[pt], pidx[pt]
    xy = shapely.get_coordinates(parts)
    return ia, ib, xy, pidx


def check_vertical_clearance(ctx):
    import shapely

    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    if len(f) < 2:
        return _empty(V_RULE)
    ia, ib, xy, pidx = crossing_points(pm)
    known = f["depth_known"].to_numpy(bool)
    ok = known[ia[pidx]] & known[ib[pidx]] if len(pidx) else np.zeros(0, bool)
    xy, pidx = xy[ok], pidx[ok]
    if len(pidx) == 0:
        return _empty(V_RULE)
    a, b = ia[pidx], ib[pidx]
    ta, tb = pm.fraction(a, xy), pm.fraction(b, xy)
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
    pts = shapely.multipoints(xy, indices=inv)
    single = np.bincount(inv) == 1
    geom = np.where(single, shapely.get_geometry(pts, 0), pts)
    uid = f["uid"].to_numpy(dtype=object)
    ua, ub, _ = order_pairs(uid[pa], uid[pb])
    return new_findings(V_RULE, LAYER, ua[hit], LAYER, ub[hit], meas[hit], req[hit], "m",
                        rules.severity(V_RULE), cert[hit], cite[hit], geom[hit])
