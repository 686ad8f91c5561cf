"""The demo district: a seeded synthetic old-community district near Wuhan.

``build_demo(out_dir)`` writes ``demo.gpkg`` (every layer of the data model,
styled, with ``demo.qgz`` beside it), ``demo_dem.tif`` (a 1 m DEM) and
``planted.json`` (the conflicts planted on purpose and the decoys that a
careless check would get wrong) into ``out_dir``.

Layout (local metres from the origin ``ORIGIN``, EPSG:4547, x east, y north):
an arterial road along the south edge, a secondary road along the north edge,
a branch street through the middle (x 288-312), side streets west and east,
four old communities (two west, two east of the branch street) with two
service lanes each, and a planned road (规划一路) opened through the east
block between the two east communities.

Background design rules, so that the checks find essentially only what is
planted (standards.md / tools/rules.yaml):

* parallel pipes of different classes >= 2.5 m wall to wall;
* pressure pipes and cables: outer top 1.3 m below ground, bottom <= 1.75 m;
  gravity drainage: outer top >= 2.4 m (invert depths), so every crossing of
  drainage with another class has >= 0.65 m between the walls; non-drainage
  pipes never cross each other;
* the sewers are then graded (Network.grade): each network drains out of the
  lower end of its largest pipe, every pipe falls towards it at SEWER_FALL
  for its size, a manhole's outgoing pipe leaves at or below the lowest
  pipe entering it, and where two sewers cross the lower one is deepened to
  pass under the other with SEWER_CROSSING_GAP plus their survey
  uncertainty. Depths only grow, so the profile tool shows no reverse slope;
* trees >= 2.5 m from every pipe's outer edge, buildings >= 3.5 m from pipes;
* manholes, valves and handholes never under a stall, hydrants >= 8 m from
  stalls; stalls and trees kept 0.3 m+ outside fire lanes;
* background works dig at most 0.4 m.

The planted cases stand in courtyards and open spaces, each >= 3 m from
everything else. Their expected findings (pair order as rules.md says) are
computed from the built features (uids looked up by tag), not typed by hand.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import shutil
import tempfile

import numpy as np

DEFAULT_SEED = 20261129
CRS = "EPSG:4547"
ORIGIN = (530000.0, 3380000.0)      # local (0, 0): south-west corner of the district
EXTENT = (600.0, 500.0)             # district size (m)
DEM_MARGIN = 20.0                   # DEM border beyond the district (m)
DEM_CELL = 1.0                      # DEM cell (m)
DEM_NODATA = -9999.0
SURVEY_DATE = "2025-04-18"
#: Design fall of the demo's background gravity sewers (m per m) by diameter
#: (mm, the largest key not above the pipe's). A design choice of the demo,
#: not a rule the checks apply: GB 50014-2021 table 5.2.10 gives 0.003 as the
#: minimum for DN300 sewers and 0.01 for DN200 gully connections (medium:
#: not in standards.md); the larger mains fall at less, as their higher
#: velocities allow.
SEWER_FALL = {0: 0.01, 300: 0.003, 400: 0.002, 600: 0.0015}
#: Clear gap the demo keeps where two background sewers cross (m, wall to
#: wall): the module doc's 0.65 m, well above the 0.15 m of GB 50289
#: (standards.md §3), plus both pipes' vertical survey uncertainty
#: (rules.yaml general.acc_v_per_depth x depth), so that no crossing is even
#: a 'possible' finding.
SEWER_CROSSING_GAP = 0.65
SOURCE = "demo"

OWNERS = {
    "JS": "武汉水务集团",
    "PS": "武汉市城市排水发展有限公司",
    "RQ": "武汉燃气集团",
    "RL": "武汉热力有限公司",
    "DL": "国网武汉供电公司",
    "TX": "中国电信武汉分公司",
    "GY": "武汉华中医用气体有限公司",
    "QT": None,
}
TX_OWNERS = ["中国电信武汉分公司", "中国移动武汉分公司", "中国联通武汉分公司", "湖北广电网络武汉分公司"]

#: Point-number prefix (物探点号) per subclass.
PREFIX = {"JP": "JS", "XS": "JS", "YS": "YS", "WS": "WS", "HS": "WS", "TR": "RQ", "RS": "RL",
          "GD": "DL", "LD": "LD", "DH": "TX", "XX": "TX", "DS": "TX", "YQ": "GY", "BM": "BM"}
UTILITY = {"JP": "JS", "XS": "JS", "YS": "PS", "WS": "PS", "HS": "PS", "TR": "RQ", "RS": "RL",
           "GD": "DL", "LD": "DL", "DH": "TX", "XX": "TX", "DS": "TX", "YQ": "GY", "BM": "QT"}

COMMUNITIES = [
    # code, name, neighbourhood, box (x0, y0, x1, y1), lanes (y), side, year, batch, phase, works
    ("DT", "东亭小区", "东亭社区", (30, 40, 288, 250), (95, 185), "W", 2025, "2025年第一批",
     "construction", "rain_sewer_separation,water_supply,gas,road_paving,greening,parking,lighting"),
    ("SG", "水果湖小区", "水果湖社区", (30, 250, 288, 470), (305, 405), "W", 2025, "2025年第一批",
     "design", "drainage,power,telecom,road_paving,parking,ev_charging,facade"),
    ("CL", "翠柳村小区", "翠柳社区", (312, 40, 580, 245), (95, 185), "E", 2026, "2026年第二批",
     "planned", "rain_sewer_separation,water_supply,road_paving,greening,fitness,facade"),
    ("HT", "宏图小区", "翠柳社区", (312, 265, 580, 470), (320, 415), "E", 2026, "2026年第二批",
     "planned", "drainage,gas,heating,road_paving,parking,ev_charging,lighting"),
]
BUILDING_X = {"W": [(65, 120), (135, 190), (205, 260)], "E": [(330, 385), (400, 455), (470, 525)]}
TREE_SPECIES = [("香樟", 4.0, 6.0, 18, 35), ("桂花", 2.5, 3.5, 10, 18), ("银杏", 3.0, 4.5, 15, 28),
                ("女贞", 3.0, 4.0, 12, 22), ("栾树", 3.5, 5.0, 14, 26)]
STREET_SPECIES = [("二球悬铃木", 5.0, 7.0, 25, 40), ("香樟", 4.5, 6.0, 20, 35)]
SHRUB_SPECIES = [("红叶石楠", 1.0, 1.5), ("海桐", 1.0, 1.4), ("杜鹃", 0.8, 1.2)]


# ---------------------------------------------------------------------------
# small geometry helpers (local coordinates)
# ---------------------------------------------------------------------------
def _rect(x0, y0, x1, y1):
    from shapely.geometry import box

    return box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _stations(a, b, spacing, phase=0.0):
    """Distances along a->b at ``phase + k*spacing`` strictly inside (0, L)."""
    L = math.dist(a, b)
    out = []
    s = phase if phase > 0 else spacing
    while s < L - 1e-6:
        out.append(s)
        s += spacing
    return out


def _cm_up(depth):
    """A depth rounded up to the centimetre (float noise below 1e-6 cm ignored)."""
    return math.ceil(round(depth * 100, 6)) / 100


def _along(a, b, s):
    L = math.dist(a, b)
    t = s / L
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


# ---------------------------------------------------------------------------
# the pipe network
# ---------------------------------------------------------------------------
class Network:
    """Pipe points and segments, built run by run, numbered at the end."""

    def __init__(self, rng):
        self.rng = rng
        self.points = []        # dicts
        self.index = {}         # (prefix, x, y) -> point index
        self.segments = []      # dicts

    def point(self, prefix, xy, attrs):
        key = (prefix, round(xy[0], 3), round(xy[1], 3))
        i = self.index.get(key)
        if i is None:
            i = len(self.points)
            self.index[key] = i
            p = dict(attrs)
            p["xy"] = (float(xy[0]), float(xy[1]))
            p["prefix"] = prefix
            self.points.append(p)
        else:
            p = self.points[i]
            for k, v in attrs.items():  # an appurtenance or feature given later wins
                if k in ("appurtenance", "cover_size", "feature") and v not in (None, "none"):
                    p[k] = v
        return i

    def run(self, subclass, verts, *, depth, size=None, status="existing", tag=None,
            seg=None, pt=None, ground=True, seg_depth=True, depth_ref=None):
        """Add a pipe run through ``verts``: [(x, y) or (x, y, {point attrs})...].

        ``depth``: one number or a list per vertex (m, to ``depth_ref``);
        None = unknown. ``size``: dict of diameter_mm / width_mm / height_mm.
        ``ground=False``: the points carry no ground elevation (DEM needed);
        ``seg_depth=False``: the segments carry no depth (the points' depths
        are the only ones).
        """
        utility = UTILITY[subclass]
        prefix = PREFIX[subclass]
        ref = depth_ref or ("invert" if utility == "PS" else "top")
        n = len(verts)
        depths = depth if isinstance(depth, (list, tuple)) else [depth] * n
        idx = []
        for v, d in zip(verts, depths):
            extra = v[2] if len(v) > 2 else {}
            attrs = {"utility": utility, "subclass": subclass, "status": status,
                     "depth": None if d is None else round(float(d), 2),
                     "appurtenance": "none", "cover_size": None, "ground": ground,
                     "owner": (seg or {}).get("owner", OWNERS[utility])}
            attrs.update(pt or {})
            attrs.update(extra)
            idx.append(self.point(prefix, v[:2], attrs))
        for k in range(n - 1):
            s = {"utility": utility, "subclass": subclass, "start": idx[k], "end": idx[k + 1],
                 "status": status, "depth_ref": ref, "tag": tag,
                 "depth_start": None if (depths[k] is None or not seg_depth) else round(float(depths[k]), 2),
                 "depth_end": None if (depths[k + 1] is None or not seg_depth) else round(float(depths[k + 1]), 2),
                 "owner": OWNERS[utility]}
            s.update(size or {})
            s.update(seg or {})
            self.segments.append(s)
        return idx

    def straight(self, subclass, a, b, *, every=None, app=None, cover=None, phase=None,
                 inserts=(), avoid=(), **kw):
        """A straight run a->b with an appurtenance every ``every`` m (and at
        ``inserts`` = [(distance, {attrs})...]). ``avoid``: distances along the
        run where other pipes cross; no vertex is put within 8 m of them."""
        marks = {}
        todo = []
        if every:
            todo = [(s, {"appurtenance": app, "cover_size": cover})
                    for s in _stations(a, b, every, phase if phase is not None else every)]
        for s, attrs in list(todo) + list(inserts):
            for c in avoid:
                if abs(s - c) < 8.0:
                    s = c + (8.0 if s >= c else -8.0)
            marks[round(s, 3)] = attrs
        verts = [tuple(a) + ({},) if len(a) == 2 else a]
        for s in sorted(marks):
            verts.append(_along(a[:2], b[:2], s) + (marks[s],))
        verts.append(tuple(b) + ({},) if len(b) == 2 else b)
        return self.run(subclass, verts, **kw)

    # -- gravity sewers ----------------------------------------------------
    def grade(self, dem, segments):
        """Deepen the gravity sewers ``segments`` (indices) so that each run falls
        towards its outfall at SEWER_FALL, and no pipe leaves a manhole above
        the inverts that enter it. Each network (connected segments of one
        subclass) drains out of the lower end of its largest pipe; depths (to the
        invert) only ever grow from what the runs were laid at, so the demo's
        clearance design (module doc) still holds."""
        from collections import defaultdict, deque

        nets = defaultdict(list)
        for k in segments:
            nets[self.segments[k]["subclass"]].append(k)
        for ks in nets.values():
            adj = defaultdict(list)
            for k in ks:
                s = self.segments[k]
                adj[s["start"]].append(k)
                adj[s["end"]].append(k)
            nodes = list(adj)
            xy = np.array([self.points[i]["xy"] for i in nodes])
            ground = dict(zip(nodes, np.round(dem.sample(xy[:, 0], xy[:, 1]), 3)))
            size = {i: max(self.segments[k].get("diameter_mm") or 0 for k in adj[i]) for i in nodes}
            done = set()
            for root in sorted(nodes, key=lambda i: (len(adj[i]) != 1, -size[i], ground[i])):
                if root in done:
                    continue
                # flow: every segment points towards the outfall ``root`` (a tree: checked)
                hops, order, down = {root: 0}, [], {}
                queue = deque([root])
                while queue:
                    v = queue.popleft()
                    for k in adj[v]:
                        s = self.segments[k]
                        u = s["end"] if s["start"] == v else s["start"]
                        if u in hops:
                            if k not in down:
                                raise AssertionError(f"demo sewer network has a loop at segment {k}")
                            continue
                        hops[u] = hops[v] + 1
                        down[k] = (u, v)
                        order.append(k)
                        queue.append(u)
                done.update(hops)
                inv_end = {}      # node -> lowest invert of a pipe entering it
                for k in reversed(order):     # upstream first
                    s = self.segments[k]
                    u, v = down[k]
                    fwd = s["start"] == u
                    d_u, d_v = (s["depth_start"], s["depth_end"]) if fwd else (s["depth_end"], s["depth_start"])
                    fall = SEWER_FALL[max(dn for dn in SEWER_FALL if dn <= (s.get("diameter_mm") or 0))]
                    length = math.dist(self.points[u]["xy"], self.points[v]["xy"])
                    inv_u = min(ground[u] - d_u, inv_end.get(u, math.inf))
                    d_u = _cm_up(ground[u] - inv_u)
                    inv_u = ground[u] - d_u
                    d_v = max(d_v, _cm_up(ground[v] - (inv_u - fall * length)))
                    inv_v = ground[v] - d_v
                    inv_end[v] = min(inv_end.get(v, math.inf), inv_v)
                    s["depth_start"], s["depth_end"] = (d_u, d_v) if fwd else (d_v, d_u)
                    for i, d in ((u, d_u), (v, d_v)):   # a manhole reaches its lowest pipe
                        p = self.points[i]
                        if p.get("depth") is not None and d > p["depth"]:
                            p["depth"] = d

    def undercross(self, dem, segments):
        """Where two of the sewers ``segments`` cross closer than
        SEWER_CROSSING_GAP (plus their survey uncertainty), deepen both ends of
        the lower one by the shortfall so that it passes under the other
        (grade() then carries that downstream). True when a depth changed."""
        segs = [self.segments[k] for k in segments]
        a = np.array([self.points[s["start"]]["xy"] for s in segs])
        b = np.array([self.points[s["end"]]["xy"] for s in segs])
        ends = np.vstack([a, b])
        g = np.round(dem.sample(ends[:, 0], ends[:, 1]), 3)
        inv = np.column_stack([g[:len(segs)] - [s["depth_start"] for s in segs],
                               g[len(segs):] - [s["depth_end"] for s in segs]])
        dia = np.array([(s.get("diameter_mm") or 0) / 1000.0 for s in segs])
        from .ruleset import load_rules

        per_depth = float(load_rules().value("general", "acc_v_per_depth"))
        d = b - a
        changed = False
        for i in range(len(segs)):
            for j in range(i + 1, len(segs)):
                si, sj = segs[i], segs[j]
                if {si["start"], si["end"]} & {sj["start"], sj["end"]}:
                    continue            # joined at a manhole, not crossing
                den = d[i, 0] * d[j, 1] - d[i, 1] * d[j, 0]
                if abs(den) < 1e-9:
                    continue
                w = a[j] - a[i]
                t = (w[0] * d[j, 1] - w[1] * d[j, 0]) / den
                u = (w[0] * d[i, 1] - w[1] * d[i, 0]) / den
                if not (0 < t < 1 and 0 < u < 1):
                    continue
                zi = inv[i, 0] + t * (inv[i, 1] - inv[i, 0])
                zj = inv[j, 0] + u * (inv[j, 1] - inv[j, 0])
                lo, z_lo, z_hi = (i, zi, zj) if zi <= zj else (j, zj, zi)
                # depth of each centre there; the lower pipe's invert must lie ``need`` or below
                gi, gj = g[i] + t * (g[len(segs) + i] - g[i]), g[j] + u * (g[len(segs) + j] - g[j])
                h = (gi - zi - dia[i] / 2) + (gj - zj - dia[j] / 2)
                need = z_hi - SEWER_CROSSING_GAP - per_depth * (h + 1.0) - dia[lo]
                if z_lo <= need + 1e-6:
                    continue
                s = segs[lo]
                drop = z_lo - need
                # deepen both ends by the shortfall: the segment keeps its fall and passes under
                s["depth_start"] = _cm_up(s["depth_start"] + drop)
                s["depth_end"] = _cm_up(s["depth_end"] + drop)
                inv[lo] -= drop
                changed = True
        return changed

    # -- numbering, features ------------------------------------------------
    def finish(self):
        counters = {}
        for p in self.points:
            n = counters.get(p["prefix"], 0) + 1
            counters[p["prefix"]] = n
            p["uid"] = f"{p['prefix']}{n:04d}"
        nb = [[] for _ in self.points]
        for s in self.segments:
            nb[s["start"]].append(s["end"])
            nb[s["end"]].append(s["start"])
            s["uid"] = f"{self.points[s['start']]['uid']}-{self.points[s['end']]['uid']}"
        for i, p in enumerate(self.points):
            if p.get("feature"):
                continue
            deg = len(nb[i])
            if deg <= 1:
                p["feature"] = "end"
            elif deg == 2:
                a, b = self.points[nb[i][0]]["xy"], self.points[nb[i][1]]["xy"]
                v1 = (a[0] - p["xy"][0], a[1] - p["xy"][1])
                v2 = (b[0] - p["xy"][0], b[1] - p["xy"][1])
                cosang = (v1[0] * v2[0] + v1[1] * v2[1]) / (math.hypot(*v1) * math.hypot(*v2))
                p["feature"] = "straight" if cosang < -0.999 else "bend"
            elif deg == 3:
                p["feature"] = "tee"
            else:
                p["feature"] = "cross"
        uids = [s["uid"] for s in self.segments]
        assert len(set(uids)) == len(uids), "duplicate segment uid"

    def seg_uids(self, tag):
        return [s["uid"] for s in self.segments if s["tag"] == tag]


# ---------------------------------------------------------------------------
# the DEM
# ---------------------------------------------------------------------------
class Dem:
    def __init__(self, rng):
        w, h = EXTENT
        self.x0 = -DEM_MARGIN
        self.y1 = h + DEM_MARGIN
        self.nx = int(round((w + 2 * DEM_MARGIN) / DEM_CELL))
        self.ny = int(round((h + 2 * DEM_MARGIN) / DEM_CELL))
        xc = self.x0 + (np.arange(self.nx) + 0.5) * DEM_CELL
        yc = self.y1 - (np.arange(self.ny) + 0.5) * DEM_CELL
        X, Y = np.meshgrid(xc, yc)
        z = 24.6 - 0.0025 * X + 0.0018 * Y           # gentle slope to the south-east lakes
        for _ in range(4):                             # smooth undulation, +-0.15 m
            kx, ky = rng.uniform(-1, 1, 2) * 2 * math.pi / rng.uniform(90, 220)
            z = z + rng.uniform(0.02, 0.05) * np.sin(kx * X + ky * Y + rng.uniform(0, 2 * math.pi))
        z = z + rng.normal(0.0, 0.005, z.shape)        # survey noise
        self.z = z.astype(np.float32)

    def sample(self, x, y):
        """Bilinear ground elevation at local coordinates."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        fx = (x - self.x0) / DEM_CELL - 0.5
        fy = (self.y1 - y) / DEM_CELL - 0.5
        i0 = np.clip(np.floor(fx).astype(int), 0, self.nx - 2)
        j0 = np.clip(np.floor(fy).astype(int), 0, self.ny - 2)
        tx = np.clip(fx - i0, 0, 1)
        ty = np.clip(fy - j0, 0, 1)
        z = self.z.astype(float)
        return ((1 - tx) * (1 - ty) * z[j0, i0] + tx * (1 - ty) * z[j0, i0 + 1]
                + (1 - tx) * ty * z[j0 + 1, i0] + tx * ty * z[j0 + 1, i0 + 1])

    def write(self, path):
        import rasterio
        from affine import Affine

        # built directly: some affine releases cannot multiply (from_origin fails)
        transform = Affine(DEM_CELL, 0.0, ORIGIN[0] + self.x0, 0.0, -DEM_CELL, ORIGIN[1] + self.y1)
        with rasterio.open(path, "w", driver="GTiff", width=self.nx, height=self.ny, count=1,
                           dtype="float32", crs=CRS, transform=transform, nodata=DEM_NODATA,
                           compress="deflate", tiled=True, blockxsize=256, blockysize=256) as ds:
            ds.write(self.z, 1)
            ds.update_tags(UNITS="m", VERTICAL_DATUM="1985 National Height Datum")


