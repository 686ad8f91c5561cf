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
    from .rule_roads import Edges, Segments, clip_pairs, piece_lines, pipe_pairs_dwithin

    rule = "building_clearance"
    rules = ctx.rules
    bld = ctx.layer(BUILDINGS)
    pm = ctx.pipes
    pf = pm.frame
    if len(bld) == 0 or len(pf) == 0:
        return empty_findings()
    entries = rules.entries(rule, "pairs")
    rmax = max(float(e["value"]) for e in entries) if entries else np.nan
    if not np.isfinite(rmax):
        return empty_findings()
    width = pf["width_m"].to_numpy(float)
    acc_p = np.nan_to_num(pf["acc_h"].to_numpy(float))
    acc_b = np.nan_to_num(ctx.plan_acc_h(bld))
    dmax = rmax + width.max() / 2 + acc_p.max() + acc_b.max()
    pg = pf.geometry.to_numpy()
    bg = bld.geometry.to_numpy()
    ip, ib = pipe_pairs_dwithin(pg, bg, dmax)
    ctx.progress(0.3, rule)
    line = shapely.shortest_line(pg[ip], bg[ib])
    d = shapely.length(line)
    near_xy = shapely.get_coordinates(line).reshape(-1, 2, 2)[:, 0]  # the pipe end of the line
    bottom = pm.bottom_depth_at(ip, near_xy) if len(ip) else np.zeros(0)
    found = bld["foundation_depth_m"].to_numpy(dtype=float, na_value=np.nan)[ib]
    deeper = np.where(np.isfinite(bottom) & np.isfinite(found), (bottom > found).astype(float), np.nan)
    attrs = {"diameter_mm": pf["diameter_mm"].to_numpy(dtype=float, na_value=np.nan)[ip],
             "pressure_mpa": pf["pressure_mpa"].to_numpy(dtype=float, na_value=np.nan)[ip],
             "burial": pf["burial"].to_numpy(dtype=object)[ip],
             "deeper_than_foundation": deeper}
    required, ent = rules.lookup(rule, "pairs", None, pf["utility"].to_numpy(dtype=object)[ip], attrs_b=attrs)
    measured = np.maximum(d - width[ip] / 2, 0.0)
    u = acc_p[ip] + acc_b[ib]
    is_f, cert = classify_min(measured, required, u)
    f = np.nonzero(is_f & np.isfinite(required))[0]
    ip, ib, line = ip[f], ib[f], line[f]
    required, ent, measured, cert = required[f], ent[f], measured[f], cert[f]
    ctx.progress(0.7, rule)
    # geometry: the stretch within the clearance
    segs = Segments(pg)
    edges = Edges(bg)
    tol = required + width[ip] / 2
    pc = clip_pairs(segs, edges, bg, ip, ib, tol)
    geoms = piece_lines(segs, pc, pc.inside | pc.near, pc.pair, len(ip))
    none = np.array([g is None for g in geoms], dtype=bool)
    geoms[none] = line[none]
    srcs = np.array([rules.entry_source(rule, i) for i in range(len(entries))] + [""], dtype=object)
    return new_findings(rule, PIPES, pf["uid"].to_numpy(dtype=object)[ip], BUILDINGS,
                        bld["uid"].to_numpy(dtype=object)[ib], measured, required, "m",
                        rules.severity(rule), cert, srcs[ent], geoms)
