"""Parking stalls against pipe structures: ``stall_over_structure``.

For an appurtenance of the rules' list (manhole, valve, ...): its cover is a
disc of diameter ``cover_size`` (else the rules' default for the kind) around
the point; the stall is over it when the disc touches the stall polygon, i.e.
distance(stall, point) <= cover radius. measured = that distance (0 when the
point lies in the stall), required = the cover radius, severity ``severity``.
For a hydrant: a finding when distance(stall, hydrant) < hydrant_distance_m,
severity ``severity_hydrant``.
Uncertainty: the point's acc_h (its own, else the CJJ 61 default
acc_h_per_depth * max(depth, acc_min_depth_m), acc_min_depth_m where the depth
is unknown) + the stall's plan acc. Geometry: the point when it is in the
stall, else the shortest line from the stall to the point.
"""
from __future__ import annotations

import numpy as np

STALLS = "parking_stall"
POINTS = "pipe_point"
HYDRANT = "hydrant"


def check_stall_over_structure(ctx):
    import shapely

    from .findings import empty_findings, new_findings
    from .parallel import rule_threads
    from .plan_join import PolyEdges, grid_for_geoms, point_polygon

    rule = "stall_over_structure"
    rules = ctx.rules
    stalls = ctx.layer(STALLS)
    pts = ctx.layer(POINTS)
    if len(stalls) == 0 or len(pts) == 0:
        return empty_findings()
    apps = rules.get(rule, "appurtenances")
    covers = rules.get(rule, "default_cover_size_m")
    hyd = rules.get(rule, "hydrant_distance_m")
    # only points with an appurtenance of the list (or a hydrant) take part:
    # their codes once (one dictionary pass over the Arrow column), then the
    # selection, hydrant flag and default cover by table on the few codes
    codes, uniq = ctx.codes(POINTS, "appurtenance")  # -1 for NULL
    wanted = set(apps.value) | {HYDRANT}
    by_code = np.array([u in wanted for u in uniq] + [False])
    take = np.flatnonzero(by_code[codes])
    if len(take) == 0:
        return empty_findings()
    kc = codes[take]
    is_h = np.array([u == HYDRANT for u in uniq] + [False])[kc]
    table = covers.value
    default = np.array([float(table.get(u, np.nan)) if u in table else np.nan for u in uniq] + [np.nan])[kc]

    def column(name):  # the taken rows only (a plain float column: no copy of the rest)
        v = pts[name].to_numpy()
        if v.dtype != np.float64:
            return pts[name].iloc[take].to_numpy(dtype=float, na_value=np.nan)
        return v[take]

    size = column("cover_size")
    own = np.isfinite(size) & (size > 0)
    radius = np.where(own, size, default) / 2.0
    required = np.where(is_h, float(hyd.value), radius)
    # point uncertainty: own acc_h, else CJJ 61 from the depth
    gen = "general"
    hmin = float(rules.value(gen, "acc_min_depth_m"))
    depth = column("depth")
    H = np.maximum(np.nan_to_num(depth, nan=hmin), hmin)
    acc = column("acc_h")
    acc = np.where(np.isfinite(acc), acc, float(rules.value(gen, "acc_h_per_depth")) * H)
    acc_s = np.nan_to_num(ctx.plan_acc_h(stalls))
    ok = np.isfinite(required)
    if not ok.any():
        return empty_findings()
    # candidates: the stalls (binned in a grid) whose box comes within each
    # point's own reach (its requirement + both uncertainties)
    xy = ctx.point_xy(POINTS)[take]
    reach = np.where(ok, required + acc + float(acc_s.max()), -np.inf)
    sg = stalls.geometry.to_numpy()
    grid = grid_for_geoms(sg, extent_hint=2.0 * float(np.max(reach[ok])))
    live = np.flatnonzero(ok)
    q, js = grid.pairs(xy[live, 0] - reach[live], xy[live, 1] - reach[live],
                       xy[live, 0] + reach[live], xy[live, 1] + reach[live], threads=rule_threads(ctx))
    ipt = live[q]
    ctx.progress(0.5, rule)
    us, jl = np.unique(js, return_inverse=True)  # edges of the candidate stalls only
    d = point_polygon(xy[ipt, 0], xy[ipt, 1], PolyEdges(sg[us]), jl)
    r = required[ipt]
    u = acc[ipt] + acc_s[js]
    h = is_h[ipt]
    is_f = np.where(h, d - u < r, d - u <= r)
    cert = np.where(np.where(h, d + u < r, d + u <= r), "certain", "possible")
    f = np.nonzero(is_f)[0]
    js, ipt, d = js[f], ipt[f], d[f]
    geoms = pts.geometry.to_numpy()[take[ipt]]  # a copy: the points in the stall stay points
    off = d > 0
    if off.any():
        geoms[off] = shapely.shortest_line(sg[js[off]], geoms[off])
    sev = np.where(is_h[ipt], rules.severity(rule, "severity_hydrant"), rules.severity(rule))
    source = np.where(is_h[ipt], hyd.cite, np.where(own[ipt], "pipe_point.cover_size", covers.cite))
    return new_findings(rule, STALLS, stalls["uid"].iloc[js], POINTS,
                        pts["uid"].iloc[take[ipt]], d, required[ipt], "m", sev,
                        cert[f], source.astype(object), geoms)



def cover_defaults(codes, table) -> np.ndarray:
    """The rules' default cover size (m) of each appurtenance code (NaN where
    the table has none); shared with the stall-row tool (tools/stall_row.py)."""
    import pandas as pd

    return pd.Series(codes, dtype=object).map(table).to_numpy(dtype=float, na_value=np.nan)
