"""Pipes against the road plan: ``pipe_under_road`` and ``crossing_angle``.

Also holds the line-against-polygon kernel that ``rule_buildings`` reuses:
lines are cut into vertex segments, polygons into boundary edges, and each
(segment, polygon) pair is split at the points where the segment crosses an
edge and where it enters / leaves the band within ``tol`` of the boundary.
Each piece between two such points lies wholly inside or outside the polygon
and wholly inside or outside the band, so one point-in-polygon test at its
middle classifies it. No GEOS overlay per pair (performance.md).

Uncertainty band for a length inside (rules.md, Certainty): the pipe's
horizontal uncertainty ``u`` (its acc_h + the road's plan acc) moves every
point of the pipe by up to ``u``; the length that is inside the road whatever
the shift is the length inside the road shrunk by ``u`` (points inside and
farther than ``u`` from the edge), the length that may be inside is the
length inside the road grown by ``u`` (inside, or within ``u`` of the edge).
"""
from __future__ import annotations

import numpy as np

PIPES = "pipe_segment"
ROADS = "planned_road"
CHUNK = 2_000_000  # rows of the big (segment, edge) temporaries per chunk
ROAD_CHUNK = 2000  # pipe_under_road: at least this many roads per thread


# ---------------------------------------------------------------------------
# geometry kernel
# ---------------------------------------------------------------------------
class Segments:
    """Vertex segments of an array of (multi)line geometries, in line order."""

    def __init__(self, geoms):
        import shapely

        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        if n and (shapely.get_num_coordinates(geoms) == 2).all() and (shapely.get_type_id(geoms) == 1).all():
            # straight two-point LineStrings (the usual pipe segment): one vertex segment each
            if self._set_straight(shapely.get_coordinates(geoms).reshape(n, 2, 2)):
                return
        if n and (shapely.get_type_id(geoms) == 1).all():  # plain LineStrings: no parts
            parts, pidx = geoms, np.arange(n)
        else:
            parts, pidx = shapely.get_parts(geoms, return_index=True)
        coords, cidx = shapely.get_coordinates(parts, return_index=True)
        self._set_runs(coords, cidx, n, pidx)

    def __len__(self):
        return len(self.x0)

    @classmethod
    def from_line_index(cls, li, geoms):
        """The Segments of LineStrings from their LineIndex (coordinates already
        read: no GEOS call); ``geoms`` only decides whether that is valid
        (all plain LineStrings), else the geometries are read again."""
        import shapely

        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        if n == 0 or not (shapely.get_type_id(geoms) == 1).all():
            return cls(geoms)
        self = cls.__new__(cls)
        coords, idx = li.coords, np.asarray(li.idx, dtype=np.int64)
        counts = li.end - li.start
        if (counts == 2).all() and self._set_straight(coords.reshape(n, 2, 2)):
            return self
        self._set_runs(coords, idx, n)
        return self

    def _set_straight(self, xy) -> bool:
        """One vertex segment per line from (n, 2, 2) coordinates; False (and
        nothing set) when a line's two points are the same."""
        if not ((xy[:, 0] != xy[:, 1]).any(axis=1)).all():
            return False
        n = len(xy)
        # contiguous columns (strided views would be copied by every kernel call)
        x0, y0, x1, y1 = (np.ascontiguousarray(xy[:, i, j]) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
        self._set(x0, y0, x1, y1, np.arange(n, dtype=np.int64), np.ones(n, dtype=np.int64),
                  np.arange(n, dtype=np.int64))
        return True

    def _set_runs(self, coords, cidx, n, pidx=None):
        """The vertex segments between consecutive coordinates of the same part
        (``cidx``: part of each coordinate), zero-length ones dropped; line =
        pidx[part] (the part itself without ``pidx``)."""
        s = np.nonzero(cidx[1:] == cidx[:-1])[0] if len(coords) > 1 else np.zeros(0, dtype=np.int64)
        x0, y0 = coords[s, 0], coords[s, 1]
        x1, y1 = coords[s + 1, 0], coords[s + 1, 1]
        keep = (x0 != x1) | (y0 != y1)
        s = s[keep]
        line = (cidx[s] if pidx is None else pidx[cidx[s]]).astype(np.int64)
        count = np.bincount(line, minlength=n).astype(np.int64)
        self._set(x0[keep], y0[keep], x1[keep], y1[keep], line, count,
                  np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64))

    def _set(self, x0, y0, x1, y1, line, count, start):
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.line = line
        self.dx = self.x1 - self.x0
        self.dy = self.y1 - self.y0
        self.len = np.hypot(self.dx, self.dy)
        self.count = count
        self.start = start


