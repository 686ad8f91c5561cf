"""The shared checks as SQL (DuckDB spatial and PostGIS speak the same here),
and the rule tables they join, built from the rules file.

What each query computes (rules.md, strict reading: no survey uncertainty):

pipe_under_road       pipe x planned_road (part in road_parts, status in road_status):
                      ST_Intersects join, measured = ST_Length(ST_Intersection), kept when
                      > min_length_m.
horizontal_clearance  pipe x pipe, uid_a < uid_b, ST_DWithin join at the largest
                      requirement + widest pair, minus pairs that share a point
                      (start_uid/end_uid) or cross (ST_Intersects); measured = wall to wall
                      = ST_Distance - (w_a + w_b) / 2 (negative: the walls overlap, as the
                      engine reports it); kept when < the class-pair
                      requirement (first matching entry of the rules' table).
tree_pipe_clearance   tree x pipe: measured = max(0, ST_Distance(centre, line) - w / 2),
                      kept when < the requirement for the tree's kind and the pipe.
stall_over_structure  stall x pipe_point (appurtenance in the rules' list, or hydrant):
                      measured = ST_Distance(stall, point) (0 when under), kept when < the
                      cover radius (cover_size or the default size, halved), or for a
                      hydrant < hydrant_distance_m.
fire_lane_obstruction stall / building x fire_lane: ST_Intersects join, measured =
                      ST_Area(ST_Intersection) kept when > min_overlap_m2; tree x fire_lane:
                      the point inside (measured 0).
building_clearance    pipe x building: measured = max(0, ST_Distance - w / 2), kept when < the
                      requirement for the pipe. The benchmark city has no building
                      foundation depths, so the drainage "deeper than foundation" entry never
                      applies (its condition cannot be evaluated) -- the runner checks that.

A pipe's width w = COALESCE(diameter_mm, width_mm, 0) / 1000 (the engine contract's
width_m). A pipe's "profile" (pkey) is its class and the buckets of diameter,
pressure and burial that the rule tables' conditions distinguish, so a pair's
requirement is an equality join on a small table.
"""
from __future__ import annotations

import itertools

import numpy as np

ACTIVE = "(status IS NULL OR status <> 'abandoned')"
TABLES = ("pipe_under_road", "horizontal_clearance", "tree_pipe_clearance", "stall_over_structure",
          "fire_lane_obstruction", "building_clearance")
SQL_RULES = TABLES


def _classes():
    from ..layers import schema

    return list(schema.model().domain("utility").values)


class Profiles:
    """Buckets of the attributes the pair tables' conditions test."""

    def __init__(self, rules):
        entries = (list(rules.entries("horizontal_clearance")) + list(rules.entries("tree_pipe_clearance", "tree"))
                   + list(rules.entries("tree_pipe_clearance", "shrub")) + list(rules.entries("building_clearance")))
        self.classes = _classes()
        self.dia_t = sorted({float(e["max_diameter_mm"]) for e in entries if "max_diameter_mm" in e})
        self.pres_t = sorted({float(e["max_pressure_mpa"]) for e in entries if "max_pressure_mpa" in e})
        self.burials = sorted({b for e in entries for b in e.get("burial", [])})
        self.nc, self.nd, self.np_, self.nb = (len(self.classes) + 1, len(self.dia_t) + 1,
                                               len(self.pres_t) + 1, len(self.burials) + 1)
        self.n = self.nc * self.nd * self.np_ * self.nb
        # representative attributes of every profile
        c, d, p, b = (np.array(x) for x in zip(*itertools.product(range(self.nc), range(self.nd),
                                                                   range(self.np_), range(self.nb))))
        self.cls = np.array(self.classes + [None], dtype=object)[c]
        self.dia = np.array(self.dia_t + [np.inf])[d]
        self.pres = np.array(self.pres_t + [np.inf])[p]
        self.bur = np.array(self.burials + [None], dtype=object)[b]

    def sql(self) -> str:
        def buckets(col, ts):
            if not ts:
                return "0"
            w = " ".join(f"WHEN {col} <= {t!r} THEN {i}" for i, t in enumerate(ts))
            return f"(CASE WHEN {col} IS NULL THEN {len(ts)} {w} ELSE {len(ts)} END)"

        cls = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(self.classes))
        bur = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(self.burials))
        bur_sql = f"(CASE burial {bur} ELSE {len(self.burials)} END)" if self.burials else "0"
        return (f"((CASE utility {cls} ELSE {len(self.classes)} END) * {self.nd * self.np_ * self.nb}"
                f" + {buckets('diameter_mm', self.dia_t)} * {self.np_ * self.nb}"
                f" + {buckets('pressure_mpa', self.pres_t)} * {self.nb} + {bur_sql})")

    def python(self, utility, diameter_mm, pressure_mpa, burial) -> np.ndarray:
        """The same key in numpy (for the tests)."""
        cidx = {c: i for i, c in enumerate(self.classes)}
        c = np.array([cidx.get(u, len(self.classes)) for u in utility])

        def bk(v, ts):
            v = np.asarray(v, float)
            out = np.searchsorted(np.asarray(ts), v, side="left") if ts else np.zeros(len(v), int)
            return np.where(np.isnan(v), len(ts), out)
        bidx = {b: i for i, b in enumerate(self.burials)}
        b = np.array([bidx.get(x, len(self.burials)) for x in burial])
        return ((c * self.nd + bk(diameter_mm, self.dia_t)) * self.np_ + bk(pressure_mpa, self.pres_t)) * self.nb + b


