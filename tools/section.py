"""Cross-sections (横断面): what a line drawn across a street cuts below ground.

``cross_section(project_or_frames, line, dem=None, rules=None)`` returns a
``CrossSection``:

* ``ground``: the ground line along the section (offset, elevation). Where a
  DEM is given (argument, or the context's) it is sampled with rasterio every
  ``section.ground_step_m`` (tools/sections.yaml) and ``ground_source`` is
  ``"dem"``; without a DEM (or where it has no data) the ground is the linear
  interpolation between the pipes' own ground at their cuts, which the pipe
  model takes from the ``ground_elev`` of the pipe points at the segment ends
  (``"pipe_point"``; ``"dem+pipe_point"`` when both were needed). When no
  ground is known at all the section is drawn relative to the ground
  (``relative``: the ground is 0 and elevations are minus depths).
* ``pipes``: one row per cut, in offset order: the segment's uid, class,
  offset along the section (m from its start), the plan point of the cut, the
  ground, outer top, outer bottom and centre elevation there (the engine's pipe
  model, tools/engine/pipes.py, so depth references, point depths and the DEM
  are handled exactly as the checks handle them), its size (``shape`` circle
  or box, ``width_m`` x ``height_m``, ``span_m`` its width along an oblique
  section), the cover (depth of the outer top) at the cut, the class colour
  (layers/model.yaml ``colours``) and labels (class, size, depth) in Chinese
  and English.
* ``clearances``: between neighbours. Pipes side by side (their spans along
  the section do not overlap): the horizontal wall-to-wall distance in plan
  (as horizontal_clearance measures it) against the horizontal_clearance
  table; pipes one over the other (spans overlap): the gap between the upper
  one's outer bottom and the lower one's outer top against the
  vertical_clearance table (tools/rules.yaml). ``breach`` = measured <
  required; ``certainty`` as the checks give it (survey uncertainty; '' when
  the pair is clear even with it).
  Pipes that share a point (start_uid/end_uid) are connections, not compared.

``project_or_frames``: a GeoPackage path, a CheckContext, or a dict of
GeoDataFrames ({"pipe_segment": ..., "pipe_point": ...}).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..layers.errors import InputError

SETTINGS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sections.yaml")
H_RULE = "horizontal_clearance"
V_RULE = "vertical_clearance"

_SETTINGS = {}


def load_settings(path: str = None) -> dict:
    """tools/sections.yaml (or ``path``) as a dict, read once per path."""
    path = os.path.abspath(path or SETTINGS_PATH)
    if path not in _SETTINGS:
        import yaml

        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except FileNotFoundError:
            raise InputError("settings file not found", file=path) from None
        except yaml.YAMLError:
            raise InputError("not valid YAML", file=path) from None
        if not isinstance(doc, dict) or not {"section", "profile", "plot"} <= set(doc):
            raise InputError("needs the sections section, profile and plot", file=path)
        _SETTINGS[path] = doc
    return _SETTINGS[path]


# ---------------------------------------------------------------------------
# the context: a project, a CheckContext or plain frames
# ---------------------------------------------------------------------------
class FrameContext:
    """What prepare_pipes needs, over GeoDataFrames held in memory."""

    def __init__(self, frames: dict, rules, dem=None):
        self.frames = frames
        self.rules = rules
        self.dem = dem
        self.project = "<frames>"
        self._cache = {}
        self._pipes = None

    def layer(self, name):
        if name in self._cache:
            return self._cache[name]
        if name not in self.frames or self.frames[name] is None:
            raise InputError("layer is missing", layer=name)
        df = self.frames[name]
        if "status" in df.columns:
            df = df.loc[df["status"].astype(object) != "abandoned"]
        df = df.reset_index(drop=True)
        self._cache[name] = df
        return df

    @property
    def pipes(self):
        if self._pipes is None:
            from .engine.pipes import prepare_pipes

            self._pipes = prepare_pipes(self)
        return self._pipes


def make_context(project_or_frames, dem=None, rules=None):
    """A context over a project path, an existing CheckContext or frames."""
    from .engine.context import CheckContext
    from .ruleset import load_rules

    if isinstance(project_or_frames, (CheckContext, FrameContext)):
        if dem and not project_or_frames.dem:
            project_or_frames.dem = dem
            project_or_frames._pipes = None
        return project_or_frames
    if rules is None or isinstance(rules, str):
        rules = load_rules(rules)
    if isinstance(project_or_frames, dict):
        return FrameContext(project_or_frames, rules, dem=dem)
    return CheckContext(str(project_or_frames), rules, dem=dem)


def as_line(line):
    """A shapely LineString from a LineString or a sequence of (x, y)."""
    import shapely
    from shapely.geometry import LineString

    if isinstance(line, LineString):
        geom = line
    else:
        try:
            geom = LineString([tuple(map(float, p[:2])) for p in line])
        except (TypeError, ValueError):
            raise InputError("a section line needs at least two (x, y) points") from None
    if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        raise InputError("the section line has no valid coordinates")
    if geom.length <= 0:
        raise InputError("the section line has zero length")
    return geom


# ---------------------------------------------------------------------------
# labels and colours
# ---------------------------------------------------------------------------
def class_colour(utility) -> str:
    """The CJJ 61 colour of a utility class as #rrggbb (grey when unknown)."""
    from ..layers import schema

    rgb = schema.model().colours.get(str(utility))
    if rgb is None:
        return "#808080"
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def class_label(utility, lang="zh") -> str:
    from ..layers import schema

    try:
        return schema.model().domain("utility").label(str(utility), lang) or str(utility)
    except Exception:  # an unknown class: its code
        return str(utility)