class Edges:
    """Boundary edges (exterior and hole rings) of an array of (multi)polygons."""

    def __init__(self, geoms):
        from .plan_join import ring_coords

        coords, ring, ring_poly = ring_coords(geoms)  # no GEOS ring clones for plain polygons
        s = np.nonzero(ring[1:] == ring[:-1])[0] if len(coords) > 1 else np.zeros(0, np.int64)
        x0, y0 = coords[s, 0], coords[s, 1]
        x1, y1 = coords[s + 1, 0], coords[s + 1, 1]
        keep = (x0 != x1) | (y0 != y1)
        s = s[keep]
        self.x0, self.y0, self.x1, self.y1 = x0[keep], y0[keep], x1[keep], y1[keep]
        self.poly = ring_poly[ring[s]]
        self._tree = None

    def __len__(self):
        return len(self.x0)

    def tree(self):
        import shapely

        if self._tree is None:
            lines = shapely.linestrings(np.stack([np.column_stack([self.x0, self.y0]),
                                                  np.column_stack([self.x1, self.y1])], axis=1))
            self._tree = shapely.STRtree(lines)
        return self._tree


def _lin_interval(c0, c1, lo, hi):
    """t where lo <= c0 + c1*t <= hi (arrays); empty -> (inf, -inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (lo - c0) / c1
        b = (hi - c0) / c1
    pos = c1 > 0
    neg = c1 < 0
    zero_ok = (c1 == 0) & (c0 >= lo) & (c0 <= hi)
    t0 = np.where(pos, a, np.where(neg, b, np.where(zero_ok, -np.inf, np.inf)))
    t1 = np.where(pos, b, np.where(neg, a, np.where(zero_ok, np.inf, -np.inf)))
    return t0, t1


def _disc_interval(wx, wy, dx, dy, r):
    """t where |w + t d| <= r (w = segment start - disc centre)."""
    a = dx * dx + dy * dy
    b = wx * dx + wy * dy
    c = wx * wx + wy * wy - r * r
    disc = b * b - a * c
    ok = disc >= 0
    sq = np.sqrt(np.where(ok, disc, 0.0))
    t0 = np.where(ok, (-b - sq) / a, np.inf)
    t1 = np.where(ok, (-b + sq) / a, -np.inf)
    return t0, t1


def near_interval(px, py, dx, dy, qx0, qy0, qx1, qy1, r):
    """Fraction interval [t0, t1] of segment p + t d (t in 0..1) lying within r of
    segment q0-q1. The distance to a segment is convex along a line, so the set
    is one interval: the union of the strip and the two end discs."""
    ex, ey = qx1 - qx0, qy1 - qy0
    el = np.hypot(ex, ey)
    ux, uy = ex / el, ey / el
    wx, wy = px - qx0, py - qy0
    # strip: 0 <= projection <= el and |perpendicular| <= r
    s0, s1 = _lin_interval(wx * ux + wy * uy, dx * ux + dy * uy, 0.0, el)
    h0, h1 = _lin_interval(wx * uy - wy * ux, dx * uy - dy * ux, -r, r)
    a0, a1 = np.maximum(s0, h0), np.minimum(s1, h1)
    empty = a0 > a1
    a0 = np.where(empty, np.inf, a0)
    a1 = np.where(empty, -np.inf, a1)
    b0, b1 = _disc_interval(wx, wy, dx, dy, r)
    c0, c1 = _disc_interval(px - qx1, py - qy1, dx, dy, r)
    t0 = np.maximum(np.minimum(np.minimum(a0, b0), c0), 0.0)
    t1 = np.minimum(np.maximum(np.maximum(a1, b1), c1), 1.0)
    return t0, t1


def crossing(px, py, dx, dy, qx0, qy0, qx1, qy1):
    """Intersection of segment p + t d with segment q0-q1.

    Returns (t, u, hit, collinear, tq0, tq1): t on the first, u on the second,
    hit where they meet at one point; for collinear overlapping segments the
    fractions of q0 and q1 along the first (clipped to 0..1).
    """
    ex, ey = qx1 - qx0, qy1 - qy0
    wx, wy = qx0 - px, qy0 - py
    den = dx * ey - dy * ex
    scale = np.hypot(dx, dy) * np.hypot(ex, ey)
    par = np.abs(den) <= 1e-12 * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (wx * ey - wy * ex) / den
        u = (wx * dy - wy * dx) / den
    eps = 1e-12
    hit = ~par & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
    t = np.clip(np.where(hit, t, 0.0), 0.0, 1.0)
    u = np.clip(np.where(hit, u, 0.0), 0.0, 1.0)
    dd = dx * dx + dy * dy
    coll = par & (np.abs(wx * dy - wy * dx) <= 1e-12 * scale + 1e-18)
    tq0 = (wx * dx + wy * dy) / dd
    tq1 = ((qx1 - px) * dx + (qy1 - py) * dy) / dd
    lo, hi = np.minimum(tq0, tq1), np.maximum(tq0, tq1)
    coll &= (hi >= 0) & (lo <= 1)
    return t, u, hit, coll, np.clip(lo, 0, 1), np.clip(hi, 0, 1)


class Pieces:
    """Pieces of pipe along (line, polygon) pairs.

    Arrays per piece: ``pair``, ``seg``, ``t0``, ``t1`` (fractions of the
    segment), ``length``, ``inside`` (closed polygon: interior or boundary),
    ``interior`` (strictly inside), ``near`` (within the pair's tol of the
    boundary), ``edge`` (index of the boundary edge crossed at t0, -1 none).
    Pieces are ordered by pair, then along the line.
    """


def clip_pairs(segs: Segments, edges: Edges, polys, pair_line, pair_poly, tol,
               want_interior=False) -> Pieces:
    """Split each line of a (line, polygon) pair where it crosses the polygon's
    boundary and where it enters / leaves the band within ``tol`` (per pair) of
    that boundary. ``pair_*`` must hold each (line, polygon) at most once."""
    import shapely

    pair_line = np.asarray(pair_line, dtype=np.int64)
    pair_poly = np.asarray(pair_poly, dtype=np.int64)
    tol = np.broadcast_to(np.asarray(tol, float), pair_line.shape).copy()
    npair = len(pair_line)
    out = Pieces()
    # (segment, pair) rows: every segment of the pair's line whose bbox meets
    # the polygon's bbox grown by tol
    cnt = segs.count[pair_line]
    sp_pair = np.repeat(np.arange(npair, dtype=np.int64), cnt)
    offs = np.arange(len(sp_pair), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    sp_seg = segs.start[pair_line][sp_pair] + offs
    b = shapely.bounds(np.asarray(polys, dtype=object))[pair_poly][sp_pair]
    tp = tol[sp_pair]
    sx0, sx1 = np.minimum(segs.x0[sp_seg], segs.x1[sp_seg]), np.maximum(segs.x0[sp_seg], segs.x1[sp_seg])
    sy0, sy1 = np.minimum(segs.y0[sp_seg], segs.y1[sp_seg]), np.maximum(segs.y0[sp_seg], segs.y1[sp_seg])
    keep = (sx1 >= b[:, 0] - tp) & (sx0 <= b[:, 2] + tp) & (sy1 >= b[:, 1] - tp) & (sy0 <= b[:, 3] + tp)
    sp_pair, sp_seg = sp_pair[keep], sp_seg[keep]
    nsp = len(sp_pair)
    # (segment, edge) candidates: edge tree queried with the segments' boxes grown by tol
    tmax = float(tol.max()) if npair else 0.0
    useg = np.unique(sp_seg)
    boxes = shapely.box(np.minimum(segs.x0[useg], segs.x1[useg]) - tmax,
                        np.minimum(segs.y0[useg], segs.y1[useg]) - tmax,
                        np.maximum(segs.x0[useg], segs.x1[useg]) + tmax,
                        np.maximum(segs.y0[useg], segs.y1[useg]) + tmax)
    qi, ei = edges.tree().query(boxes) if len(useg) and len(edges) else (np.zeros(0, np.int64),) * 2
    e_seg = useg[qi]
    npoly = len(polys)
    key_sp = sp_seg * npoly + pair_poly[sp_pair]
    order = np.argsort(key_sp, kind="stable")
    key_sorted = key_sp[order]
    key_e = e_seg * npoly + edges.poly[ei]
    pos = np.searchsorted(key_sorted, key_e)
    pos = np.minimum(pos, max(nsp - 1, 0))
    match = (key_sorted[pos] == key_e) if nsp else np.zeros(len(key_e), bool)
    e_sp = order[pos[match]]
    e_seg, ei = e_seg[match], ei[match]

    # breakpoints: (sp row, t, delta near count, edge crossed)
    rows, ts, deltas, eids = [np.arange(nsp), np.arange(nsp)], [np.zeros(nsp), np.ones(nsp)], \
        [np.zeros(nsp, np.int8), np.zeros(nsp, np.int8)], [np.full(nsp, -1), np.full(nsp, -1)]
    for c in range(0, len(e_sp), CHUNK):
        j = e_sp[c:c + CHUNK]
        s = e_seg[c:c + CHUNK]
        e = ei[c:c + CHUNK]
        px, py, dx, dy = segs.x0[s], segs.y0[s], segs.dx[s], segs.dy[s]
        qx0, qy0, qx1, qy1 = edges.x0[e], edges.y0[e], edges.x1[e], edges.y1[e]
        t, u, hit, coll, c0, c1 = crossing(px, py, dx, dy, qx0, qy0, qx1, qy1)
        rows += [j[hit], j[coll], j[coll]]
        ts += [t[hit], c0[coll], c1[coll]]
        deltas += [np.zeros(hit.sum(), np.int8), np.zeros(coll.sum(), np.int8), np.zeros(coll.sum(), np.int8)]
        eids += [e[hit], np.full(coll.sum(), -1), np.full(coll.sum(), -1)]
        r = tol[sp_pair[j]]
        pos_r = r > 0
        if pos_r.any():
            k = np.nonzero(pos_r)[0]
            n0, n1 = near_interval(px[k], py[k], dx[k], dy[k], qx0[k], qy0[k], qx1[k], qy1[k], r[k])
            ok = n0 <= n1
            k, n0, n1 = k[ok], n0[ok], n1[ok]
            rows += [j[k], j[k]]
            ts += [n0, n1]
            deltas += [np.ones(len(k), np.int8), -np.ones(len(k), np.int8)]
            eids += [np.full(len(k), -1), np.full(len(k), -1)]
    row = np.concatenate(rows).astype(np.int64)
    t = np.concatenate(ts)
    delta = np.concatenate(deltas).astype(np.int64)
    eid = np.concatenate(eids).astype(np.int64)
    # sort by (row, t); among equal t the crossing entries last so that the
    # piece starting there knows the edge it crossed
    o = np.lexsort((eid >= 0, t, row))
    row, t, delta, eid = row[o], t[o], delta[o], eid[o]
    # near count at piece start: cumulative per row (rows are contiguous)
    csum = np.cumsum(delta)
    row_first = np.searchsorted(row, row)  # first entry index of the row
    base = np.where(row_first > 0, csum[np.maximum(row_first - 1, 0)], 0)
    near_cnt = csum - base
    nxt = np.arange(1, len(row) + 1)
    nxt = np.minimum(nxt, len(row) - 1)
    piece = (row[nxt] == row) & (t[nxt] > t) & (np.arange(len(row)) < len(row) - 1)
    i = np.nonzero(piece)[0]
    j = nxt[i]
    prow = row[i]
    seg = sp_seg[prow]
    out.pair = sp_pair[prow]
    out.seg = seg
    out.t0, out.t1 = t[i], t[j]
    out.length = (out.t1 - out.t0) * segs.len[seg]
    out.near = near_cnt[i] > 0
    # crossing edge at t0: the last entry of that t is a crossing when any is
    out.edge = eid[i]
    tm = 0.5 * (out.t0 + out.t1)
    mx = segs.x0[seg] + tm * segs.dx[seg]
    my = segs.y0[seg] + tm * segs.dy[seg]
    pg = np.asarray(polys, dtype=object)
    shapely.prepare(pg)
    pp = pg[pair_poly[out.pair]]
    out.inside = shapely.intersects_xy(pp, mx, my)
    if want_interior:
        out.interior = shapely.contains_xy(pp, mx, my) & out.inside
    return out


def sum_by(index, values, n):
    return np.bincount(index, weights=values, minlength=n) if len(index) else np.zeros(n)


def piece_lines(segs: Segments, pieces: Pieces, mask, group, ngroup):
    """MultiLineString per group (0..ngroup-1) of the masked pieces; touching
    pieces of a group are merged into one line. Groups without pieces: None."""
    import shapely

    idx = np.nonzero(mask)[0]
    out = np.full(ngroup, None, dtype=object)
    if len(idx) == 0:
        return out
    g = np.asarray(group)[idx]
    s = pieces.seg[idx]
    ax = segs.x0[s] + pieces.t0[idx] * segs.dx[s]
    ay = segs.y0[s] + pieces.t0[idx] * segs.dy[s]
    bx = segs.x0[s] + pieces.t1[idx] * segs.dx[s]
    by = segs.y0[s] + pieces.t1[idx] * segs.dy[s]
    # a new run starts where the group changes or the previous piece does not end here
    new = np.ones(len(idx), dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (ax[1:] != bx[:-1]) | (ay[1:] != by[:-1])
    run = np.cumsum(new) - 1
    nrun = int(run[-1]) + 1
    # coordinates: the start of each run's first piece, then every piece end
    starts = np.nonzero(new)[0]
    # a piece end followed, in the same run, by a piece of the same segment is
    # not a vertex of the merged line
    inner = np.zeros(len(idx), dtype=bool)
    inner[:-1] = ~new[1:] & (s[1:] == s[:-1])
    e = np.nonzero(~inner)[0]
    cx = np.concatenate([ax[starts], bx[e]])
    cy = np.concatenate([ay[starts], by[e]])
    crun = np.concatenate([run[starts], run[e]])
    corder = np.concatenate([np.full(len(starts), -1), e])
    o = np.lexsort((corder, crun))
    lines = shapely.linestrings(cx[o], cy[o], indices=crun[o])
    # one run: a LineString; several: a MultiLineString
    rg = g[starts]
    nrun_g = np.bincount(rg, minlength=ngroup)
    single = nrun_g[rg] == 1
    out[rg[single]] = lines[single]
    if (~single).any():
        multi = ~single
        gm = rg[multi]
        ug, inv = np.unique(gm, return_inverse=True)
        out[ug] = shapely.multilinestrings(lines[multi], indices=inv)
    return out


def bbox_pairs(pipe_geoms, other_geoms, dist):
    """(pipe index, other index) pairs whose bounding boxes come within
    ``dist``: candidates only, for measures that are exact by themselves (no
    GEOS predicate per pair: the clip kernel drops the pairs that do not meet)."""
    import shapely

    if len(pipe_geoms) == 0 or len(other_geoms) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    tree = shapely.STRtree(pipe_geoms)
    b = shapely.bounds(other_geoms)
    boxes = shapely.box(b[:, 0] - dist, b[:, 1] - dist, b[:, 2] + dist, b[:, 3] + dist)
    q, p = tree.query(boxes)
    return p.astype(np.int64), q.astype(np.int64)


def pipe_pairs_dwithin(pipe_geoms, other_geoms, dist):
    """(pipe index, other index) pairs within ``dist``: tree on the pipes (the
    many small features) queried with the other layer's features."""
    import shapely

    if len(pipe_geoms) == 0 or len(other_geoms) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    tree = shapely.STRtree(pipe_geoms)
    q, p = tree.query(other_geoms, predicate="dwithin", distance=dist)
    return p.astype(np.int64), q.astype(np.int64)


