"""Fast candidate joins and closed-form distances for the plan-feature rules
(trees, stalls, buildings, fire lanes against pipes / each other).

* :class:`PointGrid` puts the features of the *smaller* layer (points, or
  small boxes binned by their centre) in a dense uniform grid (CSR: cell ->
  features) and answers a whole array of query boxes at once: each query
  box reads the contiguous run of features of every grid row it spans, so
  there is no per-feature tree walk and no binary search; an exact box test
  then keeps the candidates. Cheaper than building an STRtree on a million
  pipes (performance.md: candidates once, numpy, locality).
* ``point_segment`` / ``segment_segment`` / ``point_polygon`` /
  ``segment_polygon``: closed-form distances over exploded vertex segments
  and polygon edges (no GEOS call per pair).
* :func:`lookup_distinct`: RuleSet.lookup on the distinct attribute
  combinations only, broadcast back (the tables have a few dozen entries,
  the layers a million rows).
"""
from __future__ import annotations

import numpy as np

QUERY_CHUNK = 1 << 19  # query boxes per chunk (bounds the temporaries)


class PointGrid:
    """Features binned in a uniform grid by a representative point.

    ``PointGrid(x, y)`` for points; ``PointGrid(x, y, box=(x0, y0, x1, y1))``
    for small features binned by (x, y) (e.g. their box centre) with their
    own boxes for the exact test. ``pairs(qx0, qy0, qx1, qy1)`` returns
    (query index, feature index) of every feature whose box meets the query
    box (closed boxes: touching counts), each pair once.
    """

    def __init__(self, x, y, box=None, cell=None, extent_hint=None):
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        n = len(x)
        self.n = n
        if box is None:
            self.bx0 = self.bx1 = x
            self.by0 = self.by1 = y
            self.hx = self.hy = 0.0
        else:
            self.bx0, self.by0, self.bx1, self.by1 = (np.asarray(b, float) for b in box)
            # how far a feature's box reaches from its binning point
            self.hx = float(max(np.max(x - self.bx0), np.max(self.bx1 - x))) if n else 0.0
            self.hy = float(max(np.max(y - self.by0), np.max(self.by1 - y))) if n else 0.0
        if n == 0:
            return
        self.x0, self.y0 = float(x.min()), float(y.min())
        span = max(float(x.max()) - self.x0, float(y.max()) - self.y0, 1e-9)
        if cell is None:
            # about one query extent per two cells, but no more cells than
            # 4 per feature (memory) and no more than 2**24
            cell = extent_hint / 2.0 if extent_hint else span / np.sqrt(n)
        cell = max(float(cell), span / np.sqrt(4.0 * n + 1024), span / 4096.0, 1e-9)
        self.cell = cell
        self.nc = int(np.floor((float(x.max()) - self.x0) / cell)) + 1
        self.nr = int(np.floor((float(y.max()) - self.y0) / cell)) + 1
        c = (np.floor((y - self.y0) / cell).astype(np.int64) * self.nc
             + np.floor((x - self.x0) / cell).astype(np.int64))
        self.order = np.argsort(c, kind="stable")
        self.start = np.zeros(self.nc * self.nr + 1, np.int64)
        np.cumsum(np.bincount(c, minlength=self.nc * self.nr), out=self.start[1:])
        # feature boxes in grid order (local reads in the exact test)
        o = self.order
        self.sx0, self.sy0, self.sx1, self.sy1 = self.bx0[o], self.by0[o], self.bx1[o], self.by1[o]

    def pairs(self, qx0, qy0, qx1, qy1, threads: int = 1):
        qx0, qy0, qx1, qy1 = (np.asarray(a, float) for a in (qx0, qy0, qx1, qy1))
        m = len(qx0)
        if self.n == 0 or m == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        from .kernels import grid_pairs

        out = grid_pairs(self, qx0, qy0, qx1, qy1, threads=threads)  # compiled, when numba is there
        if out is not None:
            return out
        return self.pairs_numpy(qx0, qy0, qx1, qy1)

    def pairs_numpy(self, qx0, qy0, qx1, qy1):
        """``pairs`` in numpy (the reference for the compiled kernel)."""
        m = len(qx0)
        if self.n == 0 or m == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        out_q, out_f = [], []
        for s in range(0, m, QUERY_CHUNK):
            q, f = self._pairs(qx0[s:s + QUERY_CHUNK], qy0[s:s + QUERY_CHUNK],
                               qx1[s:s + QUERY_CHUNK], qy1[s:s + QUERY_CHUNK])
            out_q.append(q + s)
            out_f.append(f)
        return np.concatenate(out_q), np.concatenate(out_f)

    def _pairs(self, qx0, qy0, qx1, qy1):
        cell, nc, nr = self.cell, self.nc, self.nr
        # grid range of binning points whose box may meet the query box
        c0 = np.clip(np.floor((qx0 - self.hx - self.x0) / cell), 0, nc - 1).astype(np.int64)
        c1 = np.clip(np.floor((qx1 + self.hx - self.x0) / cell), -1, nc - 1).astype(np.int64)
        r0 = np.clip(np.floor((qy0 - self.hy - self.y0) / cell), 0, nr - 1).astype(np.int64)
        r1 = np.clip(np.floor((qy1 + self.hy - self.y0) / cell), -1, nr - 1).astype(np.int64)
        nrow = np.maximum(r1 - r0 + 1, 0)
        nrow[c1 < c0] = 0
        total = int(nrow.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        q = np.repeat(np.arange(len(qx0), dtype=np.int64), nrow)
        row = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(nrow) - nrow, nrow) + r0[q]
        base = row * nc
        lo = self.start[base + c0[q]]
        hi = self.start[base + c1[q] + 1]
        cnt = hi - lo
        nz = cnt > 0
        q, lo, cnt = q[nz], lo[nz], cnt[nz]
        tot = int(cnt.sum())
        if tot == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        qq = np.repeat(q, cnt)
        pos = np.arange(tot, dtype=np.int64) + np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
        ok = (self.sx0[pos] <= qx1[qq]) & (self.sx1[pos] >= qx0[qq])
        ok &= (self.sy0[pos] <= qy1[qq]) & (self.sy1[pos] >= qy0[qq])
        return qq[ok], self.order[pos[ok]]