def size_text(diameter_mm, width_mm, height_mm) -> str:
    """DN300 for a round pipe, 500×300 for a box (mm); '' when unknown."""
    def ok(v):
        return v is not None and np.isfinite(v) and v > 0

    if ok(width_mm) and ok(height_mm):
        return f"{width_mm:.0f}×{height_mm:.0f}"
    if ok(diameter_mm):
        return f"DN{diameter_mm:.0f}"
    return ""


def pipe_labels(utility, size, cover, lang):
    """Class, size and depth (cover to the outer top) as one two-line label."""
    cls = class_label(utility, lang)
    head = f"{cls} {size}".strip()
    if cover is None or not np.isfinite(cover):
        depth = "埋深未知" if lang == "zh" else "depth unknown"
    else:
        depth = f"埋深 {cover:.2f} m" if lang == "zh" else f"depth {cover:.2f} m"
    return f"{head}\n{depth}"


# ---------------------------------------------------------------------------
# the cross-section
# ---------------------------------------------------------------------------
@dataclass
class CrossSection:
    line: object
    length: float
    ground: object          # DataFrame offset, elev
    ground_source: str      # dem | pipe_point | dem+pipe_point | none
    relative: bool          # no ground known: elevations are minus depths
    pipes: object           # DataFrame, one row per cut, by offset
    clearances: object      # DataFrame, one row per neighbour pair
    notes: list = field(default_factory=list)

    @property
    def breaches(self):
        c = self.clearances
        return c.loc[c["breach"]] if len(c) else c


def _num(frame, col):
    import pandas as pd

    return pd.to_numeric(frame[col], errors="coerce").to_numpy(float)


def _cuts(pm, line, same_cut):
    """(segment index, cut points (N x 2)) of the pipes that the line meets."""
    import shapely

    if len(pm) == 0:
        return np.zeros(0, np.int64), np.zeros((0, 2))
    tree = shapely.STRtree(pm.geoms)
    cand = tree.query(line, predicate="intersects")
    if len(cand) == 0:
        return np.zeros(0, np.int64), np.zeros((0, 2))
    inter = shapely.intersection(pm.geoms[cand], line)
    parts, owner = shapely.get_parts(inter, return_index=True)
    seg = cand[owner]
    is_point = shapely.get_type_id(parts) == 0
    # a stretch along the section (collinear): its middle
    mids = shapely.line_interpolate_point(np.where(is_point, None, parts), 0.5, normalized=True)
    pts = np.where(is_point, parts, mids)
    keep = ~shapely.is_empty(pts) & ~shapely.is_missing(pts)
    return seg[keep], shapely.get_coordinates(pts[keep])


