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

    def __init__(self, frame, rules, line_index: "LineIndex" = None):
        import shapely

        self.frame = frame
        self.rules = rules
        self.geoms = frame.geometry.to_numpy() if len(frame) else np.array([], dtype=object)
        self._line_index = line_index
        if line_index is not None:
            self.length = line_index.length
        else:
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

    @property
    def segments(self):
        """The vertex segments of the pipes (rule_roads.Segments), built once per
        run (``run_checks`` builds it with the model, before the rules)."""
        if getattr(self, "_segments", None) is None:
            from .rule_roads import Segments

            self._segments = Segments.from_line_index(self.line_index, self.geoms)
        return self._segments

    def distinct_cache(self) -> dict:
        """A per-run cache for plan_join.Distinct over this frame's columns."""
        c = getattr(self, "_distinct", None)
        if c is None:
            c = self._distinct = {}
        return c

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


def _mask(series, value):
    """series == value as a plain bool array (missing: False)."""
    return (series == value).to_numpy(dtype=bool, na_value=False)


def _lookup_rows(keys, uids):
    """Row of ``uids`` (first occurrence) holding each of ``keys``; -1 where
    none or the key is missing. Hash join in Arrow when it is there."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        def arrow(s):
            arr = s.array
            if hasattr(arr, "__arrow_array__"):
                try:
                    return arr.__arrow_array__()
                except Exception:
                    pass
            return pa.array(s.astype(object).where(s.notna(), None).to_numpy(dtype=object), type=pa.string())

        k = arrow(keys)
        u = arrow(uids)
        if isinstance(u, pa.ChunkedArray):
            u = u.combine_chunks()
        if k.type != u.type:
            k = k.cast(pa.string())
            u = u.cast(pa.string())
        r = pc.fill_null(pc.index_in(k, value_set=u, skip_nulls=True), -1)
        return np.asarray(r.to_numpy(), dtype=np.int64) if isinstance(r, pa.Array) else \
            np.asarray(r.to_numpy(), dtype=np.int64)
    except ImportError:
        import pandas as pd

        u = pd.Index(uids.astype(object))
        first = ~u.duplicated()
        idx = pd.Index(u[first]).get_indexer(keys.astype(object))
        pos = np.nonzero(first)[0]
        return np.where(idx >= 0, pos[np.maximum(idx, 0)], -1)


def prepare_pipes(ctx) -> PipeModel:
    import pandas as pd

    rules = ctx.rules
    seg = ctx.layer(LAYER).copy(deep=False)
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
    li = LineIndex(seg.geometry.to_numpy())
    p0 = li.coords[li.start]
    p1 = li.coords[np.maximum(li.end - 1, li.start)]
    pts = ctx.layer("pipe_point") if _has_layer(ctx, "pipe_point") else None
    ground = np.full((n, 2), np.nan)
    pdepth = np.full((n, 2), np.nan)
    if pts is not None and len(pts):
        pg = _num(pts["ground_elev"])
        pdp = _num(pts["depth"])
        # both ends in one hash join: start_uid then end_uid
        row = _lookup_rows(pd.concat([seg["start_uid"], seg["end_uid"]], ignore_index=True), pts["uid"])
        row = row.reshape(2, n).T
        hit = row >= 0
        ground[hit] = pg[row[hit]]
        pdepth[hit] = pdp[row[hit]]
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
    names = np.array(["top", "center", "invert"], dtype=object)
    code = np.full(n, -1, dtype=np.int64)
    ref_col = seg["depth_ref"]
    for k, nm in enumerate(names):
        code[_mask(ref_col, nm)] = k
    if (code < 0).any():  # NULL / unknown reference: the default by utility class
        refs = rules.value("general", "default_depth_ref")
        if not isinstance(refs, dict):
            refs = {"default": refs}
        default = np.full(n, -1, dtype=np.int64)
        util = seg["utility"]
        for cls, r in refs.items():
            if cls != "default":
                default[_mask(util, cls) & (default < 0)] = _ref_code(names, r)
        default[default < 0] = _ref_code(names, refs.get("default", "top"))
        code = np.where(code >= 0, code, default)
    ref = names[np.maximum(code, 0)]
    ref[code < 0] = None
    wall = float(rules.value("general", "invert_wall_m"))
    top_off = np.select([code == 0, code == 1, code == 2], [0.0 * height_m, height_m / 2.0, height_m + wall], 0.0)
    cover = depth - top_off[:, None]
    # the outer size grows by the wall on both sides where the depth is to the invert
    height_m = np.where(code == 2, height_m + 2.0 * wall, height_m)
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
    burial = seg["burial"]
    exempt_m = np.zeros(n, bool)
    for x in exempt:
        exempt_m |= _mask(burial, x)
    cols = {
        "width_m": width_m, "height_m": height_m, "acc_h": acc_h, "acc_v": acc_v,
        "depth_ref_used": ref,
        "ground_start": ground[:, 0], "ground_end": ground[:, 1],
        "cover_start": cover[:, 0], "cover_end": cover[:, 1],
        "bottom_start": bottom[:, 0], "bottom_end": bottom[:, 1],
        "depth_known": depth_known, "elev_known": elev_known, "buried": ~exempt_m,
    }
    for c, v in cols.items():
        seg[c] = v
    return PipeModel(seg, rules, line_index=li)


def _ref_code(names, ref):
    hit = np.nonzero(names == ref)[0]
    return int(hit[0]) if len(hit) else -1


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
        # each line's own sum (no difference of a long running sum: exact as GEOS)
        self.length = np.zeros(n)
        if n and len(seglen):
            has = counts > 0
            own = np.append(seglen, 0.0)  # seglen[k]: vertex k to k+1 (0 across lines)
            sums = np.add.reduceat(own, self.start[has])
            # reduceat runs to the next start: drop the edge into the next line (0 already)
            self.length[has] = sums
        # fractions from the running sum, so that the last vertex is exactly 1
        Lc = np.where(counts > 0, cum[np.maximum(self.end - 1, 0)] - cum[self.start], 0.0) \
            if n else np.zeros(0)
        L = Lc[idx] if len(idx) else np.zeros(0)
        self.t = np.where(L > 0, along / np.where(L > 0, L, 1.0), 0.0)
        self.key = idx * 2.0 + self.t  # globally sorted

    def take(self, rows) -> "LineIndex":
        """The LineIndex of lines ``rows`` (no GEOS: the arrays are gathered)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = LineIndex.__new__(LineIndex)
        out.lines = self.lines[rows]
        counts = (self.end - self.start)[rows]
        tot = int(counts.sum())
        src = np.repeat(self.start[rows] - (np.cumsum(counts) - counts), counts) + np.arange(tot)
        out.coords = self.coords[src]
        out.idx = np.repeat(np.arange(len(rows)), counts)
        out.start = (np.cumsum(counts) - counts).astype(np.int64)
        out.end = out.start + counts
        out.length = self.length[rows]
        out.t = self.t[src]
        out.key = out.idx * 2.0 + out.t
        return out

    def point_at(self, line, t):
        """(N x 2) coordinates at fractions t of lines ``line``."""
        line = np.asarray(line, dtype=np.int64)
        t = np.clip(np.asarray(t, float), 0.0, 1.0)
        st = self.start[line]
        bent = (self.end[line] - st) > 2  # a straight line's edge is its first
        if bent.all():
            k = np.searchsorted(self.key, line * 2.0 + t, side="right") - 1
        else:
            k = st.copy()
            if bent.any():
                k[bent] = np.searchsorted(self.key, line[bent] * 2.0 + t[bent], side="right") - 1
        k = np.clip(k, st, np.maximum(self.end[line] - 2, st))
        k1 = np.minimum(k + 1, self.end[line] - 1)
        t0, t1 = self.t[k], self.t[k1]
        dt = t1 - t0
        w = np.where(dt > 0, (t - t0) / np.where(dt > 0, dt, 1.0), 0.0)
        return self.coords[k] + (self.coords[k1] - self.coords[k]) * w[:, None]

    def substrings(self, line, ta, tb):
        """LineStrings from fraction ta to tb of lines ``line`` (ta < tb)."""
        import shapely

        out, counts = self._substring_coords(line, ta, tb)
        if out is None:
            return np.array([], dtype=object)
        return shapely.linestrings(out, indices=np.repeat(np.arange(len(counts)), counts))

    def multi_substrings(self, line, ta, tb, group, n_groups):
        """One MultiLineString per group of the substrings (ta..tb of lines
        ``line``); ``group`` (0..n_groups-1) must be sorted, every group used.
        Built in one go from the coordinates (no intermediate geometries)."""
        import shapely

        out, counts = self._substring_coords(line, ta, tb)
        if out is None:
            return np.array([], dtype=object)
        group = np.asarray(group, dtype=np.int64)
        part_off = np.concatenate([[0], np.cumsum(counts)])
        per = np.bincount(group, minlength=n_groups)
        geom_off = np.concatenate([[0], np.cumsum(per)])
        return shapely.from_ragged_array(shapely.GeometryType.MULTILINESTRING, out,
                                         (part_off.astype(np.int64), geom_off.astype(np.int64)))

    def _substring_coords(self, line, ta, tb):
        line = np.asarray(line, dtype=np.int64)
        ta = np.asarray(ta, float)
        tb = np.asarray(tb, float)
        m = len(line)
        if m == 0:
            return None, None
        pa = self.point_at(line, ta)
        pb = self.point_at(line, tb)
        bent = (self.end[line] - self.start[line]) > 2  # straight lines have no inner vertex
        i0 = np.zeros(m, dtype=np.int64)
        inner = np.zeros(m, dtype=np.int64)
        if bent.any():
            lb = line[bent]
            i0[bent] = np.searchsorted(self.key, lb * 2.0 + ta[bent], side="right")
            i1 = np.searchsorted(self.key, lb * 2.0 + tb[bent], side="left")
            inner[bent] = np.maximum(i1 - i0[bent], 0)
        counts = inner + 2
        offs = np.concatenate([[0], np.cumsum(counts)])
        out = np.empty((offs[-1], 2))
        out[offs[:-1]] = pa
        out[offs[1:] - 1] = pb
        if inner.sum():
            owner = np.repeat(np.arange(m), inner)
            within = np.arange(inner.sum()) - np.repeat(np.cumsum(inner) - inner, inner)
            out[offs[owner] + 1 + within] = self.coords[i0[owner] + within]
        return out, counts


