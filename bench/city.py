"""A seeded synthetic city for the benchmark (EPSG:4547, CGCS2000 / 3-degree GK 114E).

At ``n_segments`` = 1,000,000: a square of about 20 x 20 km crossed by a street
grid (~110 m apart). Every street carries pipe lines at fixed offsets from its
centreline (all CJJ 61 utility classes, with diameters, boxes, duct banks,
pressures, burial methods and depths); horizontal streets' lines run through,
vertical streets' lines stop short of the crossings except one slot, so there
are real crossings; 3 % of the segments are short service connections at
random angles. Lines are cut into segments of 10-100 m with a pipe_point at
each end (shared by neighbours: start_uid / end_uid). Then 50,000 planned-road
parts (carriageway, non-motor lanes, sidewalks or a whole red-line area as
rectangles along streets), 200,000 trees (street and courtyard), 100,000
parking stalls (roadside over the outer pipe slots, and in courtyards), 5,000
fire lanes across blocks, 100,000 buildings in the blocks and n/500 renovation
works. Every count scales with n_segments / 1e6 (and the other layers with
``scale``), the area with it, so density stays the same and time should grow
linearly.

Conflicts arise from the layout at realistic rates: neighbouring pipe slots 2.5 m
apart with wide pipes break the class-pair clearances, outer slots run near
street trees, roadside stalls sit over manholes and near hydrants, some stalls,
trees and buildings stand in fire lanes, planned carriageways lie over the pipes.

Generation is vectorised numpy (coordinate arrays -> shapely.linestrings /
shapely.polygons); the GeoPackage is written with pyogrio and cached by size
and seed (``city_path``).
"""
from __future__ import annotations

import os
import time

import numpy as np

GEN_VERSION = 4
ORIGIN = (500000.0, 2540000.0)  # centre of the city in EPSG:4547 (near 114E, 23N)
CRS = "EPSG:4547"
BASE = {"planned_road": 50_000, "tree": 200_000, "parking_stall": 100_000, "fire_lane": 5_000,
        "building": 100_000, "renovation_work": 2_000}

CLASSES = np.array(["JS", "PS", "RQ", "RL", "DL", "TX", "GY", "QT"], dtype=object)
CLASS_P = np.array([0.20, 0.24, 0.12, 0.07, 0.15, 0.16, 0.02, 0.04])
SUBCLASS = {"JS": ["JP", "XS"], "PS": ["YS", "WS"], "RQ": ["TR"], "RL": ["RS", "ZQ"], "DL": ["GD", "LD"],
            "TX": ["DH", "XX"], "GY": ["QQ"], "QT": ["BM"]}
DIAMETERS = {"JS": [100, 150, 200, 300, 400, 600], "PS": [300, 400, 500, 600, 800, 1000, 1200],
             "RQ": [100, 150, 200, 300, 400], "RL": [200, 300, 400, 600, 800],
             "DL": [300, 400, 600, 800, 1000], "TX": [100, 200, 300, 400, 600],
             "GY": [100, 150, 200, 300], "QT": [200, 400, 600, 800]}
BASE_DEPTH = {"JS": 1.2, "PS": 2.4, "RQ": 1.1, "RL": 1.4, "DL": 0.9, "TX": 0.8, "GY": 1.2, "QT": 1.0}
SLOTS = np.array([-11.0, -8.5, -6.0, -3.5, 3.5, 6.0, 8.5, 11.0])
CONTINUOUS_SLOT = 4      # the vertical streets' slot whose line runs through the crossings
GAP = 13.0               # vertical lines stop this far from a horizontal street's centre
CONNECTOR_SHARE = 0.03
MEAN_SEG = 55.0


def city_dir() -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("RP_BENCH_DIR") or os.path.join(here, "build", "bench")


def city_path(n_segments: int, seed: int, scale: float = 1.0) -> str:
    return os.path.join(city_dir(), "cities",
                        f"city_n{n_segments}_s{seed}_x{scale:g}_v{GEN_VERSION}.gpkg")


def cached_city(n_segments: int = 1_000_000, seed: int = 20240611, scale: float = 1.0,
                log=print) -> str:
    """The cached city of this size and seed, generated on first use."""
    path = city_path(n_segments, seed, scale)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        t0 = time.perf_counter()
        log(f"generating city: {n_segments:,} segments, seed {seed} -> {path}")
        make_city(path, n_segments=n_segments, seed=seed, scale=scale, log=log)
        log(f"city generated in {time.perf_counter() - t0:.1f} s")
    return path