def _roads(ctx, rule, status_rule):
    roads = ctx.layer(ROADS)
    if len(roads) == 0:
        return roads
    rules = ctx.rules
    parts = list(rules.value(rule, "road_parts"))
    status = list(rules.value(status_rule, "road_status"))
    m = roads["part"].isin(parts) & roads["status"].isin(status)
    return roads.loc[m.to_numpy()].reset_index(drop=True)


def _empty(rule):
    from .findings import empty_findings

    out = empty_findings()
    return out


# ---------------------------------------------------------------------------
# pipe_under_road
# ---------------------------------------------------------------------------
def check_pipe_under_road(ctx):
    """Length of pipe inside a planned carriageway (or whole road) polygon.

    measured = length of centreline inside the (closed) road polygon; a
    finding when the length inside the road grown by u = pipe acc_h + road
    plan acc exceeds min_length_m; certain when the length inside the road
    shrunk by u does. Geometry: the stretches inside (within u of the road for
    a near miss).

    The roads are split into contiguous runs worked on in threads (each
    (pipe, road) pair belongs to one road): the same rows in the same order
    whatever the number of threads."""
    import shapely

    from .findings import new_findings
    from .parallel import map_spans, rule_threads

    rule = "pipe_under_road"
    rules = ctx.rules
    roads = _roads(ctx, rule, rule)
    pm = ctx.pipes
    pf = pm.frame
    if len(roads) == 0 or len(pf) == 0:
        return _empty(rule)
    min_len = rules.get(rule, "min_length_m")
    thr = float(min_len.value)
    acc_p = pf["acc_h"].to_numpy(float)
    acc_r = ctx.plan_acc_h(roads)
    pg = pf.geometry.to_numpy()
    rg = roads.geometry.to_numpy()
    dmax = float(np.nanmax(acc_p)) + float(np.nanmax(acc_r))
    ctx.progress(0.0, rule)
    # shared by the threads, built before them: the pipe tree, the road edges
    # and their tree, the prepared roads
    tree = shapely.STRtree(pg)
    b = shapely.bounds(rg)
    boxes = shapely.box(b[:, 0] - dmax, b[:, 1] - dmax, b[:, 2] + dmax, b[:, 3] + dmax)
    segs = pm.segments
    edges = Edges(rg)
    if len(edges):
        edges.tree()
    shapely.prepare(rg)

    def part(r0, r1):
        q, p = tree.query(boxes[r0:r1])
        ip, ir = p.astype(np.int64), q.astype(np.int64) + r0
        u = np.nan_to_num(acc_p[ip] + acc_r[ir])
        pc = clip_pairs(segs, edges, rg, ip, ir, u)
        n = len(ip)
        L = sum_by(pc.pair, pc.length * pc.inside, n)
        Lmin = sum_by(pc.pair, pc.length * (pc.inside & ~pc.near), n)
        Lmax = sum_by(pc.pair, pc.length * (pc.inside | pc.near), n)
        is_f = Lmax > thr
        f = np.nonzero(is_f)[0]
        # geometry: the stretches inside, or within u of the road for a near miss
        remap = np.full(n, -1)
        remap[f] = np.arange(len(f))
        g_in = piece_lines(segs, pc, pc.inside & is_f[pc.pair], remap[pc.pair], len(f))
        none = np.array([x is None for x in g_in], dtype=bool)
        if none.any():
            miss = np.zeros(n, dtype=bool)
            miss[f[none]] = True
            g_near = piece_lines(segs, pc, pc.near & miss[pc.pair], remap[pc.pair], len(f))
            g_in[none] = g_near[none]
        return ip[f], ir[f], L[f], Lmin[f] > thr, g_in

    parts = map_spans(part, len(rg), rule_threads(ctx), min_chunk=ROAD_CHUNK)
    ip, ir, L, cert, g_in = (np.concatenate([p[k] for p in parts]) for k in range(5))
    return new_findings(rule, PIPES, pf["uid"].array.take(ip), ROADS,
                        roads["uid"].array.take(ir), L, thr, "m",
                        rules.severity(rule), np.where(cert, "certain", "possible"), min_len.cite, g_in)


