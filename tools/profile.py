"""Longitudinal profiles (纵断面): a pipe run followed through its points.

``longitudinal_profile(project_or_frames, uid, dem=None, rules=None)``:

* The run: from the picked segment, the segments of the same class connected
  through their ``start_uid`` / ``end_uid`` (the geometry alone never
  connects), extended downstream and upstream. At a junction the next segment
  is, in this order of preference: one that continues the flow (gravity
  classes: its far end's invert is lower going downstream, higher going
  upstream; other classes: digitised onwards), of the same subclass, with the
  smallest change of direction. ``uids=[...]`` gives the run explicitly
  instead; consecutive segments must share a point, else InputError.
* The flow direction: gravity classes (tools/sections.yaml
  ``profile.gravity_classes``, PS) run downhill by invert, judged over the
  whole run (first vs last invert; the picked segment's own fall where the run
  is level); other classes, and runs whose inverts are unknown, follow the
  digitised direction of the picked segment.
* Along the run (chainage from its upstream end): ground, outer top and
  invert (inside bottom = outer bottom + rules ``general.invert_wall_m``) at
  every segment end, from the engine's pipe model (tools/engine/pipes.py);
  the slope of each segment in ‰ (positive = falling with the flow); a
  reverse slope (倒坡) where a gravity segment's invert rises in the flow
  direction by more than ``profile.reverse_slope_tolerance_m`` (0.02 m).
* Crossings: every other pipe whose centreline crosses the run (not the
  connections, which share a point with it, nor pipes that only end on it),
  at its chainage, with its top,
  bottom and size there and the vertical gap to the run against the
  vertical_clearance table (breach flagged).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layers.errors import InputError
from .section import (class_colour, class_label, load_settings, make_context, size_text,
                      _num, _shares_point)

V_RULE = "vertical_clearance"


@dataclass
class Profile:
    segments: object        # DataFrame in flow order
    nodes: object           # DataFrame: the points along the run
    crossings: object       # DataFrame
    utility: str
    gravity: bool
    direction: str          # "invert" | "digitised"
    tolerance: float
    relative: bool = False  # no ground known: elevations are minus depths
    notes: list = field(default_factory=list)

    @property
    def length(self) -> float:
        return float(self.segments["ch1"].iloc[-1]) if len(self.segments) else 0.0

    @property
    def reverse(self):
        return self.segments.loc[self.segments["reverse"]]


def _known(v):
    return v is not None and v == v and str(v) != ""


def _end_vectors(geoms):
    """Unit vectors leaving each line at its start and at its end (N x 2 each)."""
    import shapely

    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(idx, minlength=len(geoms))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    last = first + counts - 1

    def unit(v):
        n = np.hypot(v[:, 0], v[:, 1])
        return v / np.where(n > 0, n, 1.0)[:, None]

    out_start = unit(coords[np.minimum(first + 1, last)] - coords[first])
    out_end = unit(coords[np.maximum(last - 1, first)] - coords[last])
    return out_start, out_end


class _Network:
    """Segments of one class by point uid (start_uid / end_uid)."""

    def __init__(self, pm, wall):
        import pandas as pd

        f = pm.frame
        self.pm = pm
        self.f = f
        self.start = f["start_uid"].astype(object).to_numpy()
        self.end = f["end_uid"].astype(object).to_numpy()
        self.utility = f["utility"].to_numpy(dtype=object)
        self.subclass = f["subclass"].to_numpy(dtype=object) if "subclass" in f else np.full(len(f), None)
        n = len(f)
        ends = pd.DataFrame({"pt": np.concatenate([self.start, self.end]),
                             "seg": np.concatenate([np.arange(n), np.arange(n)])})
        ends = ends.loc[ends["pt"].map(_known).astype(bool)]
        self.at = ends.groupby("pt")["seg"].apply(list).to_dict()
        all_idx = np.arange(n)
        self.inv = np.column_stack([pm.bottom_elev_at_t(all_idx, np.zeros(n)) + wall,
                                    pm.bottom_elev_at_t(all_idx, np.ones(n)) + wall]) if n else np.zeros((0, 2))
        self.out_start, self.out_end = _end_vectors(pm.geoms) if n else (np.zeros((0, 2)),) * 2

    def other_end(self, seg, pt):
        """(far point uid, 0/1 index of pt's end on seg)."""
        if self.start[seg] == pt:
            return self.end[seg], 0
        return self.start[seg], 1

    def leave(self, seg, k):
        """Unit vector leaving segment ``seg`` at its end k (0 start, 1 end) into the segment."""
        return self.out_start[seg] if k == 0 else self.out_end[seg]

    def step(self, seg, pt, downstream, gravity, used, tol=0.0, lookahead=True):
        """The segment continuing the run beyond point ``pt`` (reached along ``seg``), or None.

        Preference (gravity classes): the water can pass (downstream: the
        candidate's invert at pt is not above the arriving one; upstream: not
        below it), then downstream the one falling onwards before the
        straightest, upstream the straightest same-subclass one before the
        rising one. Other classes: digitised onwards, then the straightest.
        Downstream, where no candidate falls onwards (a reverse slope at the
        junction), the one whose way on reaches the lowest invert wins.
        """
        cands = [c for c in self.at.get(pt, []) if c != seg and c not in used
                 and self.utility[c] == self.utility[seg]]
        if not cands:
            return None
        _, k_here = self.other_end(seg, pt)
        here = self.inv[seg, k_here]
        # the direction of travel at pt: opposite to the vector leaving pt into seg
        arrive = -self.leave(seg, k_here)
        best, best_key = None, None
        for c in cands:
            _, k = self.other_end(c, pt)
            near, far = self.inv[c, k], self.inv[c, 1 - k]
            passes = True
            if gravity and np.isfinite(near) and np.isfinite(far) and near != far:
                onwards = (far < near) if downstream else (far > near)
                if np.isfinite(here):
                    passes = (near <= here + tol) if downstream else (near >= here - tol)
            else:
                digit_from_pt = (k == 0)
                onwards = digit_from_pt if downstream else not digit_from_pt
            go = self.leave(c, k)
            turn = float(np.degrees(np.arccos(np.clip(np.dot(arrive, go), -1, 1))))
            other_sub = 0 if self.subclass[c] == self.subclass[seg] else 1
            if downstream:
                low = 0.0
                if gravity and lookahead and not onwards:
                    low = self._lowest(c, pt, used | {seg}, tol)
                key = (not passes, not onwards, low, other_sub, turn, str(c))
            else:
                key = (not passes, other_sub, turn > 45.0, not onwards, turn, str(c))
            if best_key is None or key < best_key:
                best, best_key = c, key
        return best


    def _lowest(self, c, pt, used, tol, limit=200):
        """The lowest invert reached going downstream from point ``pt`` along ``c``."""
        used = set(used) | {c}
        seg = c
        far, k = self.other_end(c, pt)
        low = np.nanmin(self.inv[c]) if np.isfinite(self.inv[c]).any() else np.inf
        for _ in range(limit):
            if not _known(far):
                break
            nxt = self.step(seg, far, True, True, used, tol, lookahead=False)
            if nxt is None:
                break
            used.add(nxt)
            if np.isfinite(self.inv[nxt]).any():
                low = min(low, np.nanmin(self.inv[nxt]))
            far, _ = self.other_end(nxt, far)
            seg = nxt
        return float(low)


def _follow(net, i0, gravity, max_segments, tol=0.0):
    """Segments of the run through i0, ordered, with their flow flags (True =
    start->end), and the direction basis."""
    inv0, inv1 = net.inv[i0]
    if gravity and np.isfinite(inv0) and np.isfinite(inv1) and inv0 != inv1:
        fwd0 = bool(inv0 > inv1)
        basis = "invert"
    else:
        fwd0 = True
        basis = "digitised"
    chain = [(i0, fwd0)]
    used = {i0}
    # downstream
    seg, fwd = i0, fwd0
    while len(chain) < max_segments:
        pt = net.end[seg] if fwd else net.start[seg]
        if not _known(pt):
            break
        nxt = net.step(seg, pt, True, gravity, used, tol)
        if nxt is None:
            break
        fwd = net.start[nxt] == pt
        chain.append((nxt, bool(fwd)))
        used.add(nxt)
        seg = nxt
    # upstream
    seg, fwd = i0, fwd0
    while len(chain) < max_segments:
        pt = net.start[seg] if fwd else net.end[seg]
        if not _known(pt):
            break
        nxt = net.step(seg, pt, False, gravity, used, tol)
        if nxt is None:
            break
        fwd = net.end[nxt] == pt
        chain.insert(0, (nxt, bool(fwd)))
        used.add(nxt)
        seg = nxt
    return chain, basis


def _explicit(net, uid_index, uids, gravity):
    """The run given as uids: each consecutive pair must share a point."""
    idx = []
    for u in uids:
        if u not in uid_index:
            raise InputError(f"no active pipe segment with uid {u!r}", layer="pipe_segment", record=str(u))
        idx.append(uid_index[u])
    if len(set(idx)) != len(idx):
        raise InputError("a segment is named twice in the run", layer="pipe_segment")
    if len(idx) == 1:
        return [(idx[0], True)], "digitised"
    chain = []
    for k in range(len(idx) - 1):
        a, b = idx[k], idx[k + 1]
        common = {net.start[a], net.end[a]} & {net.start[b], net.end[b]}
        common = {c for c in common if _known(c)}
        if not common:
            raise InputError(f"pipes {uids[k]} and {uids[k + 1]} are not connected "
                             "(no common start_uid/end_uid)", layer="pipe_segment", record=str(uids[k + 1]))
        pt = sorted(common)[0]
        chain.append((a, bool(net.end[a] == pt)))
    last = idx[-1]
    prev_pt = net.end[idx[-2]] if chain[-1][1] else net.start[idx[-2]]
    chain.append((last, bool(net.start[last] == prev_pt)))
    return chain, "digitised"


def longitudinal_profile(project_or_frames, uid=None, uids=None, dem=None, rules=None,
                         settings=None) -> Profile:
    """The profile of the run through segment ``uid`` (or along ``uids``)."""
    import pandas as pd

    cfg = (settings or load_settings())["profile"]
    ctx = make_context(project_or_frames, dem=dem, rules=rules)
    rules = ctx.rules
    pm = ctx.pipes
    f = pm.frame
    if uid is None and not uids:
        raise InputError("pick a pipe segment for the profile")
    uid_index = {u: i for i, u in enumerate(f["uid"].astype(object).to_numpy())}
    if uid is not None and uid not in uid_index:
        raise InputError(f"no active pipe segment with uid {uid!r}", layer="pipe_segment", record=str(uid))
    wall = float(rules.value("general", "invert_wall_m"))
    net = _Network(pm, wall)
    gravity_classes = set(cfg["gravity_classes"])
    first = uid_index[uid] if uid is not None else uid_index.get(uids[0])
    utility = net.utility[first] if first is not None else None
    gravity = utility in gravity_classes
    tol = float(cfg["reverse_slope_tolerance_m"])
    if uids:
        chain, basis = _explicit(net, uid_index, list(uids), gravity)
        if len({net.utility[i] for i, _ in chain}) > 1:
            raise InputError("a profile follows one utility class; the run mixes classes",
                             layer="pipe_segment")
    else:
        chain, basis = _follow(net, uid_index[uid], gravity, int(cfg["max_segments"]), tol)
    seg = np.array([c[0] for c in chain], dtype=np.int64)
    fwd = np.array([c[1] for c in chain], dtype=bool)
    # orient the whole run by its overall fall (gravity), the picked segment's as a tie-break
    t_from = np.where(fwd, 0.0, 1.0)
    t_to = 1.0 - t_from
    inv_from = pm.bottom_elev_at_t(seg, t_from) + wall
    inv_to = pm.bottom_elev_at_t(seg, t_to) + wall
    if gravity and not uids and np.isfinite(inv_from[0]) and np.isfinite(inv_to[-1]):
        basis = "invert"
        if inv_from[0] < inv_to[-1]:
            seg, fwd = seg[::-1], ~fwd[::-1]
    elif gravity and uids and np.isfinite(inv_from[0]) and np.isfinite(inv_to[-1]) \
            and inv_from[0] < inv_to[-1]:
        seg, fwd = seg[::-1], ~fwd[::-1]
        basis = "invert"
    elif gravity and uids and np.isfinite(inv_from[0]) and np.isfinite(inv_to[-1]):
        basis = "invert"
    t_from = np.where(fwd, 0.0, 1.0)
    t_to = 1.0 - t_from
    L = pm.length[seg]
    ch1 = np.cumsum(L)
    ch0 = ch1 - L
    g_from, g_to = pm.ground_at_t(seg, t_from), pm.ground_at_t(seg, t_to)
    c_from, c_to = pm.cover_at_t(seg, t_from), pm.cover_at_t(seg, t_to)
    height = f["height_m"].to_numpy(float)[seg]
    relative = not (np.isfinite(g_from).any() or np.isfinite(g_to).any())
    if relative:
        g_from, g_to = np.zeros(len(seg)), np.zeros(len(seg))
    top_from, top_to = g_from - c_from, g_to - c_to
    inv_from = top_from - height + wall
    inv_to = top_to - height + wall
    rise = inv_to - inv_from
    slope = np.where(L > 0, (inv_from - inv_to) / np.where(L > 0, L, 1.0) * 1000.0, np.nan)
    reverse = gravity & np.isfinite(rise) & (rise > tol)
    start = np.where(fwd, net.start[seg], net.end[seg])
    end = np.where(fwd, net.end[seg], net.start[seg])
    dia, wmm, hmm = (_num(f, c)[seg] for c in ("diameter_mm", "width_mm", "height_mm"))
    segments = pd.DataFrame({
        "uid": f["uid"].to_numpy(dtype=object)[seg], "seg_index": seg, "digitised_forward": fwd,
        "from_point": start, "to_point": end, "utility": net.utility[seg], "subclass": net.subclass[seg],
        "length": L, "ch0": ch0, "ch1": ch1,
        "ground0": g_from, "ground1": g_to, "cover0": c_from, "cover1": c_to,
        "top0": top_from, "top1": top_to, "invert0": inv_from, "invert1": inv_to,
        "height_m": height, "size": [size_text(a, b, c) for a, b, c in zip(dia, wmm, hmm)],
        "rise": rise, "slope_permille": slope, "reverse": reverse})
    nodes = pd.DataFrame({
        "point": list(start) + [end[-1]],
        "chainage": np.concatenate([ch0, ch1[-1:]]),
        "ground": np.concatenate([g_from, g_to[-1:]]),
        "invert_in": np.concatenate([[np.nan], inv_to]),
        "invert_out": np.concatenate([inv_from, [np.nan]])})
    crossings = _crossings(pm, rules, segments, relative)
    notes = []
    if not np.isfinite(top_from).all() or not np.isfinite(top_to).all():
        notes.append("elevation unknown on: " + ", ".join(
            segments.loc[~(np.isfinite(top_from) & np.isfinite(top_to)), "uid"].astype(str)))
    return Profile(segments=segments, nodes=nodes, crossings=crossings, utility=str(utility),
                   gravity=bool(gravity), direction=basis, tolerance=tol, relative=relative, notes=notes)


CROSSING_COLUMNS = ["uid", "utility", "run_uid", "chainage", "x", "y", "top", "bottom", "centre",
                    "height_m", "width_m", "span_m", "shape", "size", "colour", "label_zh", "label_en",
                    "run_top", "run_bottom", "gap", "required", "source", "breach"]


def _crossings(pm, rules, segments, relative):
    """Other pipes crossing the run, at their chainage, with the vertical gap."""
    import pandas as pd
    import shapely

    from .engine.rule_pipe_pairs import _required

    f = pm.frame
    run = segments["seg_index"].to_numpy(np.int64)
    if len(f) < 2 or len(run) == 0:
        return pd.DataFrame(columns=CROSSING_COLUMNS)
    tree = shapely.STRtree(pm.geoms)
    qi, oi = tree.query(pm.geoms[run], predicate="intersects")
    inrun = np.isin(oi, run)
    qi, oi = qi[~inrun], oi[~inrun]
    if len(qi):
        conn = _shares_point(f, run[qi], oi)
        qi, oi = qi[~conn], oi[~conn]
    if len(qi) == 0:
        return pd.DataFrame(columns=CROSSING_COLUMNS)
    inter = shapely.intersection(pm.geoms[run[qi]], pm.geoms[oi])
    parts, owner = shapely.get_parts(inter, return_index=True)
    is_pt = shapely.get_type_id(parts) == 0
    parts, owner = parts[is_pt], owner[is_pt]
    if len(parts) == 0:
        return pd.DataFrame(columns=CROSSING_COLUMNS)
    k, other = qi[owner], oi[owner]
    rseg = run[k]
    xy = shapely.get_coordinates(parts)
    # a pipe that only ends on the run touches it (a connection without uids), it does not cross
    t_end = pm.fraction(other, xy)
    crossing = (t_end > 1e-9) & (t_end < 1 - 1e-9)
    k, other, rseg, xy = k[crossing], other[crossing], rseg[crossing], xy[crossing]
    if len(k) == 0:
        return pd.DataFrame(columns=CROSSING_COLUMNS)
    t_run = pm.fraction(rseg, xy)
    fwd = segments["digitised_forward"].to_numpy(bool)[k]
    along = np.where(fwd, t_run, 1.0 - t_run) * pm.length[rseg]
    chainage = segments["ch0"].to_numpy(float)[k] + along
    t_o = pm.fraction(other, xy)
    if relative:
        g_run = np.zeros(len(k))
        g_o = np.zeros(len(k))
    else:
        g_run = pm.ground_at_t(rseg, t_run)
        g_o = pm.ground_at_t(other, t_o)
        g_o = np.where(np.isfinite(g_o), g_o, g_run)   # the same surface
        g_run = np.where(np.isfinite(g_run), g_run, g_o)
    h_o = f["height_m"].to_numpy(float)[other]
    top = g_o - pm.cover_at_t(other, t_o)
    bottom = top - h_o
    run_top = g_run - pm.cover_at_t(rseg, t_run)
    run_bottom = run_top - f["height_m"].to_numpy(float)[rseg]
    above = (top + bottom) >= (run_top + run_bottom)
    gap = np.where(above, bottom - run_top, run_bottom - top)
    req, cite = _required(rules, V_RULE, f, rseg, other)
    # the crossing pipe is as wide along the run as its width / sin(angle)
    from .section import _direction

    da, db = _direction(pm, rseg, t_run), _direction(pm, other, t_o)
    sin = np.abs(da[:, 0] * db[:, 1] - da[:, 1] * db[:, 0])
    w_o = f["width_m"].to_numpy(float)[other]
    span = w_o * np.minimum(1.0 / np.maximum(sin, 1e-9), 4.0)
    dia, wmm, hmm = (_num(f, c)[other] for c in ("diameter_mm", "width_mm", "height_mm"))
    util = f["utility"].to_numpy(dtype=object)[other]
    sizes = [size_text(a, b, c) for a, b, c in zip(dia, wmm, hmm)]
    out = pd.DataFrame({
        "uid": f["uid"].to_numpy(dtype=object)[other], "utility": util,
        "run_uid": f["uid"].to_numpy(dtype=object)[rseg], "chainage": chainage,
        "x": xy[:, 0], "y": xy[:, 1], "top": top, "bottom": bottom, "centre": (top + bottom) / 2.0,
        "height_m": h_o, "width_m": w_o, "span_m": span,
        "shape": np.where(np.isfinite(wmm) & (wmm > 0) & np.isfinite(hmm) & (hmm > 0), "box", "circle"),
        "size": sizes, "colour": [class_colour(u) for u in util],
        "label_zh": [f"{class_label(u, 'zh')} {s}".strip() for u, s in zip(util, sizes)],
        "label_en": [f"{class_label(u, 'en')} {s}".strip() for u, s in zip(util, sizes)],
        "run_top": run_top, "run_bottom": run_bottom, "gap": gap, "required": req, "source": cite,
        "breach": np.isfinite(gap) & np.isfinite(req) & (gap < req - 1e-9)})
    return out.sort_values("chainage", kind="stable").reset_index(drop=True)[CROSSING_COLUMNS]