def counts(n_segments: int, scale: float = 1.0) -> dict:
    f = n_segments / 1e6
    out = {"pipe_segment": int(n_segments)}
    out.update({k: max(1, int(round(v * f * scale))) for k, v in BASE.items()})
    return out


# --------------------------------------------------------------------------- geometry helpers
def _rects(cx, cy, half_len, half_wid, angle=None):
    """Rectangles (shapely polygons) centred at cx, cy; long axis along x rotated by angle (rad)."""
    import shapely

    cx, cy = np.asarray(cx, float), np.asarray(cy, float)
    n = len(cx)
    ux = np.array([-1, 1, 1, -1, -1], float)
    uy = np.array([-1, -1, 1, 1, -1], float)
    dx = ux[None, :] * np.asarray(half_len, float).reshape(-1, 1) * np.ones((n, 1))
    dy = uy[None, :] * np.asarray(half_wid, float).reshape(-1, 1) * np.ones((n, 1))
    if angle is not None:
        c, s = np.cos(angle).reshape(-1, 1), np.sin(angle).reshape(-1, 1)
        dx, dy = dx * c - dy * s, dx * s + dy * c
    coords = np.stack([cx[:, None] + dx, cy[:, None] + dy], axis=-1)
    return shapely.polygons(coords)


def _choice_per_class(rng, cls, table, dtype=float):
    out = np.empty(len(cls), dtype=dtype)
    for c, opts in table.items():  # a loop over the 8 classes, not over features
        m = cls == c
        out[m] = rng.choice(np.asarray(opts, dtype=dtype), size=int(m.sum()))
    return out


def _uids(prefix, start, n, width=8):
    return np.array([f"{prefix}{i:0{width}d}" for i in range(start, start + n)], dtype=object)


# --------------------------------------------------------------------------- the city
class _Grid:
    def __init__(self, n_segments):
        f = n_segments / 1e6
        self.side = 20000.0 * np.sqrt(f)
        self.x0 = ORIGIN[0] - self.side / 2
        self.y0 = ORIGIN[1] - self.side / 2
        need = n_segments * (1 - CONNECTOR_SHARE) * MEAN_SEG * 1.01
        k = 2
        while self._total(k) < need:
            k += 1
        self.k = k
        self.spacing = self.side / k
        self.pos = (np.arange(k) + 0.5) * self.spacing  # street centres from x0 / y0

    def _total(self, k):
        d = self.side
        s = d / k
        piece = max(s - 2 * GAP, 0)
        return k * len(SLOTS) * d + k * (d + (len(SLOTS) - 1) * k * piece)

    def blocks(self):
        """Block interiors (x_min, y_min, x_max, y_max) between neighbouring streets."""
        p = self.pos
        a, b = np.meshgrid(np.arange(self.k - 1), np.arange(self.k - 1), indexing="ij")
        a, b = a.ravel(), b.ravel()
        m = 15.0
        return np.stack([self.x0 + p[a] + m, self.y0 + p[b] + m,
                         self.x0 + p[a + 1] - m, self.y0 + p[b + 1] - m], axis=1)