def _direction(pm, seg, t):
    """Unit direction of segments ``seg`` at fractions ``t`` (N x 2)."""
    li = pm.line_index
    L = np.maximum(pm.length[seg], 1e-9)
    d = np.minimum(0.01 / L, 0.5)
    a = li.point_at(seg, np.clip(t - d, 0, 1))
    b = li.point_at(seg, np.clip(t + d, 0, 1))
    v = b - a
    n = np.hypot(v[:, 0], v[:, 1])
    return v / np.where(n > 0, n, 1.0)[:, None]


def _line_direction(line, offsets):
    import shapely

    L = line.length
    d = min(0.01, L / 2)
    a = shapely.get_coordinates(shapely.line_interpolate_point(line, np.clip(offsets - d, 0, L)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(line, np.clip(offsets + d, 0, L)))
    v = b - a
    n = np.hypot(v[:, 0], v[:, 1])
    return v / np.where(n > 0, n, 1.0)[:, None]


def _shares_point(f, ia, ib):
    s = f["start_uid"].astype(object).to_numpy()
    e = f["end_uid"].astype(object).to_numpy()

    def known(x):
        return np.array([v is not None and v == v and str(v) != "" for v in x], dtype=bool)

    out = np.zeros(len(ia), dtype=bool)
    for xa in (s, e):
        for xb in (s, e):
            a, b = xa[ia], xb[ib]
            out |= known(a) & known(b) & (a == b)
    return out


def cross_section(project_or_frames, line, dem=None, rules=None, settings=None) -> CrossSection:
    """The cross-section of the pipes along ``line`` (see the module doc)."""
    import pandas as pd
    import shapely

    from .engine.pipes import sample_dem

    cfg = (settings or load_settings())["section"]
    line = as_line(line)
    if line.length > float(cfg["max_length_m"]):
        raise InputError(f"the section line is {line.length:.0f} m long; a cross-section spans at most "
                         f"{float(cfg['max_length_m']):.0f} m (tools/sections.yaml section.max_length_m)")
    ctx = make_context(project_or_frames, dem=dem, rules=rules)
    rules = ctx.rules
    dem = dem or getattr(ctx, "dem", None)
    pm = ctx.pipes
    f = pm.frame
    seg, xy = _cuts(pm, line, float(cfg["same_cut_m"]))
    if len(seg) == 0:
        raise InputError("the section line cuts no pipe")
    pts = shapely.points(xy)
    offset = shapely.line_locate_point(line, pts)
    order = np.lexsort((seg, offset))
    seg, xy, offset = seg[order], xy[order], offset[order]
    # the same run cut at a joint (two segments sharing the point): keep one
    if len(seg) > 1:
        close = np.diff(offset) <= float(cfg["same_cut_m"])
        joint = np.zeros(len(seg), bool)
        if close.any():
            i = np.nonzero(close)[0]
            joint[i + 1] = _shares_point(f, seg[i], seg[i + 1]) & \
                (f["utility"].to_numpy(dtype=object)[seg[i]] == f["utility"].to_numpy(dtype=object)[seg[i + 1]])
        seg, xy, offset = seg[~joint], xy[~joint], offset[~joint]

    t = pm.fraction(seg, xy)
    ground_pipe = pm.ground_at_t(seg, t)
    cover = pm.cover_at_t(seg, t)
    height = f["height_m"].to_numpy(float)[seg]
    width = f["width_m"].to_numpy(float)[seg]

    # -- the ground line ------------------------------------------------------
    n_steps = max(int(np.ceil(line.length / float(cfg["ground_step_m"]))), 1)
    g_off = np.linspace(0.0, line.length, n_steps + 1)
    g_xy = shapely.get_coordinates(shapely.line_interpolate_point(line, g_off))
    g_elev = np.full(len(g_off), np.nan)
    sources = []
    if dem:
        g_elev = sample_dem(dem, g_xy[:, 0], g_xy[:, 1], crs=getattr(f, "crs", None))
        if np.isfinite(g_elev).any():
            sources.append("dem")
    known = np.isfinite(ground_pipe)
    if (~np.isfinite(g_elev)).any() and known.any():
        fill = np.interp(g_off, offset[known], ground_pipe[known])
        g_elev = np.where(np.isfinite(g_elev), g_elev, fill)
        sources.append("pipe_point")
    relative = not np.isfinite(g_elev).any()
    if relative:
        g_elev = np.zeros(len(g_off))
        ground_pipe = np.zeros(len(seg))
        elev_from = np.full(len(seg), "depth", dtype=object)
    else:
        if (~np.isfinite(g_elev)).any():  # gaps in the DEM at the ends: nearest known
            ok = np.isfinite(g_elev)
            g_elev = np.interp(g_off, g_off[ok], g_elev[ok])
        elev_from = np.where(known, "pipe", "section ground").astype(object)
        ground_pipe = np.where(known, ground_pipe, np.interp(offset, g_off, g_elev))
    top = ground_pipe - cover
    bottom = top - height
    centre = top - height / 2.0

    # -- shape and span along the section ---------------------------------------
    d_pipe = _direction(pm, seg, t)
    d_line = _line_direction(line, offset)
    sin = np.abs(d_pipe[:, 0] * d_line[:, 1] - d_pipe[:, 1] * d_line[:, 0])
    angle = np.degrees(np.arcsin(np.clip(sin, 0, 1)))
    factor = np.minimum(1.0 / np.maximum(sin, 1e-9), float(cfg["max_oblique_factor"]))
    span = width * factor
    dia = _num(f, "diameter_mm")[seg]
    wmm = _num(f, "width_mm")[seg]
    hmm = _num(f, "height_mm")[seg]
    is_box = np.isfinite(wmm) & (wmm > 0) & np.isfinite(hmm) & (hmm > 0)
    util = f["utility"].to_numpy(dtype=object)[seg]
    sizes = [size_text(a, b, c) for a, b, c in zip(dia, wmm, hmm)]

    pipes = pd.DataFrame({
        "uid": f["uid"].to_numpy(dtype=object)[seg],
        "seg_index": seg,
        "utility": util,
        "subclass": f["subclass"].to_numpy(dtype=object)[seg] if "subclass" in f else None,
        "status": f["status"].to_numpy(dtype=object)[seg] if "status" in f else None,
        "offset": offset,
        "x": xy[:, 0], "y": xy[:, 1],
        "t": t,
        "ground": ground_pipe,
        "cover": cover,
        "top": top, "bottom": bottom, "centre": centre,
        "elev_from": elev_from,
        "width_m": width, "height_m": height, "span_m": span, "angle_deg": angle,
        "shape": np.where(is_box, "box", "circle"),
        "size": sizes,
        "colour": [class_colour(u) for u in util],
        "acc_h": f["acc_h"].to_numpy(float)[seg],
        "acc_v": f["acc_v"].to_numpy(float)[seg],
        "depth_known": np.isfinite(cover),
    })
    pipes["label_zh"] = [pipe_labels(u, s, c, "zh") for u, s, c in zip(util, sizes, cover)]
    pipes["label_en"] = [pipe_labels(u, s, c, "en") for u, s, c in zip(util, sizes, cover)]

    clear = _clearances(pm, rules, pipes, pts_of(pipes))
    notes = []
    if (~pipes["depth_known"]).any():
        notes.append("depth unknown: " + ", ".join(pipes.loc[~pipes["depth_known"], "uid"].astype(str)))
    ground = pd.DataFrame({"offset": g_off, "elev": g_elev, "x": g_xy[:, 0], "y": g_xy[:, 1]})
    return CrossSection(line=line, length=float(line.length), ground=ground,
                        ground_source="+".join(sources) if sources else "none", relative=relative,
                        pipes=pipes.reset_index(drop=True), clearances=clear, notes=notes)


def pts_of(pipes):
    import shapely

    return shapely.points(pipes[["x", "y"]].to_numpy(float))


CLEARANCE_COLUMNS = ["kind", "rule_id", "uid_a", "uid_b", "i", "j", "measured", "required", "source",
                     "breach", "certainty", "x0", "x1", "y0", "y1"]


def _clearances(pm, rules, pipes, pts):
    """Horizontal clearances between side-by-side neighbours and vertical
    clearances between pipes one over the other (see the module doc)."""
    import pandas as pd
    import shapely

    from .engine.findings import classify_min
    from .engine.rule_pipe_pairs import _required

    f = pm.frame
    n = len(pipes)
    if n < 2:
        return pd.DataFrame(columns=CLEARANCE_COLUMNS)
    off = pipes["offset"].to_numpy(float)
    span = pipes["span_m"].to_numpy(float)
    seg = pipes["seg_index"].to_numpy(np.int64)
    ii, jj = np.triu_indices(n, k=1)
    overlap = np.abs(off[jj] - off[ii]) < (span[ii] + span[jj]) / 2.0 - 1e-9
    connected = _shares_point(f, seg[ii], seg[jj])

    # vertical: every pair one over the other
    vi, vj = ii[overlap & ~connected], jj[overlap & ~connected]
    # horizontal: neighbours in offset order that do not overlap
    hi = np.arange(n - 1)
    hj = hi + 1
    ok = ~(np.abs(off[hj] - off[hi]) < (span[hi] + span[hj]) / 2.0 - 1e-9) & \
        ~_shares_point(f, seg[hi], seg[hj])
    hi, hj = hi[ok], hj[ok]

    out = []
    if len(hi):
        d = np.minimum(shapely.distance(pts[hi], pm.geoms[seg[hj]]),
                       shapely.distance(pts[hj], pm.geoms[seg[hi]]))
        w = pipes["width_m"].to_numpy(float)
        meas = d - w[hi] / 2.0 - w[hj] / 2.0
        req, cite = _required(rules, H_RULE, f, seg[hi], seg[hj])
        acc = pipes["acc_h"].to_numpy(float)
        hit, cert = classify_min(meas, req, acc[hi] + acc[hj])
        cert = np.where(hit, cert, "")
        # the dimension line: between the walls along the section, at mid height
        cen = pipes["centre"].to_numpy(float)
        out.append(pd.DataFrame({
            "kind": "horizontal", "rule_id": H_RULE,
            "uid_a": pipes["uid"].to_numpy(dtype=object)[hi], "uid_b": pipes["uid"].to_numpy(dtype=object)[hj],
            "i": hi, "j": hj, "measured": meas, "required": req, "source": cite,
            "breach": np.isfinite(req) & (meas < req - 1e-9), "certainty": cert,
            "x0": off[hi] + span[hi] / 2.0, "x1": off[hj] - span[hj] / 2.0,
            "y0": cen[hi], "y1": cen[hj]}))
    if len(vi):
        top = pipes["top"].to_numpy(float)
        bot = pipes["bottom"].to_numpy(float)
        cen = pipes["centre"].to_numpy(float)
        upper_i = cen[vi] >= cen[vj]
        up = np.where(upper_i, vi, vj)
        lo = np.where(upper_i, vj, vi)
        meas = bot[up] - top[lo]
        req, cite = _required(rules, V_RULE, f, seg[up], seg[lo])
        acc = pipes["acc_v"].to_numpy(float)
        hit, cert = classify_min(meas, req, acc[up] + acc[lo])
        cert = np.where(hit, cert, "")
        xm = (off[up] + off[lo]) / 2.0
        out.append(pd.DataFrame({
            "kind": "vertical", "rule_id": V_RULE,
            "uid_a": pipes["uid"].to_numpy(dtype=object)[up], "uid_b": pipes["uid"].to_numpy(dtype=object)[lo],
            "i": up, "j": lo, "measured": meas, "required": req, "source": cite,
            "breach": np.isfinite(req) & np.isfinite(meas) & (meas < req - 1e-9), "certainty": cert,
            "x0": xm, "x1": xm, "y0": bot[up], "y1": top[lo]}))
    if not out:
        return pd.DataFrame(columns=CLEARANCE_COLUMNS)
    res = pd.concat(out, ignore_index=True)[CLEARANCE_COLUMNS]
    res["breach"] = res["breach"].astype(bool)
    return res
