"""The prepared pipe model: where each pipe segment lies below the ground.

``prepare_pipes(ctx)`` turns the pipe_segment layer (plus pipe_point and the
DEM) into a ``PipeModel`` that every depth-aware rule uses.

Depth semantics (data-model.md, standards.md §1):

* ``depth_start`` / ``depth_end`` are metres below the ground at the two ends,
  measured to ``depth_ref``: ``top`` (outer top), ``center`` or ``invert``
  (inside bottom). NULL ``depth_ref`` -> rules ``general.default_depth_ref``
  by utility class (PS: invert, else top).
* Outer vertical size ``height_m`` = height_mm/1000 (box) else
  diameter_mm/1000; outer horizontal size ``width_m`` = width_mm/1000 (box)
  else diameter_mm/1000 (a duct bank's diameter_mm is its width). An unknown
  size counts as 0 (the centreline).
* From the depth: depth of the outer top (``cover``) and of the outer bottom:
    top     cover = d,                       bottom = d + height
    center  cover = d - height/2,            bottom = d + height/2
    invert  cover = d - height - wall,       bottom = d + wall
  (wall = rules ``general.invert_wall_m``: the invert is the inside bottom, so
  the outer top is invert + height + wall and the outer bottom invert - wall;
  ``height_m`` of such a pipe is then height + 2 wall).
* Ground at an end: the ``ground_elev`` of the pipe_point named by
  ``start_uid`` / ``end_uid``; else the DEM (``ctx.dem``) at the segment's end
  vertex; else unknown.
* A missing end depth is derived the way a surveyor would: first the surveyed
  ``depth`` of the end's pipe_point (same reference), else the other end's
  depth (a segment with one measured end is taken as laid parallel to the
  ground, i.e. constant depth). A segment with no depth at either end and no
  point depth has an unknown depth.
* Depth, ground and so the elevations interpolate linearly along the line by
  the fraction of its length.

``depth_known`` is True where the cover (the position of the pipe below the
ground) is known at both ends. The absolute elevations additionally need the
ground (``elev_known``); ``top_elev_at`` etc. give NaN where the ground is
unknown, but ``cover_at`` stays known (it needs no ground). A pipe whose depth
cannot be known is never treated as depth 0: it is reported by
``check_depth_unknown`` and skipped by the depth rules.

Uncertainty: ``acc_h`` / ``acc_v`` are the record's own, else the CJJ 61
defaults ``acc_*_per_depth * H``, H = the larger centre depth of the two ends,
at least ``acc_min_depth_m`` (H = ``acc_min_depth_m`` where the depth is
unknown).
"""
from __future__ import annotations

import numpy as np

from ...layers.errors import InputError
from .findings import new_findings

LAYER = "pipe_segment"


def _num(series):
    import pandas as pd

    return pd.to_numeric(series, errors="coerce").astype(float).to_numpy()


def sample_dem(path, x, y, crs=None):
    """Elevation of the DEM at points (x, y); NaN outside or at nodata.

    Reads only the window that covers the points, then indexes the array.
    """
    import rasterio
    from rasterio.windows import Window

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return out
    try:
        ds = rasterio.open(path)
    except Exception as exc:  # rasterio raises its own error types
        raise InputError(f"cannot read the DEM ({exc})", file=str(path)) from None
    with ds:
        if crs is not None and ds.crs is not None:
            try:
                from pyproj import CRS

                if not CRS.from_user_input(ds.crs.to_wkt()).equals(CRS.from_user_input(crs)):
                    raise InputError(f"the DEM's CRS ({ds.crs}) is not the project's ({crs})",
                                     file=str(path))
            except InputError:
                raise
            except Exception:
                pass
        # invert the affine transform by hand (some affine releases cannot: ~t fails)
        t = ds.transform
        det = t.a * t.e - t.b * t.d
        if det == 0:
            raise InputError("the DEM has a degenerate geotransform", file=str(path))
        dx, dy = x[ok] - t.c, y[ok] - t.f
        col = np.floor((t.e * dx - t.b * dy) / det).astype(np.int64)
        row = np.floor((-t.d * dx + t.a * dy) / det).astype(np.int64)
        inside = (row >= 0) & (row < ds.height) & (col >= 0) & (col < ds.width)
        if not inside.any():
            return out
        r0, r1 = row[inside].min(), row[inside].max() + 1
        c0, c1 = col[inside].min(), col[inside].max() + 1
        arr = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        vals = np.ma.filled(arr.astype(float), np.nan)[row[inside] - r0, col[inside] - c0]
        sub = np.full(int(ok.sum()), np.nan)
        sub[inside] = vals
        out[ok] = sub
    return out


