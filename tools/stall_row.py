"""Geometry of the parking-stall row tool (issue 5, item 1). No Qt.

``stall_row(line, ...)`` lays stalls along a kerb line (a start and an end
point, or a picked line) on one side of it and says, for every candidate
position, whether it is skipped and why.

Stall shape (width w, length l, angle θ between the long sides and the kerb):

* perpendicular (θ = 90) and angled (0 < θ < 90): a parallelogram whose kerb
  edge is w / sin θ long and whose long sides, l long, leave the kerb at θ
  leaning forward (in the drawing direction); its area is w × l and the
  distance between its long sides is w. Stalls follow each other along the
  kerb every w / sin θ.
* parallel (θ = 0): a rectangle l along the kerb, w deep.

On a kerb line with several vertices the stalls are laid segment by segment
(each segment starts a new run; the remainder of a segment stays empty).

Accessible stalls (stall_type ``accessible``): the first stalls of the row;
each carries its side aisle (``side_aisle_m``, GB 55019 ≥ 1.2 m) inside its
polygon, across the row (w + aisle; for parallel stalls along the kerb,
l + aisle). Their number is the smallest k with k ≥ share × (stalls placed),
at least one when the share is > 0 and a stall is placed. EV stalls
(``ev_charging``): ceil(ev_share × stalls placed) of the standard stalls,
taken from the end of the row.

Skipped (same tests as the check rules, so a row drawn by the tool raises no
finding of those rules; survey uncertainty is not added):

* ``fire_lane``: overlap with a fire_lane > fire_lane_obstruction.min_overlap_m2
* ``building``: overlap with a building > the same min_overlap_m2
* ``stall``: overlap with an existing parking_stall > the same min_overlap_m2
* ``structure``: a pipe_point whose appurtenance is in
  stall_over_structure.appurtenances with its cover disc (cover_size, else
  default_cover_size_m) touching the stall (distance <= radius)
* ``hydrant``: a hydrant closer than stall_over_structure.hydrant_distance_m
* ``tree``: a tree point in the stall or its crown circle (crown_m / 2, else
  fire_lane_width.tree_default_crown_m / 2) overlapping it (distance < radius)

Numbering: placed stalls only, in row order, ``prefix`` + (start_no + i),
zero-padded to ``digits``. community: the renovation_area under the stall's
centroid.
"""
from __future__ import annotations

import math

import numpy as np

from ..layers.errors import InputError
from . import layouts
from .rowgeom import community_at, frame, geoms, num, overlapping, reasons_frame, row_line, uids

RULE_STALL = "stall_over_structure"
RULE_OBS = "fire_lane_obstruction"
RULE_WIDTH = "fire_lane_width"
OBSTACLES = ("fire_lane", "pipe_point", "tree", "building", "parking_stall", "renovation_area")
COLUMNS = ["slot", "stall_no", "stall_type", "width_m", "length_m", "angle_deg", "community",
           "skipped", "reason", "reason_zh", "reason_en"]
LEFT, RIGHT = "left", "right"


def _check_size(width, length, angle, layout):
    if not (np.isfinite(width) and width > 0):
        raise InputError(f"stall width must be > 0 m (got {width})")
    if not (np.isfinite(length) and length > 0):
        raise InputError(f"stall length must be > 0 m (got {length})")
    if layout == "perpendicular" and angle != 90:
        raise InputError("a perpendicular stall has an angle of 90°")
    if layout == "parallel" and angle != 0:
        raise InputError("a parallel stall has an angle of 0°")
    if layout == "angled" and not (0 < angle < 90):
        raise InputError(f"an angled stall's angle is between 0° and 90° (got {angle})")


def _slots(seg_len, n_acc, pitch_std, pitch_acc):
    """(segment index, chainage on the segment, accessible?) of every slot."""
    seg_i, s, acc = [], [], []
    left = int(n_acc)
    for i, L in enumerate(seg_len):  # the row's few segments
        tol = 1e-9 * max(L, 1.0)
        na = min(left, int(math.floor((L + tol) / pitch_acc))) if left > 0 else 0
        left -= na
        rest = L - na * pitch_acc
        ns = max(int(math.floor((rest + tol) / pitch_std)), 0)
        ch = np.concatenate([np.arange(na) * pitch_acc, na * pitch_acc + np.arange(ns) * pitch_std])
        seg_i.append(np.full(na + ns, i))
        s.append(ch)
        acc.append(np.r_[np.ones(na, bool), np.zeros(ns, bool)])
    cat = lambda a, t: np.concatenate(a).astype(t) if a else np.zeros(0, t)  # noqa: E731
    return cat(seg_i, np.int64), cat(s, float), cat(acc, bool)


