"""Fire-lane rules: obstacles standing in a lane, and the lane's clear width.

``fire_lane_obstruction`` (a = parking_stall / tree / building, b = fire_lane)
    A polygon obstacle stands in the lane when the overlap area exceeds
    ``min_overlap_m2``; measured = overlap area (m²), geometry = the overlap.
    A tree (a point) stands in the lane when the point lies in the lane's
    interior; measured = 0 (rules.md), geometry = the point.

``fire_lane_width`` (a = fire_lane, no b)
    See :func:`clear_widths` for the precise definition of "a vehicle passes".

Uncertainty: plan features carry no survey accuracy in the data model, so
``ctx.plan_acc_h`` gives the rules' ``general.plan_acc_h_m`` (default 0, and
then every finding is ``certain``). Where it is > 0 the obstruction rule
shrinks / grows both features by their uncertainty (certain = the overlap
survives the shrinking; possible = it appears only when grown), and the width
rule widens the band by the lane's plus the obstacles' uncertainty.

Everything is vectorised with shapely 2 array functions: candidates come
from one grid query per obstacle layer (plan_join.PointGrid), each lane's obstacles are taken
out in one GEOS difference (the lane minus the union -- buffer 0 -- of a
GeometryCollection of its obstacles), and the bisection on the vehicle width
runs for all blocked lanes at once, GEOS work split over threads.
Accuracy: tree circles are circumscribed polygons within resolution/5 of the
circle (conservative); eroded corners use 8 segments a quarter circle
(optimistic by at most 0.5 % of half the width, 0.01 m at 4 m).
"""
from __future__ import annotations

import numpy as np

from .findings import classify_min, classify_positive, empty_findings, new_findings

RULE_OBS = "fire_lane_obstruction"
RULE_WIDTH = "fire_lane_width"
LANE = "fire_lane"
TREE = "tree"
QUAD_SEGS = 8  # arc resolution of buffers (tree circles, eroded corners)
# A width is tested as (width - EXACT_TOL): a gap exactly as wide as the
# vehicle passes (eroding a 4 m lane by exactly 2 m would leave a line).
EXACT_TOL = 1e-3
PAR_MIN = 512  # below this many geometries, one thread


def _par(func, *arrays, **kw):
    """``func(*arrays, **kw)`` over chunks in threads: shapely's array
    functions release the GIL, so GEOS work spreads over the cores."""
    import os

    n = len(arrays[0])
    k = min(os.cpu_count() or 1, 8)
    if k < 2 or n < PAR_MIN:
        return func(*arrays, **kw)
    from concurrent.futures import ThreadPoolExecutor

    cuts = np.linspace(0, n, k + 1).astype(int)
    chunks = [[a[i:j] if np.ndim(a) else a for a in arrays] for i, j in zip(cuts[:-1], cuts[1:])]
    with ThreadPoolExecutor(k) as ex:
        parts = list(ex.map(lambda c: func(*c, **kw), chunks))
    return np.concatenate(parts)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _geoms(frame):
    return np.asarray(frame.geometry.values, dtype=object)


def _acc(ctx, frame):
    return np.nan_to_num(np.asarray(ctx.plan_acc_h(frame), float), nan=0.0)


def _obstacle_layers(ctx):
    return [str(x) for x in ctx.rules.value(RULE_OBS, "obstacles")]


def _circles(points, radius, tol):
    """Crown circles as polygons that contain the true circle and stray from
    it by at most ``tol`` (fewer vertices for small crowns: cheaper erosion;
    circumscribed, so a blockage is never missed for the polygon's sake)."""
    import shapely

    radius = np.asarray(radius, float)
    c = np.clip(1.0 - tol / np.maximum(radius, tol), -1.0, 1.0)
    q = np.clip(np.ceil(np.pi / (4.0 * np.arccos(c))), 2, 32).astype(int)
    out = np.empty(len(points), dtype=object)
    for qq in np.unique(q):  # a handful of distinct vertex counts
        m = q == qq
        out[m] = shapely.buffer(points[m], radius[m] / np.cos(np.pi / (4 * qq)), quad_segs=int(qq))
    return out


