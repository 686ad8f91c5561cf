"""works_over_pipes: renovation works that dig to within the safety margin of a pipe top.

For each works polygon that digs (``excavation_depth_m`` > 0; 0 = surface
only, skipped per ``works_over_pipes.skip_surface_only``) and each buried pipe
of known depth that runs inside it: the cover left between the dig bottom
and the pipe top, (ground - excavation) - top = cover - excavation, on the
stretch of pipe inside the polygon. It is linear along the pipe, so the
smallest is at an end of an inside stretch. A finding when below
``margin_m`` (within the pipe's acc_v: possible); negative = the dig cuts the
pipe -> ``severity_cut``. Geometry: the inside stretch(es) where the margin is
short. Pipes of unknown depth are skipped (depth_unknown reports them).
"""
from __future__ import annotations

import numpy as np

from .findings import classify_min, new_findings
from .pipes import LAYER, LineIndex, linear_below, split_lines_by_polygons

RULE = "works_over_pipes"
WORKS = "renovation_work"


def _empty():
    return new_findings(RULE, WORKS, [], LAYER, [], [], [], "m", "", "", "", [])


def check_works_over_pipes(ctx):
    import pandas as pd
    import shapely

    rules = ctx.rules
    works = ctx.layer(WORKS)
    pm = ctx.pipes
    f = pm.frame
    if len(works) == 0 or len(f) == 0:
        return _empty()
    exc = pd.to_numeric(works["excavation_depth_m"], errors="coerce").to_numpy(float)
    if rules.value(RULE, "skip_surface_only"):
        dig = np.isfinite(exc) & (exc > 0)
    else:
        dig = np.isfinite(exc)
    works = works.loc[dig]
    exc = exc[dig]
    cand = np.nonzero(f["depth_known"].to_numpy(bool) & f["buried"].to_numpy(bool) & (pm.length > 0))[0]
    if len(works) == 0 or len(cand) == 0:
        return _empty()
    margin_v = rules.get(RULE, "margin_m")
    margin = float(margin_v.value)
    li = pm.line_index.take(cand)
    sp = split_lines_by_polygons(li.lines, works.geometry.to_numpy(), li)
    if len(sp["in_piece"]) == 0:
        return _empty()
    piece = sp["in_piece"]
    line = sp["piece_line"][piece]
    wk = sp["pairs_poly"][sp["in_pair"]]
    seg = cand[line]
    ta, tb = sp["piece_ta"][piece], sp["piece_tb"][piece]
    left0 = pm.cover_at_t(seg, ta) - exc[wk]
    left1 = pm.cover_at_t(seg, tb) - exc[wk]
    u = f["acc_v"].to_numpy(float)[seg]
    sa, sb, hit = linear_below(left0, left1, ta, tb, margin + u)
    if not hit.any():
        return _empty()
    seg, wk, u, line, sa, sb = seg[hit], wk[hit], u[hit], line[hit], sa[hit], sb[hit]
    lmin = np.minimum(left0, left1)[hit]
    key = wk.astype(np.int64) * len(f) + seg
    uk, inv = np.unique(key, return_inverse=True)
    meas = np.full(len(uk), np.inf)
    np.minimum.at(meas, inv, lmin)
    first = np.zeros(len(uk), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    g_seg, g_wk, g_u = seg[first], wk[first], u[first]
    is_f, cert = classify_min(meas, margin, g_u)
    o = np.argsort(inv, kind="stable")
    geom = np.asarray(li.multi_substrings(line[o], sa[o], sb[o], inv[o], len(uk)))
    sev = np.where(meas < 0, rules.severity(RULE, "severity_cut"), rules.severity(RULE))
    wuid = works["uid"].to_numpy(dtype=object)
    puid = f["uid"].to_numpy(dtype=object)
    k = is_f
    return new_findings(RULE, WORKS, wuid[g_wk][k], LAYER, puid[g_seg][k], meas[k], margin, "m",
                        sev[k], cert[k], margin_v.cite, geom[k])