def _edges(coords, idx):
    """Consecutive vertex pairs of the same part: (start index array)."""
    if len(idx) < 2:
        return np.zeros(0, dtype=np.int64)
    return np.nonzero(idx[1:] == idx[:-1])[0]


def line_bounds(li: LineIndex):
    """(lo, hi) corners of the bounding boxes of the lines of a LineIndex."""
    n = len(li.lines)
    lo = np.full((n, 2), np.nan)
    hi = np.full((n, 2), np.nan)
    has = li.end > li.start
    if has.any():
        st = li.start[has]
        for k in (0, 1):
            lo[has, k] = np.minimum.reduceat(li.coords[:, k], st)
            hi[has, k] = np.maximum.reduceat(li.coords[:, k], st)
    return lo, hi


def split_lines_by_polygons(lines, polys, line_index: LineIndex = None, eps=1e-9,
                            chunk: int = 1 << 17):
    """Split lines at the boundaries of the polygons they meet.

    Returns a dict:
      pairs_line, pairs_poly: the intersecting (line, polygon) pairs
      piece_line, piece_ta, piece_tb: pieces of the lines that meet any
        polygon, cut at every boundary crossing (fractions of the length)
      in_pair, in_piece: piece ``in_piece`` lies inside polygon of pair ``in_pair``
    No GEOS tree nor overlay: candidate (line, polygon) pairs from a box join,
    closed-form crossings of line edges with ring edges (a second box join),
    a point-in-polygon test of the first vertex for pairs that never cross
    (a line wholly inside), and one at each piece's middle.
    """
    import shapely

    lines = np.asarray(lines, dtype=object)
    polys = np.asarray(polys, dtype=object)
    li_ = line_index or LineIndex(lines)
    z = np.zeros(0, np.int64)
    empty = dict(pairs_line=z, pairs_poly=z, piece_line=z, piece_ta=np.zeros(0), piece_tb=np.zeros(0),
                 in_pair=z, in_piece=z)
    if len(lines) == 0 or len(polys) == 0:
        return empty
    # -- candidate (line, polygon) pairs by their boxes -------------------------
    llo, lhi = line_bounds(li_)
    b = shapely.bounds(polys)
    good = np.isfinite(b).all(axis=1)
    pidx = np.nonzero(good)[0]
    ok_line = np.nonzero(np.isfinite(llo).all(axis=1))[0]
    cl, cp = [], []
    for i, j in GridJoin(llo[ok_line], lhi[ok_line], b[pidx, :2], b[pidx, 2:]).pairs(1 << 20):
        cl.append(ok_line[i])
        cp.append(pidx[j])
    if not cl:
        return empty
    cl, cp = np.concatenate(cl), np.concatenate(cp)
    n_poly = np.int64(len(polys))
    L = np.unique(cl)
    P = np.unique(cp)

    # -- line edges x ring edges: crossings ---------------------------------------
    e = _edges(li_.coords, li_.idx)
    in_l = np.zeros(len(lines), bool)
    in_l[L] = True
    e = e[in_l[li_.idx[e]]]
    ea, eb = li_.coords[e], li_.coords[e + 1]
    eline = li_.idx[e]
    et0, et1 = li_.t[e], li_.t[e + 1]
    rings, ridx = shapely.get_rings(polys[P], return_index=True)
    rc, rci = shapely.get_coordinates(rings, return_index=True)
    re_ = _edges(rc, rci)
    rpoly = P[ridx[rci[re_]]]
    c, d = rc[re_], rc[re_ + 1]
    ts = [np.zeros(len(L)), np.ones(len(L))]
    tl = [L, L]
    xkey = []  # (line, polygon) pairs that meet at an edge
    if len(e) and len(re_):
        gj = GridJoin(np.minimum(ea, eb), np.maximum(ea, eb), np.minimum(c, d), np.maximum(c, d))
        for ei, qi in gj.pairs(chunk):
            ax, ay = ea[ei, 0], ea[ei, 1]
            rx, ry = eb[ei, 0] - ax, eb[ei, 1] - ay
            cx, cy = c[qi, 0], c[qi, 1]
            qx, qy = d[qi, 0] - cx, d[qi, 1] - cy
            wx, wy = cx - ax, cy - ay
            den = rx * qy - ry * qx
            nz = den != 0
            dd = np.where(nz, den, 1.0)
            s_ = (wx * qy - wy * qx) / dd
            u_ = (wx * ry - wy * rx) / dd
            hit = nz & (s_ >= 0) & (s_ <= 1) & (u_ >= 0) & (u_ <= 1)
            # parallel edges meet when collinear and overlapping
            par = ~nz
            if par.any():
                col = par & (np.abs(wx * ry - wy * rx) <= 1e-12 * (np.abs(wx) + np.abs(wy) + 1.0)
                             * (np.abs(rx) + np.abs(ry) + 1e-300))
                rr = rx * rx + ry * ry
                t0 = np.where(rr > 0, (wx * rx + wy * ry) / np.where(rr > 0, rr, 1.0), 0.0)
                t1 = np.where(rr > 0, ((wx + qx) * rx + (wy + qy) * ry) / np.where(rr > 0, rr, 1.0), 0.0)
                meet = col & (np.maximum(t0, t1) >= 0) & (np.minimum(t0, t1) <= 1)
            else:
                meet = par
            xkey.append(eline[ei[hit | meet]] * n_poly + rpoly[qi[hit | meet]])
            # the split points: proper (non-parallel) crossings, as the old tree query
            ok = nz & (np.abs(den) > 1e-15 * (np.hypot(rx, ry) * np.hypot(qx, qy) + 1e-300))
            ok &= hit
            ek = ei[ok]
            ts.append(et0[ek] + np.clip(s_[ok], 0.0, 1.0) * (et1[ek] - et0[ek]))
            tl.append(eline[ek])
    ckey = cl * n_poly + cp
    crossed = np.zeros(len(ckey), bool)
    if xkey:  # mark the candidate pairs that meet at an edge
        xk = np.concatenate(xkey)
        co = np.argsort(ckey)
        sk = ckey[co]
        at = np.minimum(np.searchsorted(sk, xk), len(sk) - 1)
        found = sk[at] == xk
        crossed[co[at[found]]] = True
    # pairs that never meet at an edge intersect when the line lies inside
    rest = ~crossed
    inside = np.zeros(len(cl), bool)
    if rest.any():
        shapely.prepare(polys[P])
        v = li_.coords[li_.start[cl[rest]]]
        inside[rest] = shapely.contains_xy(polys[cp[rest]], v[:, 0], v[:, 1])
    keep = crossed | inside
    pl, pj = cl[keep], cp[keep]
    if len(pl) == 0:
        return empty
    order = np.lexsort((pj, pl))
    pj, pl = pj[order], pl[order]
    L = np.unique(pl)
    has = np.zeros(len(lines), bool)
    has[L] = True

    tl = np.concatenate(tl)
    ts = np.concatenate(ts)
    sel = has[tl]  # only lines that meet a polygon
    tl, ts = tl[sel], ts[sel]
    o = np.argsort(tl * 2.0 + ts)  # by line, then fraction (as LineIndex.key)
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
    shapely.prepare(polys[np.unique(pj)])
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


