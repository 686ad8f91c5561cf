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
    from .rule_roads import pipe_pairs_dwithin

    rule = "tree_pipe_clearance"
    rules = ctx.rules
    trees = ctx.layer(TREES)
    pm = ctx.pipes
    pf = pm.frame
    if len(trees) == 0 or len(pf) == 0:
        return empty_findings()
    util = pf["utility"].to_numpy(dtype=object)
    attrs = {"burial": pf["burial"].to_numpy(dtype=object),
             "diameter_mm": pf["diameter_mm"].to_numpy(dtype=float, na_value=np.nan),
             "pressure_mpa": pf["pressure_mpa"].to_numpy(dtype=float, na_value=np.nan)}
    # required per pipe for each kind (a NULL or unknown kind counts as a tree)
    req, src = {}, {}
    for kind in KINDS:
        v, e = rules.lookup(rule, kind, None, util, attrs_b=attrs)
        req[kind] = v
        src[kind] = np.array([rules.entry_source(rule, int(i), kind) for i in range(len(rules.entries(rule, kind)))]
                             + [""], dtype=object)[np.where(e < 0, -1, e)]
    kind = trees["kind"].to_numpy(dtype=object)
    shrub = kind == "shrub"
    width = pf["width_m"].to_numpy(float)
    acc_p = np.nan_to_num(pf["acc_h"].to_numpy(float))
    acc_t = np.nan_to_num(ctx.plan_acc_h(trees))
    rmax = np.nanmax(np.concatenate([req["tree"], req["shrub"]]))
    if not np.isfinite(rmax):
        return empty_findings()
    dmax = rmax + width.max() / 2 + acc_p.max() + acc_t.max()
    tg = trees.geometry.to_numpy()
    pg = pf.geometry.to_numpy()
    ip, it = pipe_pairs_dwithin(pg, tg, dmax)
    ctx.progress(0.5, rule)
    required = np.where(shrub[it], req["shrub"][ip], req["tree"][ip])
    source = np.where(shrub[it], src["shrub"][ip], src["tree"][ip])
    d = shapely.distance(tg[it], pg[ip])
    measured = np.maximum(d - width[ip] / 2, 0.0)
    u = acc_p[ip] + acc_t[it]
    ok = np.isfinite(required)
    is_f, cert = classify_min(measured, required, u)
    f = np.nonzero(is_f & ok)[0]
    ip, it, d, measured = ip[f], it[f], d[f], measured[f]
    # shortest line, cut back to the outer edge
    line = shapely.shortest_line(tg[it], pg[ip])
    c = shapely.get_coordinates(line).reshape(-1, 2, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(d > 0, measured / d, 0.0)
    end = c[:, 0] + (c[:, 1] - c[:, 0]) * k[:, None]
    geoms = np.where(measured > 0, shapely.linestrings(np.stack([c[:, 0], end], axis=1)), tg[it])
    status = trees["status"].to_numpy(dtype=object)[it]
    sev = np.where(status == "planned", rules.severity(rule, "severity_planned"),
                   rules.severity(rule, "severity_existing"))
    return new_findings(rule, TREES, trees["uid"].to_numpy(dtype=object)[it], PIPES,
                        pf["uid"].to_numpy(dtype=object)[ip], measured, required[f], "m", sev,
                        cert[f], source[f], geoms)