def _tree_radius(ctx, trees):
    """Crown radius (m) of each tree: crown_m / 2, or half the default crown
    (``fire_lane_width.tree_default_crown_m``: rules.md's "a 1 m circle" is
    read as a circle of 1 m *diameter*, like crown_m) where crown_m is NULL
    or not positive."""
    default = float(ctx.rules.value(RULE_WIDTH, "tree_default_crown_m"))
    crown = np.asarray(trees["crown_m"], dtype=float) if "crown_m" in trees.columns \
        else np.full(len(trees), np.nan)
    crown = np.where(np.isfinite(crown) & (crown > 0), crown, default)
    return crown / 2.0


# ---------------------------------------------------------------------------
# fire_lane_obstruction
# ---------------------------------------------------------------------------
def _box_pairs(geoms, qbounds, reach):
    """(query index, geometry index) pairs whose boxes come within ``reach``:
    the geometries (many small obstacles) binned in a grid, queried with the
    boxes ``qbounds`` (n x 4) of the few lanes."""
    from .plan_join import grid_for_geoms

    grid = grid_for_geoms(geoms, extent_hint=float(np.median(qbounds[:, 2] - qbounds[:, 0])) + 2 * reach
                          if len(qbounds) else None)
    return grid.pairs(qbounds[:, 0] - reach, qbounds[:, 1] - reach, qbounds[:, 2] + reach, qbounds[:, 3] + reach)


def check_fire_lane_obstruction(ctx):
    import shapely

    rules = ctx.rules
    severity = rules.severity(RULE_OBS)
    cite = rules.get(RULE_OBS, "obstacles").cite
    min_area = float(rules.value(RULE_OBS, "min_overlap_m2"))
    lanes = ctx.layer(LANE)
    if len(lanes) == 0:
        return empty_findings()
    lane_g = _geoms(lanes)
    lane_u = _acc(ctx, lanes)
    lane_uid = lanes["uid"].to_numpy(dtype=object)
    shapely.prepare(lane_g)
    lane_b = shapely.bounds(lane_g)
    parts = []
    layers = _obstacle_layers(ctx)
    for k, name in enumerate(layers):
        ctx.progress(k / max(len(layers), 1), f"{RULE_OBS}: {name}")
        obs = ctx.layer(name)
        if len(obs) == 0:
            continue
        og = _geoms(obs)
        ou = _acc(ctx, obs)
        reach = float(ou.max() + lane_u.max()) if len(ou) else 0.0
        li, oi = _box_pairs(og, lane_b, reach)  # obstacles in a grid, queried with the lanes' boxes
        if reach > 0:
            hit = shapely.dwithin(lane_g[li], og[oi], reach)
        else:
            hit = shapely.intersects(lane_g[li], og[oi])
        li, oi = li[hit], oi[hit]
        if len(li) == 0:
            continue
        u_sum = ou[oi] + lane_u[li]
        a_uid = obs["uid"].to_numpy(dtype=object)[oi]
        b_uid = lane_uid[li]
        if name == TREE:
            # signed depth of the point in the lane: + inside, - outside
            pts, lg = og[oi], lane_g[li]
            inside = shapely.within(pts, lg)
            d_edge = shapely.distance(pts, shapely.boundary(lg))
            depth = np.where(inside, d_edge, -shapely.distance(pts, lg))
            is_f, cert = classify_positive(depth, u_sum)
            measured = np.zeros(int(is_f.sum()))
            required = np.full(int(is_f.sum()), np.nan)
            geom = pts[is_f]
        else:
            inter = shapely.intersection(og[oi], lane_g[li])
            area = shapely.area(inter)
            is_f = area > min_area
            certain = is_f.copy()
            if (u_sum > 0).any():
                m = u_sum > 0
                grown = shapely.area(shapely.intersection(
                    shapely.buffer(og[oi][m], ou[oi][m], quad_segs=QUAD_SEGS),
                    shapely.buffer(lane_g[li][m], lane_u[li][m], quad_segs=QUAD_SEGS)))
                shrunk = shapely.area(shapely.intersection(
                    shapely.buffer(og[oi][m], -ou[oi][m], quad_segs=QUAD_SEGS),
                    shapely.buffer(lane_g[li][m], -lane_u[li][m], quad_segs=QUAD_SEGS)))
                is_f[m] = grown > min_area
                certain[m] = shrunk > min_area
            cert = np.where(certain, "certain", "possible")
            measured = area[is_f]
            required = np.full(int(is_f.sum()), min_area)
            geom = inter[is_f]
            empty = shapely.is_empty(geom)
            if empty.any():  # a near miss (possible only): show the obstacle
                geom = geom.copy()
                geom[empty] = og[oi][is_f][empty]
        if is_f.any():
            parts.append(new_findings(RULE_OBS, name, a_uid[is_f], LANE, b_uid[is_f], measured,
                                      required, "m2", severity, cert[is_f], cite, geom))
    if not parts:
        return empty_findings()
    import pandas as pd
    import geopandas as gpd

    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=None)