# ---------------------------------------------------------------------------
# crossing_angle
# ---------------------------------------------------------------------------
def _status_rule(rules):
    """crossing_angle takes the roads of the plan like pipe_under_road: its own
    road_status when the rules file has one, else pipe_under_road's."""
    try:
        rules.get("crossing_angle", "road_status")
        return "crossing_angle"
    except KeyError:
        return "pipe_under_road"


def check_crossing_angle(ctx):
    """Smallest acute angle at which a pipe's centreline crosses the boundary of
    a planned carriageway / whole road polygon.

    A crossing is a point where the pipe passes from the road's interior to
    its exterior or back (consecutive pieces, one strictly inside and one
    outside); touching the edge, or running along it and returning to the
    same side, is not a crossing. The angle is taken between the boundary
    edge and the pipe's vertex segment leaving the point. Angular uncertainty:
    atan(2 u / segment length) with u = the pipe's acc_h (+ the same for the
    road's plan acc over the edge length)."""
    import shapely

    from .findings import classify_min, new_findings

    rule = "crossing_angle"
    rules = ctx.rules
    roads = _roads(ctx, rule, _status_rule(rules))
    pm = ctx.pipes
    pf = pm.frame
    if len(roads) == 0 or len(pf) == 0:
        return _empty(rule)
    vmin = rules.get(rule, "min_angle_deg")
    thr = float(vmin.value)
    pg = pf.geometry.to_numpy()
    rg = roads.geometry.to_numpy()
    ip, ir = bbox_pairs(pg, rg, 0.0)
    ctx.progress(0.0, rule)
    segs = pm.segments
    edges = Edges(rg)
    pc = clip_pairs(segs, edges, rg, ip, ir, 0.0, want_interior=True)
    npc = len(pc.pair)
    if npc < 2:
        return _empty(rule)
    # class of each piece: 1 interior, -1 exterior, 0 on the boundary
    cls = np.where(pc.interior, 1, np.where(pc.inside, 0, -1))
    prev = np.arange(npc) - 1
    s, sp = pc.seg, pc.seg[np.maximum(prev, 0)]
    # the previous piece ends where this one starts
    ax = segs.x0[s] + pc.t0 * segs.dx[s]
    ay = segs.y0[s] + pc.t0 * segs.dy[s]
    bx = segs.x0[sp] + pc.t1[np.maximum(prev, 0)] * segs.dx[sp]
    by = segs.y0[sp] + pc.t1[np.maximum(prev, 0)] * segs.dy[sp]
    touch = (prev >= 0) & (pc.pair[np.maximum(prev, 0)] == pc.pair) & \
        (np.abs(ax - bx) <= 1e-9) & (np.abs(ay - by) <= 1e-9)
    cprev = cls[np.maximum(prev, 0)]
    cross = touch & (cls != 0) & (cprev != 0) & (cls != cprev)
    i = np.nonzero(cross)[0]
    e = pc.edge[i]
    # a crossing at a vertex of the pipe: the edge was found on the next segment at t=0
    # (always, since that segment meets the edge there); missing edge -> nearest edge of the polygon
    miss = e < 0
    if miss.any():
        pts = shapely.points(ax[i[miss]], ay[i[miss]])
        # edges of this road through the point
        el = shapely.linestrings(np.stack([np.column_stack([edges.x0, edges.y0]),
                                           np.column_stack([edges.x1, edges.y1])], axis=1))
        q, ee = shapely.STRtree(el).query(pts, predicate="dwithin", distance=1e-9)
        same = edges.poly[ee] == ir[pc.pair[i[miss]]][q]
        fill = np.full(miss.sum(), -1)
        fill[q[same][::-1]] = ee[same][::-1]
        e[miss] = fill
    ok = e >= 0
    i, e = i[ok], e[ok]
    s = pc.seg[i]
    ex, ey = edges.x1[e] - edges.x0[e], edges.y1[e] - edges.y0[e]
    dx, dy = segs.dx[s], segs.dy[s]
    cosang = np.abs(dx * ex + dy * ey) / (segs.len[s] * np.hypot(ex, ey))
    ang = np.degrees(np.arccos(np.clip(cosang, 0.0, 1.0)))
    pair = pc.pair[i]
    acc_p = pf["acc_h"].to_numpy(float)[ip[pair]]
    acc_r = ctx.plan_acc_h(roads)[ir[pair]]
    unc = np.degrees(np.arctan(2 * np.nan_to_num(acc_p) / segs.len[s]) +
                     np.arctan(2 * np.nan_to_num(acc_r) / np.hypot(ex, ey)))
    is_f, _ = classify_min(ang, thr, unc)
    i, pair, ang, unc = i[is_f], pair[is_f], ang[is_f], unc[is_f]
    if len(i) == 0:
        return _empty(rule)
    # one row per pair: the smallest angle (its certainty), all crossing points
    o = np.lexsort((ang, pair))
    pair, ang, unc, i = pair[o], ang[o], unc[o], i[o]
    first = np.ones(len(pair), bool)
    first[1:] = pair[1:] != pair[:-1]
    upair, uang = pair[first], ang[first]
    grp = np.cumsum(first) - 1
    # certain when any crossing of the pair is short even with its uncertainty
    any_cert = np.bincount(grp, weights=(ang + unc < thr).astype(float)) > 0
    cert = np.where(any_cert, "certain", "possible")
    pts = shapely.points(ax[i], ay[i])
    geoms = shapely.multipoints(pts, indices=grp)
    return new_findings(rule, PIPES, pf["uid"].to_numpy(dtype=object)[ip[upair]], ROADS,
                        roads["uid"].to_numpy(dtype=object)[ir[upair]], uang, thr, "°",
                        rules.severity(rule), cert, vmin.cite, geoms)
