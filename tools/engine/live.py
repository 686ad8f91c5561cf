"""Checks while drawing: the rules that involve one edited feature, for that
feature alone (issue 5, item 5).

``check_feature(project, layer_name, feature)`` builds a check context whose
layer ``layer_name`` holds only the edited feature (it replaces a feature with
the same uid in the file) and whose other layers are the project's features
near it (a bounding box grown by the largest distance of the rules that run,
plus a margin). It runs every rule whose registry layers include
``layer_name`` and whose findings can name that layer, and keeps the findings
that involve the feature. The result is the same frame as ``run_checks``
gives (conflict_id, message_zh/en, rule_profile included), restricted to the
feature: the same findings a full run would give for it once it is saved.

Two cases need more than the feature itself in its own layer:

* same-layer rules (pipe to pipe clearances): the feature is merged into its
  neighbours (the file's copy of it taken out);
* ``fire_lane_width`` when an obstacle (stall, tree, building) is edited: the
  lanes it touches are checked with all their obstacles, the edited one in
  its new place, and the findings of those lanes are kept.

Reads go through a ``LiveCache`` (one per open project): windows of each layer
read once with a bbox and kept until the file (or its -wal) changes, so
repeated checks while drawing do not re-read the GeoPackage. No Qt here.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np

from ...layers import io, schema
from .context import CheckContext
from .findings import FINDING_COLUMNS, conflict_id, empty_findings
from .registry import RULES, rule_function

#: Layers a rule's findings can name (rules.md, columns a and b). A rule runs
#: for an edited layer only if its findings can name that layer.
FINDING_LAYERS = {
    "pipe_under_road": ("pipe_segment", "planned_road"),
    "crossing_angle": ("pipe_segment", "planned_road"),
    "cover_depth": ("pipe_segment", "planned_road"),
    "depth_unknown": ("pipe_segment",),
    "horizontal_clearance": ("pipe_segment",),
    "vertical_clearance": ("pipe_segment",),
    "tree_pipe_clearance": ("tree", "pipe_segment"),
    "stall_over_structure": ("parking_stall", "pipe_point"),
    "fire_lane_obstruction": ("parking_stall", "tree", "building", "fire_lane"),
    "fire_lane_width": ("fire_lane",),
    "works_over_pipes": ("renovation_work", "pipe_segment"),
    "building_clearance": ("pipe_segment", "building"),
}
#: Rules comparing a layer with itself: the edited feature joins its neighbours.
SAME_LAYER = {"horizontal_clearance": "pipe_segment", "vertical_clearance": "pipe_segment"}
#: Rules whose finding on a lane depends on every obstacle in it.
LANE_WIDTH = "fire_lane_width"
LANE = "fire_lane"
#: Pair-table keys of rules.yaml (lists of entries with a ``value`` in metres).
_TABLE_KEYS = ("pairs", "tree", "shrub")


def relevant_rules(layer_name: str, rules=None):
    """Rule ids that can give a finding involving a feature of ``layer_name``."""
    ids = list(RULES) if rules is None else list(rules)
    out = []
    for rid in ids:
        reads = RULES[rid][2]
        if layer_name not in reads:
            continue
        if layer_name in FINDING_LAYERS.get(rid, reads) or (rid == LANE_WIDTH and layer_name in reads):
            out.append(rid)
    return out


def search_radius(ruleset, rule_ids, margin_m: float = 5.0) -> float:
    """Largest distance (m) the rules ``rule_ids`` compare features over, plus
    ``margin_m`` (pipe half-widths, survey uncertainty, cover sizes): every
    feature that can pair with the edited one lies within it."""
    best = 0.0

    def nums(x):
        if isinstance(x, bool):
            return []
        if isinstance(x, (int, float)):
            return [float(x)]
        if isinstance(x, (list, tuple)):
            return [v for y in x for v in nums(y)]
        if isinstance(x, dict):
            return [v for y in x.values() for v in nums(y)]
        return []

    for rid in rule_ids:
        section = ruleset.doc.get(rid, {})
        for key, node in section.items():
            if key in _TABLE_KEYS and isinstance(node, list):
                best = max([best] + [float(e["value"]) for e in node if "value" in e])
            elif key.endswith("_m") and isinstance(node, dict) and "value" in node:
                best = max([best] + nums(node["value"]))
    return best + float(margin_m)


# ---------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------
def _stamp(project: str):
    out = []
    for p in (project, project + "-wal"):
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class LiveCache:
    """Layers of one project read in windows and kept while the file is unchanged.

    Keyed by the project path and the mtime/size of the file and its -wal: a
    save (by QGIS or anyone) drops everything. ``window_m``: how far beyond the
    asked box a window is read, so that drawing nearby hits the cache.
    """

    def __init__(self, window_m: float = 300.0, max_windows: int = 16):
        self.window_m = float(window_m)
        self.max_windows = int(max_windows)
        self._key = None
        self._windows = {}       # layer -> OrderedDict[(x0, y0, x1, y1)] = frame
        self._rules = {}
        self._crs = None
        self._empty = {}
        self.reads = 0           # GeoPackage reads done (for tests and the bench)
        self._lock = threading.RLock()

    def _check(self, project):
        key = (os.path.abspath(project), _stamp(project))
        if key != self._key:
            self._key = key
            self._windows = {}
            self._crs = None
            self._empty = {}

    def rules(self, rules_path=None):
        from ..ruleset import load_rules

        with self._lock:
            if rules_path not in self._rules:
                self._rules[rules_path] = load_rules(rules_path)
            return self._rules[rules_path]

    def crs(self, project):
        with self._lock:
            self._check(project)
            if self._crs is None:
                from pyproj import CRS

                crs = io.project_crs(project)
                self._crs = CRS.from_user_input(crs) if crs else None
            return self._crs

    def empty(self, name):
        """An empty frame of layer ``name`` (shared: rules do not change their inputs)."""
        with self._lock:
            if name not in self._empty:
                self._empty[name] = io.empty_frame(name, crs=self._crs)
            return self._empty[name]

    def layer(self, project: str, name: str, bbox):
        """Active features of ``name`` whose geometry meets the box ``bbox``
        (x0, y0, x1, y1), with a RangeIndex."""
        from shapely import box

        with self._lock:
            self._check(project)
            wins = self._windows.setdefault(name, OrderedDict())
            frame = None
            for wb, f in wins.items():
                if wb[0] <= bbox[0] and wb[1] <= bbox[1] and wb[2] >= bbox[2] and wb[3] >= bbox[3]:
                    frame = f
                    wins.move_to_end(wb)
                    break
            if frame is None:
                w = self.window_m
                wb = (bbox[0] - w, bbox[1] - w, bbox[2] + w, bbox[3] + w)
                frame = _read(project, name, wb)
                self.reads += 1
                wins[wb] = frame
                while len(wins) > self.max_windows:
                    wins.popitem(last=False)
        if len(frame) == 0:
            return frame
        hits = frame.sindex.query(box(*bbox), predicate="intersects")
        return frame.iloc[np.sort(hits)].reset_index(drop=True)


def _read(project, name, bbox):
    from ...layers.errors import InputError

    try:
        df = io.read_layer(project, name, bbox=tuple(bbox), active_only=True)
    except InputError:
        return io.empty_frame(name)
    if len(df):
        ok = df.geometry.notna() & ~df.geometry.is_empty
        df = df.loc[ok].reset_index(drop=True)
        df.sindex  # build once, reused by every query of this window
    return df


# ---------------------------------------------------------------------------
# the edited feature as a frame
# ---------------------------------------------------------------------------
def feature_frame(layer_name: str, feature: dict, crs=None):
    """One-row GeoDataFrame of ``feature`` (model fields + ``geometry``) with
    every model column: missing fields get the model default (else NULL),
    numbers are floats, as the rules read them."""
    import geopandas as gpd
    import pandas as pd

    lyr = schema.model().layer(layer_name)
    geom = feature.get("geometry", feature.get("geom"))
    data = {}
    for f in lyr.fields:
        v = feature.get(f.name)
        if _is_null(v):
            v = f.default
        if f.type in ("real", "integer"):
            data[f.name] = np.array([np.nan if _is_null(v) else float(v)], dtype=float)
        else:
            a = np.empty(1, dtype=object)
            a[0] = v
            data[f.name] = a
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=gpd.GeoSeries([geom], crs=crs), crs=crs)


def _is_null(v):
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN
    except Exception:
        return False


def _merge(neighbours, feat, uid):
    import geopandas as gpd
    import pandas as pd

    rest = neighbours.loc[neighbours["uid"].astype(object) != uid] if len(neighbours) else neighbours
    if len(rest) == 0:
        return feat.reset_index(drop=True)
    feat = feat.set_crs(rest.crs, allow_override=True) if rest.crs is not None else feat
    out = pd.concat([rest, feat[[c for c in rest.columns if c in feat.columns]]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=rest.crs)


class LiveContext(CheckContext):
    """A CheckContext over frames given up front (no reads)."""

    def __init__(self, project, rules, frames: dict, dem=None, empty=None, pipes=None):
        super().__init__(project, rules, dem=dem)
        self._frames = frames
        self._empty = empty
        self._pipes = pipes

    def layer(self, name):
        if name not in self._frames:
            self._frames[name] = self._empty(name) if self._empty else io.empty_frame(name)
        return self._frames[name]


# ---------------------------------------------------------------------------
# check_feature
# ---------------------------------------------------------------------------
_DEFAULT_CACHE = {}


def default_cache(project: str) -> LiveCache:
    key = os.path.abspath(project)
    if key not in _DEFAULT_CACHE:
        _DEFAULT_CACHE.clear()  # one project open at a time
        _DEFAULT_CACHE[key] = LiveCache()
    return _DEFAULT_CACHE[key]


def check_feature(project: str, layer_name: str, feature: dict, rules=None, dem=None,
                  cache: LiveCache = None, rules_path: str = None, margin_m: float = 5.0):
    """Findings (the frame of ``run_checks``) involving the edited ``feature``.

    ``feature``: model fields (missing ones take the model default) and a
    shapely ``geometry``; ``uid`` names it (a feature with that uid in the
    file is replaced by this one). ``rules``: a RuleSet or an iterable of rule
    ids to restrict to (None: every rule that involves ``layer_name``).
    """
    import geopandas as gpd
    import pandas as pd

    from .messages import format_messages

    cache = cache or default_cache(project)
    ruleset = rules if hasattr(rules, "doc") else cache.rules(rules_path)
    only = None if (rules is None or hasattr(rules, "doc")) else list(rules)
    schema.model().layer(layer_name)  # KeyError for a layer that is not in the model
    ids = relevant_rules(layer_name, only)
    geom = feature.get("geometry", feature.get("geom"))
    status = feature.get("status")
    uid = feature.get("uid")
    if _is_null(uid) or uid == "":
        uid = "(new)"
    if not ids or geom is None or geom.is_empty or status == "abandoned":
        return _finish(empty_findings(), ruleset, format_messages)

    crs = cache.crs(project)
    feat = feature_frame(layer_name, dict(feature, uid=uid), crs=crs)
    radius = search_radius(ruleset, ids, margin_m)
    x0, y0, x1, y1 = geom.bounds
    near = (x0 - radius, y0 - radius, x1 + radius, y1 + radius)

    def read(name, bbox):
        return cache.layer(project, name, bbox)

    frames = []
    solo = [r for r in ids if r not in SAME_LAYER and not (r == LANE_WIDTH and layer_name != LANE)]
    merged = [r for r in ids if r in SAME_LAYER]
    lane = [r for r in ids if r == LANE_WIDTH and layer_name != LANE]

    # the neighbourhood, read once for every rule that runs
    names = {n for r in solo + merged for n in RULES[r][2]}
    if "pipe_segment" in names:
        names.add("pipe_point")  # the pipe model reads depths and ground at the pipes' ends
    base = {n: read(n, near) for n in sorted(names - {layer_name, "pipe_point"})}
    own_merged = _merge(read(layer_name, near), feat, uid) if merged else None
    if "pipe_point" in names and layer_name != "pipe_point":
        pipes = own_merged if layer_name == "pipe_segment" and merged else base.get("pipe_segment")
        ends = [f for f in (pipes, feat if layer_name == "pipe_segment" else None) if f is not None]
        base["pipe_point"] = read("pipe_point", _pipe_box(near, ends))

    def run(rule_ids, layers, pipes=None):
        ctx = LiveContext(project, ruleset, layers, dem=dem, empty=cache.empty, pipes=pipes)
        for rid in rule_ids:
            df = rule_function(rid)(ctx)
            if len(df):
                frames.append(df[FINDING_COLUMNS])
        return ctx

    shared_pipes = None
    if merged:
        ctx = run(merged, dict(base, **{layer_name: own_merged}))
        if layer_name == "pipe_segment" and ctx._pipes is not None:
            # prepare_pipes works row by row: the edited pipe's row of the
            # neighbourhood's model is its model alone
            from .pipes import PipeModel

            k = len(own_merged) - 1
            shared_pipes = PipeModel(ctx._pipes.frame.iloc[[k]].reset_index(drop=True), ruleset)
    if solo:
        run(solo, dict(base, **{layer_name: feat}), pipes=shared_pipes)
    touched = set()
    if lane:
        lanes = read(LANE, geom.bounds)
        if len(lanes):
            import shapely

            ctx0 = LiveContext(project, ruleset, {}, empty=cache.empty)
            u = float(np.nanmax(np.append(ctx0.plan_acc_h(lanes), 0.0))) + float(ctx0.plan_acc_h(feat)[0])
            hit = shapely.dwithin(lanes.geometry.to_numpy(), geom, u + 1e-9)
            lanes = lanes.loc[hit].reset_index(drop=True)
        if len(lanes):
            touched = set(lanes["uid"].astype(object))
            lb = tuple(lanes.total_bounds)
            layers = {LANE: lanes}
            for n in RULES[LANE_WIDTH][2]:
                if n == LANE:
                    continue
                nb = read(n, lb)
                layers[n] = _merge(nb, feat, uid) if n == layer_name else nb
            run(lane, layers)

    out = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=None)
    if len(out):
        mine = (((out["layer_a"] == layer_name) & (out["uid_a"] == uid))
                | ((out["layer_b"] == layer_name) & (out["uid_b"] == uid)))
        if touched:
            mine |= (out["rule_id"] == LANE_WIDTH) & out["uid_a"].isin(touched)
        out = out.loc[mine].reset_index(drop=True)
    return _finish(out, ruleset, format_messages)


def _pipe_box(near, frames):
    """The box of pipe points a pipe model needs: ``near`` and the pipes' ends."""
    boxes = [near] + [tuple(f.total_bounds) for f in frames if len(f)]
    b = np.array(boxes, dtype=float)
    return (b[:, 0].min() - 0.01, b[:, 1].min() - 0.01, b[:, 2].max() + 0.01, b[:, 3].max() + 0.01)


def _finish(out, ruleset, format_messages):
    import geopandas as gpd

    out = gpd.GeoDataFrame(out, geometry="geometry", crs=None)
    out["conflict_id"] = [conflict_id(*row) for row in
                          zip(out["rule_id"], out["layer_a"], out["uid_a"], out["layer_b"], out["uid_b"])]
    out["message_zh"], out["message_en"] = format_messages(out) if len(out) else ([], [])
    out["rule_profile"] = ruleset.profile
    return out