def _polygons(xy, seg_i, s, along, slant):
    """Stall polygons: kerb edge from s to s + along[k] on segment seg_i,
    the back edge offset by slant[k] (a vector in the segment's frame:
    (along-kerb, across-kerb))."""
    import shapely

    a, b = xy[:-1][seg_i], xy[1:][seg_i]
    d = b - a
    u = d / np.hypot(d[:, 0], d[:, 1])[:, None]
    n = np.stack([-u[:, 1], u[:, 0]], axis=1)  # left normal
    p0 = a + u * s[:, None]
    p1 = p0 + u * along[:, None]
    v = u * slant[:, :1] + n * slant[:, 1:]
    ring = np.stack([p0, p1, p1 + v, p0 + v, p0], axis=1)
    return shapely.polygons(ring)


def _layout(xy, layout, w, l, theta, side, n_acc, aisle):
    seg = np.diff(xy, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    sgn = 1.0 if side == LEFT else -1.0
    t = math.radians(theta)
    if layout == "parallel":
        pitch_std, pitch_acc = l, l + aisle
    else:
        pitch_std, pitch_acc = w / math.sin(t), (w + aisle) / math.sin(t)
    seg_i, s, acc = _slots(seg_len, n_acc, pitch_std, pitch_acc)
    k = len(s)
    along = np.where(acc, pitch_acc, pitch_std)
    if layout == "parallel":
        slant = np.tile([0.0, sgn * w], (k, 1))
        width = np.full(k, w)
        length = np.where(acc, l + aisle, l)
    else:
        slant = np.tile([l * math.cos(t), sgn * l * math.sin(t)], (k, 1))
        slant[np.abs(slant) < 1e-12] = 0.0
        width = np.where(acc, w + aisle, w)
        length = np.full(k, l)
    polys = _polygons(xy, seg_i, s, along, slant) if k else np.zeros(0, dtype=object)
    return polys, acc, width, length


def skip_reasons(polys, obstacles, rules):
    """(skipped, reason, reason_zh, reason_en) for stall polygons against the obstacles."""
    import shapely

    n = len(polys)
    hits = []
    min_area = float(rules.value(RULE_OBS, "min_overlap_m2"))
    for code, name in (("fire_lane", "fire_lane"), ("building", "building"), ("stall", "parking_stall")):
        ic, u = overlapping(polys, obstacles, name, min_area)
        if len(ic):
            hits.append((code, ic, u))
    pts = frame(obstacles, "pipe_point")
    if pts is not None and n and "appurtenance" in pts.columns:
        from .engine.rule_stalls import HYDRANT, cover_defaults

        app = pts["appurtenance"].to_numpy(dtype=object)
        is_h = app == HYDRANT
        is_c = np.isin(app, list(rules.value(RULE_STALL, "appurtenances")))
        take = np.nonzero(is_h | is_c)[0]
        if len(take):
            size = num(pts, "cover_size")[take]
            own = np.isfinite(size) & (size > 0)
            radius = np.where(own, size, cover_defaults(app[take], rules.value(RULE_STALL, "default_cover_size_m"))) / 2
            hyd = float(rules.value(RULE_STALL, "hydrant_distance_m"))
            need = np.where(is_h[take], hyd, radius)
            ok = np.isfinite(need)
            if ok.any():
                pg = geoms(pts)[take]
                tree = shapely.STRtree(pg)
                ic, ip = tree.query(polys, predicate="dwithin", distance=float(np.max(need[ok])))
                d = shapely.distance(polys[ic], pg[ip])
                h = is_h[take][ip]
                # cover: touching counts (<=); hydrant: closer than the distance (<)
                bad = np.where(h, d < need[ip], d <= need[ip]) & np.isfinite(need[ip])
                u = uids(pts)[take]
                for code, m in (("structure", bad & ~h), ("hydrant", bad & h)):
                    if m.any():
                        hits.append((code, ic[m], u[ip[m]]))
    trees = frame(obstacles, "tree")
    if trees is not None and n:
        default = float(rules.value(RULE_WIDTH, "tree_default_crown_m"))
        crown = num(trees, "crown_m")
        r = np.where(np.isfinite(crown) & (crown > 0), crown, default) / 2
        tg = geoms(trees)
        tree = shapely.STRtree(tg)
        ic, it = tree.query(polys, predicate="dwithin", distance=float(r.max()))
        d = shapely.distance(polys[ic], tg[it])
        m = (d < r[it]) | (d == 0)
        if m.any():
            hits.append(("tree", ic[m], uids(trees)[it[m]]))
    return reasons_frame(n, hits)


def _self_overlaps(polys, skipped, reason, rzh, ren, min_area, no_of):
    """Skip a candidate that overlaps an earlier placed one of the same row
    (inner corners of a bent kerb line): reason ``stall``."""
    import shapely

    from .rowgeom import REASONS

    if len(polys) < 2:
        return
    ia, ib = shapely.STRtree(polys).query(polys, predicate="intersects")
    k = ia < ib
    ia, ib = ia[k], ib[k]
    if not len(ia):
        return
    area = shapely.area(shapely.intersection(polys[ia], polys[ib]))
    k = area > min_area
    ia, ib = ia[k], ib[k]
    order = np.lexsort((ia, ib))
    for i, j in zip(ia[order], ib[order]):  # the few corner pairs, in row order
        if skipped[i] or skipped[j]:
            continue
        skipped[j] = True
        reason[j] = "stall"
        tzh, ten = REASONS["stall"]
        rzh[j], ren[j] = tzh.format(uid=no_of(i)), ten.format(uid=no_of(i))


def stall_row(line, layout: str = "perpendicular", *, width_m: float = None, length_m: float = None,
              angle_deg: float = None, side: str = LEFT, prefix: str = None, start_no: int = None,
              digits: int = 0, accessible_share: float = 0.0, side_aisle_m: float = None,
              ev_share: float = 0.0, obstacles: dict = None, rules=None, crs=None):
    """Candidate stalls along ``line`` (a LineString or a list of (x, y) points).

    Sizes default to tools/layouts.yaml for the ``layout``; ``side`` is
    ``left`` or ``right`` of the drawing direction. Returns a GeoDataFrame
    with one row per candidate position in row order and the columns
    :data:`COLUMNS` (+ geometry): placed stalls have ``skipped`` False and a
    ``stall_no``; skipped ones carry the reason codes (``reason``, comma
    separated) and texts naming the obstacles. Raises InputError for a
    zero-length row or bad sizes.
    """
    import geopandas as gpd
    import pandas as pd

    if layout not in layouts.STALL_LAYOUTS:
        raise InputError(f"unknown stall layout {layout!r} (one of {', '.join(layouts.STALL_LAYOUTS)})")
    if side not in (LEFT, RIGHT):
        raise InputError(f"side is left or right (got {side!r})")
    w0, l0, a0 = layouts.stall_size(layout)
    w = float(w0 if width_m is None else width_m)
    l = float(l0 if length_m is None else length_m)  # noqa: E741
    theta = float(a0 if angle_deg is None else angle_deg)
    _check_size(w, l, theta, layout)
    for name, share in (("accessible", accessible_share), ("EV", ev_share)):
        if not (0 <= share <= 1):
            raise InputError(f"the {name} share is between 0 and 1 (got {share})")
    aisle = float(layouts.preset("stalls", "accessible", "side_aisle_m").value
                  if side_aisle_m is None else side_aisle_m)
    if aisle < 0:
        raise InputError(f"the side aisle is >= 0 m (got {aisle})")
    if prefix is None:
        prefix = str(layouts.preset("stalls", "numbering", "prefix").value)
    if start_no is None:
        start_no = int(layouts.preset("stalls", "numbering", "start_no").value)
    if rules is None:
        from .ruleset import load_rules

        rules = load_rules()
    import shapely

    g = row_line(line)
    xy = shapely.get_coordinates(g)
    # accessible stalls: grow their number until the share of the placed stalls is met
    n_acc = 0
    while True:
        polys, acc, width, length = _layout(xy, layout, w, l, theta, side, n_acc, aisle)
        skipped, reason, rzh, ren = skip_reasons(polys, obstacles, rules)
        _self_overlaps(polys, skipped, reason, rzh, ren, float(rules.value(RULE_OBS, "min_overlap_m2")),
                       lambda i: f"#{i + 1}")
        placed = ~skipped
        have = int((placed & acc).sum())
        need = int(math.ceil(accessible_share * placed.sum() - 1e-9)) if accessible_share > 0 else 0
        if have >= need or int(acc.sum()) < n_acc:  # met, or no room for more
            break
        n_acc += need - have
    stype = np.where(acc, "accessible", layout).astype(object)
    n_ev = int(math.ceil(ev_share * placed.sum() - 1e-9)) if ev_share > 0 else 0
    if n_ev:
        std = np.nonzero(placed & ~acc)[0]
        stype[std[::-1][:n_ev]] = "ev_charging"
    no = np.full(len(polys), None, dtype=object)
    k = np.nonzero(placed)[0]
    no[k] = [f"{prefix}{start_no + i:0{int(digits)}d}" for i in range(len(k))]
    cent = shapely.centroid(polys) if len(polys) else polys
    df = pd.DataFrame({
        "slot": np.arange(len(polys)), "stall_no": no, "stall_type": stype,
        "width_m": np.round(width, 3), "length_m": np.round(length, 3),
        "angle_deg": np.full(len(polys), theta), "community": community_at(cent, obstacles),
        "skipped": skipped, "reason": reason, "reason_zh": rzh, "reason_en": ren})
    return gpd.GeoDataFrame(df[COLUMNS], geometry=gpd.GeoSeries(polys, crs=crs), crs=crs)


def layer_attributes(row) -> dict:
    """The parking_stall fields of one placed stall (a row of stall_row's frame)."""
    return {"stall_no": row["stall_no"], "stall_type": row["stall_type"],
            "width_m": float(row["width_m"]), "length_m": float(row["length_m"]),
            "angle_deg": float(row["angle_deg"]),
            "community": None if row["community"] is None or row["community"] != row["community"]
            else row["community"], "status": "planned", "source": "manual"}