def _line_pieces(rng, g: _Grid):
    """Straight pipe lines: origin, unit direction, length, class and size per line."""
    ox, oy, ux, uy, ln = [], [], [], [], []
    k, d = g.k, g.side
    # horizontal streets: every slot runs through
    yy = np.repeat(g.pos, len(SLOTS)) + np.tile(SLOTS, k)
    ox.append(np.full(len(yy), g.x0)); oy.append(g.y0 + yy)
    ux.append(np.ones(len(yy))); uy.append(np.zeros(len(yy))); ln.append(np.full(len(yy), d))
    # vertical streets: the continuous slot runs through
    xx = g.pos + SLOTS[CONTINUOUS_SLOT]
    ox.append(g.x0 + xx); oy.append(np.full(k, g.y0))
    ux.append(np.zeros(k)); uy.append(np.ones(k)); ln.append(np.full(k, d))
    # vertical streets, other slots: pieces between the horizontal streets
    edges = np.concatenate([[0.0], g.pos, [d]])
    lo = np.concatenate([[0.0], g.pos + GAP])
    hi = np.concatenate([g.pos - GAP, [d]])
    ok = hi - lo > 5
    lo, hi = lo[ok], hi[ok]
    del edges
    other = np.delete(SLOTS, CONTINUOUS_SLOT)
    sx = (g.pos[:, None] + other[None, :]).ravel()
    X, L = np.meshgrid(sx, lo, indexing="ij")
    _, H = np.meshgrid(sx, hi, indexing="ij")
    ox.append(g.x0 + X.ravel()); oy.append(g.y0 + L.ravel())
    ux.append(np.zeros(X.size)); uy.append(np.ones(X.size)); ln.append((H - L).ravel())
    ox, oy, ux, uy, ln = (np.concatenate(a) for a in (ox, oy, ux, uy, ln))
    n = len(ox)
    # small sideways jitter of each line
    jit = np.clip(rng.normal(0, 0.25, n), -0.6, 0.6)
    ox = ox + jit * uy
    oy = oy + jit * ux
    order = rng.permutation(n)
    return ox[order], oy[order], ux[order], uy[order], ln[order]


def _segments(rng, g: _Grid, n_main: int):
    import shapely

    ox, oy, ux, uy, ln = _line_pieces(rng, g)
    bounds = np.concatenate([[0.0], np.cumsum(ln)])
    total = bounds[-1]
    m = int(total / MEAN_SEG * 1.1) + 100
    cuts = np.cumsum(rng.uniform(10.0, 100.0, m))
    cuts = cuts[cuts < total]
    q = np.unique(np.concatenate([bounds, cuts]))
    is_bound = np.isin(q, bounds)
    a, b = q[:-1], q[1:]
    line = np.searchsorted(bounds, a, side="right") - 1
    keep = (b - a) >= 0.5
    idx = np.nonzero(keep)[0]
    if len(idx) < n_main:
        raise RuntimeError(f"city grid too small: {len(idx)} < {n_main} segments")
    idx = idx[:n_main]
    a, b, line = a[idx], b[idx], line[idx]
    start_pid = idx
    end_pid = np.where(is_bound[idx + 1], len(q) + idx, idx + 1)
    s0 = a - bounds[line]
    s1 = b - bounds[line]
    x1, y1 = ox[line] + ux[line] * s0, oy[line] + uy[line] * s0
    x2, y2 = ox[line] + ux[line] * s1, oy[line] + uy[line] * s1
    return line, len(ox), start_pid, end_pid, np.stack([x1, y1], 1), np.stack([x2, y2], 1)