class PipeModel:
    """Active pipe segments with sizes, uncertainty and depth along the line."""

    def __init__(self, frame, rules):
        import shapely

        self.frame = frame
        self.rules = rules
        self.geoms = frame.geometry.to_numpy() if len(frame) else np.array([], dtype=object)
        self.length = shapely.length(self.geoms) if len(frame) else np.zeros(0)
        self._ground = np.column_stack([frame["ground_start"].to_numpy(float),
                                        frame["ground_end"].to_numpy(float)]) if len(frame) else np.zeros((0, 2))
        self._cover = np.column_stack([frame["cover_start"].to_numpy(float),
                                       frame["cover_end"].to_numpy(float)]) if len(frame) else np.zeros((0, 2))
        self._height = frame["height_m"].to_numpy(float) if len(frame) else np.zeros(0)

    def __len__(self):
        return len(self.frame)

    @property
    def line_index(self) -> "LineIndex":
        """Vertices of every segment with their fraction of length (built once)."""
        if getattr(self, "_line_index", None) is None:
            self._line_index = LineIndex(self.geoms)
        return self._line_index

    # -- position along the line -------------------------------------------
    def fraction(self, seg_idx, xy):
        """Fraction (0..1) of the length at points xy (N x 2) on segments seg_idx."""
        import shapely

        seg_idx = np.asarray(seg_idx, dtype=np.int64)
        xy = np.asarray(xy, float).reshape(-1, 2)
        if len(seg_idx) == 0:
            return np.zeros(0)
        pts = shapely.points(xy)
        t = shapely.line_locate_point(self.geoms[seg_idx], pts, normalized=True)
        return np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)

    def _lerp(self, arr2, seg_idx, t):
        seg_idx = np.asarray(seg_idx, dtype=np.int64)
        t = np.asarray(t, float)
        a = arr2[seg_idx, 0]
        b = arr2[seg_idx, 1]
        return a + (b - a) * t

    # -- by fraction ---------------------------------------------------------
    def ground_at_t(self, seg_idx, t):
        return self._lerp(self._ground, seg_idx, t)

    def cover_at_t(self, seg_idx, t):
        """Depth of the outer top below the ground (m); NaN where unknown."""
        return self._lerp(self._cover, seg_idx, t)

    def bottom_depth_at_t(self, seg_idx, t):
        """Depth of the outer bottom below the ground (m)."""
        return self.cover_at_t(seg_idx, t) + self._height[np.asarray(seg_idx, dtype=np.int64)]

    def top_elev_at_t(self, seg_idx, t):
        return self.ground_at_t(seg_idx, t) - self.cover_at_t(seg_idx, t)

    def bottom_elev_at_t(self, seg_idx, t):
        return self.ground_at_t(seg_idx, t) - self.bottom_depth_at_t(seg_idx, t)

    # -- by point (the contract) ------------------------------------------
    def ground_at(self, seg_idx, xy):
        return self.ground_at_t(seg_idx, self.fraction(seg_idx, xy))

    def top_elev_at(self, seg_idx, xy):
        return self.top_elev_at_t(seg_idx, self.fraction(seg_idx, xy))

    def bottom_elev_at(self, seg_idx, xy):
        return self.bottom_elev_at_t(seg_idx, self.fraction(seg_idx, xy))

    def cover_at(self, seg_idx, xy):
        """ground - top; known wherever the depth is, even without a ground elevation."""
        return self.cover_at_t(seg_idx, self.fraction(seg_idx, xy))

    def bottom_depth_at(self, seg_idx, xy):
        return self.bottom_depth_at_t(seg_idx, self.fraction(seg_idx, xy))