# ---------------------------------------------------------------------------
# the district
# ---------------------------------------------------------------------------
class District:
    def __init__(self, seed, dem):
        self.rng = np.random.default_rng(seed)
        self.dem = dem          # the ground the sewers are graded to
        self.net = Network(self.rng)
        self.rows = {name: [] for name in ("planned_road", "renovation_area", "renovation_work",
                                           "tree", "planting_area", "parking_stall", "fire_lane",
                                           "building")}
        self.counters = {}
        self.planted = []
        self.decoys = []
        self._stall_no = {}

    # -- generic adders -------------------------------------------------------
    def _uid(self, prefix, width=3):
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}{n:0{width}d}"

    def add(self, layer, geom, tag=None, **attrs):
        attrs.setdefault("status", "existing")
        attrs["geometry"] = geom
        attrs["tag"] = tag
        self.rows[layer].append(attrs)
        return attrs

    def tree(self, xy, kind="tree", species=None, status="existing", tag=None, project=None,
             crown=None, street=False):
        r = self.rng
        if kind == "tree":
            sp, c0, c1, d0, d1 = (STREET_SPECIES if street else TREE_SPECIES)[
                int(r.integers(0, len(STREET_SPECIES if street else TREE_SPECIES)))]
            if species:
                sp = species
            crown = crown if crown is not None else round(float(r.uniform(c0, c1)), 1)
            dbh = round(float(r.uniform(d0, d1)), 0)
        else:
            sp, c0, c1 = SHRUB_SPECIES[int(r.integers(0, len(SHRUB_SPECIES)))]
            sp = species or sp
            crown = crown if crown is not None else round(float(r.uniform(c0, c1)), 1)
            dbh = None
        from shapely.geometry import Point

        return self.add("tree", Point(xy), tag=tag, uid=self._uid("SM", 4), kind=kind,
                        species=sp, crown_m=crown, dbh_cm=dbh, status=status, project=project)

    def stall(self, geom, community, kind="perpendicular", w=2.5, length=5.3, angle=90.0,
              tag=None, status="existing", group="A"):
        key = (community, group)
        n = self._stall_no.get(key, 0) + 1
        self._stall_no[key] = n
        return self.add("parking_stall", geom, tag=tag, uid=self._uid("CW", 4),
                        stall_no=f"{community}-{group}{n:03d}", stall_type=kind, width_m=w,
                        length_m=length, angle_deg=angle, community=COMM_NAME.get(community),
                        status=status)

    def building(self, geom, community, name, floors=None, found=None, tag=None):
        r = self.rng
        floors = floors if floors is not None else int(r.integers(4, 8))
        found = found if found is not None else round(float(r.uniform(1.5, 3.0)), 1)
        return self.add("building", geom, tag=tag, uid=self._uid("JZ", 3), name=name,
                        floors=floors, foundation_depth_m=found, community=COMM_NAME.get(community))

    def fire_lane(self, geom, community, name, required=4.0, tag=None):
        return self.add("fire_lane", geom, tag=tag, uid=self._uid("XF", 3), name=name,
                        required_width_m=required, community=COMM_NAME.get(community))

    def work(self, geom, area_uid, work_type, depth, tag=None, status="planned"):
        return self.add("renovation_work", geom, tag=tag, uid=self._uid("ZY", 3), area_uid=area_uid,
                        work_type=work_type, excavation_depth_m=depth, status=status)

    def road(self, code, name, road_class, width, parts, status="existing"):
        """parts: [(part, rect, suffix)]; adds the whole red-line polygon too."""
        from shapely.ops import unary_union

        out = {}
        for part, geom, suffix in parts:
            out[suffix] = self.add("planned_road", geom, uid=f"{code}-{suffix}", name=name,
                                   road_class=road_class, part=part, red_line_width_m=width,
                                   status=status)
        whole = unary_union([g for _, g, _ in parts]).envelope
        out["RL"] = self.add("planned_road", whole, uid=f"{code}-RL", name=name,
                             road_class=road_class, part="whole", red_line_width_m=width,
                             status=status)
        return out

    # -- build everything ----------------------------------------------------
    def build(self):
        self.roads()
        self.street_pipes()
        for c in COMMUNITIES:
            self.community(*c)
        self.street_greening()
        background = [k for k, s in enumerate(self.net.segments)
                      if s["utility"] == "PS" and s["status"] != "abandoned"
                      and s["depth_start"] is not None and s["depth_end"] is not None]
        for _ in range(5):
            self.net.grade(self.dem, background)
            if not self.net.undercross(self.dem, background):
                break
        else:
            raise AssertionError("demo sewers: crossings still too close after grading")
        self.scenes()
        self.net.finish()

    # -- roads ------------------------------------------------------------------
    def roads(self):
        W, H = EXTENT
        R = _rect
        self.road("HP", "和平大道", "arterial", 40.0, [
            ("sidewalk", R(0, 0, W, 5), "SW-S"), ("non_motor", R(0, 5, W, 8.5), "NM-S"),
            ("green_belt", R(0, 8.5, W, 10.5), "GB-S"), ("carriageway", R(0, 10.5, W, 29.5), "CW"),
            ("green_belt", R(0, 29.5, W, 31.5), "GB-N"), ("non_motor", R(0, 31.5, W, 35), "NM-N"),
            ("sidewalk", R(0, 35, W, 40), "SW-N")])
        self.road("ZB", "中北路", "secondary", 30.0, [
            ("sidewalk", R(0, 470, W, 475), "SW-S"), ("carriageway", R(0, 475, W, 495), "CW"),
            ("sidewalk", R(0, 495, W, 500), "SW-N")])
        self.road("DTL", "东亭路", "secondary", 30.0, [
            ("sidewalk", R(0, 40, 5, 470), "SW-W"), ("carriageway", R(5, 40, 25, 470), "CW"),
            ("sidewalk", R(25, 40, 30, 470), "SW-E")])
        self.road("CLJ", "翠柳街", "branch", 24.0, [
            ("sidewalk", R(288, 40, 292, 470), "SW-W"), ("carriageway", R(292, 40, 308, 470), "CW"),
            ("sidewalk", R(308, 40, 312, 470), "SW-E")])
        self.road("SGH", "水果湖路", "branch", 20.0, [
            ("sidewalk", R(580, 40, 583, 470), "SW-W"), ("carriageway", R(583, 40, 597, 470), "CW"),
            ("sidewalk", R(597, 40, 600, 470), "SW-E")])
        # the planned road through the east block (打通断头路, first phase to x = 520)
        self.planned_road = self.road("GH1", "规划一路", "branch", 20.0, [
            ("sidewalk", R(312, 245, 520, 248), "SW-S"), ("carriageway", R(312, 248, 520, 262), "CW"),
            ("sidewalk", R(312, 262, 520, 265), "SW-N")], status="planned")

    # -- street mains -----------------------------------------------------------
    def street_pipes(self):
        net = self.net
        W = EXTENT[0]
        x0, x1 = 8.0, W - 8.0
        # 和平大道: north half carries everything (offsets from the north red line y = 40)
        net.straight("GD", (x0, 39.0), (x1, 39.0), every=80, app="handhole", cover=0.6, depth=1.3,
                     size={"width_mm": 500, "height_mm": 300}, tag="HP-DL",
                     seg={"burial": "GK", "material": "PVC管块", "voltage_kv": 10.0, "cable_count": 4,
                          "build_year": 2008})
        net.straight("DH", (x0, 36.0), (x1, 36.0), every=60, app="handhole", cover=0.6, depth=1.3,
                     phase=30, size={"width_mm": 400, "height_mm": 250}, tag="HP-TX",
                     seg={"burial": "GK", "material": "PVC", "holes_total": 12, "holes_used": 7,
                          "build_year": 2010})
        net.straight("TR", (x0, 33.2), (x1, 33.2), every=150, app="valve_chamber", cover=1.0,
                     depth=1.3, size={"diameter_mm": 200}, tag="HP-RQ",
                     seg={"burial": "ZM", "material": "钢", "pressure_mpa": 0.2, "build_year": 2006})
        net.straight("JP", (x0, 30.4), (x1, 30.4), depth=1.3, size={"diameter_mm": 300}, tag="HP-JS",
                     inserts=[(s, {"appurtenance": "hydrant"}) for s in (50, 150, 250, 350, 450, 550)]
                     + [(s, {"appurtenance": "valve_chamber", "cover_size": 1.2}) for s in (100, 400)],
                     seg={"burial": "ZM", "material": "球墨铸铁", "pressure_mpa": 0.3,
                          "build_year": 2004})
        net.straight("RS", (120.0, 27.5), (480.0, 27.5), every=120, app="valve_chamber", cover=1.2,
                     depth=1.3, size={"diameter_mm": 450}, tag="HP-RL",
                     seg={"burial": "ZM", "material": "钢(保温)", "pressure_mpa": 1.0,
                          "build_year": 2019})
        # drainage mains: junctions where the branch street mains join
        ys_pts = sorted(set([x0, x1, 300.4] + [x for x in (x0 + 35 * k for k in range(1, 17))
                                                 if abs(x - 300.4) >= 8]))
        net.run("YS", [(x, 24.2, {"appurtenance": "manhole", "cover_size": 0.7}) for x in ys_pts],
                depth=3.2, size={"diameter_mm": 800}, tag="HP-YS",
                seg={"burial": "ZM", "material": "钢筋混凝土", "build_year": 2004})
        ws_pts = sorted(set([x0, x1, 303.4] + [x for x in (x0 + 17.5 + 35 * k for k in range(0, 17))
                                                 if abs(x - 303.4) >= 8]))
        net.run("WS", [(x, 20.8, {"appurtenance": "manhole", "cover_size": 0.7}) for x in ws_pts],
                depth=4.6, size={"diameter_mm": 600}, tag="HP-WS",
                seg={"burial": "ZM", "material": "钢筋混凝土", "build_year": 2004})

        # 中北路: south half; its survey lacked elevations (ground from the DEM)
        y = 470.0
        net.straight("GD", (x0, y + 1.0), (x1, y + 1.0), every=80, app="handhole", cover=0.6,
                     depth=1.3, size={"width_mm": 500, "height_mm": 300}, ground=False, tag="ZB-DL",
                     seg={"burial": "GK", "material": "PVC管块", "voltage_kv": 10.0, "cable_count": 3,
                          "build_year": 2012})
        net.straight("XX", (x0, y + 4.0), (x1, y + 4.0), every=60, app="handhole", cover=0.6,
                     depth=1.3, phase=30, size={"width_mm": 400, "height_mm": 250}, ground=False,
                     tag="ZB-TX", seg={"burial": "GK", "material": "HDPE", "holes_total": 9,
                                       "holes_used": 4, "owner": TX_OWNERS[1], "build_year": 2014})
        net.straight("JP", (x0, y + 6.9), (x1, y + 6.9), depth=1.3, size={"diameter_mm": 300},
                     ground=False, tag="ZB-JS",
                     inserts=[(s, {"appurtenance": "hydrant"}) for s in (60, 180, 300, 420, 540)]
                     + [(s, {"appurtenance": "valve_chamber", "cover_size": 1.2}) for s in (240,)],
                     seg={"burial": "ZM", "material": "球墨铸铁", "pressure_mpa": 0.3,
                          "build_year": 2012})
        net.straight("WS", (x0, y + 9.9), (x1, y + 9.9), every=36, app="manhole", cover=0.7,
                     depth=3.0, size={"diameter_mm": 500}, ground=False, tag="ZB-WS",
                     seg={"burial": "ZM", "material": "HDPE双壁波纹管", "build_year": 2012})
        # medical oxygen line: the segments carry no depth, only the points do
        net.straight("YQ", (300.0, y + 12.8), (x1, y + 12.8), every=70, app="valve", cover=0.3,
                     depth=1.3, size={"diameter_mm": 100}, ground=False, seg_depth=False,
                     tag="ZB-GY", seg={"burial": "ZM", "material": "不锈钢", "pressure_mpa": 0.6,
                                        "build_year": 2016})
        # an abandoned industrial line beside the water main (decoy: abandoned)
        net.straight("YQ", (40.0, y + 7.5), (200.0, y + 7.5), depth=1.0, size={"diameter_mm": 80},
                     status="abandoned", tag="ZB-GY-OLD",
                     seg={"burial": "ZM", "material": "钢", "build_year": 1988,
                          "note": "原化工厂供气管，已废弃"})

        # 翠柳街: mains along the west half (x = 288 + offset); drainage joins 和平大道
        self.jx = {"YS": 300.4, "WS": 303.4}
        self.branch_y = {"YS": [], "WS": []}
        for c in COMMUNITIES:
            for yc in c[4]:
                self.branch_y["YS"].append(yc + 1.5)
                self.branch_y["WS"].append(yc - 1.5)
        self.lane_y = sorted({yc for c in COMMUNITIES for yc in c[4]})
        ys, ye = 43.5, 462.0
        clj = dict(avoid=[y - ys for y in self.lane_y])
        net.straight("GD", (289.0, ys), (289.0, ye), every=70, app="handhole", cover=0.6, depth=1.3,
                     size={"width_mm": 500, "height_mm": 300}, tag="CLJ-DL", **clj,
                     seg={"burial": "GK", "material": "PVC管块", "voltage_kv": 10.0, "cable_count": 2,
                          "build_year": 2009})
        net.straight("DS", (292.0, ys), (292.0, ye), every=60, app="handhole", cover=0.6, depth=1.3,
                     phase=35, size={"width_mm": 400, "height_mm": 250}, tag="CLJ-TX", **clj,
                     seg={"burial": "GK", "material": "PVC", "holes_total": 6, "holes_used": 3,
                          "owner": TX_OWNERS[3], "build_year": 2011})
        net.straight("TR", (294.8, ys), (294.8, ye), every=140, app="valve", cover=0.4, depth=1.3,
                     size={"diameter_mm": 150}, tag="CLJ-RQ", **clj,
                     seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.2, "build_year": 2010})
        net.straight("JP", (297.5, ys), (297.5, ye), depth=1.3, size={"diameter_mm": 200}, tag="CLJ-JS", **clj,
                     inserts=[(s, {"appurtenance": "hydrant"}) for s in (40, 140, 240, 340)]
                     + [(s, {"appurtenance": "valve_chamber", "cover_size": 1.0}) for s in (190,)],
                     seg={"burial": "ZM", "material": "球墨铸铁", "pressure_mpa": 0.3,
                          "build_year": 2009})
        for sub, x, d, dia in (("YS", 300.4, 3.0, 600), ("WS", 303.4, 4.4, 400)):
            grid = [g for g in (40.0 + 36 * k for k in range(1, 12))
                    if min(abs(g - b) for b in self.lane_y) >= 8.0]
            ys_list = sorted(set([24.2 if sub == "YS" else 20.8, ye] + self.branch_y[sub] + grid))
            verts = [(x, yy, {"appurtenance": "manhole", "cover_size": 0.7}) for yy in ys_list]
            net.run(sub, verts, depth=[3.2 if sub == "YS" else 4.6] + [d] * (len(verts) - 1),
                    size={"diameter_mm": dia}, tag=f"CLJ-{sub}",
                    seg={"burial": "ZM", "material": "钢筋混凝土", "build_year": 2009})
        # parallel stalls along the east kerb of 翠柳街
        for y0 in np.arange(60.0, 450.0, 6.0):
            if any(abs(y0 + 3 - yc) < 16 for c in COMMUNITIES for yc in c[4]) or 232 < y0 < 278:
                continue
            self.stall(_rect(305.5, y0, 308.0, y0 + 6.0), "CLJ", kind="parallel", w=2.5, length=6.0,
                       angle=0.0, group="L")

    # -- one community ----------------------------------------------------------
    def community(self, code, name, hood, box, lanes, side, year, batch, phase, works):
        from shapely.geometry import Point

        r = self.rng
        net = self.net
        x0, y0, x1, y1 = box
        area_uid = f"GZ-{code}"
        nb = 2 * len(lanes) * 3
        self.add("renovation_area", _rect(*box), uid=area_uid, community=name, neighbourhood=hood,
                 year=year, batch=batch, buildings=nb, households=int(nb * r.integers(36, 72)),
                 floor_area_m2=round(float(nb * r.uniform(2600, 4200)), 0), works=works, phase=phase,
                 status="planned")
        west = side == "W"
        lane_x0, lane_x1 = (45.0, 288.0) if west else (312.0, 575.0)
        px0, px1 = (60.0, 281.0) if west else (318.0, 560.0)        # shallow pipes
        groups = ([64 + 26 * k for k in range(8)] if west else [322 + 26 * k for k in range(9)])
        gaps = [g + 23 for g in groups[:-1]]                          # gap centres
        bx = BUILDING_X[side]
        services = [(a + b) / 2 for a, b in bx]
        planned = code == "HT"
        nbld = 0
        for li, yc in enumerate(lanes):
            lane_tag = f"{code}-L{li + 1}"
            # fire lane = the lane, 6 m
            self.fire_lane(_rect(lane_x0, yc - 3, lane_x1, yc + 3), code, f"{name}{li + 1}号消防通道",
                           tag=lane_tag)
            self.work(_rect(lane_x0, yc - 3, lane_x1, yc + 3), area_uid, "road_paving", 0.3)
            # buildings, two rows
            for row, (ya, yb) in enumerate(((yc - 25.5, yc - 13.5), (yc + 13.5, yc + 25.5))):
                for a, b in bx:
                    nbld += 1
                    self.building(_rect(a, ya, b, yb), code, f"{name}{nbld}栋")
            # stalls (perpendicular, rows of 8) and their repaving
            for sgn in (1, -1):
                ya, yb = sorted((yc + sgn * 3.3, yc + sgn * 8.6))
                for g in groups:
                    for k in range(8):
                        kind = "ev_charging" if (k == 0 and sgn == 1 and g == groups[0]) else "perpendicular"
                        self.stall(_rect(g + 2.5 * k, ya, g + 2.5 * (k + 1), yb), code, kind=kind,
                                   group=f"{li + 1}{'N' if sgn > 0 else 'S'}")
                self.work(_rect(groups[0], ya, groups[-1] + 20, yb), area_uid, "parking", 0.3)
            # trees between the stall rows and the buildings, clear of the services
            for sgn in (1, -1):
                x = px0 + 2.0
                while x < px1 - 2:
                    if min(abs(x - s) for s in services) >= 4.0:
                        self.tree((x, yc + sgn * 10.8), status="planned" if planned else "existing",
                                  project="小区绿化提升" if planned else None)
                    x += 9.0
            # pipes under the lane
            st = "planned" if (planned and li == 1) else "existing"
            fx = self.jx
            xs = np.arange(px0, px1 - 1, 35.0)
            # sewage: manholes every 35 m in the lane, then to the branch street main
            ys_ = yc - 1.5
            mh = [(float(x), ys_, {"appurtenance": "manhole", "cover_size": 0.7}) for x in xs]
            verts = (mh if west else mh[::-1]) + [(fx["WS"], ys_, {})]   # upstream -> main
            net.run("WS", verts, depth=4.2, size={"diameter_mm": 300}, status=st, tag=f"{lane_tag}-WS",
                    seg={"burial": "ZM", "material": "HDPE双壁波纹管", "build_year": 1996 if st == "existing" else None})
            # rain: manholes offset, inlets beside some
            yr = yc + 1.5
            xr = np.arange(px0 + 17.5, px1 - 1, 35.0)
            mh = [(float(x), yr, {"appurtenance": "manhole", "cover_size": 0.7}) for x in xr]
            verts = (mh if west else mh[::-1]) + [(fx["YS"], yr, {})]
            net.run("YS", verts, depth=2.7, size={"diameter_mm": 300}, tag=f"{lane_tag}-YS",
                    seg={"burial": "ZM", "material": "HDPE双壁波纹管", "build_year": 1996})
            for x in xr[::2]:
                net.run("YS", [(float(x), yc + 2.2, {"appurtenance": "inlet", "cover_size": 0.5}),
                               (float(x), yr, {})], depth=[1.5, 2.7], size={"diameter_mm": 200},
                        tag=f"{lane_tag}-YS-inlet", seg={"burial": "ZM", "material": "PVC"})
            # telecom (north, under the stalls): handholes in stall gaps
            net.run("DH", [(px0, yc + 4.5, {})] + [(g, yc + 4.5, {"appurtenance": "handhole",
                                                                   "cover_size": 0.5}) for g in gaps[1::3]]
                    + [(px1, yc + 4.5, {})], depth=1.3, size={"width_mm": 300, "height_mm": 200},
                    tag=f"{lane_tag}-TX", seg={"burial": "GM", "material": "PVC", "holes_total": 4,
                                               "holes_used": int(r.integers(1, 4)),
                                               "owner": TX_OWNERS[int(r.integers(0, 3))], "build_year": 2003})
            # water (north-most): valve chamber in a gap, tees for the services, hydrant at the far end
            wy = yc + 7.3
            hyd_x = px1 if west else px1
            verts = [(px0, wy, {"appurtenance": "valve", "cover_size": 0.3} if west else {})]
            marks = {gaps[1]: {"appurtenance": "valve_chamber", "cover_size": 1.0}}
            for s in services:
                marks[s] = {}
            for x in sorted(marks):
                verts.append((x, wy, marks[x]))
            verts.append((hyd_x, wy, {"appurtenance": "hydrant"}))
            net.run("JP", verts, depth=1.3, size={"diameter_mm": 100}, tag=f"{lane_tag}-JS",
                    seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.25, "build_year": 2001})
            for s in services:
                net.run("JP", [(s, wy, {}), (s, yc + 10.0, {"feature": "stub", "appurtenance": "meter",
                                                               "cover_size": 0.4})],
                        depth=1.3, size={"diameter_mm": 50}, tag=f"{lane_tag}-JS-svc", status=st,
                        seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.25})
            # power (south): conduit with handholes in gaps
            net.run("LD" if li == 0 else "GD",
                    [(px0, yc - 4.3, {})] + [(g, yc - 4.3, {"appurtenance": "handhole", "cover_size": 0.5})
                                             for g in gaps[2::3]] + [(px1, yc - 4.3, {})],
                    depth=1.3, size={"diameter_mm": 150}, tag=f"{lane_tag}-DL",
                    seg={"burial": "GM", "material": "PVC保护管", "voltage_kv": 0.4, "cable_count": 2,
                         "build_year": 2005})
            # gas (south-most): valve in a gap, services to the south buildings
            gy = yc - 7.0
            marks = {gaps[0]: {"appurtenance": "valve", "cover_size": 0.3}}
            for s in services:
                marks[s] = {}
            verts = [(px0, gy, {})] + [(x, gy, marks[x]) for x in sorted(marks)] + [(px1, gy, {})]
            net.run("TR", verts, depth=1.3, size={"diameter_mm": 90}, tag=f"{lane_tag}-RQ",
                    seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.005, "build_year": 2002})
            for s in services:
                net.run("TR", [(s, gy, {}), (s, yc - 10.0, {"feature": "stub"})], depth=1.3,
                        size={"diameter_mm": 40}, tag=f"{lane_tag}-RQ-svc", status=st,
                        seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.005})
        # greening of the open spaces: lawn + shrubs, and a pattern bed at the gate
        self.greening(code, box, lanes, area_uid)

    def greening(self, code, box, lanes, area_uid):
        x0, y0, x1, y1 = box
        name = COMM_NAME[code]
        cx = 72.0 if x0 < 100 else 340.0
        # a pattern bed by the gate on the branch street side
        gx = 266.0 if x0 < 100 else 548.0
        for yc in lanes:
            g = _rect(gx, yc + 9.2, gx + 12, yc + 12.4)
            self.add("planting_area", g, uid=self._uid("LH", 3), planting="pattern", species="金叶女贞,红叶石楠",
                     plants_per_m2=25.0, project=f"{name}绿化提升", status="planned")
            self.work(g, area_uid, "greening", 0.4)
        # lawns along the lane tree rows (between stall rows and buildings)
        for yc in lanes:
            for sgn in (1, -1):
                ya, yb = sorted((yc + sgn * 9.0, yc + sgn * 12.6))
                self.add("planting_area", _rect(cx - 8, ya, cx + 180, yb), uid=self._uid("LH", 3),
                         planting="lawn", species="马尼拉草", plants_per_m2=None, project=None)
        # hedge along the community fence on the street side
        hx = (31.0, 33.0) if x0 < 100 else (576.0, 578.0)
        self.add("planting_area", _rect(hx[0], y0 + 12, hx[1], y1 - 12), uid=self._uid("LH", 3),
                 planting="hedge", species="小叶女贞", plants_per_m2=9.0, project=None)

    def street_greening(self):
        W = EXTENT[0]
        # 和平大道: street trees on the south side, shrubs in the south green belt
        for x in np.arange(6.0, W - 4, 8.0):
            self.tree((float(x), 2.5), street=True)
            self.tree((float(x) + 4.0, 9.5), kind="shrub")
        self.add("planting_area", _rect(0, 8.5, W, 10.5), uid=self._uid("LH", 3), planting="hedge",
                 species="海桐,红叶石楠", plants_per_m2=6.0)
        self.add("planting_area", _rect(0, 29.5, W, 31.5), uid=self._uid("LH", 3), planting="lawn",
                 species="马尼拉草")
        # 中北路: north sidewalk; 东亭路: east sidewalk
        for x in np.arange(10.0, W - 6, 9.0):
            self.tree((float(x), 497.5), street=True)
        for y in np.arange(48.0, 464.0, 8.0):
            self.tree((27.5, float(y)), street=True)

    # -- planted cases -------------------------------------------------------------
    def plant(self, rule, layer_a, uid_a, layer_b="", uid_b="", certainty="certain", note="",
              measured=None, required=None):
        if layer_a == layer_b and uid_b and uid_b < uid_a:
            uid_a, uid_b = uid_b, uid_a
        self.planted.append({"rule_id": rule, "layer_a": layer_a, "uid_a": uid_a, "layer_b": layer_b,
                             "uid_b": uid_b, "certainty": certainty, "note": note,
                             "measured": measured, "required": required})

    def decoy(self, rule, layer_a, uid_a, layer_b="", uid_b="", note=""):
        if layer_a == layer_b and uid_b and uid_b < uid_a:
            uid_a, uid_b = uid_b, uid_a
        self.decoys.append({"rule_id": rule, "layer_a": layer_a, "uid_a": uid_a, "layer_b": layer_b,
                            "uid_b": uid_b, "note": note})

    def scenes(self):
        """Place the planted cases (findings are resolved to uids in ``resolve``)."""
        net = self.net
        from shapely import affinity
        from shapely.geometry import Polygon

        # --- 规划一路 (planned road, y 245-265, x 312-520) ---------------------------
        net.straight("JP", (380.0, 238.0), (380.0, 272.0), depth=1.3, size={"diameter_mm": 150},
                     tag="PR-JS", seg={"burial": "ZM", "material": "球墨铸铁", "pressure_mpa": 0.25,
                                       "build_year": 1998})
        a35 = math.radians(35.0)
        net.run("DH", [(455.0, 244.0, {"appurtenance": "handhole", "cover_size": 0.5}),
                       (455.0 + 22.0 / math.tan(a35), 266.0, {"appurtenance": "handhole", "cover_size": 0.5})],
                depth=1.3, size={"width_mm": 300, "height_mm": 200}, tag="PR-TX35",
                seg={"burial": "GM", "material": "PVC", "holes_total": 4, "holes_used": 2, "build_year": 2007})
        a65 = math.radians(65.0)
        net.run("LD", [(420.0, 244.0), (420.0 + 22.0 / math.tan(a65), 266.0)], depth=1.3,
                size={"diameter_mm": 100}, tag="PR-DL65",
                seg={"burial": "GM", "material": "PVC保护管", "voltage_kv": 0.4, "cable_count": 1,
                     "build_year": 2011})
        net.run("YS", [(330.0, 253.0, {"appurtenance": "manhole", "cover_size": 0.7}),
                       (360.0, 253.0, {"appurtenance": "manhole", "cover_size": 0.7})],
                depth=0.85, size={"diameter_mm": 400}, tag="PR-YS-SHALLOW",
                seg={"burial": "ZM", "material": "钢筋混凝土", "build_year": 1992})
        net.run("TR", [(350.0, 235.0), (350.0, 272.0)], depth=1.2, size={"diameter_mm": 100},
                status="abandoned", tag="PR-RQ-OLD", seg={"burial": "ZM", "material": "铸铁",
                                                            "pressure_mpa": 0.005, "build_year": 1985})
        # the diagonal decoy near the road end (x = 520): line x + y = 789.24, 3 m from the corner
        net.run("LD", [(533.0, 256.24), (518.0, 271.24)], depth=1.3, size={"diameter_mm": 100},
                tag="PR-DIAG", seg={"burial": "GM", "material": "PVC保护管", "voltage_kv": 0.4,
                                    "cable_count": 1, "build_year": 2015})
        self.tree((530.0, 268.0), species="香樟", crown=5.0, tag="T-BBOX")
        # a building for the abandoned gas pipe to pass under (decoy)
        self.building(_rect(340, 228.5, 360, 240.5), "CL", "翠柳村小区门卫室", floors=1, found=0.8,
                      tag="B-OLDGAS")

        # --- 东亭小区 courtyard (y 120.5-159.5) --------------------------------------
        # horizontal clearance, certain: sewage D300 and water DN150, 0.30 m wall to wall
        net.run("WS", [(65.0, 136.0, {"appurtenance": "manhole", "cover_size": 0.7}),
                       (110.0, 136.0, {"appurtenance": "manhole", "cover_size": 0.7})],
                depth=2.0, size={"diameter_mm": 300}, tag="S1-WS",
                seg={"burial": "ZM", "material": "混凝土", "build_year": 1990})
        net.run("JP", [(65.0, 136.0 + 0.3 + 0.15 + 0.075), (110.0, 136.0 + 0.3 + 0.15 + 0.075)],
                depth=1.3, size={"diameter_mm": 150}, tag="S1-JS",
                seg={"burial": "ZM", "material": "镀锌钢", "pressure_mpa": 0.25, "build_year": 1990})
        # horizontal clearance, possible: rain D400 and low-pressure gas De110, 0.97 m (needs 1.0)
        net.run("YS", [(140.0, 136.0, {"appurtenance": "manhole", "cover_size": 0.7, "acc_h": 0.1}),
                       (190.0, 136.0, {"appurtenance": "manhole", "cover_size": 0.7, "acc_h": 0.1})],
                depth=2.4, size={"diameter_mm": 400}, tag="S2-YS",
                seg={"burial": "ZM", "material": "钢筋混凝土", "acc_h": 0.1, "acc_v": 0.1,
                     "build_year": 1995})
        net.run("TR", [(140.0, 136.0 + 0.97 + 0.2 + 0.055, {"acc_h": 0.1}),
                       (190.0, 136.0 + 0.97 + 0.2 + 0.055, {"acc_h": 0.1})],
                depth=1.3, size={"diameter_mm": 110}, tag="S2-RQ",
                seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.005, "acc_h": 0.1, "acc_v": 0.1,
                     "build_year": 2003})
        # vertical clearance: water DN200 (top 1.3, bottom 1.5) over rain D600 (top 1.6): gap 0.10
        net.run("JP", [(205.0, 146.0, {"acc_v": 0.05}), (255.0, 146.0, {"acc_v": 0.05})], depth=1.3,
                size={"diameter_mm": 200}, tag="S3-JS",
                seg={"burial": "ZM", "material": "球墨铸铁", "pressure_mpa": 0.25, "acc_v": 0.05,
                     "acc_h": 0.05, "build_year": 2000})
        net.run("YS", [(230.0, 140.5, {"appurtenance": "manhole", "cover_size": 0.7, "acc_v": 0.05}),
                       (230.0, 151.5, {"appurtenance": "manhole", "cover_size": 0.7, "acc_v": 0.05})],
                depth=1.6 + 0.6, size={"diameter_mm": 600}, tag="S3-YS",
                seg={"burial": "ZM", "material": "钢筋混凝土", "acc_v": 0.05, "acc_h": 0.05,
                     "build_year": 2000})
        # cover elsewhere: a gas pipe 0.30 m below the courtyard (needs 0.6)
        net.run("TR", [(65.0, 148.0), (110.0, 148.0)], depth=0.3, size={"diameter_mm": 63},
                tag="S4-RQ", seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.005,
                                  "build_year": 2018})

        # --- 东亭/水果湖 open strip (y 210.5-279.5) ----------------------------------
        # a sewer under a building (the lane-185 north row: [65,120]x[198.5,210.5])
        net.run("WS", [(112.0, 206.0), (128.0, 206.0, {"appurtenance": "manhole", "cover_size": 0.7})],
                depth=1.8, size={"diameter_mm": 300}, tag="B1-WS",
                seg={"burial": "ZM", "material": "混凝土", "build_year": 1985})
        # a rain pipe 1.0 m from a building ([135,190]x[198.5,210.5]); needs 2.5
        net.run("YS", [(145.0, 211.65, {"appurtenance": "manhole", "cover_size": 0.7}),
                       (180.0, 211.65, {"appurtenance": "manhole", "cover_size": 0.7})],
                depth=1.8, size={"diameter_mm": 300}, tag="B2-YS",
                seg={"burial": "ZM", "material": "HDPE双壁波纹管", "build_year": 2008})
        # an unknown pipe found by the survey: no depth at all
        net.run("BM", [(70.0, 245.0), (95.0, 245.0), (118.0, 250.0)], depth=None,
                size={"diameter_mm": 200}, tag="U-BM",
                seg={"burial": "ZM", "material": "不明", "owner": None, "note": "探测发现，权属及埋深不明"},
                pt={"owner": None})
        # a works trench beside a pipe, diagonal: its box covers the pipe, the trench does not
        from shapely.geometry import LineString

        trench = LineString([(240.0, 238.0), (262.0, 260.0)]).buffer(0.6, cap_style="flat")
        net.run("JP", [(200.0, 250.0), (245.0, 250.0)], depth=1.3, size={"diameter_mm": 100},
                tag="WD-JS", seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.25,
                                  "build_year": 2010})
        self.work(trench, "GZ-DT", "rain_sewer_separation", 2.5, tag="W-DECOY")

        # --- 水果湖小区 courtyard (y 330.5-379.5) ------------------------------------
        net.run("JP", [(65.0, 350.0), (130.0, 350.0)], depth=1.3, size={"diameter_mm": 100},
                tag="S5-JS", seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.25,
                                  "build_year": 2006})
        net.run("TR", [(65.0, 360.0), (130.0, 360.0)], depth=1.3, size={"diameter_mm": 110},
                tag="S5-RQ", seg={"burial": "ZM", "material": "PE", "pressure_mpa": 0.005,
                                  "build_year": 2006})
        self.tree((85.0, 350.0 + 0.05 + 0.6), species="桂花", status="planned", crown=3.0,
                  project="水果湖小区绿化提升", tag="T-PLANNED")
        self.tree((110.0, 360.0 - 0.055 - 0.8), species="女贞", crown=3.5, tag="T-EXISTING")
        # stalls over a manhole and beside a hydrant
        net.run("YS", [(150.0, 352.0, {"appurtenance": "manhole", "cover_size": 0.7}),
                       (181.25, 352.0, {"appurtenance": "manhole", "cover_size": 0.7}),
                       (215.0, 352.0, {"appurtenance": "manhole", "cover_size": 0.7})],
                depth=2.4, size={"diameter_mm": 300}, tag="S7-YS",
                seg={"burial": "ZM", "material": "HDPE双壁波纹管", "build_year": 2010})
        net.run("JP", [(150.0, 355.5), (189.0, 355.5, {"appurtenance": "hydrant"}), (215.0, 355.5)],
                depth=1.3, size={"diameter_mm": 150}, tag="S7-JS",
                seg={"burial": "ZM", "material": "球墨铸铁", "pressure_mpa": 0.3, "build_year": 2010})
        for k in range(4):
            self.stall(_rect(175 + 2.5 * k, 349.5, 177.5 + 2.5 * k, 354.8), "SG", group="Y",
                       tag=f"S7-stall{k + 1}")
        # a near-miss hydrant (6.9 m from the nearest stall: not within 5 m)
        # angled stalls at 60 degrees in the north courtyard (y 430.5-470)
        for k in range(8):
            x = 70 + k * 2.8 / math.sin(math.radians(60))
            dx = 6.0 * math.cos(math.radians(60))
            dy = 6.0 * math.sin(math.radians(60))
            p = Polygon([(x, 445), (x + 3.233, 445), (x + 3.233 + dx, 445 + dy), (x + dx, 445 + dy)])
            self.stall(p, "SG", kind="angled", w=2.8, length=6.0, angle=60.0, group="X")
        self.fire_lane(_rect(60, 439, 110, 445 - 0.3), "SG", "水果湖小区北侧消防通道", required=4.0,
                       tag="FL-ANGLED")

        # --- 翠柳村小区 courtyard (y 120.5-159.5): fire lanes ----------------------
        self.fire_lane(_rect(330, 137, 420, 143), "CL", "翠柳村小区中心消防通道", tag="FL1")
        self.tree((350.0, 137.6), species="香樟", crown=2.0, tag="T-INLANE")
        shed = affinity.rotate(_rect(393, 141 + 0.33 + 1.5, 397, 145 + 0.33 + 1.5), 45, origin="centroid")
        # corner down to y = 143 - 0.5
        dy = shed.bounds[1] - (143 - 0.5)
        shed = affinity.translate(shed, 0, -dy)
        self.building(shed, "CL", "翠柳村小区配电房", floors=1, found=1.0, tag="B-CORNER")
        self.fire_lane(_rect(440, 132.5, 540, 137.5), "CL", "翠柳村小区东侧消防通道", tag="FL2")
        for k in range(2):
            self.stall(_rect(470 + 2.5 * k, 128.8, 472.5 + 2.5 * k, 134.1), "CL", group="Z",
                       tag=f"FL2-stall{k + 1}")

        # --- 宏图小区 courtyard (y 345.5-389.5) --------------------------------------
        self.fire_lane(_rect(330, 365.25, 420, 368.75), "HT", "宏图小区西侧消防通道", tag="FL3")
        lshape = Polygon([(440, 360), (530, 360), (530, 378), (524, 378), (524, 366), (440, 366)])
        self.fire_lane(lshape, "HT", "宏图小区L形消防通道", tag="FL4")
        self.stall(_rect(517, 366.5, 523, 369), "HT", kind="parallel", w=2.5, length=6.0, angle=0.0,
                   group="Z", tag="FL4-notch")
        # a telecom stretch nobody could give a depth for
        net.run("XX", [(330.0, 352.0), (400.0, 352.0)], depth=None,
                size={"width_mm": 200, "height_mm": 200}, tag="U-TX",
                seg={"burial": "GM", "material": "PVC", "holes_total": 2, "owner": TX_OWNERS[2],
                     "note": "未能探测埋深"})
        # abandoned pipe with no depth (decoy: no depth_unknown for abandoned)
        net.run("HS", [(440.0, 385.0), (520.0, 385.0)], depth=None, size={"diameter_mm": 300},
                status="abandoned", tag="U-OLD",
                seg={"burial": "ZM", "material": "砖砌", "note": "旧合流管，已废弃"})

        # --- works over pipes: 东亭小区 lane 1 (yc = 95) --------------------------------
        self.work(_rect(100, 87.5, 125, 88.5), "GZ-DT", "gas", 1.0, tag="W1")      # gas top 1.3
        self.work(_rect(195, 101.8, 215, 102.8), "GZ-DT", "water_supply", 1.8, tag="W2")  # water top 1.3