# ---------------------------------------------------------------------------
# fire_lane_width
# ---------------------------------------------------------------------------
def _axes(units):
    """Unit vector of the long side of each polygon's minimum rotated rectangle."""
    import shapely

    env = shapely.oriented_envelope(units)
    axis = np.tile([1.0, 0.0], (len(units), 1))
    poly = shapely.get_type_id(env) == 3
    if poly.any():
        xy, idx = shapely.get_coordinates(env[poly], return_index=True)  # exterior ring first
        first = np.searchsorted(idx, np.arange(int(poly.sum())))
        p0, p1, p2 = xy[first], xy[first + 1], xy[first + 2]
        e1, e2 = p1 - p0, p2 - p1
        n1, n2 = np.hypot(*e1.T), np.hypot(*e2.T)
        e = np.where((n1 >= n2)[:, None], e1, e2)
        n = np.maximum(n1, n2)
        ok = n > 0
        sub = axis[poly]
        sub[ok] = e[ok] / n[ok, None]
        axis[poly] = sub
    line = shapely.get_type_id(env) == 1  # degenerate (zero-area) polygon
    if line.any():
        c = [shapely.get_coordinates(g) for g in env[line]]
        for j, (i, xy) in enumerate(zip(np.flatnonzero(line), c)):
            d = xy[-1] - xy[0]
            if np.hypot(*d) > 0:
                axis[i] = d / np.hypot(*d)
    return axis


def _directions(axis):
    """(n, 4, 2): the unit's +axis, -axis, +across, -across directions."""
    perp = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
    return np.stack([axis, -axis, perp, -perp], axis=1)


def _reach(geoms, dirs, n):
    """(n, 4) furthest projection of each geometry's vertices on each of its
    4 directions (-inf for empty ones), plus the vertices (xy, idx)."""
    import shapely

    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    far = np.full((n, 4), -np.inf)
    if len(idx):
        t = np.einsum("ij,ikj->ik", xy, dirs[idx])
        np.maximum.at(far, idx, t)
    return far, xy, idx


def _ends(e_bare, dirs, typical, delta):
    """(reach (n, 4), is_end (n, 4)): the extremes of E_bare in the 4
    directions, and which of them are lane ends. The two extremes along the
    long axis are always ends; an extreme across it is an end when it is
    short (the vertices within ``delta`` of it spread over no more than twice
    the lane's typical width), like the tip of the far leg of an L, and
    unlike the long side of a straight lane."""
    n = len(e_bare)
    far, xy, idx = _reach(e_bare, dirs, n)
    is_end = np.zeros((n, 4), dtype=bool)
    is_end[:, :2] = True
    if len(idx):
        t = np.einsum("ij,ikj->ik", xy, dirs[idx])  # (m, 4)
        near = t >= far[idx] - delta
        lo = np.full((n, 4), np.inf)
        hi = np.full((n, 4), -np.inf)
        for k in (2, 3):
            o = t[:, 0]  # spread along the long axis
            np.minimum.at(lo[:, k], idx[near[:, k]], o[near[:, k]])
            np.maximum.at(hi[:, k], idx[near[:, k]], o[near[:, k]])
        is_end[:, 2:] = (hi[:, 2:] - lo[:, 2:]) <= 2.0 * typical[:, None]
    return far, is_end