def _cond(e, dia, pres, bur):
    m = np.ones(len(dia), bool)
    if "max_diameter_mm" in e:
        m &= dia <= e["max_diameter_mm"]
    if "max_pressure_mpa" in e:
        m &= pres <= e["max_pressure_mpa"]
    if "burial" in e:
        m &= np.isin(bur, list(e["burial"]))
    if "deeper_than_foundation" in e:
        m &= False  # foundation depth unknown in the benchmark city: never applies
    return m


def _cls(arr, want):
    return np.ones(len(arr), bool) if want in (None, "any") else arr == want


def requirement_tables(rules, prof: Profiles) -> dict:
    """name -> (columns, rows): req_h(pa, pb, req), req_tree(kind, pb, req), req_bld(pb, req)."""
    out = {}
    # horizontal: every ordered pair of profiles, first matching entry (either orientation)
    ia, ib = np.meshgrid(np.arange(prof.n), np.arange(prof.n), indexing="ij")
    ia, ib = ia.ravel(), ib.ravel()
    req = np.full(len(ia), np.nan)
    todo = np.ones(len(ia), bool)
    for e in rules.entries("horizontal_clearance"):
        m1 = (_cls(prof.cls[ia], e.get("a")) & _cls(prof.cls[ib], e.get("b"))
              & _cond(e, prof.dia[ib], prof.pres[ib], prof.bur[ib]))
        m2 = (_cls(prof.cls[ib], e.get("a")) & _cls(prof.cls[ia], e.get("b"))
              & _cond(e, prof.dia[ia], prof.pres[ia], prof.bur[ia]))
        m = todo & (m1 | m2)
        req[m] = float(e["value"])
        todo &= ~m
    ok = ~np.isnan(req)
    out["req_h"] = (("pa", "pb", "req"), list(zip(ia[ok].tolist(), ib[ok].tolist(), req[ok].tolist())))
    rows = []
    for kind in ("tree", "shrub"):
        req = np.full(prof.n, np.nan)
        todo = np.ones(prof.n, bool)
        for e in rules.entries("tree_pipe_clearance", kind):
            m = todo & _cls(prof.cls, e.get("b")) & _cond(e, prof.dia, prof.pres, prof.bur)
            req[m] = float(e["value"])
            todo &= ~m
        rows += [(kind, i, float(r)) for i, r in enumerate(req) if not np.isnan(r)]
    out["req_tree"] = (("kind", "pb", "req"), rows)
    req = np.full(prof.n, np.nan)
    todo = np.ones(prof.n, bool)
    for e in rules.entries("building_clearance"):
        m = todo & _cls(prof.cls, e.get("b")) & _cond(e, prof.dia, prof.pres, prof.bur)
        req[m] = float(e["value"])
        todo &= ~m
    out["req_bld"] = (("pb", "req"), [(i, float(r)) for i, r in enumerate(req) if not np.isnan(r)])
    return out


def requirement_frames(rules, prof: Profiles) -> dict:
    import pandas as pd

    out = {}
    for name, (cols, rows) in requirement_tables(rules, prof).items():
        df = pd.DataFrame(rows, columns=list(cols))
        for c in cols:
            df[c] = df[c].astype(object if c == "kind" else ("float64" if c == "req" else "int32"))
        out[name] = df
    return out


