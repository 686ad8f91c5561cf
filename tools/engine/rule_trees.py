"""Trees against pipes: ``tree_pipe_clearance`` (CJJ 75-97 table 6.2.1).

measured = distance from the tree (or shrub) centre to the pipe's outer edge
= centreline distance - width_m / 2, 0 when the centre lies over the pipe.
required = the rules' ``tree`` or ``shrub`` table value for the pipe's class
(and burial). Uncertainty = the tree's plan acc + the pipe's acc_h.
Geometry: the shortest line from the tree centre to the pipe's outer edge,
or the tree point when the centre is over the pipe.
"""
from __future__ import annotations

import numpy as np

PIPES = "pipe_segment"
TREES = "tree"
KINDS = ("tree", "shrub")


def check_tree_pipe_clearance(ctx):
    import shapely

    from .findings import classify_min, empty_findings, new_findings
    from .plan_join import PointGrid, lookup_distinct, near_segments_points
    from .parallel import rule_threads

    rule = "tree_pipe_clearance"
    rules = ctx.rules
    trees = ctx.layer(TREES)
    pm = ctx.pipes
    pf = pm.frame
    if len(trees) == 0 or len(pf) == 0:
        return empty_findings()
    attrs = {"burial": pf["burial"], "diameter_mm": pf["diameter_mm"], "pressure_mpa": pf["pressure_mpa"]}
    # required per pipe for each kind (a NULL or unknown kind counts as a tree),
    # looked up on the distinct (class, attributes) combinations
    table = lookup_distinct(rules, rule, list(KINDS), pf["utility"], attrs, cache=pm.distinct_cache())
    req = {k: v[0] for k, v in table.items()}
    ent = {k: v[1] for k, v in table.items()}
    shrub = (trees["kind"] == "shrub").to_numpy(dtype=bool, na_value=False)
    width = pf["width_m"].to_numpy(float)
    acc_p = np.nan_to_num(pf["acc_h"].to_numpy(float))
    acc_t = np.nan_to_num(ctx.plan_acc_h(trees))
    # each pipe's own reach: its larger requirement + half its width + both accuracies
    rp = np.fmax(req["tree"] if (~shrub).any() else np.nan, req["shrub"] if shrub.any() else np.nan)
    reach = rp + width / 2 + acc_p + float(acc_t.max())
    if not np.isfinite(reach).any():
        return empty_findings()
    # candidates: vertex segments of the pipes against the trees binned in a grid
    segs = pm.segments
    txy = shapely.get_coordinates(trees.geometry.to_numpy())
    # grid cell from a sample of the segments' query extents
    smp = slice(None, None, max(1, len(segs) // 65536))
    rs = reach[segs.line[smp]]
    ok = np.isfinite(rs)
    grid = PointGrid(txy[:, 0], txy[:, 1], extent_hint=float(np.median(np.abs(segs.dx[smp][ok]) + 2 * rs[ok]))
                     if ok.any() else None)
    # one fused pass: candidates, distance and each pair's own requirement
    # (tree or shrub) with both uncertainties; only the findings come back
    req2 = np.column_stack([req["tree"], req["shrub"]])
    sg, it, d, t = near_segments_points(grid, segs.x0, segs.y0, segs.x1, segs.y1, segs.line, reach,
                                        width / 2, acc_p, req2, shrub.astype(np.int64), acc_t,
                                        threads=rule_threads(ctx))
    ctx.progress(0.5, rule)
    ip = segs.line[sg]
    if len(segs) != len(pf):  # multi-vertex pipes: the nearest segment of each (pipe, tree)
        o = np.lexsort((d, it, ip))
        ip, it, sg, d, t = ip[o], it[o], sg[o], d[o], t[o]
        first = np.ones(len(ip), bool)
        first[1:] = (ip[1:] != ip[:-1]) | (it[1:] != it[:-1])
        ip, it, sg, d, t = ip[first], it[first], sg[first], d[first], t[first]
    sh = shrub[it]
    required = np.where(sh, req["shrub"][ip], req["tree"][ip])
    measured = np.maximum(d - width[ip] / 2, 0.0)
    u = acc_p[ip] + acc_t[it]
    is_f, cert = classify_min(measured, required, u)
    f = np.nonzero(is_f & np.isfinite(required))[0]
    ip, it, sg, d, t, measured, sh = ip[f], it[f], sg[f], d[f], t[f], measured[f], sh[f]
    # geometry: from the tree centre towards the nearest point of the
    # centreline, cut back to the outer edge; the tree point when over the pipe
    px, py = txy[it, 0], txy[it, 1]
    nx = segs.x0[sg] + t * (segs.x1[sg] - segs.x0[sg])
    ny = segs.y0[sg] + t * (segs.y1[sg] - segs.y0[sg])
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(d > 0, measured / d, 0.0)
    ex, ey = px + (nx - px) * k, py + (ny - py) * k
    geoms = trees.geometry.to_numpy()[it].copy()
    pos = measured > 0
    if pos.any():
        geoms[pos] = shapely.linestrings(np.stack([np.column_stack([px[pos], py[pos]]),
                                                   np.column_stack([ex[pos], ey[pos]])], axis=1))
    entry = np.where(sh, ent["shrub"][ip], ent["tree"][ip])
    source = _sources(rules, rule, entry, sh)
    planned = (trees["status"] == "planned").to_numpy(dtype=bool, na_value=False)[it]
    sev = np.where(planned, rules.severity(rule, "severity_planned"), rules.severity(rule, "severity_existing"))
    return new_findings(rule, TREES, trees["uid"].iloc[it], PIPES,
                        pf["uid"].iloc[ip], measured, required[f], "m", sev,
                        cert[f], source, geoms)


def _sources(rules, rule, entry, shrub):
    """Citation of the table entry used, per finding."""
    out = np.full(len(entry), "", dtype=object)
    for kind, m in (("tree", ~shrub), ("shrub", shrub)):
        cites = np.array([rules.entry_source(rule, i, kind) for i in range(len(rules.entries(rule, kind)))]
                         + [""], dtype=object)
        out[m] = cites[np.where(entry[m] < 0, -1, entry[m])]
    return out
