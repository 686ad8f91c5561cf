"""cover_depth: cover above the pipe top below the minimum for its class and place.

Each buried pipe of known depth is split at the edges of the road parts of
``cover_depth.road_parts`` (any active status). A stretch inside a road is
"under carriageway" (second value of ``min_cover``) and pairs with that road;
a stretch outside every road is "elsewhere" (first value) with an empty b.
Cover is linear along the pipe, so the smallest cover on a stretch is at one
of its ends; the geometry is the part of the stretch where the cover is short
(within the pipe's acc_v). One row per (pipe, road-or-empty).
"""
from __future__ import annotations

import numpy as np

from .findings import classify_min, new_findings
from .pipes import LAYER, LineIndex, linear_below, split_lines_by_polygons

RULE = "cover_depth"
ROAD = "planned_road"


def _empty(ctx):
    return new_findings(RULE, LAYER, [], ROAD, [], [], [], "m", "", "", "", [])


def check_cover_depth(ctx):
    import pandas as pd

    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    if len(f) == 0:
        return _empty(ctx)
    mins = rules.group(RULE, "min_cover")
    ucode, uvals = pd.factorize(f["utility"])
    ucode = np.asarray(ucode, dtype=np.int64)
    # per distinct class: its two values and which citation (index into cites)
    cls_req = np.full((len(uvals) + 1, 2), np.nan)
    cls_src = np.full(len(uvals) + 1, -1, dtype=np.int64)
    cites = []
    for k, cls in enumerate(uvals):
        v = mins.get(cls)
        if v is not None:
            cls_req[k] = np.asarray(v.value, float)[:2]
            cls_src[k] = len(cites)
            cites.append(v.cite)
    cites = np.array(cites + [""], dtype=object)
    req = cls_req[ucode]  # -1 (missing) takes the last row: NaN
    src_of = cls_src[ucode]
    cand = np.nonzero(f["depth_known"].to_numpy(bool) & f["buried"].to_numpy(bool)
                      & np.isfinite(req).all(axis=1) & (pm.length > 0))[0]
    if len(cand) == 0:
        return _empty(ctx)
    li = pm.line_index.take(cand)
    lines = li.lines

    roads = ctx.layer(ROAD)
    parts = list(rules.value(RULE, "road_parts"))
    roads = roads.loc[roads["part"].isin(parts)] if len(roads) else roads
    road_geoms = roads.geometry.to_numpy() if len(roads) else np.array([], dtype=object)
    road_uid = roads["uid"].to_numpy(dtype=object) if len(roads) else np.array([], dtype=object)
    sp = split_lines_by_polygons(lines, road_geoms, li)

    # pieces: those cut by roads, plus whole lines that meet no road
    touched = np.zeros(len(cand), bool)
    touched[sp["piece_line"]] = True
    free = np.nonzero(~touched)[0]
    piece_line = np.concatenate([sp["piece_line"], free])
    ta = np.concatenate([sp["piece_ta"], np.zeros(len(free))])
    tb = np.concatenate([sp["piece_tb"], np.ones(len(free))])
    npc = len(piece_line)
    # (piece, road or -1) rows
    in_any = np.zeros(npc, bool)
    in_any[sp["in_piece"]] = True
    row_piece = np.concatenate([sp["in_piece"], np.nonzero(~in_any)[0]])
    row_road = np.concatenate([sp["pairs_poly"][sp["in_pair"]],
                               np.full(int((~in_any).sum()), -1, dtype=np.int64)])
    under = row_road >= 0
    seg = cand[piece_line[row_piece]]
    r = np.where(under, req[seg, 1], req[seg, 0])
    u = f["acc_v"].to_numpy(float)[seg]
    a_t, b_t = ta[row_piece], tb[row_piece]
    c0 = pm.cover_at_t(seg, a_t)
    c1 = pm.cover_at_t(seg, b_t)
    sa, sb, hit = linear_below(c0, c1, a_t, b_t, r + u)
    if not hit.any():
        return _empty(ctx)
    seg, road, r, u = seg[hit], row_road[hit], r[hit], u[hit]
    cmin = np.minimum(c0, c1)[hit]
    line_of = piece_line[row_piece][hit]
    sa, sb = sa[hit], sb[hit]

    # group by (pipe, road-or-empty)
    key = seg.astype(np.int64) * (len(road_geoms) + 1) + (road + 1)
    uk, inv = np.unique(key, return_inverse=True)
    meas = np.full(len(uk), np.inf)
    np.minimum.at(meas, inv, cmin)
    first = np.zeros(len(uk), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    g_seg, g_road, g_r, g_u = seg[first], road[first], r[first], u[first]
    is_f, certainty = classify_min(meas, g_r, g_u)
    o = np.argsort(inv, kind="stable")
    geom = li.multi_substrings(line_of[o], sa[o], sb[o], inv[o], len(uk))
    keep = is_f
    uid_b = np.where(g_road >= 0, road_uid[np.maximum(g_road, 0)] if len(road_uid) else "", "")
    layer_b = np.where(g_road >= 0, ROAD, "")
    g_seg = g_seg[keep]
    return new_findings(RULE, LAYER, f["uid"].iloc[g_seg].to_numpy(dtype=object), layer_b[keep],
                        uid_b[keep], meas[keep], g_r[keep], "m", rules.severity(RULE),
                        certainty[keep], cites[src_of[g_seg]], np.asarray(geom)[keep])