def _lit(values):
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def prepare_sql(rules, prof: Profiles, raw: dict) -> list:
    """Statements that build the working tables from the raw layers ``raw[name]`` (a table name)."""
    parts = rules.value("pipe_under_road", "road_parts")
    rstat = rules.value("pipe_under_road", "road_status")
    appur = list(rules.value("stall_over_structure", "appurtenances"))
    sizes = rules.value("stall_over_structure", "default_cover_size_m")
    hd = float(rules.value("stall_over_structure", "hydrant_distance_m"))
    size_case = " ".join(f"WHEN '{k}' THEN {float(v)!r}" for k, v in sizes.items())
    return [
        f"CREATE TABLE pipe AS SELECT uid, utility, COALESCE(diameter_mm, width_mm, 0) / 1000.0 AS w, "
        f"{prof.sql()} AS pkey, start_uid, end_uid, geom FROM {raw['pipe_segment']} WHERE {ACTIVE}",
        f"CREATE TABLE road AS SELECT uid, geom FROM {raw['planned_road']} WHERE {ACTIVE} "
        f"AND part IN ({_lit(parts)}) AND status IN ({_lit(rstat)})",
        f"CREATE TABLE pt AS SELECT uid, appurtenance = 'hydrant' AS hydrant, "
        f"CASE WHEN appurtenance = 'hydrant' THEN {hd!r} "
        f"ELSE COALESCE(cover_size, CASE appurtenance {size_case} END) / 2.0 END AS r, geom "
        f"FROM {raw['pipe_point']} WHERE {ACTIVE} AND appurtenance IN ({_lit(appur + ['hydrant'])})",
        f"CREATE TABLE tree AS SELECT uid, kind, geom FROM {raw['tree']} WHERE {ACTIVE}",
        f"CREATE TABLE stall AS SELECT uid, geom FROM {raw['parking_stall']} WHERE {ACTIVE}",
        f"CREATE TABLE lane AS SELECT uid, geom FROM {raw['fire_lane']} WHERE {ACTIVE}",
        f"CREATE TABLE bld AS SELECT uid, geom FROM {raw['building']} WHERE {ACTIVE}",
    ]