COMM_NAME = {c[0]: c[1] for c in COMMUNITIES}
COMM_NAME["CLJ"] = None


# ---------------------------------------------------------------------------
# expected findings
# ---------------------------------------------------------------------------
def _resolve(d: District):
    """Turn the scenes into planted findings and decoys (uids by tag)."""
    net = d.net
    S = net.seg_uids
    PS, RD = "pipe_segment", "planned_road"

    def one(tag):
        u = S(tag)
        assert len(u) == 1, (tag, u)
        return u[0]

    def feat(layer, tag):
        u = [r["uid"] for r in d.rows[layer] if r["tag"] == tag]
        assert len(u) == 1, (layer, tag, u)
        return u[0]

    def point_uid(tag_seg, k):
        s = [s for s in net.segments if s["tag"] == tag_seg]
        return net.points[s[0]["start"] if k == 0 else s[k - 1]["end"]]["uid"]

    cw, rl = d.planned_road["CW"]["uid"], d.planned_road["RL"]["uid"]
    P = d.plant
    for tag, note in (("PR-JS", "existing water main crossing the planned road at 90°"),
                      ("PR-TX35", "telecom duct crossing the planned road at 35°"),
                      ("PR-DL65", "street-light cable crossing the planned road at 65°"),
                      ("PR-YS-SHALLOW", "shallow rain pipe lying wholly under the planned carriageway")):
        for b in (cw, rl):
            P("pipe_under_road", PS, one(tag), RD, b, note=note + f" ({'carriageway' if b == cw else 'red-line area'})")
    for b in (cw, rl):
        P("crossing_angle", PS, one("PR-TX35"), RD, b, measured=35.0, required=60.0,
          note="crosses the road edges at 35°")
        P("cover_depth", PS, one("PR-YS-SHALLOW"), RD, b, measured=0.45, required=0.7,
          note="rain D400, invert depth 0.85: cover 0.45 under the planned carriageway")
    P("cover_depth", PS, one("S4-RQ"), measured=0.3, required=0.6,
      note="gas De63 0.30 m below a courtyard (not under a road)")
    P("horizontal_clearance", PS, one("S1-WS"), PS, one("S1-JS"), measured=0.3, required=1.0,
      note="sewage D300 and water DN150 0.30 m wall to wall")
    P("horizontal_clearance", PS, one("S2-YS"), PS, one("S2-RQ"), certainty="possible",
      measured=0.97, required=1.0,
      note="rain D400 and low-pressure gas 0.97 m wall to wall, acc_h 0.1 each: within the uncertainty")
    P("vertical_clearance", PS, one("S3-JS"), PS, one("S3-YS"), measured=0.1, required=0.4,
      note="water DN200 bottom 1.5 m over rain D600 top 1.6 m at the crossing")
    P("tree_pipe_clearance", "tree", feat("tree", "T-PLANNED"), PS, one("S5-JS"), measured=0.6,
      required=1.5, note="planned tree 0.6 m from a water pipe's edge (severity error)")
    P("tree_pipe_clearance", "tree", feat("tree", "T-EXISTING"), PS, one("S5-RQ"), measured=0.8,
      required=1.2, note="existing tree 0.8 m from a gas pipe's edge (severity warning)")
    manhole = point_uid("S7-YS", 1)
    hydrant = point_uid("S7-JS", 1)
    P("stall_over_structure", "parking_stall", feat("parking_stall", "S7-stall3"), "pipe_point", manhole,
      measured=0.0, required=0.0, note="rain manhole (cover 0.7) under a stall")
    P("stall_over_structure", "parking_stall", feat("parking_stall", "S7-stall4"), "pipe_point", hydrant,
      measured=round(math.hypot(4.0, 0.7), 3), required=5.0, note="hydrant 4.06 m from a stall (severity error)")
    fl1, fl2, fl3 = feat("fire_lane", "FL1"), feat("fire_lane", "FL2"), feat("fire_lane", "FL3")
    P("fire_lane_obstruction", "tree", feat("tree", "T-INLANE"), "fire_lane", fl1, measured=0.0,
      note="tree standing 0.6 m inside the lane edge (crown 2 m: the lane keeps 4.4 m clear)")
    P("fire_lane_obstruction", "building", feat("building", "B-CORNER"), "fire_lane", fl1, measured=0.25,
      note="corner of a substation (rotated 45°) 0.5 m into the lane")
    for k in (1, 2):
        P("fire_lane_obstruction", "parking_stall", feat("parking_stall", f"FL2-stall{k}"), "fire_lane", fl2,
          measured=4.0, note="stall 1.6 m into the lane; its centroid is outside the lane")
    P("fire_lane_width", "fire_lane", fl2, measured=3.4, required=4.0,
      note="two stalls leave 3.4 m of a 5.0 m lane")
    P("fire_lane_width", "fire_lane", fl3, measured=3.5, required=4.0,
      note="lane drawn 3.5 m wide (required 4.0)")
    w1 = [s for s in net.segments if s["tag"] == "DT-L1-RQ" and
          net.points[s["start"]]["xy"][0] < 100 and net.points[s["end"]]["xy"][0] > 125]
    w2 = [s for s in net.segments if s["tag"] == "DT-L1-JS" and
          net.points[s["start"]]["xy"][0] < 195 and net.points[s["end"]]["xy"][0] > 215]
    assert len(w1) == 1 and len(w2) == 1
    P("works_over_pipes", "renovation_work", feat("renovation_work", "W1"), PS, w1[0]["uid"], measured=0.3,
      required=0.5, note="gas trench 1.0 m deep over a gas main with its top at 1.3 m")
    P("works_over_pipes", "renovation_work", feat("renovation_work", "W2"), PS, w2[0]["uid"], measured=-0.5,
      required=0.5, note="water trench 1.8 m deep cuts a water main with its top at 1.3 m (severity error)")
    P("building_clearance", PS, one("B1-WS"), "building",
      [r["uid"] for r in d.rows["building"] if r["geometry"].contains(_pt(112.0, 206.0))][0],
      measured=0.0, required=2.5, note="sewer passing under a building")
    b2 = [r for r in d.rows["building"] if r["geometry"].distance(_pt(160.0, 211.65)) < 1.5][0]
    deeper = 1.8 > b2["foundation_depth_m"]  # rain invert 1.8 m vs the foundation
    P("building_clearance", PS, one("B2-YS"), "building", b2["uid"], measured=1.0,
      required=3.0 if deeper else 2.5,
      note="rain pipe 1.0 m from a building (2.5 m, 3.0 m where deeper than the foundation)")
    for u in S("U-BM"):
        P("depth_unknown", PS, u, note="unknown pipe (不明管线): no depth at either end or point")
    P("depth_unknown", PS, one("U-TX"), note="telecom stretch without any depth")

    D = d.decoy
    D("pipe_under_road", PS, one("PR-DIAG"), RD, cw,
      note="diagonal cable whose bounding box overlaps the road; the line passes 3 m from the corner")
    D("crossing_angle", PS, one("PR-DL65"), RD, cw, note="crosses at 65° (>= 60°)")
    D("pipe_under_road", PS, one("PR-RQ-OLD"), RD, cw, note="abandoned gas pipe under the road")
    D("building_clearance", PS, one("PR-RQ-OLD"), "building", feat("building", "B-OLDGAS"),
      note="abandoned gas pipe under a building")
    D("tree_pipe_clearance", "tree", feat("tree", "T-BBOX"), PS, one("PR-DIAG"),
      note="tree inside the cable's bounding box, 6.2 m from the line")
    D("fire_lane_obstruction", "parking_stall", feat("parking_stall", "FL4-notch"), "fire_lane",
      feat("fire_lane", "FL4"), note="stall in the notch of an L-shaped lane: inside its box, 0.5 m outside it")
    D("works_over_pipes", "renovation_work", feat("renovation_work", "W-DECOY"), PS, one("WD-JS"),
      note="diagonal 2.5 m trench whose box covers a water pipe; the trench stays 1.5 m+ away")
    D("horizontal_clearance", PS, one("ZB-GY-OLD"), PS,
      [s["uid"] for s in net.segments if s["tag"] == "ZB-JS"][0],
      note="abandoned industrial line 0.6 m from the water main")
    D("depth_unknown", PS, one("U-OLD"), note="abandoned pipe without depth")
    # pipes that cross or share a point are not horizontal_clearance pairs
    xr = [s for s in net.segments if s["tag"] == "DT-L1-YS"][-1]
    tx = [s for s in net.segments if s["tag"] == "CLJ-TX" and
          min(net.points[s["start"]]["xy"][1], net.points[s["end"]]["xy"][1]) < 96.5 <
          max(net.points[s["start"]]["xy"][1], net.points[s["end"]]["xy"][1])][0]
    D("horizontal_clearance", PS, xr["uid"], PS, tx["uid"],
      note="a lane rain pipe crossing the telecom duct of 翠柳街 (a crossing, 0.65 m+ apart vertically)")
    inl = [s for s in net.segments if s["tag"] == "DT-L1-YS-inlet"][0]
    main = [s for s in net.segments if s["tag"] == "DT-L1-YS" and s["end"] == inl["end"] or
            s["tag"] == "DT-L1-YS" and s["start"] == inl["end"]][0]
    D("horizontal_clearance", PS, inl["uid"], PS, main["uid"],
      note="inlet lead sharing a manhole with the lane rain pipe")


