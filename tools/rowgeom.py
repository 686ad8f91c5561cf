"""What the row tools (stall row, tree row) share: input lines, obstacles, skip reasons.

No Qt here. Obstacles are GeoDataFrames of data-model layers (as
``layers.io.read_layer(project, name, bbox=..., active_only=True)`` gives
them), passed as a dict ``{layer name: frame}``; a layer that is absent or
empty simply blocks nothing.
"""
from __future__ import annotations

import numpy as np

from ..layers.errors import InputError

#: skip reason code -> (Chinese, English) text; {uid} is the obstacle's uid.
REASONS = {
    "fire_lane": ("占用消防车通道 {uid}", "on fire lane {uid}"),
    "structure": ("压占检查井/阀门 {uid}", "over manhole/valve {uid}"),
    "hydrant": ("距消火栓 {uid} 过近", "too close to hydrant {uid}"),
    "tree": ("压占树木 {uid}", "on tree {uid}"),
    "building": ("压占建筑 {uid}", "on building {uid}"),
    "stall": ("与已有车位 {uid} 重叠", "overlaps existing stall {uid}"),
    "pipe": ("距管线 {uid} 外缘 {m:.2f} m，小于 {r:.2f} m",
             "{m:.2f} m from the edge of pipe {uid}, less than {r:.2f} m"),
}


def row_line(line_or_points):
    """A LineString from a shapely line or a sequence of (x, y) points.

    Raises InputError for fewer than two distinct points (a zero-length row).
    """
    import shapely

    if isinstance(line_or_points, shapely.Geometry):
        g = line_or_points
        if g.geom_type == "MultiLineString":
            g = shapely.line_merge(g)
        if g.geom_type != "LineString":
            raise InputError(f"a row is drawn along a line, not a {g.geom_type}")
        xy = shapely.get_coordinates(g)
    else:
        xy = np.asarray(line_or_points, dtype=float).reshape(-1, 2)
    if len(xy) == 0 or not np.isfinite(xy).all():
        raise InputError("the row needs a start and an end point")
    keep = np.ones(len(xy), dtype=bool)  # drop repeated vertices
    keep[1:] = np.hypot(*np.diff(xy, axis=0).T) > 1e-9
    xy = xy[keep]
    if len(xy) < 2:
        raise InputError("the row has zero length: click a start and a different end point")
    return shapely.linestrings(xy)


def frame(obstacles: dict, name: str):
    """The obstacle frame ``name``, or None when absent or empty."""
    if not obstacles:
        return None
    f = obstacles.get(name)
    if f is None or len(f) == 0:
        return None
    return f


def geoms(f):
    return np.asarray(f.geometry.values, dtype=object)


def uids(f):
    if "uid" in f.columns:
        return f["uid"].astype(object).where(f["uid"].notna(), "?").to_numpy(dtype=object)
    return np.array([str(i) for i in f.index], dtype=object)


def num(f, col):
    import pandas as pd

    if col not in f.columns:
        return np.full(len(f), np.nan)
    return pd.to_numeric(f[col], errors="coerce").astype(float).to_numpy()


def reasons_frame(n: int, hits: list):
    """Join the skip reasons per candidate.

    ``hits``: list of (code, cand index array, obstacle uid array[, measured,
    required]). Returns (skipped bool[n], reason, reason_zh, reason_en object
    arrays; "" where not skipped). Reasons keep the order of ``hits``, then
    the order of the obstacles.
    """
    skipped = np.zeros(n, dtype=bool)
    code = [[] for _ in range(n)]
    zh = [[] for _ in range(n)]
    en = [[] for _ in range(n)]
    # one entry per hit: a loop over the few hits found, not over a layer
    for hit in hits:
        c, idx, uid = hit[0], np.asarray(hit[1], dtype=np.int64), hit[2]
        m = hit[3] if len(hit) > 3 else np.full(len(idx), np.nan)
        r = hit[4] if len(hit) > 4 else np.full(len(idx), np.nan)
        tzh, ten = REASONS[c]
        skipped[idx] = True
        for i, u, mm, rr in zip(idx, uid, m, r):
            if c not in code[i]:
                code[i].append(c)
            zh[i].append(tzh.format(uid=u, m=mm, r=rr))
            en[i].append(ten.format(uid=u, m=mm, r=rr))
    join = lambda parts, sep: np.array([sep.join(p) for p in parts], dtype=object)  # noqa: E731
    return skipped, join(code, ","), join(zh, "；"), join(en, "; ")


def community_at(points, obstacles):
    """``community`` of the renovation_area under each point (None where none).

    A point on the shared edge of two areas takes the first area (lowest
    row) that covers it.
    """
    import shapely

    out = np.full(len(points), None, dtype=object)
    areas = frame(obstacles, "renovation_area")
    if areas is None or len(points) == 0 or "community" not in areas.columns:
        return out
    ag = geoms(areas)
    tree = shapely.STRtree(ag)
    ip, ia = tree.query(points, predicate="covered_by")
    if len(ip):
        order = np.lexsort((ia, ip))
        ip, ia = ip[order], ia[order]
        first = np.unique(ip, return_index=True)[1]
        comm = areas["community"].to_numpy(dtype=object)
        out[ip[first]] = comm[ia[first]]
    return out


def in_lane(points, obstacles):
    """(cand index, lane uid) pairs for points inside a fire lane's interior
    (fire_lane_obstruction's test for a tree: on the edge is outside)."""
    import shapely

    lanes = frame(obstacles, "fire_lane")
    if lanes is None or len(points) == 0:
        return np.zeros(0, np.int64), np.zeros(0, object)
    tree = shapely.STRtree(geoms(lanes))
    ip, il = tree.query(points, predicate="within")
    return ip, uids(lanes)[il]


def overlapping(polys, obstacles, name, min_area):
    """(cand index, obstacle uid) where a polygon overlaps obstacle layer
    ``name`` by more than ``min_area`` m²."""
    import shapely

    f = frame(obstacles, name)
    if f is None or len(polys) == 0:
        return np.zeros(0, np.int64), np.zeros(0, object)
    og = geoms(f)
    tree = shapely.STRtree(og)
    ic, io = tree.query(polys, predicate="intersects")
    area = shapely.area(shapely.intersection(polys[ic], og[io]))
    k = area > min_area
    return ic[k], uids(f)[io[k]]


def read_obstacles(project: str, bbox, names):
    """The obstacle layers ``names`` of ``project`` within ``bbox`` (minx,
    miny, maxx, maxy), abandoned features left out. A layer missing from the
    project reads as empty."""
    from ..layers import io

    present = set(io.list_layers(project))
    out = {}
    for name in names:
        if name in present:
            out[name] = io.read_layer(project, name, bbox=tuple(float(v) for v in bbox), active_only=True)
        else:
            out[name] = io.empty_frame(name)
    return out