def _default_ref(rules, utility):
    refs = rules.value("general", "default_depth_ref")
    if isinstance(refs, dict):
        default = refs.get("default", "top")
        util = np.asarray(utility, dtype=object)
        out = np.full(len(util), default, dtype=object)
        for cls, ref in refs.items():
            if cls != "default":
                out[util == cls] = ref
        return out
    return np.full(len(utility), refs, dtype=object)


def prepare_pipes(ctx) -> PipeModel:
    import pandas as pd
    import shapely

    rules = ctx.rules
    seg = ctx.layer(LAYER).copy()
    n = len(seg)
    for c in ("ground_start", "ground_end", "cover_start", "cover_end"):
        seg[c] = np.zeros(n)
    if n == 0:
        for c in ("width_m", "height_m", "acc_h", "acc_v", "bottom_start", "bottom_end",
                  "depth_ref_used", "depth_known", "elev_known", "buried"):
            seg[c] = pd.Series([], dtype=object if c == "depth_ref_used" else float)
        seg["depth_known"] = seg["depth_known"].astype(bool)
        seg["elev_known"] = seg["elev_known"].astype(bool)
        seg["buried"] = seg["buried"].astype(bool)
        return PipeModel(seg, rules)

    diameter = _num(seg["diameter_mm"]) / 1000.0
    width = _num(seg["width_mm"]) / 1000.0
    height = _num(seg["height_mm"]) / 1000.0
    width_m = np.where(np.isfinite(width) & (width > 0), width, diameter)
    height_m = np.where(np.isfinite(height) & (height > 0), height, diameter)
    width_m = np.nan_to_num(width_m, nan=0.0)
    height_m = np.nan_to_num(height_m, nan=0.0)

    # -- ends: points, ground, depth ----------------------------------------
    geoms = seg.geometry.to_numpy()
    p0 = shapely.get_coordinates(shapely.get_point(geoms, 0))
    p1 = shapely.get_coordinates(shapely.get_point(geoms, -1))
    pts = ctx.layer("pipe_point") if _has_layer(ctx, "pipe_point") else None
    ground = np.full((n, 2), np.nan)
    pdepth = np.full((n, 2), np.nan)
    if pts is not None and len(pts):
        p = pts.drop_duplicates("uid").set_index("uid")
        pg = pd.to_numeric(p["ground_elev"], errors="coerce").astype(float)
        pdp = pd.to_numeric(p["depth"], errors="coerce").astype(float)
        for k, col in enumerate(("start_uid", "end_uid")):
            key = seg[col].astype(object)
            ground[:, k] = key.map(pg).to_numpy(dtype=float, na_value=np.nan)
            pdepth[:, k] = key.map(pdp).to_numpy(dtype=float, na_value=np.nan)
    if ctx.dem:
        for k, pxy in enumerate((p0, p1)):
            miss = ~np.isfinite(ground[:, k])
            if miss.any():
                ground[miss, k] = sample_dem(ctx.dem, pxy[miss, 0], pxy[miss, 1],
                                             crs=getattr(seg, "crs", None))

    depth = np.column_stack([_num(seg["depth_start"]), _num(seg["depth_end"])])
    depth = np.where(np.isfinite(depth), depth, pdepth)  # the end point's surveyed depth
    only0 = np.isfinite(depth[:, 0]) & ~np.isfinite(depth[:, 1])
    only1 = np.isfinite(depth[:, 1]) & ~np.isfinite(depth[:, 0])
    depth[only0, 1] = depth[only0, 0]  # one measured end: constant depth
    depth[only1, 0] = depth[only1, 1]

    # -- reference -> depth of outer top / bottom ---------------------------
    ref = seg["depth_ref"].astype(object).to_numpy()
    valid = np.isin(ref, ["top", "invert", "center"])
    ref = np.where(valid, ref, _default_ref(rules, seg["utility"].to_numpy(dtype=object)))
    wall = float(rules.value("general", "invert_wall_m"))
    top_off = np.select([ref == "top", ref == "center", ref == "invert"],
                        [0.0 * height_m, height_m / 2.0, height_m + wall], 0.0)
    cover = depth - top_off[:, None]
    # the outer size grows by the wall on both sides where the depth is to the invert
    height_m = np.where(ref == "invert", height_m + 2.0 * wall, height_m)
    bottom = cover + height_m[:, None]

    depth_known = np.isfinite(cover).all(axis=1)
    elev_known = depth_known & np.isfinite(ground).all(axis=1)

    # -- uncertainty ----------------------------------------------------------
    hmin = float(rules.value("general", "acc_min_depth_m"))
    centre = np.nanmax(np.where(np.isfinite(cover), cover + height_m[:, None] / 2.0, -np.inf), axis=1)
    H = np.where(depth_known, np.maximum(centre, hmin), hmin)
    acc_h = _num(seg["acc_h"])
    acc_v = _num(seg["acc_v"])
    acc_h = np.where(np.isfinite(acc_h), acc_h, float(rules.value("general", "acc_h_per_depth")) * H)
    acc_v = np.where(np.isfinite(acc_v), acc_v, float(rules.value("general", "acc_v_per_depth")) * H)

    exempt = list(rules.value("cover_depth", "exempt_burial"))
    seg["width_m"] = width_m
    seg["height_m"] = height_m
    seg["acc_h"] = acc_h
    seg["acc_v"] = acc_v
    seg["depth_ref_used"] = ref
    seg["ground_start"], seg["ground_end"] = ground[:, 0], ground[:, 1]
    seg["cover_start"], seg["cover_end"] = cover[:, 0], cover[:, 1]
    seg["bottom_start"], seg["bottom_end"] = bottom[:, 0], bottom[:, 1]
    seg["depth_known"] = depth_known
    seg["elev_known"] = elev_known
    seg["buried"] = ~seg["burial"].astype(object).isin(exempt).to_numpy()
    return PipeModel(seg, rules)