def make_city(path_gpkg: str, n_segments: int = 1_000_000, seed: int = 20240611, scale: float = 1.0,
              log=None) -> dict:
    """Write the synthetic city to a new project GeoPackage; returns the counts written."""
    import geopandas as gpd
    import shapely

    from ..layers import gpkg

    log = log or (lambda *a: None)
    rng = np.random.default_rng(seed)
    cnt = counts(n_segments, scale)
    g = _Grid(n_segments)
    layers = {}

    # ---- pipes ------------------------------------------------------------
    n_conn = int(round(n_segments * CONNECTOR_SHARE))
    n_main = n_segments - n_conn
    line, n_lines, spid, epid, p1, p2 = _segments(rng, g, n_main)
    # per-line attributes
    lcls = rng.choice(CLASSES, size=n_lines, p=CLASS_P)
    # connectors: from a slot of a horizontal street into the block, at varied angles
    st = rng.integers(0, g.k, n_conn)
    slot = rng.integers(0, len(SLOTS), n_conn)
    cx = g.x0 + rng.uniform(0, g.side, n_conn)
    cy = g.y0 + g.pos[st] + SLOTS[slot]
    side = np.where(SLOTS[slot] > 0, 1.0, -1.0)
    ang = np.deg2rad(rng.uniform(-55, 55, n_conn))
    clen = rng.uniform(8.0, 30.0, n_conn)
    c1 = np.stack([cx, cy], 1)
    c2 = np.stack([cx + np.sin(ang) * clen, cy + side * np.cos(ang) * clen], 1)
    ccls = rng.choice(CLASSES, size=n_conn, p=CLASS_P)

    start_xy = np.concatenate([p1, c1])
    end_xy = np.concatenate([p2, c2])
    cls = np.concatenate([lcls[line], ccls])
    # per-line sizes (constant along a line); connectors get their own
    line_dia = _choice_per_class(rng, lcls, DIAMETERS)
    dia = np.concatenate([line_dia[line], _choice_per_class(rng, ccls, DIAMETERS) / 2])
    line_box = rng.random(n_lines) < 0.06   # box culverts / trenches given as width x height
    box = np.concatenate([line_box[line], np.zeros(n_conn, bool)]) & np.isin(cls, ["PS", "RL", "DL"])
    line_pres = rng.choice([0.005, 0.2, 0.4, 0.8, 1.6, np.nan], size=n_lines,
                           p=[0.35, 0.25, 0.2, 0.1, 0.05, 0.05])
    pres = np.concatenate([line_pres[line], np.full(n_conn, 0.2)])
    pres[cls != "RQ"] = np.nan
    line_bur = rng.choice(np.array(["ZM", "GM", "GK", "GG", "JK"], dtype=object), size=n_lines,
                          p=[0.55, 0.2, 0.15, 0.08, 0.02])
    bur = np.concatenate([line_bur[line], np.full(n_conn, "ZM", dtype=object)])
    bur[~np.isin(cls, ["DL", "TX"])] = "ZM"

    n = n_segments
    # points: one per distinct end (neighbours share), connectors own two each
    pid = np.concatenate([spid, epid])
    uniq, first = np.unique(pid, return_index=True)
    pxy = np.concatenate([start_xy[:n_main], end_xy[:n_main]])[first]
    pcls = np.concatenate([cls[:n_main], cls[:n_main]])[first]
    n_pt_main = len(uniq)
    s_idx = np.searchsorted(uniq, spid)
    e_idx = np.searchsorted(uniq, epid)
    n_pt = n_pt_main + 2 * n_conn
    pt_uid = _uids("P", 0, n_pt, 9)
    start_uid = np.concatenate([pt_uid[s_idx], pt_uid[n_pt_main:n_pt_main + n_conn]])
    end_uid = np.concatenate([pt_uid[e_idx], pt_uid[n_pt_main + n_conn:]])
    pxy = np.concatenate([pxy, c1, c2])
    pcls = np.concatenate([pcls, ccls, ccls])

    ground = (20.0 + 0.0004 * (pxy[:, 0] - g.x0) + 0.0002 * (pxy[:, 1] - g.y0)
              + rng.normal(0, 0.05, n_pt))
    base = np.vectorize(BASE_DEPTH.get, otypes=[float])(pcls)
    pdepth = base + rng.uniform(-0.4, 0.8, n_pt)
    shallow = rng.random(n_pt) < 0.03
    pdepth[shallow] = rng.uniform(0.2, 0.6, int(shallow.sum()))
    pdepth = np.round(np.maximum(pdepth, 0.2), 2)
    appur = np.full(n_pt, "none", dtype=object)
    u = rng.random(n_pt)
    for c, opts in {"PS": [("manhole", 0.7), ("inlet", 0.1)],
                    "JS": [("valve", 0.1), ("hydrant", 0.06), ("meter", 0.02)],
                    "RQ": [("valve", 0.1)], "RL": [("valve_chamber", 0.08)],
                    "DL": [("junction_box", 0.08), ("handhole", 0.1)], "TX": [("handhole", 0.2)]}.items():
        lo = 0.0
        for name, p in opts:
            appur[(pcls == c) & (u >= lo) & (u < lo + p)] = name
            lo += p
    cover = np.where(rng.random(n_pt) < 0.2, np.round(rng.uniform(0.6, 1.2, n_pt), 2), np.nan)
    cover[appur == "none"] = np.nan
    seg_start_i = np.concatenate([s_idx, np.arange(n_pt_main, n_pt_main + n_conn)])
    seg_end_i = np.concatenate([e_idx, np.arange(n_pt_main + n_conn, n_pt)])
    d_start = pdepth[seg_start_i].copy()
    d_end = pdepth[seg_end_i].copy()
    unknown = rng.random(n) < 0.02
    d_start[unknown] = np.nan
    d_end[unknown & (rng.random(n) < 0.5)] = np.nan

    acc_given = rng.random(n) < 0.1
    seg_status = rng.choice(np.array(["existing", "planned", "abandoned"], dtype=object), size=n,
                            p=[0.9, 0.08, 0.02])
    diameter = np.where(box, np.nan, dia)
    width = np.where(box, dia * 1.5, np.nan)
    height = np.where(box, dia, np.nan)
    sub = np.empty(n, dtype=object)
    for c, opts in SUBCLASS.items():
        m = cls == c
        sub[m] = rng.choice(np.asarray(opts, dtype=object), size=int(m.sum()))
    pipes = gpd.GeoDataFrame({
        "uid": _uids("S", 0, n, 8),
        "status": seg_status,
        "source": "bench",
        "utility": cls,
        "subclass": sub,
        "start_uid": start_uid,
        "end_uid": end_uid,
        "material": np.where(cls == "PS", "HDPE", np.where(np.isin(cls, ["DL", "TX"]), "PVC", "steel")),
        "diameter_mm": diameter,
        "width_mm": width,
        "height_mm": height,
        "depth_start": d_start,
        "depth_end": d_end,
        "burial": bur,
        "pressure_mpa": pres,
        "voltage_kv": np.where(cls == "DL", 10.0, np.nan),
        "build_year": rng.integers(1970, 2024, n),
        "acc_h": np.where(acc_given, np.round(rng.uniform(0.05, 0.3, n), 2), np.nan),
        "acc_v": np.where(acc_given, np.round(rng.uniform(0.05, 0.3, n), 2), np.nan),
    }, geometry=shapely.linestrings(np.stack([start_xy, end_xy], 1)), crs=CRS)
    layers["pipe_segment"] = pipes
    layers["pipe_point"] = gpd.GeoDataFrame({
        "uid": pt_uid,
        "status": "existing",
        "source": "bench",
        "utility": pcls,
        "feature": "straight",
        "appurtenance": appur,
        "ground_elev": np.round(ground, 3),
        "depth": pdepth,
        "cover_size": cover,
    }, geometry=shapely.points(pxy), crs=CRS)
    log(f"  pipes: {n:,} segments, {n_pt:,} points, {g.k} x {g.k} streets {g.spacing:.0f} m apart")

    # ---- planned roads: sections of 5 parts (or 1 whole) along streets ---------
    nr = cnt["planned_road"]
    n_sec = int(nr / 4.2) + 10
    horiz = rng.random(n_sec) < 0.5
    st = rng.integers(0, g.k, n_sec)
    along = rng.uniform(0, g.side, n_sec)
    half = rng.uniform(40.0, 125.0, n_sec)
    hw = rng.uniform(5.0, 10.0, n_sec)
    whole = rng.random(n_sec) < 0.2
    sw = rng.uniform(3.0, 5.0, n_sec)
    # parts: offset centre across the street and half width across
    parts_off = np.stack([np.zeros(n_sec), hw + 1.75, -(hw + 1.75), hw + 3.5 + sw / 2, -(hw + 3.5 + sw / 2)], 1)
    parts_hw = np.stack([hw, np.full(n_sec, 1.75), np.full(n_sec, 1.75), sw / 2, sw / 2], 1)
    parts_name = np.array(["carriageway", "non_motor", "non_motor", "sidewalk", "sidewalk"], dtype=object)
    sec = np.repeat(np.arange(n_sec), 5)
    k5 = np.tile(np.arange(5), n_sec)
    keep = ~whole[sec] | (k5 == 0)
    sec, k5 = sec[keep], k5[keep]
    sec, k5 = sec[:nr], k5[:nr]
    off = parts_off[sec, k5]
    phw = np.where(whole[sec], hw[sec] + 3.5 + sw[sec], parts_hw[sec, k5])
    street = g.pos[st[sec]]
    cx = np.where(horiz[sec], g.x0 + along[sec], g.x0 + street + off)
    cy = np.where(horiz[sec], g.y0 + street + off, g.y0 + along[sec])
    hl = np.where(horiz[sec], half[sec], phw)
    hwid = np.where(horiz[sec], phw, half[sec])
    rstatus = np.where(rng.random(n_sec) < 0.6, "planned", "existing").astype(object)[sec]
    layers["planned_road"] = gpd.GeoDataFrame({
        "uid": _uids("R", 0, len(sec), 7),
        "status": rstatus,
        "source": "bench",
        "road_class": rng.choice(np.array(["arterial", "secondary", "branch"], dtype=object), n_sec)[sec],
        "part": np.where(whole[sec], "whole", parts_name[k5]).astype(object),
        "red_line_width_m": np.round(2 * (hw + 3.5 + sw), 1)[sec],
    }, geometry=_rects(cx, cy, hl, hwid), crs=CRS)

    # ---- blocks, fire lanes ------------------------------------------------
    blocks = g.blocks()
    nb = len(blocks)
    nl = cnt["fire_lane"]
    lane_blocks = rng.choice(nb, size=min(nl, nb), replace=False)
    lb = blocks[lane_blocks]
    lwid = rng.uniform(4.0, 6.0, len(lb)) / 2
    lhor = rng.random(len(lb)) < 0.5
    bw, bh = lb[:, 2] - lb[:, 0], lb[:, 3] - lb[:, 1]
    lx = np.where(lhor, (lb[:, 0] + lb[:, 2]) / 2, lb[:, 0] + rng.uniform(0.2, 0.8, len(lb)) * bw)
    ly = np.where(lhor, lb[:, 1] + rng.uniform(0.2, 0.8, len(lb)) * bh, (lb[:, 1] + lb[:, 3]) / 2)
    lhl = np.where(lhor, bw / 2 + 8, lwid)
    lhw = np.where(lhor, lwid, bh / 2 + 8)
    layers["fire_lane"] = gpd.GeoDataFrame({
        "uid": _uids("F", 0, len(lb), 6),
        "status": "existing",
        "source": "bench",
        "required_width_m": np.where(rng.random(len(lb)) < 0.9, 4.0, np.nan),
    }, geometry=_rects(lx, ly, lhl, lhw), crs=CRS)

    def in_blocks(which, m):
        b = blocks[which]
        return (b[:, 0] + rng.random(m) * (b[:, 2] - b[:, 0]),
                b[:, 1] + rng.random(m) * (b[:, 3] - b[:, 1]))

    # ---- buildings ---------------------------------------------------------
    nbld = cnt["building"]
    bl = blocks[rng.integers(0, nb, nbld)]
    bhl, bhw = rng.uniform(6.0, 20.0, nbld), rng.uniform(5.0, 10.0, nbld)
    bang = np.where(rng.random(nbld) < 0.5, 0.0, np.pi / 2) + np.deg2rad(rng.normal(0, 4, nbld))
    ex = np.where(bang > 0.7, bhw, bhl) + 1.0   # extents along x / y
    ey = np.where(bang > 0.7, bhl, bhw) + 1.0
    fx, fy = rng.random(nbld), rng.random(nbld)
    inside = rng.random(nbld) < 0.9             # 10 % of the (old) buildings reach towards the street
    bx = np.where(inside, bl[:, 0] + ex + fx * np.maximum(bl[:, 2] - bl[:, 0] - 2 * ex, 0), bl[:, 0] + fx * (bl[:, 2] - bl[:, 0]))
    by = np.where(inside, bl[:, 1] + ey + fy * np.maximum(bl[:, 3] - bl[:, 1] - 2 * ey, 0), bl[:, 1] + fy * (bl[:, 3] - bl[:, 1]))
    layers["building"] = gpd.GeoDataFrame({
        "uid": _uids("B", 0, nbld, 7),
        "status": "existing",
        "source": "bench",
        "floors": rng.integers(1, 30, nbld),
        # NULL on purpose: keeps the drainage "deeper than foundation" entry inapplicable
        "foundation_depth_m": np.full(nbld, np.nan),
    }, geometry=_rects(bx, by, bhl, bhw, bang), crs=CRS)

    # ---- trees: street trees near the outer pipe slots, courtyard trees ----
    nt = cnt["tree"]
    ns = int(nt * 0.6)
    st = rng.integers(0, g.k, ns)
    hor = rng.random(ns) < 0.5
    off = rng.choice([-1.0, 1.0], ns) * rng.uniform(10.5, 17.0, ns)
    al = rng.uniform(0, g.side, ns)
    tx = np.where(hor, g.x0 + al, g.x0 + g.pos[st] + off)
    ty = np.where(hor, g.y0 + g.pos[st] + off, g.y0 + al)
    # courtyard trees: half of them in the fire-lane blocks
    nc = nt - ns
    which = np.where(rng.random(nc) < 0.3, rng.choice(lane_blocks, nc), rng.integers(0, nb, nc))
    cx, cy = in_blocks(which, nc)
    tx, ty = np.concatenate([tx, cx]), np.concatenate([ty, cy])
    layers["tree"] = gpd.GeoDataFrame({
        "uid": _uids("T", 0, nt, 7),
        "status": rng.choice(np.array(["existing", "planned", "abandoned"], dtype=object), nt, p=[0.65, 0.33, 0.02]),
        "source": "bench",
        "kind": np.where(rng.random(nt) < 0.85, "tree", "shrub").astype(object),
        "crown_m": np.where(rng.random(nt) < 0.8, np.round(rng.uniform(2.0, 8.0, nt), 1), np.nan),
    }, geometry=shapely.points(tx, ty), crs=CRS)

    # ---- parking stalls: roadside (parallel, over the outer slots) and courtyard
    nsl = cnt["parking_stall"]
    nrs = int(nsl * 0.9)
    st = rng.integers(0, g.k, nrs)
    hor = rng.random(nrs) < 0.5
    off = rng.choice([-1.0, 1.0], nrs) * rng.uniform(9.5, 13.0, nrs)
    al = rng.uniform(0, g.side, nrs)
    sx = np.where(hor, g.x0 + al, g.x0 + g.pos[st] + off)
    sy = np.where(hor, g.y0 + g.pos[st] + off, g.y0 + al)
    sang = np.where(hor, 0.0, np.pi / 2)
    ncs = nsl - nrs
    cx, cy = in_blocks(rng.choice(lane_blocks, ncs), ncs)
    sx, sy = np.concatenate([sx, cx]), np.concatenate([sy, cy])
    sang = np.concatenate([sang, np.where(rng.random(ncs) < 0.5, 0.0, np.pi / 2)])
    layers["parking_stall"] = gpd.GeoDataFrame({
        "uid": _uids("C", 0, nsl, 7),
        "status": rng.choice(np.array(["existing", "planned"], dtype=object), nsl, p=[0.7, 0.3]),
        "source": "bench",
        "stall_type": np.where(np.arange(nsl) < nrs, "parallel", "perpendicular").astype(object),
        "width_m": 2.5,
        "length_m": np.where(np.arange(nsl) < nrs, 6.0, 5.3),
    }, geometry=_rects(sx, sy, np.where(np.arange(nsl) < nrs, 3.0, 2.65), np.full(nsl, 1.25), sang), crs=CRS)

    # ---- renovation works: trenches along streets ---------------------------
    nw = cnt["renovation_work"]
    st = rng.integers(0, g.k, nw)
    hor = rng.random(nw) < 0.5
    off = rng.uniform(-12.0, 12.0, nw)
    al = rng.uniform(0, g.side, nw)
    wx = np.where(hor, g.x0 + al, g.x0 + g.pos[st] + off)
    wy = np.where(hor, g.y0 + g.pos[st] + off, g.y0 + al)
    layers["renovation_work"] = gpd.GeoDataFrame({
        "uid": _uids("W", 0, nw, 6),
        "status": "planned",
        "source": "bench",
        "work_type": rng.choice(np.array(["drainage", "water_supply", "road_paving", "gas", "power"],
                                         dtype=object), nw),
        "excavation_depth_m": np.round(rng.choice([0.0, 0.5, 1.0, 1.5, 2.5], nw), 2),
    }, geometry=_rects(wx, wy, rng.uniform(10.0, 60.0, nw), rng.uniform(0.6, 1.5, nw),
                       np.where(hor, 0.0, np.pi / 2)), crs=CRS)

    # ---- write -------------------------------------------------------------
    tmp = path_gpkg[:-5] + ".part.gpkg"
    for p in (tmp, path_gpkg):
        if os.path.exists(p):
            os.unlink(p)
    gpkg.create_project(tmp, crs=CRS)
    written = {}
    for name, df in layers.items():
        t0 = time.perf_counter()
        _write(tmp, name, df)
        written[name] = len(df)
        log(f"  wrote {name}: {len(df):,} in {time.perf_counter() - t0:.1f} s")
    os.replace(tmp, path_gpkg)
    return written


def _write(path, name, df):
    import datetime as dt

    import pyogrio

    df = df.copy()
    df["updated_at"] = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    pyogrio.write_dataframe(df, path, layer=name, driver="GPKG", append=True)