def queries(rules, max_w: float, max_r: float) -> dict:
    """rule_id -> SQL giving (layer_a, uid_a, uid_b, measured)."""
    minlen = float(rules.value("pipe_under_road", "min_length_m"))
    minarea = float(rules.value("fire_lane_obstruction", "min_overlap_m2"))
    hmax = max(float(e["value"]) for e in rules.entries("horizontal_clearance"))
    tmax = max(float(e["value"]) for k in ("tree", "shrub") for e in rules.entries("tree_pipe_clearance", k))
    bmax = max(float(e["value"]) for e in rules.entries("building_clearance"))
    return {
        "pipe_under_road": f"""
            SELECT 'pipe_segment' AS layer_a, uid_a, uid_b, m FROM (
              SELECT p.uid AS uid_a, r.uid AS uid_b, ST_Length(ST_Intersection(p.geom, r.geom)) AS m
              FROM pipe p JOIN road r ON ST_Intersects(p.geom, r.geom)) s
            WHERE m > {minlen!r}""",
        "horizontal_clearance": f"""
            WITH c AS MATERIALIZED (
              SELECT a.uid AS uid_a, b.uid AS uid_b, a.pkey AS pa, b.pkey AS pb,
                     ST_Distance(a.geom, b.geom) - (a.w + b.w) / 2.0 AS m
              FROM pipe a JOIN pipe b ON ST_DWithin(a.geom, b.geom, {hmax + max_w!r})
              WHERE (CASE WHEN a.uid < b.uid THEN 1 ELSE 0 END) = 1  -- not a range-join key for DuckDB
                AND (a.start_uid IS NULL OR (a.start_uid IS DISTINCT FROM b.start_uid AND a.start_uid IS DISTINCT FROM b.end_uid))
                AND (a.end_uid IS NULL OR (a.end_uid IS DISTINCT FROM b.start_uid AND a.end_uid IS DISTINCT FROM b.end_uid))
                AND NOT ST_Intersects(a.geom, b.geom))
            SELECT 'pipe_segment' AS layer_a, c.uid_a, c.uid_b, c.m
            FROM c JOIN req_h q ON q.pa = c.pa AND q.pb = c.pb WHERE c.m < q.req""",
        "tree_pipe_clearance": f"""
            WITH c AS MATERIALIZED (
              SELECT t.uid AS uid_a, p.uid AS uid_b, t.kind AS kind, p.pkey AS pb,
                     GREATEST(ST_Distance(t.geom, p.geom) - p.w / 2.0, 0.0) AS m
              FROM tree t JOIN pipe p ON ST_DWithin(t.geom, p.geom, {tmax + max_w / 2!r}))
            SELECT 'tree' AS layer_a, c.uid_a, c.uid_b, c.m
            FROM c JOIN req_tree q ON q.kind = c.kind AND q.pb = c.pb WHERE c.m < q.req""",
        "stall_over_structure": f"""
            SELECT 'parking_stall' AS layer_a, uid_a, uid_b, m FROM (
              SELECT s.uid AS uid_a, pt.uid AS uid_b, ST_Distance(s.geom, pt.geom) AS m, pt.r AS r
              FROM stall s JOIN pt ON ST_DWithin(s.geom, pt.geom, {max_r!r})) q
            WHERE m < r""",
        "fire_lane_obstruction": f"""
            SELECT layer_a, uid_a, uid_b, m FROM (
              SELECT 'parking_stall' AS layer_a, s.uid AS uid_a, l.uid AS uid_b,
                     ST_Area(ST_Intersection(s.geom, l.geom)) AS m
              FROM stall s JOIN lane l ON ST_Intersects(s.geom, l.geom)
              UNION ALL
              SELECT 'building' AS layer_a, b.uid, l.uid, ST_Area(ST_Intersection(b.geom, l.geom))
              FROM bld b JOIN lane l ON ST_Intersects(b.geom, l.geom)) q
            WHERE m > {minarea!r}
            UNION ALL
            SELECT 'tree' AS layer_a, t.uid, l.uid, 0.0 FROM tree t JOIN lane l ON ST_Intersects(t.geom, l.geom)""",
        "building_clearance": f"""
            WITH c AS MATERIALIZED (
              SELECT p.uid AS uid_a, b.uid AS uid_b, p.pkey AS pb,
                     GREATEST(ST_Distance(p.geom, b.geom) - p.w / 2.0, 0.0) AS m
              FROM pipe p JOIN bld b ON ST_DWithin(p.geom, b.geom, {bmax + max_w / 2!r}))
            SELECT 'pipe_segment' AS layer_a, c.uid_a, c.uid_b, c.m
            FROM c JOIN req_bld q ON q.pb = c.pb WHERE c.m < q.req""",
    }


RAW_COLUMNS = {
    "pipe_segment": ["uid", "status", "utility", "diameter_mm", "width_mm", "pressure_mpa", "burial",
                     "start_uid", "end_uid"],
    "planned_road": ["uid", "status", "part"],
    "pipe_point": ["uid", "status", "appurtenance", "cover_size"],
    "tree": ["uid", "status", "kind"],
    "parking_stall": ["uid", "status"],
    "fire_lane": ["uid", "status"],
    "building": ["uid", "status", "foundation_depth_m"],
}


def read_raw(gpkg: str, layer: str, columns=None):
    """A layer as a pandas frame of plain columns (NULL floats as <NA>) + 'wkb' (bytes)."""
    import pandas as pd
    import pyogrio.raw

    cols = columns or RAW_COLUMNS[layer]
    meta, _fids, geom, fields = pyogrio.raw.read(gpkg, layer=layer, columns=cols)
    data = {}
    for name, arr in zip(meta["fields"], fields):
        if arr.dtype.kind == "f":
            data[name] = pd.array(arr, dtype="Float64")  # NaN -> <NA> -> SQL NULL
        else:
            data[name] = pd.Series(arr, dtype=object)
    df = pd.DataFrame(data)
    df["wkb"] = geom
    return df


def check_city_assumptions(frames: dict):
    """The SQL's simplifications hold for this data (see the module doc)."""
    b = frames.get("building")
    if b is not None and "foundation_depth_m" in b and b["foundation_depth_m"].notna().any():
        raise RuntimeError("peer SQL assumes no building foundation depths (deeper_than_foundation)")