# ---------------------------------------------------------------------------
# Box joins by strip sweep (pure numpy): candidate pairs of many small boxes
# without building shapely geometries or a GEOS tree. Each box goes into the
# horizontal strips it spans; within a strip the boxes are sorted by their
# left edge, so the boxes whose x-range can overlap box p's are one
# contiguous run after it (a searchsorted). A pair is kept once: in the strip
# holding the lower edge of the overlap of the two boxes. Exact closed-box
# overlap tests (touching counts) follow.
# ---------------------------------------------------------------------------
def _spread_bits(v):
    v = v.astype(np.uint64) & np.uint64(0x1FFFFF)
    v = (v | (v << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
    v = (v | (v << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
    v = (v | (v << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
    v = (v | (v << np.uint64(2))) & np.uint64(0x1249249249249249)
    return v


def morton(ix, iy):
    """Morton (Z-order) key of non-negative integer cell coordinates (< 2**21)."""
    return (_spread_bits(ix) | (_spread_bits(iy) << np.uint64(1))).astype(np.int64)


def spatial_order(xy):
    """Permutation that sorts points (N x 2) along a Morton curve (locality)."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    if len(xy) < 2:
        return np.arange(len(xy))
    lo = np.nanmin(xy, axis=0)
    span = max(float(np.nanmax(xy - lo)), 1e-9)
    q = np.clip(np.nan_to_num((xy - lo) / span * (2 ** 21 - 1)), 0, 2 ** 21 - 1).astype(np.int64)
    return np.argsort(morton(q[:, 0], q[:, 1]), kind="stable")


class _Strips:
    """Boxes entered into horizontal strips, sorted by (strip, left edge)."""

    def __init__(self, lo, hi, y0, x0, h, S):
        n = len(lo)
        iy0 = np.floor((lo[:, 1] - y0) / h).astype(np.int64)
        iy1 = np.floor((hi[:, 1] - y0) / h).astype(np.int64)
        cnt = iy1 - iy0 + 1
        tot = int(cnt.sum())
        box = np.repeat(np.arange(n), cnt)
        strip = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt - iy0, cnt)
        key = strip * S + (lo[box, 0] - x0)
        o = np.argsort(key)
        self.key, self.box, self.strip = key[o], box[o], strip[o]
        self.base = self.strip * S - x0
        b = self.box
        self.lx, self.ly, self.hx, self.hy = lo[b, 0], lo[b, 1], hi[b, 0], hi[b, 1]
        self.iy = iy0[b]

    def __len__(self):
        return len(self.box)

    def find(self, base, x, side):
        """Positions in the sorted keys of (strip base + x), widened a hair."""
        k = base + x
        tol = np.abs(k) * 1e-12 + 1e-9
        return np.searchsorted(self.key, k - tol if side == "left" else k + tol, side=side)


def _runs(start, count, chunk):
    """Split entries into runs whose summed counts stay near ``chunk``:
    yields (entry positions repeated, offset within each entry's range)."""
    cum = np.cumsum(count)
    m = len(count)
    s = 0
    while s < m:
        base = int(cum[s - 1]) if s else 0
        e = max(int(np.searchsorted(cum, base + chunk, side="right")), s + 1)
        c = count[s:e]
        tot = int(c.sum())
        if tot:
            ent = np.repeat(np.arange(s, e), c)
            oth = np.arange(tot) + np.repeat(start[s:e] - (np.cumsum(c) - c), c)
            yield ent, oth
        s = e


def _near_boxes(lo, hi, lo2, hi2, max_cells=1_000_000):
    """Which boxes (lo, hi) may overlap some box (lo2, hi2): a coarse grid
    marks the cells the second set covers; a summed-area table answers each
    box of the first set in O(1). Conservative (never drops an overlap)."""
    ok2 = np.isfinite(lo2).all(axis=1) & np.isfinite(hi2).all(axis=1)
    lo2, hi2 = lo2[ok2], hi2[ok2]
    out = np.zeros(len(lo), bool)
    if len(lo2) == 0:
        return out
    g0 = lo2.min(axis=0)
    span = np.maximum(hi2.max(axis=0) - g0, 1e-9)
    # cells about half the smaller side of the typical box: fine enough to
    # tell near from far, coarse enough to stay within max_cells
    cs = max(float(np.median(np.min(hi2 - lo2, axis=1))) / 2.0,
             float(np.sqrt(span[0] * span[1] / max_cells)), float(span.max()) / 4000.0, 1e-9)
    nx, ny = int(span[0] // cs) + 1, int(span[1] // cs) + 1
    a0 = np.floor((lo2 - g0) / cs).astype(np.int64)
    a1 = np.floor((hi2 - g0) / cs).astype(np.int64)
    a0 = np.clip(a0, 0, [nx - 1, ny - 1])
    a1 = np.clip(a1, 0, [nx - 1, ny - 1])
    D = np.zeros((nx + 1, ny + 1), np.int32)
    np.add.at(D, (a0[:, 0], a0[:, 1]), 1)
    np.add.at(D, (a0[:, 0], a1[:, 1] + 1), -1)
    np.add.at(D, (a1[:, 0] + 1, a0[:, 1]), -1)
    np.add.at(D, (a1[:, 0] + 1, a1[:, 1] + 1), 1)
    occ = (np.cumsum(np.cumsum(D, axis=0), axis=1)[:nx, :ny] > 0).astype(np.int32)
    S = np.zeros((nx + 1, ny + 1), np.int32)
    S[1:, 1:] = np.cumsum(np.cumsum(occ, axis=0), axis=1)
    fin = np.isfinite(lo).all(axis=1) & np.isfinite(hi).all(axis=1)
    b0 = np.floor((lo - g0) / cs)
    b1 = np.floor((hi - g0) / cs)
    fin &= (b1[:, 0] >= 0) & (b1[:, 1] >= 0) & (b0[:, 0] <= nx - 1) & (b0[:, 1] <= ny - 1)
    i0 = np.clip(np.nan_to_num(b0[:, 0]), 0, nx - 1).astype(np.int64)
    j0 = np.clip(np.nan_to_num(b0[:, 1]), 0, ny - 1).astype(np.int64)
    i1 = np.clip(np.nan_to_num(b1[:, 0]), 0, nx - 1).astype(np.int64) + 1
    j1 = np.clip(np.nan_to_num(b1[:, 1]), 0, ny - 1).astype(np.int64) + 1
    cnt = S[i1, j1] - S[i0, j1] - S[i1, j0] + S[i0, j0]
    return fin & (cnt > 0)


class GridJoin:
    """Pairs of overlapping boxes (closed boxes: touching counts).

    ``GridJoin(lo, hi)`` joins one set with itself (pairs i < j, each once, in
    either order); ``GridJoin(lo, hi, lo2, hi2)`` joins set 1 with set 2
    (pairs (i, j), i in set 1, j in set 2). ``pairs(chunk)`` yields (i, j)
    arrays of at most about ``chunk`` candidate pairs at a time (exact box
    overlap tested). lo, hi: (N x 2) arrays of lower-left / upper-right corners.
    """

    def __init__(self, lo, hi, lo2=None, hi2=None, cell=None):
        lo = np.asarray(lo, float).reshape(-1, 2)
        hi = np.asarray(hi, float).reshape(-1, 2)
        self.bipartite = lo2 is not None
        sets = [(lo, hi)]
        self.keep = [None, None]  # rows of each set that take part (None: all)
        if self.bipartite:
            sets.append((np.asarray(lo2, float).reshape(-1, 2), np.asarray(hi2, float).reshape(-1, 2)))
        self.empty = any(len(l) == 0 for l, _ in sets)
        if self.empty:
            return
        if self.bipartite:
            # many boxes against few: first drop the many that lie far from all the few
            big = 0 if len(sets[0][0]) > len(sets[1][0]) else 1
            if len(sets[big][0]) > 8 * len(sets[1 - big][0]):
                rows = np.nonzero(_near_boxes(*sets[big], *sets[1 - big]))[0]
                self.keep[big] = rows
                sets[big] = (sets[big][0][rows], sets[big][1][rows])
                if len(rows) == 0:
                    self.empty = True
                    return
        alo = np.concatenate([l for l, _ in sets])
        ahi = np.concatenate([h for _, h in sets])
        y0, x0 = float(alo[:, 1].min()), float(alo[:, 0].min())
        S = float(ahi[:, 0].max() - x0) * 1.5 + 1.0  # strips do not mix in the keys
        span = float(ahi[:, 1].max() - y0)
        if cell is None:
            cell = 2.0 * max(float(np.median(h[:, 1] - l[:, 1])) for l, h in sets)
        h = max(cell, span / 1e6, 1e-6)
        while True:  # a few very tall boxes must not flood the strips
            cnt = sum(int((np.floor((hh[:, 1] - y0) / h) - np.floor((ll[:, 1] - y0) / h) + 1).sum())
                      for ll, hh in sets)
            if cnt <= 6 * len(alo) + 1024:
                break
            h *= 1.5
        self.strips = [_Strips(l, hh, y0, x0, h, S) for l, hh in sets]

    def pairs(self, chunk: int = 1 << 17):
        k1, k2 = self.keep
        for a, b in self._pairs(chunk):
            yield (a if k1 is None else k1[a]), (b if k2 is None else k2[b])

    def _pairs(self, chunk):
        if self.empty:
            return
        if not self.bipartite:
            A = self.strips[0]
            end = A.find(A.base, A.hx, "right")
            start = np.arange(len(A)) + 1
            yield from self._emit(A, A, start, np.maximum(end - start, 0), chunk, False)
        else:
            A, B = self.strips
            # x-ranges overlap iff lx_b in [lx_a, hx_a] or lx_a in (lx_b, hx_b]
            s = B.find(A.base, A.lx, "left")
            e = B.find(A.base, A.hx, "right")
            yield from self._emit(A, B, s, np.maximum(e - s, 0), chunk, False)
            s = A.find(B.base, B.lx, "left")
            e = A.find(B.base, B.hx, "right")
            yield from self._emit(B, A, s, np.maximum(e - s, 0), chunk, True)

    @staticmethod
    def _emit(P, Q, start, count, chunk, swapped):
        for p, q in _runs(start, count, chunk):
            ok = P.strip[p] == Q.strip[q]
            ok &= (P.lx[p] <= Q.hx[q]) & (Q.lx[q] <= P.hx[p])
            ok &= (P.ly[p] <= Q.hy[q]) & (Q.ly[q] <= P.hy[p])
            ok &= np.maximum(P.iy[p], Q.iy[q]) == P.strip[p]
            if P is not Q:
                # each overlapping pair from exactly one side
                ok &= (P.lx[p] < Q.lx[q]) if swapped else (P.lx[p] <= Q.lx[q])
            a, b = P.box[p[ok]], Q.box[q[ok]]
            if len(a):
                yield (b, a) if swapped else (a, b)