def _pt(x, y):
    from shapely.geometry import Point

    return Point(x, y)


# ---------------------------------------------------------------------------
# frames and writing
# ---------------------------------------------------------------------------
def _frames(d: District, dem: Dem):
    import geopandas as gpd
    import pandas as pd
    from shapely import affinity
    from shapely.geometry import LineString, Point

    from ..layers import schema

    model = schema.model()
    ox, oy = ORIGIN
    now = _dt.datetime(2025, 6, 1, tzinfo=_dt.timezone.utc)

    def shift(g):
        return affinity.translate(g, ox, oy)

    def frame(layer, rows):
        lyr = model.layer(layer)
        cols = {}
        for f in lyr.fields:
            vals = [r.get(f.name) for r in rows]
            if f.type == "integer":
                cols[f.name] = pd.array([None if v is None else int(v) for v in vals], dtype="Int64")
            elif f.type == "real":
                cols[f.name] = pd.array([np.nan if v is None else float(v) for v in vals], dtype="float64")
            elif f.type == "datetime":
                cols[f.name] = pd.Series([now] * len(rows), dtype="datetime64[ms, UTC]")
            else:
                cols[f.name] = pd.Series([None if v is None else str(v) for v in vals], dtype=object)
        cols["source"] = pd.Series([SOURCE] * len(rows), dtype=object)
        geoms = [shift(r["geometry"]) for r in rows]
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)

    net = d.net
    pxy = np.array([p["xy"] for p in net.points])
    ground = np.round(dem.sample(pxy[:, 0], pxy[:, 1]), 3)
    prow = []
    for p, g in zip(net.points, ground):
        prow.append({"uid": p["uid"], "status": p["status"], "utility": p["utility"],
                     "subclass": p["subclass"], "feature": p["feature"],
                     "appurtenance": p.get("appurtenance") or "none",
                     "ground_elev": float(g) if p.get("ground", True) else None,
                     "depth": p.get("depth"), "cover_size": p.get("cover_size"),
                     "owner": p.get("owner"), "acc_h": p.get("acc_h"), "acc_v": p.get("acc_v"),
                     "survey_date": SURVEY_DATE, "note": p.get("note"),
                     "geometry": Point(p["xy"])})
    srow = []
    for s in net.segments:
        a, b = net.points[s["start"]], net.points[s["end"]]
        row = {k: v for k, v in s.items() if k not in ("start", "end", "tag")}
        row.update({"start_uid": a["uid"], "end_uid": b["uid"], "survey_date": SURVEY_DATE,
                    "geometry": LineString([a["xy"], b["xy"]])})
        srow.append(row)
    frames = {"pipe_point": frame("pipe_point", prow), "pipe_segment": frame("pipe_segment", srow)}
    for layer, rows in d.rows.items():
        frames[layer] = frame(layer, rows)
    return frames


