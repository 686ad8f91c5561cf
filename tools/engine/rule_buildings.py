"""Pipes against buildings: ``building_clearance``.

measured = max(0, centreline distance to the footprint - width_m / 2): the
pipe's outer wall to the footprint, 0 when the pipe passes under it.
required = the rules' building table for the pipe's class, diameter,
pressure, burial and ``deeper_than_foundation``: 1.0 where the depth of the
pipe's outer bottom below the ground at the point of the pipe nearest the
building (pm.bottom_depth_at) is greater than the building's
foundation_depth_m, 0.0 where it is not, NaN where either is unknown (then
only the unconditional entry of the class applies).
Uncertainty: the pipe's acc_h + the building's plan acc.
Geometry: the stretch of pipe within the clearance (centreline within
required + width/2 of the footprint, or under it); for a near miss (within
the uncertainty only) the shortest line pipe -> building.
"""
from __future__ import annotations

import numpy as np

PIPES = "pipe_segment"
BUILDINGS = "building"


def check_building_clearance(ctx):
    import shapely

    from .findings import classify_min, empty_findings, new_findings
    from .plan_join import Distinct, PolyEdges, grid_for_geoms, near_segments_polygons
    from .parallel import rule_threads
    from .rule_roads import Edges, clip_pairs, piece_lines

    rule = "building_clearance"
    rules = ctx.rules
    bld = ctx.layer(BUILDINGS)
    pm = ctx.pipes
    pf = pm.frame
    if len(bld) == 0 or len(pf) == 0:
        return empty_findings()
    entries = rules.entries(rule, "pairs")
    if not entries:
        return empty_findings()
    n = len(pf)
    width = pf["width_m"].to_numpy(float)
    acc_p = np.nan_to_num(pf["acc_h"].to_numpy(float))
    acc_b = np.nan_to_num(ctx.plan_acc_h(bld))
    attrs = {"diameter_mm": pf["diameter_mm"], "pressure_mpa": pf["pressure_mpa"], "burial": pf["burial"]}
    # each pipe's largest possible requirement (deeper than the foundation or
    # not, or unknown), on the distinct (class, attributes) combinations
    dist = Distinct(rules, rule, "pairs", pf["utility"], attrs, cache=pm.distinct_cache())
    k = len(dist)
    rp = np.full(n, np.nan)
    for deeper in (1.0, 0.0, np.nan):
        rp = np.fmax(rp, dist.lookup("pairs", {"deeper_than_foundation": np.full(k, deeper)})[0])
    reach = rp + width / 2 + acc_p + float(acc_b.max())
    if not np.isfinite(reach).any():
        return empty_findings()
    pg = pf.geometry.to_numpy()
    bg = bld.geometry.to_numpy()
    segs = pm.segments
    # grid cell from a sample of the segments' query extents
    smp = slice(None, None, max(1, len(segs) // 65536))
    rs = reach[segs.line[smp]]
    ok = np.isfinite(rs)
    grid = grid_for_geoms(bg, extent_hint=float(np.median(np.abs(segs.dx[smp][ok]) + 2 * rs[ok]))
                          if ok.any() else None)
    # one fused pass: candidates, distance to the footprint and the pipe's
    # widest requirement with both uncertainties (the depth work follows on
    # the few pairs left)
    sg, ib, d, t = near_segments_polygons(grid, PolyEdges(bg), segs.x0, segs.y0, segs.x1, segs.y1, segs.line,
                                          reach, width / 2, acc_p, rp, acc_b, threads=rule_threads(ctx))
    ctx.progress(0.3, rule)
    ip = segs.line[sg]
    if len(segs) != len(pf):  # multi-vertex pipes: the nearest segment of each (pipe, building)
        o = np.lexsort((t, d, ib, ip))
        ip, ib, sg, d, t = ip[o], ib[o], sg[o], d[o], t[o]
        first = np.ones(len(ip), bool)
        first[1:] = (ip[1:] != ip[:-1]) | (ib[1:] != ib[:-1])
        ip, ib, sg, d, t = ip[first], ib[first], sg[first], d[first], t[first]
    measured = np.maximum(d - width[ip] / 2, 0.0)
    u = acc_p[ip] + acc_b[ib]
    # drop the pairs beyond any requirement of the pipe before the depth work
    near = measured - u < rp[ip]
    ip, ib, sg, d, t, measured, u = ip[near], ib[near], sg[near], d[near], t[near], measured[near], u[near]
    # deeper than the foundation: the pipe's outer bottom at its point nearest
    # the building, where the building has a foundation depth
    found = bld["foundation_depth_m"].to_numpy(dtype=float, na_value=np.nan)[ib]
    deeper = np.full(len(ip), np.nan)
    known = np.flatnonzero(np.isfinite(found))
    if len(known):
        s_ = sg[known]
        xy = np.column_stack([segs.x0[s_] + t[known] * segs.dx[s_], segs.y0[s_] + t[known] * segs.dy[s_]])
        bottom = pm.bottom_depth_at(ip[known], xy)
        deeper[known] = np.where(np.isfinite(bottom), (bottom > found[known]).astype(float), np.nan)
    # the requirement on the distinct (pipe combination, deeper) pairs
    dcode = np.where(np.isnan(deeper), 2, deeper).astype(np.int64)
    key, inv = np.unique(dist.inv[ip] * 3 + dcode, return_inverse=True)
    dv = np.array([0.0, 1.0, np.nan])[key % 3]  # code = deeper (0, 1), 2 unknown
    sub = {a: v[key // 3] for a, v in dist.attrs.items()}
    sub["deeper_than_foundation"] = dv
    val, ent = rules.lookup(rule, "pairs", None, dist.cls[key // 3], attrs_b=sub)
    required, ent = val[inv], ent[inv]
    is_f, cert = classify_min(measured, required, u)
    f = np.nonzero(is_f & np.isfinite(required))[0]
    ip, ib = ip[f], ib[f]
    required, ent, measured, cert = required[f], ent[f], measured[f], cert[f]
    ctx.progress(0.7, rule)
    # geometry: the stretch within the clearance (findings only)
    fb, fl = np.unique(ib, return_inverse=True)  # the buildings of findings only
    tol = required + width[ip] / 2
    pc = clip_pairs(segs, Edges(bg[fb]), bg[fb], ip, fl, tol)
    geoms = piece_lines(segs, pc, pc.inside | pc.near, pc.pair, len(ip))
    none = np.array([g is None for g in geoms], dtype=bool)
    if none.any():  # a near miss: the shortest line pipe -> building
        geoms[none] = shapely.shortest_line(pg[ip[none]], bg[ib[none]])
    srcs = np.array([rules.entry_source(rule, i) for i in range(len(entries))] + [""], dtype=object)
    return new_findings(rule, PIPES, pf["uid"].iloc[ip], BUILDINGS,
                        bld["uid"].iloc[ib], measured, required, "m",
                        rules.severity(rule), cert, srcs[ent], geoms)