def _has_layer(ctx, name):
    try:
        ctx.layer(name)
        return True
    except InputError:
        return False


def check_depth_unknown(ctx):
    """depth_unknown: a buried pipe whose depth cannot be known (its own finding)."""
    rule = "depth_unknown"
    pm = ctx.pipes
    f = pm.frame
    if len(f) == 0:
        return new_findings(rule, LAYER, [], "", [], [], [], "m", "", "", "", [])
    bad = (~f["depth_known"].to_numpy(bool)) & f["buried"].to_numpy(bool)
    sub = f.loc[bad]
    return new_findings(rule, LAYER, sub["uid"].to_numpy(dtype=object), "", None,
                        np.nan, np.nan, "m", ctx.rules.severity(rule), "certain",
                        "rules.md: a depth that cannot be known is reported [local]",
                        sub.geometry.to_numpy())


# ---------------------------------------------------------------------------
# Vectorised line geometry shared by the depth rules: positions by fraction of
# length, substrings, and the split of lines at polygon edges (no GEOS overlay).
# ---------------------------------------------------------------------------
class LineIndex:
    """Vertices of an array of LineStrings with their fraction of length."""

    def __init__(self, lines):
        import shapely

        self.lines = np.asarray(lines, dtype=object)
        n = len(self.lines)
        coords, idx = shapely.get_coordinates(self.lines, return_index=True)
        self.coords = coords
        self.idx = idx
        seglen = np.hypot(*np.diff(coords, axis=0).T) if len(coords) > 1 else np.zeros(0)
        same = idx[1:] == idx[:-1] if len(idx) > 1 else np.zeros(0, bool)
        seglen = np.where(same, seglen, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(seglen)])
        counts = np.bincount(idx, minlength=n)
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.end = self.start + counts  # exclusive
        base = cum[self.start[idx]] if len(idx) else np.zeros(0)
        along = cum - base if len(idx) else np.zeros(0)
        self.length = np.where(counts > 0, cum[np.maximum(self.end - 1, 0)] - cum[self.start], 0.0) \
            if n else np.zeros(0)
        L = self.length[idx] if len(idx) else np.zeros(0)
        self.t = np.where(L > 0, along / np.where(L > 0, L, 1.0), 0.0)
        self.key = idx * 2.0 + self.t  # globally sorted

    def point_at(self, line, t):
        """(N x 2) coordinates at fractions t of lines ``line``."""
        line = np.asarray(line, dtype=np.int64)
        t = np.clip(np.asarray(t, float), 0.0, 1.0)
        k = np.searchsorted(self.key, line * 2.0 + t, side="right") - 1
        k = np.clip(k, self.start[line], np.maximum(self.end[line] - 2, self.start[line]))
        k1 = np.minimum(k + 1, self.end[line] - 1)
        t0, t1 = self.t[k], self.t[k1]
        dt = t1 - t0
        w = np.where(dt > 0, (t - t0) / np.where(dt > 0, dt, 1.0), 0.0)
        return self.coords[k] + (self.coords[k1] - self.coords[k]) * w[:, None]

    def substrings(self, line, ta, tb):
        """LineStrings from fraction ta to tb of lines ``line`` (ta < tb)."""
        import shapely

        line = np.asarray(line, dtype=np.int64)
        ta = np.asarray(ta, float)
        tb = np.asarray(tb, float)
        m = len(line)
        if m == 0:
            return np.array([], dtype=object)
        pa = self.point_at(line, ta)
        pb = self.point_at(line, tb)
        i0 = np.searchsorted(self.key, line * 2.0 + ta, side="right")
        i1 = np.searchsorted(self.key, line * 2.0 + tb, side="left")
        inner = np.maximum(i1 - i0, 0)
        counts = inner + 2
        offs = np.concatenate([[0], np.cumsum(counts)])
        out = np.empty((offs[-1], 2))
        out[offs[:-1]] = pa
        out[offs[1:] - 1] = pb
        if inner.sum():
            owner = np.repeat(np.arange(m), inner)
            within = np.arange(inner.sum()) - np.repeat(np.cumsum(inner) - inner, inner)
            out[offs[owner] + 1 + within] = self.coords[i0[owner] + within]
        return shapely.linestrings(out, indices=np.repeat(np.arange(m), counts))