def _passes(bare, blocks, dirs, typical, width, delta, obstructed):
    """Does a vehicle of ``width`` pass each lane unit (arrays aligned)?
    See :func:`clear_widths`."""
    import shapely

    n = len(bare)
    if n == 0:
        return np.zeros(0, dtype=bool)
    r = np.broadcast_to(np.maximum(np.asarray(width, float) - EXACT_TOL, 0.0) / 2.0, (n,))
    e_bare = shapely.buffer(bare, -r, quad_segs=QUAD_SEGS)  # plain lane polygons: cheap
    e_obs = e_bare.copy()  # units without obstacles: free space = bare lane
    m = obstructed
    if m.any():
        # (lane - obstacles) eroded by r == (lane eroded by r) - (obstacles
        # dilated by r): the second form only grows the obstacles (robust in
        # GEOS, where a negative buffer of the lane minus a small corner
        # obstacle can lose millimetre-wide strips) and is monotone by
        # construction: more obstacles, a larger dilation, less free space
        grown = _par(shapely.buffer, blocks[m], r[m], quad_segs=QUAD_SEGS)
        e_obs[m] = _par(shapely.difference, e_bare[m], grown)

    parts, pidx = shapely.get_parts(e_bare, return_index=True)
    cnt = np.zeros(n, dtype=np.int64)
    np.add.at(cnt, pidx[shapely.area(parts) > 0], 1)
    far_bare, is_end = _ends(e_bare, dirs, typical, delta)
    # each piece of E_obs: does it reach every end of its unit?
    parts, pidx = shapely.get_parts(e_obs, return_index=True)
    keep = shapely.area(parts) > 0
    parts, pidx = parts[keep], pidx[keep]
    ok = np.zeros(n, dtype=bool)
    if len(parts):
        far_obs, _, _ = _reach(parts, dirs[pidx], len(parts))
        spans = ((far_obs >= far_bare[pidx] - delta) | ~is_end[pidx]).all(axis=1)
        ok[pidx[spans]] = True
    return (cnt == 1) & ok


