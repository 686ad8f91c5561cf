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

    rule = "stall_over_structure"
    rules = ctx.rules
    stalls = ctx.layer(STALLS)
    pts = ctx.layer(POINTS)
    if len(stalls) == 0 or len(pts) == 0:
        return empty_findings()
    apps = rules.get(rule, "appurtenances")
    covers = rules.get(rule, "default_cover_size_m")
    hyd = rules.get(rule, "hydrant_distance_m")
    app = pts["appurtenance"].to_numpy(dtype=object)
    is_h = app == HYDRANT
    is_c = np.isin(app, list(apps.value))
    take = np.nonzero(is_h | is_c)[0]
    if len(take) == 0:
        return empty_findings()
    app, is_h = app[take], is_h[take]
    size = pts["cover_size"].to_numpy(dtype=float, na_value=np.nan)[take]
    default = _map(app, covers.value)
    own = np.isfinite(size) & (size > 0)
    radius = np.where(own, size, default) / 2.0
    required = np.where(is_h, float(hyd.value), radius)
    source = np.where(is_h, hyd.cite, np.where(own, "pipe_point.cover_size", covers.cite)).astype(object)
    # point uncertainty: own acc_h, else CJJ 61 from the depth
    gen = "general"
    hmin = float(rules.value(gen, "acc_min_depth_m"))
    depth = pts["depth"].to_numpy(dtype=float, na_value=np.nan)[take]
    H = np.maximum(np.nan_to_num(depth, nan=hmin), hmin)
    acc = pts["acc_h"].to_numpy(dtype=float, na_value=np.nan)[take]
    acc = np.where(np.isfinite(acc), acc, float(rules.value(gen, "acc_h_per_depth")) * H)
    acc_s = np.nan_to_num(ctx.plan_acc_h(stalls))
    ok = np.isfinite(required)
    if not ok.any():
        return empty_findings()
    dmax = float(np.max(required[ok])) + float(acc.max()) + float(acc_s.max())
    pg = pts.geometry.to_numpy()[take]
    sg = stalls.geometry.to_numpy()
    tree = shapely.STRtree(pg)
    js, ipt = tree.query(sg, predicate="dwithin", distance=dmax)
    ctx.progress(0.5, rule)
    d = shapely.distance(sg[js], pg[ipt])
    r = required[ipt]
    u = acc[ipt] + acc_s[js]
    h = is_h[ipt]
    # cover: touching counts (<=); hydrant: closer than the distance (<)
    is_f = np.where(h, d - u < r, d - u <= r) & np.isfinite(r)
    cert = np.where(np.where(h, d + u < r, d + u <= r), "certain", "possible")
    f = np.nonzero(is_f)[0]
    js, ipt, d = js[f], ipt[f], d[f]
    line = shapely.shortest_line(sg[js], pg[ipt])
    geoms = np.where(d > 0, line, pg[ipt])
    sev = np.where(is_h[ipt], rules.severity(rule, "severity_hydrant"), rules.severity(rule))
    return new_findings(rule, STALLS, stalls["uid"].to_numpy(dtype=object)[js], POINTS,
                        pts["uid"].to_numpy(dtype=object)[take][ipt], d, required[ipt], "m", sev,
                        cert[f], source[ipt], geoms)


def _map(codes, table):
    import pandas as pd

    return pd.Series(codes, dtype=object).map(table).to_numpy(dtype=float, na_value=np.nan)