def grid_for_geoms(geoms, extent_hint=None):
    """A PointGrid of geometries binned by their box centre."""
    import shapely

    b = shapely.bounds(np.asarray(geoms, dtype=object))
    return PointGrid((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                     box=(b[:, 0], b[:, 1], b[:, 2], b[:, 3]), extent_hint=extent_hint)


# ---------------------------------------------------------------------------
# closed-form distances
# ---------------------------------------------------------------------------
def point_segment(px, py, ax, ay, bx, by):
    """Distance from points to segments a-b, and the fraction t of the
    nearest point along a-b."""
    dx, dy = bx - ax, by - ay
    dd = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / dd
    t = np.clip(np.where(dd > 0, t, 0.0), 0.0, 1.0)
    return np.hypot(ax + t * dx - px, ay + t * dy - py), t


def segments_cross(ax, ay, bx, by, cx, cy, dx, dy):
    """Segments a-b and c-d properly cross (interiors meet at one point).
    Touching and collinear cases are left to the point distances (0 there)."""
    o1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    o2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    o3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    o4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    return (o1 * o2 < 0) & (o3 * o4 < 0)


def segment_segment(ax, ay, bx, by, cx, cy, dx, dy):
    """Distance between segments a-b and c-d, with the fraction along a-b
    of the nearest point (at a crossing: the crossing point)."""
    d1, _ = point_segment(ax, ay, cx, cy, dx, dy)       # a to c-d
    d2, _ = point_segment(bx, by, cx, cy, dx, dy)       # b to c-d
    d3, t3 = point_segment(cx, cy, ax, ay, bx, by)      # c to a-b
    d4, t4 = point_segment(dx, dy, ax, ay, bx, by)      # d to a-b
    d = np.minimum(np.minimum(d1, d2), np.minimum(d3, d4))
    t = np.where(d == d1, 0.0, np.where(d == d2, 1.0, np.where(d == d3, t3, t4)))
    cross = segments_cross(ax, ay, bx, by, cx, cy, dx, dy)
    if cross.any():
        ex, ey = bx - ax, by - ay
        fx, fy = dx - cx, dy - cy
        den = ex * fy - ey * fx
        with np.errstate(divide="ignore", invalid="ignore"):
            tc = ((cx - ax) * fy - (cy - ay) * fx) / den
        t = np.where(cross, np.clip(np.nan_to_num(tc), 0.0, 1.0), t)
        d = np.where(cross, 0.0, d)
    return d, t


def ring_coords(geoms):
    """(xy, ring, ring_poly): the vertices of every ring of polygons, the ring
    of each vertex (consecutive vertices of one ring form an edge) and the
    polygon of each ring. Plain polygons
    without holes take the fast path (no ring geometries are built: GEOS
    get_rings clones every ring)."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n and (shapely.get_type_id(geoms) == 3).all() and not shapely.get_num_interior_rings(geoms).any():
        xy, idx = shapely.get_coordinates(geoms, return_index=True)
        return xy, idx.astype(np.int64), np.arange(n, dtype=np.int64)
    if n and (shapely.get_type_id(geoms) == 3).all():
        parts, pidx = geoms, np.arange(n)
    else:
        parts, pidx = shapely.get_parts(geoms, return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    xy, cidx = shapely.get_coordinates(rings, return_index=True)
    return xy, cidx.astype(np.int64), pidx[ridx].astype(np.int64)


class PolyEdges:
    """Boundary edges (all rings) of polygons, contiguous per polygon."""

    def __init__(self, geoms):
        xy, ring, ring_poly = ring_coords(geoms)
        n = len(geoms)
        s = np.nonzero(ring[1:] == ring[:-1])[0] if len(xy) > 1 else np.zeros(0, np.int64)
        self.x0, self.y0 = xy[s, 0], xy[s, 1]
        self.x1, self.y1 = xy[s + 1, 0], xy[s + 1, 1]
        poly = ring_poly[ring[s]]
        self.count = np.bincount(poly, minlength=n).astype(np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)

    def expand(self, poly):
        """(row -> pair, edge index) for every edge of each pair's polygon."""
        cnt = self.count[poly]
        pair = np.repeat(np.arange(len(poly), dtype=np.int64), cnt)
        e = np.arange(int(cnt.sum()), dtype=np.int64) + np.repeat(self.start[poly] - (np.cumsum(cnt) - cnt), cnt)
        return pair, e


def _crossings(px, py, x0, y0, x1, y1):
    """Even-odd ray crossing (ray to +x) of each point with each edge."""
    up = (y0 > py) != (y1 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    return up & (px < xc)


def _group_min(pair, v, n):
    """Smallest value per pair (inf for none). ``pair`` is non-decreasing (the
    rows of PolyEdges.expand): one reduceat over the runs, no ufunc.at."""
    out = np.full(n, np.inf)
    if len(pair) == 0:
        return out
    start = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    out[pair[start]] = np.minimum.reduceat(v, start)
    return out


def point_polygon(px, py, edges: PolyEdges, poly):
    """Distance from points to polygons (0 inside), for pairs (point i, poly[i])."""
    n = len(poly)
    pair, e = edges.expand(poly)
    x, y = px[pair], py[pair]
    d, _ = point_segment(x, y, edges.x0[e], edges.y0[e], edges.x1[e], edges.y1[e])
    dist = _group_min(pair, d, n)
    inside = np.bincount(pair, weights=_crossings(x, y, edges.x0[e], edges.y0[e], edges.x1[e], edges.y1[e]),
                         minlength=n) % 2 == 1
    return np.where(inside, 0.0, dist)


def segment_polygon(ax, ay, bx, by, edges: PolyEdges, poly):
    """Distance from segments a-b to polygons (0 where they meet), for pairs
    (segment i, poly[i]), and the fraction along a-b of the segment's point
    nearest the polygon (where it meets the polygon: the start when that lies
    inside, else the first boundary crossing along the segment)."""
    n = len(poly)
    pair, e = edges.expand(poly)
    sx0, sy0, sx1, sy1 = ax[pair], ay[pair], bx[pair], by[pair]
    ex0, ey0, ex1, ey1 = edges.x0[e], edges.y0[e], edges.x1[e], edges.y1[e]
    d, t = segment_segment(sx0, sy0, sx1, sy1, ex0, ey0, ex1, ey1)
    inside = np.bincount(pair, weights=_crossings(sx0, sy0, ex0, ey0, ex1, ey1), minlength=n) % 2 == 1
    dist = _group_min(pair, d, n)
    # the nearest point: the smallest t among the rows at the minimum distance
    at_min = d <= dist[pair]
    tt = _group_min(pair, np.where(at_min, t, np.inf), n)
    tt = np.where(inside, 0.0, tt)
    return np.where(inside, 0.0, dist), tt


# ---------------------------------------------------------------------------
# fused near joins: candidates, exact distance and the rule's threshold in
# one compiled pass (tools/engine/kernels.py) when numba is there; these
# numpy paths give the same pairs, values and order (the reference).
# ---------------------------------------------------------------------------
def _live_candidates(grid, ax, ay, bx, by, line, r):
    """The numpy paths' candidates: the segments whose line's r is finite
    (``live``, their lines ``ln`` and ends) and the (q, f) pairs of the grid
    meeting their boxes grown by r (q indexes the live segments)."""
    live = np.flatnonzero(np.isfinite(r[line]))
    ln = line[live]
    ax, ay, bx, by, rl = ax[live], ay[live], bx[live], by[live], r[ln]
    q, f = grid.pairs_numpy(np.minimum(ax, bx) - rl, np.minimum(ay, by) - rl,
                            np.maximum(ax, bx) + rl, np.maximum(ay, by) + rl)
    return live, ln, ax, ay, bx, by, q, f


def near_segments_points(grid, ax, ay, bx, by, line, r, hw, ua, req, kind, ub, threads: int = 1):
    """Segments a-b (queries) of lines ``line`` against the points of a
    PointGrid: (segment, point, d, t) of the pairs with
    ``max(d - hw[l], 0) - (ua[l] + ub[p]) < req[l, kind[p]]`` and that
    requirement finite, l = line[segment]; the query box is the segment's box
    grown by r[l] (segments with r[l] not finite take no part). Per-line
    arrays are gathered inside the pass (no per-segment temporaries);
    d = point_segment distance, t = fraction along a-b."""
    from .kernels import near_seg_points

    req = np.asarray(req, float)
    if req.ndim == 1:
        req = req[:, None]
    kind = np.asarray(kind, np.int64)
    out = near_seg_points(grid, ax, ay, bx, by, line, r, hw, ua, req, kind, ub, threads=threads)
    if out is not None:
        return out
    live, ln, ax, ay, bx, by, q, f = _live_candidates(grid, ax, ay, bx, by, line, r)
    d, t = point_segment(grid.bx0[f], grid.by0[f], ax[q], ay[q], bx[q], by[q])
    lq = ln[q]
    rq = req[lq, kind[f]]
    keep = (np.maximum(d - hw[lq], 0.0) - (ua[lq] + ub[f]) < rq) & (rq < np.inf)
    return live[q[keep]], f[keep], d[keep], t[keep]


def near_segments_polygons(grid, edges: PolyEdges, ax, ay, bx, by, line, r, hw, ua, req, ub,
                           threads: int = 1):
    """Segments a-b (queries) of lines ``line`` against the polygons of a
    PointGrid: (segment, polygon, d, t) of the pairs with
    ``max(d - hw[l], 0) - (ua[l] + ub[p]) < req[l]``, l = line[segment];
    query box = the segment's box grown by r[l] (not finite: no part);
    (d, t) as segment_polygon."""
    from .kernels import near_segs_polys

    out = near_segs_polys(grid, edges, ax, ay, bx, by, line, r, hw, ua, req, ub, threads=threads)
    if out is not None:
        return out
    live, ln, ax, ay, bx, by, q, f = _live_candidates(grid, ax, ay, bx, by, line, r)
    d, t = segment_polygon(ax[q], ay[q], bx[q], by[q], edges, f)
    lq = ln[q]
    keep = np.maximum(d - hw[lq], 0.0) - (ua[lq] + ub[f]) < req[lq]
    return live[q[keep]], f[keep], d[keep], t[keep]


# ---------------------------------------------------------------------------
# rule tables on distinct combinations
# ---------------------------------------------------------------------------
_COND_ATTR = {"max_diameter_mm": "diameter_mm", "max_pressure_mpa": "pressure_mpa", "burial": "burial",
              "deeper_than_foundation": "deeper_than_foundation"}


def _codes(values):
    import pandas as pd

    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, np.int64) + 1, len(uniq) + 1


class Distinct:
    """The distinct combinations of a class column and the attributes a
    rule table tests: ``inv`` (row -> combination), ``cls`` / ``attrs`` (one
    row per combination). ``lookup`` evaluates a table on the combinations
    and broadcasts back (same result as RuleSet.lookup on every row)."""

    def __init__(self, rules, rule, keys, cls_b, attrs_b, cache=None):
        """``cache``: a dict kept with the frame the columns come from (e.g.
        PipeModel.distinct_cache()): the combinations of the same columns are
        then found once per run."""
        import pandas as pd

        keys = [keys] if isinstance(keys, str) else list(keys)
        entries = [e for k in keys for e in rules.entries(rule, k)]
        used = {_COND_ATTR[c] for e in entries for c in _COND_ATTR if c in e}
        names = tuple(k for k in attrs_b if k in used)
        n = len(cls_b)
        hit = cache.get((n, names)) if cache is not None else None
        full = cache.get("__full__") if cache is not None else None
        if hit is None and full is not None and full[0] == n and set(names) <= set(full[1]):
            # coarser than the combinations found once per run (prepare_shared):
            # group those few representative rows, broadcast back
            _, fnames, finv, ffirst = full
            sub = self._group(pd, [_take(cls_b, ffirst)] + [_take(attrs_b[k], ffirst) for k in names])
            inv = sub[0][finv]
            first = ffirst[sub[1]]
            hit = cache[(n, names)] = (inv, first)
        if hit is None:
            inv, first = self._group(pd, [cls_b] + [attrs_b[k] for k in names])
            if cache is not None:
                cache[(n, names)] = (inv, first)
        else:
            inv, first = hit
        self.inv = inv

        def pick(v):
            if hasattr(v, "iloc"):  # a Series: take the few rows, then convert
                v = v.iloc[first]
                return v.to_numpy(dtype=float, na_value=np.nan) if _is_float(v) else v.to_numpy(dtype=object)
            return np.asarray(v)[first]

        self.cls = pick(cls_b)
        self.attrs = {k: pick(v) for k, v in attrs_b.items() if k in used}
        self.rules, self.rule = rules, rule

    @staticmethod
    def _group(pd, cols):
        """(row -> combination, a row of each combination) of the columns."""
        n = len(cols[0])
        combo = np.zeros(n, np.int64)
        for v in cols:
            c, k = _codes(v)
            combo = combo * k + c
        inv, uniq = pd.factorize(combo) if n else (np.zeros(0, np.int64), [])
        inv = np.asarray(inv, np.int64)
        first = np.zeros(len(uniq), np.int64)
        first[inv[::-1]] = np.arange(n - 1, -1, -1)  # first row of each combination
        return inv, first

    def __len__(self):
        return len(self.cls)

    def lookup(self, key, extra=None):
        """(values, entry index) per row; ``extra``: more attributes given
        per combination (arrays of len(self))."""
        attrs = dict(self.attrs, **(extra or {}))
        val, ent = self.rules.lookup(self.rule, key, None, self.cls, attrs_b=attrs)
        return val[self.inv], ent[self.inv]


def _take(v, rows):
    return v.iloc[rows] if hasattr(v, "iloc") else np.asarray(v)[rows]


def prepare_distinct(cache: dict, cls_b, attrs_b):
    """Find the combinations of ``cls_b`` and every column of ``attrs_b`` once
    (e.g. the pipes' class, diameter, pressure, burial): ``Distinct`` with
    this ``cache`` then groups only those few rows for its own columns."""
    import pandas as pd

    names = tuple(attrs_b)
    inv, first = Distinct._group(pd, [cls_b] + [attrs_b[k] for k in names])
    cache["__full__"] = (len(cls_b), names, inv, first)


def lookup_distinct(rules, rule, key, cls_b, attrs_b, cache=None):
    """``rules.lookup(rule, key, None, cls_b, attrs_b=attrs_b)`` computed on the
    distinct combinations of the class and the attributes the table's
    entries actually test; same result, a few dozen table rows instead of a
    million. ``cls_b`` / ``attrs_b`` values: arrays or pandas Series.
    ``key`` may be a list of table keys: then a dict key -> (values, entries)."""
    dist = Distinct(rules, rule, key, cls_b, attrs_b, cache=cache)
    if isinstance(key, str):
        return dist.lookup(key)
    return {k: dist.lookup(k) for k in key}


def _is_float(v):
    try:
        return np.issubdtype(np.dtype(v.dtype), np.floating)
    except TypeError:
        return False