def _write_planted(path, d: District, seed):
    doc = {"seed": seed, "crs": CRS, "origin": list(ORIGIN),
           "note": "Planted conflicts and decoys of the demo district. Pair order as rules.md: "
                   "for the same layer uid_a < uid_b; layer_b/uid_b empty where the rule has no b. "
                   "planned_road findings name both the carriageway and the red-line (whole) polygon "
                   "where a pipe lies in both. Decoys must NOT be reported.",
           "planted": d.planted, "decoys": d.decoys}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1, sort_keys=False)


def generate(seed=DEFAULT_SEED):
    """Build the district in memory (no files): (District, Dem)."""
    dem = Dem(np.random.default_rng([seed, 1]))
    d = District(seed, dem)
    d.build()
    _resolve(d)
    return d, dem


def build_demo(out_dir, seed=DEFAULT_SEED, with_styles=True) -> dict:
    """Build the demo district project in ``out_dir`` (see the module doc)."""
    from ..layers import gpkg, io, project
    from ..layers.errors import InputError

    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError("is not a folder", file=out_dir)
    os.makedirs(out_dir, exist_ok=True)
    d, dem = generate(seed)
    frames = _frames(d, dem)

    tmp = tempfile.mkdtemp(prefix=".demo-build-", dir=out_dir)
    try:
        gp = os.path.join(tmp, "demo.gpkg")
        qgz = os.path.join(tmp, "demo.qgz")
        styled = False
        if with_styles:
            try:
                project.init_project(gp, write_qgs=False)
                styled = True
            except ImportError:  # styles need QGIS: an unstyled project still works
                styled = False
        if not styled:
            gpkg.create_project(gp)
        counts = {}
        for name in ("pipe_point", "pipe_segment", "planned_road", "renovation_area", "renovation_work",
                     "tree", "planting_area", "parking_stall", "fire_lane", "building"):
            counts[name] = io.write_layer(gp, name, frames[name], fill_defaults=False)
        has_qgz = False
        if styled:
            from ..layers import styles

            styles.write_project_file(gp, qgz)
            has_qgz = os.path.isfile(qgz)
        dem.write(os.path.join(tmp, "demo_dem.tif"))
        _write_planted(os.path.join(tmp, "planted.json"), d, seed)
        names = ["demo.gpkg", "demo_dem.tif", "planted.json"] + (["demo.qgz"] if has_qgz else [])
        for n in names:
            os.replace(os.path.join(tmp, n), os.path.join(out_dir, n))
        if not has_qgz and os.path.exists(os.path.join(out_dir, "demo.qgz")):
            os.unlink(os.path.join(out_dir, "demo.qgz"))  # stale: belongs to an older build
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"project": os.path.join(out_dir, "demo.gpkg"),
            "qgs": os.path.join(out_dir, "demo.qgz") if has_qgz else None,
            "dem": os.path.join(out_dir, "demo_dem.tif"),
            "planted_file": os.path.join(out_dir, "planted.json"),
            "counts": counts, "planted": d.planted, "decoys": d.decoys, "seed": seed,
            "crs": CRS}


def summary_lines(result: dict) -> list:
    """Printable lines: where the files are, counts per layer, the checks."""
    from ..layers import schema

    model = schema.model()
    lines = ["演示片区已生成 / demo district built:",
             f"  project  {result['project']}"]
    if result.get("qgs"):
        lines.append(f"  QGIS     {result['qgs']}")
    lines.append(f"  DEM      {result['dem']}")
    if result.get("planted_file"):
        lines.append(f"  planted  {result['planted_file']}")
    lines.append("  layers:")
    for name, n in result["counts"].items():
        lyr = model.layer(name)
        lines.append(f"    {name:<16} {n:>6}  {lyr.zh} / {lyr.en}")
    lines.append(f"  total features: {sum(result['counts'].values())}")
    rules = sorted({p['rule_id'] for p in result["planted"]})
    lines.append(f"  planted conflicts: {len(result['planted'])} ({len(rules)} rules), "
                 f"decoys: {len(result['decoys'])}")
    return lines