def clear_widths(bare, blocks, axis, cap, resolution, obstructed=None):
    """Widest vehicle width (m) that passes each lane unit, up to ``cap``.

    Definition ("a vehicle of width w passes", rules.md "Clear width of a
    fire lane", made precise):

    * E_bare(w) = the bare lane unit eroded by w/2 (where the vehicle's
      centre line can run); E_obs(w) = the lane minus its obstacles (stalls,
      buildings, tree crown circles), eroded by w/2, computed as E_bare(w)
      minus the obstacles (``blocks``: their union per unit) grown by w/2.
    * The lane's *ends* are extremes of E_bare(w): the two along the long
      axis (the long side of the unit's minimum rotated rectangle) always,
      and the two across it where they are short (within ``resolution`` of
      the extreme, E_bare spans no more than twice the lane's typical width
      2 * area / perimeter): the tip of the far leg of an L-shaped lane is an
      end, the long side of a straight lane is not.
    * w passes when (1) E_bare(w) is one non-empty connected piece (a lane
      drawn narrower than w anywhere -- it vanishes or splits -- does not
      pass), and (2) ONE connected piece of E_obs(w) reaches to within
      ``resolution`` of every end of E_bare(w): the vehicle can drive from
      each end of the lane to every other, and out through each end.
      An obstacle across the lane splits E_obs(w) and fails (2); an
      obstacle that closes off a lane end fails (2) even though E_obs(w)
      stays connected, while one beside the end that leaves at least w free
      does not.
    * Pockets -- pieces of E_obs(w) cut off from the route by obstacles
      (e.g. a bay closed by a tree) -- do not make a lane fail: they are not
      part of the way through, and requiring them would let an added
      obstacle (one filling the pocket) turn a failing lane into a passing
      one.
    * Widths are tested 1 mm narrower (EXACT_TOL), so that a gap or lane
      exactly as wide as the vehicle passes.
    * Limitation: a lane's ends are found from its shape alone (the data
      model does not say where a lane joins the road). The third branch of
      a T-shaped lane whose tip is not short across is checked for
      connectivity only; a sharply slanted lane end with an obstacle in its
      acute corner may be reported as blocked.

    ``obstructed`` (bool per unit, default all): units with obstacles
    (``blocks`` is only read there).

    Returns ``cap`` where ``cap`` passes, otherwise the widest passing width
    found by bisection on [0, cap] to ``resolution`` (0 when even the
    narrowest tested width fails). Adding an obstacle never increases the
    result: at one width, fewer obstacles pass whenever more do, so the
    bisection paths only ever part in favour of fewer obstacles.
    """
    n = len(bare)
    cap = np.broadcast_to(np.asarray(cap, float), (n,)).copy()
    out = cap.copy()
    if n == 0:
        return out
    import shapely

    obstructed = np.ones(n, dtype=bool) if obstructed is None else np.asarray(obstructed, bool)
    dirs = _directions(np.asarray(axis, float))
    typical = 2.0 * shapely.area(bare) / np.maximum(shapely.length(bare), 1e-12)
    ok = _passes(bare, blocks, dirs, typical, cap, resolution, obstructed)
    todo = np.flatnonzero(~ok)
    lo = np.zeros(len(todo))
    hi = cap[todo].copy()
    if len(todo):  # blocked even for the narrowest vehicle: 0, no bisection
        k = todo
        tiny = np.minimum(resolution, cap[k])
        p = _passes(bare[k], blocks[k], dirs[k], typical[k], tiny, resolution, obstructed[k])
        lo[p] = tiny[p]
        hi[~p] = 0.0
    while len(todo):
        act = (hi - lo) > resolution
        if not act.any():
            break
        sel = np.flatnonzero(act)
        mid = (lo[sel] + hi[sel]) / 2.0
        k = todo[sel]
        p = _passes(bare[k], blocks[k], dirs[k], typical[k], mid, resolution, obstructed[k])
        lo[sel[p]] = mid[p]
        hi[sel[~p]] = mid[~p]
    out[todo] = lo
    return out


def _lane_obstacles(ctx, units, tol):
    """(unit index, obstacle polygon) pairs: obstacles touching each unit."""
    import shapely

    shapely.prepare(units)
    ub = shapely.bounds(units)
    ui_all, geo_all = [], []
    for name in _obstacle_layers(ctx):
        obs = ctx.layer(name)
        if len(obs) == 0:
            continue
        og = _geoms(obs)
        if name == TREE:
            rad = _tree_radius(ctx, obs)
            ui, oi = _box_pairs(og, ub, float(rad.max()) * 1.1)
            circ = _circles(og[oi], rad[oi], tol)
            hit = shapely.intersects(circ, units[ui])
            ui, g = ui[hit], circ[hit]
        else:
            ui, oi = _box_pairs(og, ub, 0.0)
            hit = shapely.intersects(units[ui], og[oi])
            ui, g = ui[hit], og[oi[hit]]
        ui_all.append(ui)
        geo_all.append(g)
    if not ui_all:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    return np.concatenate(ui_all), np.concatenate(geo_all)


