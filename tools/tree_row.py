"""Geometry of the tree-row tool (issue 5, item 2). No Qt.

``tree_row(line, spacing_m, ...)`` places trees along a drawn line at 0,
spacing, 2 × spacing, ... from its start (the end itself when the length is
a whole number of spacings) and says for each position whether it is
skipped and why, with the same tests as the check rules:

* ``pipe``: the distance from the position to a pipe's outer edge
  (centreline distance - outer width / 2, 0 over the pipe) is less than the
  tree_pipe_clearance value for that pipe's class (and burial, diameter,
  pressure) and the row's ``kind`` (tree | shrub): RuleSet.lookup on the
  rules' ``tree`` / ``shrub`` table. Outer width: width_mm / 1000 for a box
  section, else diameter_mm / 1000, unknown = 0 (the centreline).
* ``fire_lane``: the position lies in a fire lane's interior
  (fire_lane_obstruction's test for a tree).

Survey uncertainty is not added (the tool places at the nominal clearance).
"""
from __future__ import annotations

import numpy as np

from ..layers.errors import InputError
from . import layouts
from .rowgeom import community_at, frame, geoms, in_lane, num, reasons_frame, row_line, uids

RULE = "tree_pipe_clearance"
KINDS = ("tree", "shrub")
OBSTACLES = ("pipe_segment", "fire_lane", "renovation_area")
COLUMNS = ["slot", "chainage_m", "kind", "species", "skipped", "reason", "reason_zh", "reason_en"]


def pipe_outer_width(pipes):
    """Outer horizontal size (m) of each pipe (engine/pipes.py's width_m)."""
    wmm = num(pipes, "width_mm")
    dmm = num(pipes, "diameter_mm")
    w = np.where(np.isfinite(wmm) & (wmm > 0), wmm, dmm) / 1000.0
    return np.nan_to_num(w, nan=0.0)


def pipe_hits(points, pipes, kind, rules):
    """(cand index, pipe uid, measured, required) where a point is closer to
    a pipe's outer edge than the clearance for the pipe's class and ``kind``."""
    import shapely

    util = pipes["utility"].to_numpy(dtype=object) if "utility" in pipes.columns \
        else np.full(len(pipes), None, dtype=object)
    attrs = {"burial": pipes["burial"].to_numpy(dtype=object) if "burial" in pipes.columns
             else np.full(len(pipes), None, dtype=object),
             "diameter_mm": num(pipes, "diameter_mm"), "pressure_mpa": num(pipes, "pressure_mpa")}
    req, _ = rules.lookup(RULE, kind, None, util, attrs_b=attrs)
    width = pipe_outer_width(pipes)
    ok = np.isfinite(req)
    empty = (np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0), np.zeros(0))
    if not ok.any() or len(points) == 0:
        return empty
    pg = geoms(pipes)
    tree = shapely.STRtree(pg)
    ic, ip = tree.query(points, predicate="dwithin", distance=float(np.nanmax(req) + width.max() / 2))
    d = shapely.distance(points[ic], pg[ip])
    measured = np.maximum(d - width[ip] / 2, 0.0)
    bad = (measured < req[ip]) & np.isfinite(req[ip])
    return ic[bad], uids(pipes)[ip[bad]], measured[bad], req[ip][bad]


def tree_row(line, spacing_m: float = None, *, species: str = None, kind: str = None,
             obstacles: dict = None, rules=None, crs=None):
    """Candidate tree positions along ``line`` (a LineString or (x, y) points).

    Returns a GeoDataFrame (points, row order) with :data:`COLUMNS` and
    ``community`` (renovation_area under the point). Raises InputError for a
    zero-length line, a spacing <= 0 or an unknown kind.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    spacing = float(layouts.preset("trees", "spacing_m").value if spacing_m is None else spacing_m)
    if not (np.isfinite(spacing) and spacing > 0):
        raise InputError(f"the tree spacing must be > 0 m (got {spacing_m})")
    kind = str(layouts.preset("trees", "kind").value if kind is None else kind)
    if kind not in KINDS:
        raise InputError(f"kind is tree or shrub (got {kind!r})")
    if rules is None:
        from .ruleset import load_rules

        rules = load_rules()
    g = row_line(line)
    L = float(shapely.length(g))
    n = int(np.floor(L / spacing + 1e-9)) + 1
    s = np.minimum(np.arange(n) * spacing, L)
    pts = shapely.line_interpolate_point(g, s)
    hits = []
    il, ul = in_lane(pts, obstacles)
    if len(il):
        hits.append(("fire_lane", il, ul))
    pipes = frame(obstacles, "pipe_segment")
    if pipes is not None:
        ic, up, m, r = pipe_hits(pts, pipes, kind, rules)
        if len(ic):
            hits.append(("pipe", ic, up, m, r))
    skipped, reason, rzh, ren = reasons_frame(n, hits)
    df = pd.DataFrame({"slot": np.arange(n), "chainage_m": np.round(s, 3), "kind": kind,
                       "species": species, "skipped": skipped, "reason": reason,
                       "reason_zh": rzh, "reason_en": ren})
    df["community"] = community_at(pts, obstacles)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(pts, crs=crs), crs=crs)


def layer_attributes(row) -> dict:
    """The tree fields of one placed tree (a row of tree_row's frame)."""
    sp = row["species"]
    return {"kind": row["kind"], "species": None if sp is None or sp != sp or sp == "" else sp,
            "status": "planned", "source": "manual"}