def _edges(coords, idx):
    """Consecutive vertex pairs of the same part: (start index array)."""
    if len(idx) < 2:
        return np.zeros(0, dtype=np.int64)
    return np.nonzero(idx[1:] == idx[:-1])[0]


def split_lines_by_polygons(lines, polys, line_index: LineIndex = None, eps=1e-9):
    """Split lines at the boundaries of the polygons they meet.

    Returns a dict:
      pairs_line, pairs_poly: the intersecting (line, polygon) pairs
      piece_line, piece_ta, piece_tb: pieces of the lines that meet any
        polygon, cut at every boundary crossing (fractions of the length)
      in_pair, in_piece: piece ``in_piece`` lies inside polygon of pair ``in_pair``
    Closed-form edge/edge crossings (candidates from an STRtree of the line
    edges) and a point-in-polygon test at each piece's middle.
    """
    import shapely

    lines = np.asarray(lines, dtype=object)
    polys = np.asarray(polys, dtype=object)
    li_ = line_index or LineIndex(lines)
    empty = dict(pairs_line=np.zeros(0, np.int64), pairs_poly=np.zeros(0, np.int64),
                 piece_line=np.zeros(0, np.int64), piece_ta=np.zeros(0), piece_tb=np.zeros(0),
                 in_pair=np.zeros(0, np.int64), in_piece=np.zeros(0, np.int64))
    if len(lines) == 0 or len(polys) == 0:
        return empty
    tree = shapely.STRtree(lines)
    shapely.prepare(polys)
    pj, pl = tree.query(polys, predicate="intersects")
    if len(pj) == 0:
        return empty
    order = np.lexsort((pj, pl))
    pj, pl = pj[order], pl[order]
    L = np.unique(pl)
    P = np.unique(pj)

    # line edges of the involved lines
    e = _edges(li_.coords, li_.idx)
    e = e[np.isin(li_.idx[e], L)]
    a = li_.coords[e]
    b = li_.coords[e + 1]
    eline = li_.idx[e]
    et0, et1 = li_.t[e], li_.t[e + 1]
    # ring edges of the involved polygons
    rings, ridx = shapely.get_rings(polys[P], return_index=True)
    rc, rci = shapely.get_coordinates(rings, return_index=True)
    re_ = _edges(rc, rci)
    c = rc[re_]
    d = rc[re_ + 1]

    ts = [np.zeros(len(L)), np.ones(len(L))]
    tl = [L, L]
    if len(e) and len(re_):
        etree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
        qi, ei = etree.query(shapely.linestrings(np.stack([c, d], axis=1)), predicate="intersects")
        r = b[ei] - a[ei]
        q = d[qi] - c[qi]
        w = c[qi] - a[ei]
        den = r[:, 0] * q[:, 1] - r[:, 1] * q[:, 0]
        ok = np.abs(den) > 1e-15 * (np.hypot(*r.T) * np.hypot(*q.T) + 1e-300)
        s = np.where(ok, (w[:, 0] * q[:, 1] - w[:, 1] * q[:, 0]) / np.where(ok, den, 1.0), 0.0)
        s = np.clip(s[ok], 0.0, 1.0)
        ei = ei[ok]
        ts.append(et0[ei] + s * (et1[ei] - et0[ei]))
        tl.append(eline[ei])
    tl = np.concatenate(tl)
    ts = np.concatenate(ts)
    o = np.lexsort((ts, tl))
    tl, ts = tl[o], ts[o]
    keep = np.ones(len(ts), bool)
    keep[1:] = ~((tl[1:] == tl[:-1]) & (ts[1:] - ts[:-1] <= eps))
    tl, ts = tl[keep], ts[keep]
    nxt = (tl[1:] == tl[:-1])
    piece_line = tl[:-1][nxt]
    piece_ta = ts[:-1][nxt]
    piece_tb = ts[1:][nxt]
    # middle of each piece, inside which polygon of its line's pairs?
    mid = li_.point_at(piece_line, (piece_ta + piece_tb) / 2.0)
    npieces = np.bincount(piece_line, minlength=len(lines))
    poff = np.concatenate([[0], np.cumsum(npieces)])
    cnt = npieces[pl]
    pair_rep = np.repeat(np.arange(len(pl)), cnt)
    piece_id = poff[pl][pair_rep] + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    inside = shapely.contains_xy(polys[pj[pair_rep]], mid[piece_id, 0], mid[piece_id, 1])
    return dict(pairs_line=pl, pairs_poly=pj, piece_line=piece_line, piece_ta=piece_ta,
                piece_tb=piece_tb, in_pair=pair_rep[inside], in_piece=piece_id[inside])


def linear_below(v0, v1, ta, tb, limit):
    """Sub-interval of [ta, tb] where a value linear from v0 (at ta) to v1 (at tb)
    is below ``limit``. Returns (sa, sb, nonempty)."""
    v0, v1, ta, tb, limit = (np.asarray(x, float) for x in (v0, v1, ta, tb, limit))
    dv = v1 - v0
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = ta + (limit - v0) / dv * (tb - ta)  # where the value meets the limit
    below0 = v0 < limit
    below1 = v1 < limit
    sa = np.where(below0, ta, np.where(below1, tc, ta))
    sb = np.where(below1, tb, np.where(below0, tc, tb))
    nonempty = (below0 | below1) & (sb > sa)
    return sa, sb, nonempty