def free_space(units, ui, geo):
    """Each unit's obstacles as one geometry (their union; the unit itself
    where it has none). Returns (blocks, obstructed: bool per unit)."""
    import shapely

    units = np.asarray(units, dtype=object)
    blocks = units.copy()
    obstructed = np.zeros(len(units), dtype=bool)
    if len(ui):
        order = np.argsort(ui, kind="stable")
        ui, geo = ui[order], geo[order]
        has = np.unique(ui)
        gc = shapely.geometrycollections(geo, indices=np.searchsorted(has, ui))
        blocks[has] = _par(shapely.buffer, gc, 0.0)  # buffer 0 of a collection = its union
        obstructed[has] = True
    return blocks, obstructed


def check_fire_lane_width(ctx):
    import shapely

    rules = ctx.rules
    severity = rules.severity(RULE_WIDTH)
    res = float(rules.value(RULE_WIDTH, "resolution_m"))
    dflt = rules.get(RULE_WIDTH, "default_required_width_m")
    lanes = ctx.layer(LANE)
    if len(lanes) == 0:
        return empty_findings()
    lane_g = _geoms(lanes)
    req = np.asarray(lanes["required_width_m"], dtype=float) if "required_width_m" in lanes.columns \
        else np.full(len(lanes), np.nan)
    own = np.isfinite(req) & (req > 0)
    req = np.where(own, req, float(dflt.value))
    # uncertainty of a clear width: the lane's own plus the largest obstacle's
    u_obs = 0.0
    for name in _obstacle_layers(ctx):
        obs = ctx.layer(name)
        if len(obs):
            u_obs = max(u_obs, float(_acc(ctx, obs).max()))
    unc = _acc(ctx, lanes) + u_obs

    units, lane_of = shapely.get_parts(lane_g, return_index=True)
    units = np.asarray(units, dtype=object)
    ctx.progress(0.1, f"{RULE_WIDTH}: obstacles")
    ui, geo = _lane_obstacles(ctx, units, res / 5.0)
    blocks, obstructed = free_space(units, ui, geo)
    axis = _axes(units)
    ctx.progress(0.4, f"{RULE_WIDTH}: widths")
    cap = (req + unc)[lane_of]
    width = clear_widths(units, blocks, axis, cap, res, obstructed)

    # a lane's clear width is that of its narrowest part
    measured = np.full(len(lanes), np.inf)
    np.minimum.at(measured, lane_of, width)
    blocked = measured < req + unc  # the cap was not reached
    is_f, cert = classify_min(measured, req, unc)
    is_f &= blocked
    if not is_f.any():
        return empty_findings()
    rows = np.flatnonzero(is_f)
    # where: the obstacles' parts inside the lane, and the parts of the drawn
    # lane narrower than required (what a vehicle of that width cannot sweep)
    um = np.flatnonzero(np.isin(lane_of, rows))
    r = req[lane_of[um]] / 2.0
    bare = units[um]
    swept = shapely.buffer(shapely.buffer(bare, -r, quad_segs=QUAD_SEGS), r, join_style="mitre")
    narrow = shapely.difference(bare, swept)
    inside = _par(shapely.intersection, bare, blocks[um])  # the obstacles' parts in the unit
    where = np.where(obstructed[um], shapely.union(inside, narrow), narrow)
    keep = ~shapely.is_empty(where) & (shapely.area(where) > 1e-9)
    k_of = np.searchsorted(rows, lane_of[um])
    geom = np.asarray(lane_g[rows], dtype=object).copy()
    has = np.unique(k_of[keep])
    if len(has):
        gc = shapely.geometrycollections(where[keep], indices=np.searchsorted(has, k_of[keep]))
        geom[has] = shapely.buffer(gc, 0)  # union of the unit pieces per lane
    # the value used: the lane's own required_width_m, or the rules' default
    own &= req != float(dflt.value)
    src = np.where(own[rows], "fire_lane.required_width_m of the record [local]", dflt.cite)
    return new_findings(RULE_WIDTH, LANE, lanes["uid"].to_numpy(dtype=object)[rows], "", "",
                        measured[rows], req[rows], "m", severity, cert[rows], src, geom)
