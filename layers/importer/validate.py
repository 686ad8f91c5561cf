"""Validation with quarantine: every record is accepted or rejected with a reason.

``plan_source`` turns a ``readers.Source`` into a ``Plan``: the rows to insert
or update in pipe_point / pipe_segment, the rejects (reason code, field,
value, raw record) and the findings (tees with the wrong number of pipes).
Nothing is written here; batch.py writes a plan in one transaction.

Records: every record of the file is one record; in a point table each
connected point number (连接方向) is one more record, of pipe_segment.
For every plan ``accepted + rejected == records_in``.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from .. import schema
from ..errors import InputError
from . import coords, mapping
from .sizes import SizeError, parse_size

POINT, SEGMENT = "pipe_point", "pipe_segment"
_NUM = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)(?:e[-+]?\d+)?\s*(m|米|mm|毫米|kv|mpa|年)?\s*$", re.I)
_SPLIT = re.compile(r"[,;，；、\s]+")


class Problem(Exception):
    def __init__(self, code, field=None, value=None, detail=""):
        super().__init__(code)
        self.code, self.field, self.value, self.detail = code, field, value, detail


def reason_texts(code, field=None, value=None, detail=""):
    zh, en = mapping.config()["reasons"][code]
    args = {"field": field or "", "value": "" if value is None else value, "detail": detail or ""}
    try:
        return zh.format(**args), en.format(**args)
    except (KeyError, ValueError, IndexError):
        return zh, en


@dataclass
class Row:
    """A record headed for a layer."""
    layer: str
    record_no: int
    values: Dict[str, Any]
    geometry: Any = None
    raw: Dict[str, Any] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)
    connect: List[str] = field(default_factory=list)
    action: Optional[str] = None   # insert / update / unchanged / merged
    fid: Optional[int] = None


@dataclass
class Plan:
    file: str
    fmt: str
    crs_in: str
    encoding: Optional[str]
    mapping: dict
    records_in: int = 0
    rows: List[Row] = field(default_factory=list)        # accepted rows (all actions)
    rejects: List[dict] = field(default_factory=list)
    findings: List[dict] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    target_layers: List[str] = field(default_factory=list)

    @property
    def accepted(self):
        return len(self.rows)

    @property
    def rejected(self):
        return len(self.rejects)

    def count(self, action):
        return sum(1 for r in self.rows if r.action == action)


class State:
    """What the project holds (and what earlier files of the same import will add).

    Given whole (``points``, ``segments``: {uid: (fid, values, geometry)}), or
    read on demand through ``loader`` (batch.ProjectRows / pg_commit.ProjectRows:
    ``rows(layer, uids)`` and ``segments_at(point_uids)``), so that planning a
    small delivery into a city-wide project reads the rows it touches, not the
    city. The planner asks ahead (``prefetch``) for the uids of a whole file.
    """

    def __init__(self, points=None, segments=None, loader=None):
        self.layers = {POINT: points or {}, SEGMENT: segments or {}}
        self.loader = loader
        self._asked = {POINT: set(), SEGMENT: set()}

    def prefetch(self, layer, uids):
        """Read the project's rows of these uids (once each) into the state."""
        if self.loader is None:
            return
        want = {u for u in uids if u is not None} - self._asked[layer]
        want.difference_update(self.layers[layer])
        if want:
            self._asked[layer].update(want)
            for uid, row in self.loader.rows(layer, sorted(want, key=str)).items():
                self.layers[layer].setdefault(uid, row)

    def get(self, layer, uid):
        if self.loader is not None and uid not in self.layers[layer]:
            self.prefetch(layer, [uid])
        return self.layers[layer].get(uid)

    def segments_at(self, point_uids) -> dict:
        """{uid: values} of the segments with an end at one of ``point_uids``:
        the project's, as this import leaves them."""
        pts = set(point_uids)
        out = {}
        if self.loader is not None:
            out = {uid: row[1] for uid, row in self.loader.segments_at(sorted(pts, key=str)).items()}
        for uid, (_, vals, _) in self.layers[SEGMENT].items():
            if vals.get("start_uid") in pts or vals.get("end_uid") in pts:
                out[uid] = vals
            else:
                out.pop(uid, None)     # planned away from these points
        return out

    def put(self, layer, uid, fid, values, geometry):
        old = self.layers[layer].get(uid)
        merged = dict(old[1]) if old else {}
        merged.update(values)
        self.layers[layer][uid] = (fid if fid is not None else (old[0] if old else None), merged, geometry)


# ---------------------------------------------------------------- value conversion

def _json_default(v):
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return str(v)


def raw_json(values: dict) -> str:
    clean = {}
    for k, v in values.items():
        if isinstance(v, float) and v != v:
            v = None
        clean[str(k)] = v
    return json.dumps(clean, ensure_ascii=False, default=_json_default)


def text_of(v):
    """A cell as text; Excel's 12.0 for a point number is '12'."""
    if mapping.is_null(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return unicodedata.normalize("NFKC", str(v)).strip()


def number_of(v, fld: str, integer=False):
    if mapping.is_null(v):
        return None
    if isinstance(v, bool):
        raise Problem("bad_number", fld, v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
    else:
        t = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "")
        m = _NUM.match(t)
        if not m:
            raise Problem("bad_number", fld, v)
        try:
            x = float(t[: m.end(1)] if not m.group(0).lower().count("e") else t.rstrip("m米年").strip())
        except ValueError:
            raise Problem("bad_number", fld, v) from None
    if not np.isfinite(x):
        raise Problem("bad_number", fld, v)
    if integer:
        if not float(x).is_integer():
            raise Problem("bad_number", fld, v, "（应为整数 / must be a whole number）")
        return int(x)
    return x


def date_of(v, fld):
    if mapping.is_null(v):
        return None
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    t = unicodedata.normalize("NFKC", str(v)).strip()
    m = re.match(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(?:[ T].*)?$", t)
    if m:
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    raise Problem("bad_number", fld, v, "（日期 / date）")


def _check_range(f: schema.Field, x, src_field):
    positive = set(mapping.check_value("positive_only"))
    lo, hi = f.min, f.max
    if (lo is not None and x < lo) or (hi is not None and x > hi) or (f.name in positive and x <= 0):
        lo_t = "(0" if f.name in positive else f"[{lo if lo is not None else '-∞'}"
        raise Problem("out_of_range", src_field, x, f"{lo_t}, {hi if hi is not None else '∞'}]")


# ---------------------------------------------------------------- planning

def _geom_uid(prefix, geom):
    digits = mapping.check_value("geometry_uid_digits")
    import shapely

    xy = np.round(shapely.get_coordinates(geom), digits)
    return f"{prefix}{hashlib.sha1(xy.tobytes()).hexdigest()[:12]}"


def plan_source(src, user_map: dict, crs_opt: Optional[str], project_crs: str, state: State,
                default_name: str = None) -> Plan:
    colmap = mapping.apply_mapping(src.columns, user_map)
    if src.fmt == "inp":
        colmap = {c: c for c in src.columns}
    targets = set(colmap.values())
    crs_in = src.crs or crs_opt or project_crs
    plan = Plan(src.path, src.fmt, crs_in, src.encoding, {
        "columns": colmap, **{k: v for k, v in (user_map or {}).items() if k != "columns"}})
    plan.notes.extend(src.notes)
    if src.crs and crs_opt and coords.crs(src.crs) != coords.crs(crs_opt):
        plan.notes.append(f"the file's CRS {src.crs} is used; --crs {crs_opt} is ignored")
    if not src.crs and not crs_opt:
        plan.notes.append(f"the file has no CRS: read in the project's CRS {project_crs}")
    if src.is_table and not ({"east", "north"} & targets or {"start_uid", "end_uid"} <= targets):
        raise InputError("no coordinate columns (X / Y) and no 起点点号 / 终点点号 columns recognised "
                         f"among: {', '.join(src.columns)}; give a mapping file (--mapping)",
                         file=src.path)
    model = schema.model()
    pfields = {f.name: f for f in model.layer(POINT).fields}
    sfields = {f.name: f for f in model.layer(SEGMENT).fields}
    name_u = mapping.utility_from_name(default_name)
    fmt_u = mapping.config().get("format_utility", {}).get(src.fmt)
    vmap = (user_map or {}).get("values") or {}
    forced_u = mapping.utility_of(user_map.get("utility"), vmap) if user_map and user_map.get("utility") else None

    points, segments = [], []   # Rows
    for rec in src.records:
        raw = dict(rec.values)
        if rec.geometry is not None:
            raw.setdefault("_geometry", rec.geometry.wkt[:5000])
        if rec.layer_name and src.fmt in ("dxf", "gpkg", "xlsx", "inp"):
            raw.setdefault("_layer", rec.layer_name)
        if rec.error:
            row = Row(rec.kind and (POINT if rec.kind == "point" else SEGMENT) or _layer_guess(rec, targets),
                      rec.no, {}, raw=raw)
            row.problems.append(Problem("unreadable", None, None, rec.error[:300]))
            (points if row.layer == POINT else segments).append(row)
            continue
        vals, extra, problems = _convert(rec, colmap, pfields, sfields, vmap)
        kind = _kind(rec, vals, extra, targets)
        row = Row(kind, rec.no, vals, raw=raw, problems=problems)
        row.geometry = rec.geometry
        row.connect = extra.get("connect") or []
        row.extra = extra  # type: ignore[attr-defined]
        # utility: column, then mapping, uid prefix, layer / sheet / file name, format default
        if not vals.get("utility"):
            for cand in (forced_u, mapping.utility_from_name(rec.layer_name),
                         mapping.utility_from_name(vals.get("uid")) if kind == POINT and src.is_table else None,
                         name_u, (fmt_u, None) if fmt_u else None):
                if cand and cand[0]:
                    vals["utility"] = cand[0]
                    if cand[1] and not vals.get("subclass"):
                        vals["subclass"] = cand[1]
                    break
        if user_map and user_map.get("subclass") and not vals.get("subclass"):
            vals["subclass"] = mapping.code_of("subclass", user_map["subclass"], vmap.get("subclass"))
        (points if kind == POINT else segments).append(row)

    _plan_points(plan, points, src, crs_in, project_crs, state, targets)
    _plan_segments(plan, points, segments, src, crs_in, project_crs, state, targets)
    _findings(plan, points, state)
    plan.records_in = len(plan.rows) + len(plan.rejects)
    layers = sorted({r.layer for r in plan.rows} | {r["target_layer"] for r in plan.rejects})
    plan.target_layers = layers
    return plan


def _layer_guess(rec, targets):
    if rec.geometry is not None and rec.geometry.geom_type.endswith("LineString"):
        return SEGMENT
    if {"start_uid", "end_uid"} <= targets and not ({"east", "north"} & targets):
        return SEGMENT
    return POINT


def _kind(rec, vals, extra, targets):
    if rec.kind:
        return POINT if rec.kind == "point" else SEGMENT
    g = rec.geometry
    if g is not None:
        return SEGMENT if "LineString" in g.geom_type else POINT
    has_xy = extra.get("east") is not None or extra.get("north") is not None
    if has_xy:
        return POINT
    if vals.get("start_uid") is not None or vals.get("end_uid") is not None:
        return SEGMENT
    if {"start_uid", "end_uid"} <= targets and not ({"east", "north"} & targets):
        return SEGMENT
    return POINT


def _convert(rec, colmap, pfields, sfields, vmap):
    """Model values and importer roles of one record; problems collected, not raised."""
    vals, extra, problems = {}, {}, []
    allf = {**sfields, **pfields}
    size_src = None
    for col, target in colmap.items():
        if col not in rec.values:
            continue
        v = rec.values[col]
        try:
            if target in ("east", "north", "top_elev", "invert_elev"):
                extra[target] = number_of(v, col)
                extra.setdefault("_src", {})[target] = col
            elif target == "connect":
                t = text_of(v)
                extra["connect"] = [c for c in _SPLIT.split(t) if c] if t else []
            elif target == "size":
                size_src = col
                try:
                    got = parse_size(None if mapping.is_null(v) else v)
                except SizeError:
                    raise Problem("bad_number", col, v, "（管径 / size）") from None
                for k, x in got.items():
                    f = allf[k]
                    _check_range(f, x, col)
                    extra.setdefault("_size", {})[k] = x
                vals.setdefault("diameter_mm", None)
            elif target == "cover":
                try:
                    got = parse_size(None if mapping.is_null(v) else v)
                except SizeError:
                    raise Problem("bad_number", col, v, "（井盖尺寸 / cover size）") from None
                size = got.get("diameter_mm", got.get("width_mm"))
                size = None if size is None else size / 1000.0
                if size is not None:
                    _check_range(pfields["cover_size"], size, col)
                vals["cover_size"] = size
            else:
                f = allf.get(target)
                if f is None or target in ("source", "updated_at"):
                    continue
                vals[target] = _field_value(f, v, col, vmap)
        except Problem as p:
            problems.append(p)
            vals.setdefault(target, None) if target in allf else None
    # size columns: explicit holes / cable columns win over what the size text said
    for k, x in (extra.get("_size") or {}).items():
        if vals.get(k) is None:
            vals[k] = x
    if size_src and "width_mm" in (extra.get("_size") or {}):
        vals["diameter_mm"] = vals.get("diameter_mm")
    return vals, extra, problems


def _field_value(f: schema.Field, v, col, vmap):
    if f.name == "utility":
        t = text_of(v)
        if t is None:
            return None
        u, s = mapping.utility_of(t, vmap)
        if not u:
            raise Problem("unknown_code", col, t)
        return u if not s else (u, s)
    if f.domain:
        t = text_of(v)
        if t is None:
            return None
        code = mapping.code_of(f.domain, t, vmap.get(f.domain))
        if code is None:
            raise Problem("unknown_code", col, t)
        return code
    if f.type == "text":
        return text_of(v)
    if f.type in ("real", "integer"):
        if f.name == "build_year" and isinstance(v, (_dt.date, _dt.datetime)):
            return v.year
        if f.name == "build_year" and not mapping.is_null(v):
            m = re.match(r"^\s*(\d{4})", str(text_of(v)))
            if m:
                v = m.group(1)
        x = number_of(v, col, integer=f.type == "integer")
        if x is not None:
            _check_range(f, x, col)
        return x
    if f.type == "date":
        return date_of(v, col)
    return text_of(v)


def _reject(plan: Plan, row: Row, colmap=None):
    p = row.problems[0]
    zh, en = reason_texts(p.code, p.field, p.value, p.detail)
    if len(row.problems) > 1:
        more = [reason_texts(q.code, q.field, q.value, q.detail) for q in row.problems[1:]]
        zh += "；" + "；".join(m[0] for m in more)
        en += "; " + "; ".join(m[1] for m in more)
    plan.rejects.append({
        "record_no": row.record_no, "target_layer": row.layer, "field": p.field,
        "value": None if p.value is None else str(p.value), "reason_code": p.code,
        "reason_zh": zh, "reason_en": en, "raw": raw_json(row.raw)})


def _fix_utility(row: Row):
    u = row.values.get("utility")
    if isinstance(u, tuple):
        row.values["utility"] = u[0]
        if not row.values.get("subclass"):
            row.values["subclass"] = u[1]
    if not row.values.get("utility") and not any(p.field and p.code == "unknown_code" for p in row.problems):
        row.problems.append(Problem("missing_value", "utility"))


def _plan_points(plan, points, src, crs_in, project_crs, state, targets):
    import shapely

    # coordinates
    table_rows = [r for r in points if r.geometry is None and hasattr(r, "extra")]
    table_ids = {id(r) for r in table_rows}
    if table_rows:
        east = np.array([np.nan if r.extra.get("east") is None else r.extra["east"] for r in table_rows])
        north = np.array([np.nan if r.extra.get("north") is None else r.extra["north"] for r in table_rows])
        have = np.isfinite(east) & np.isfinite(north)
        used_crs = crs_in
        if have.any():
            e2, n2, used_crs, notes = coords.table_crs(east[have], north[have], crs_in)
            east[have], north[have] = e2, n2
            plan.notes.extend(notes)
            plan.crs_in = used_crs
        inside = coords.inside_area(east, north, used_crs)
        px, py = coords.transform(np.where(inside, east, 0), np.where(inside, north, 0), used_crs, project_crs)
        in_project = coords.inside_area(px, py, project_crs)
        for i, r in enumerate(table_rows):
            if not have[i] and r.problems:
                continue
            if not have[i]:
                missing = [k for k in ("north", "east") if r.extra.get(k) is None]
                label = {"north": "X", "east": "Y"}
                r.problems.append(Problem("missing_coordinates",
                                          ", ".join(r.extra.get("_src", {}).get(k, label[k]) for k in missing)))
            elif not inside[i] or not in_project[i]:
                r.problems.append(Problem("outside_crs_area", "X, Y", f"X {north[i]:.3f}, Y {east[i]:.3f}",
                                          used_crs if not inside[i] else f"{project_crs} (project)"))
            else:
                r.geometry = shapely.Point(px[i], py[i])
    geo_rows = [r for r in points if r.geometry is not None and id(r) not in table_ids]
    if geo_rows:
        geoms = np.array([r.geometry for r in geo_rows], dtype=object)
        crs_geo = crs_in
        if not src.crs:
            xs = shapely.get_coordinates(geoms)[:, 0]
            if len(xs) and np.median(xs) >= 1e7 and (coords._false_easting(coords.crs(crs_in)) or 0) < 1e6:
                crs_geo = coords.prefixed_crs(float(np.median(xs))) or crs_in
                if crs_geo != crs_in:
                    plan.notes.append(f"x values carry a zone prefix: read in {crs_geo}")
                    plan.crs_in = crs_geo
        _geometries(plan, geo_rows, geoms, crs_geo, project_crs, "Point")
    for r in points:
        if r.geometry is None and not r.problems and not hasattr(r, "extra"):
            r.problems.append(Problem("missing_coordinates", "geometry"))
        elif r.geometry is None and not r.problems:
            r.problems.append(Problem("missing_coordinates", "geometry"))
    # derived values and required fields
    seen = {}
    for r in points:
        _fix_utility(r)
        if not hasattr(r, "extra"):
            continue
        vals, extra = r.values, r.extra
        extra["_all"] = dict(vals)
        for k in [k for k in list(vals) if k in _SEGMENT_ONLY]:
            vals.pop(k)
        if vals.get("depth") is None and vals.get("ground_elev") is not None:
            if extra.get("top_elev") is not None:
                vals["depth"] = round(vals["ground_elev"] - extra["top_elev"], 4)
                extra["depth_ref"] = "top"
            elif extra.get("invert_elev") is not None:
                vals["depth"] = round(vals["ground_elev"] - extra["invert_elev"], 4)
                extra["depth_ref"] = "invert"
            if vals.get("depth") is not None:
                try:
                    _check_range(schema.model().layer(POINT).field("depth"), vals["depth"], "depth")
                except Problem as p:
                    r.problems.append(p)
        if vals.get("uid") is None and r.geometry is not None and not src.is_table:
            vals["uid"] = _geom_uid(f"{vals.get('utility') or 'P'}-P", r.geometry)
        if vals.get("uid") is None and not r.problems:
            r.problems.append(Problem("missing_value", _src_name(r, "uid")))
    state.prefetch(POINT, [r.values.get("uid") for r in points if not r.problems])
    for r in points:
        uid = r.values.get("uid")
        if uid is not None and not r.problems:
            if uid in seen:
                r.problems.append(Problem("duplicate_uid", _src_name(r, "uid"), uid, seen[uid]))
            else:
                seen[uid] = r.record_no
        if r.problems:
            _reject(plan, r)
            continue
        _decide(plan, r, state, POINT)


_SEGMENT_ONLY = {"start_uid", "end_uid", "material", "diameter_mm", "width_mm", "height_mm",
                 "depth_start", "depth_end", "depth_ref", "burial", "pressure_mpa", "voltage_kv",
                 "cable_count", "holes_total", "holes_used", "build_year"}
_POINT_ONLY = {"feature", "appurtenance", "ground_elev", "depth", "cover_size"}


def _src_name(row, target):
    return target


def _geometries(plan, rows, geoms, crs_from, crs_to, want):
    import shapely

    fixed = []
    for r, g in zip(rows, geoms):
        if g.geom_type.startswith("Multi") and len(g.geoms) == 1:
            g = g.geoms[0]
        if g.geom_type == "MultiLineString":
            merged = shapely.line_merge(g)
            g = merged if merged.geom_type == "LineString" else g
        fixed.append(g)
    geoms = np.array(fixed, dtype=object)
    out, ok = coords.geometry_to_project(geoms, crs_from, crs_to)
    for r, g0, g, inside in zip(rows, geoms, out, ok):
        if g0.is_empty:
            r.problems.append(Problem("invalid_geometry", "geometry", None, "empty / 空几何"))
        elif g0.geom_type != want:
            r.problems.append(Problem("invalid_geometry", "geometry", g0.geom_type,
                                      f"{g0.geom_type}, expected {want}"))
        elif not np.isfinite(shapely.get_coordinates(g0)).all():
            r.problems.append(Problem("invalid_geometry", "geometry", None, "non-finite coordinates"))
        elif not inside:
            x, y = shapely.get_coordinates(g0)[0]
            r.problems.append(Problem("outside_crs_area", "geometry", f"{x:.3f}, {y:.3f}", crs_from))
        elif want == "LineString" and g.length <= 0:
            r.problems.append(Problem("invalid_geometry", "geometry", None, "zero length / 长度为零"))
        r.geometry = g if not r.problems else None


def _point_xy(uid, plan_points, state):
    r = plan_points.get(uid)
    if r is not None:
        return r.geometry, r.values
    got = state.get(POINT, uid)
    if got is not None:
        return got[2], got[1]
    return None, None


def _plan_segments(plan, points, segments, src, crs_in, project_crs, state, targets):
    import shapely

    tol = mapping.check_value("point_match_m")
    accepted_pts = {r.values["uid"]: r for r in plan.rows if r.layer == POINT}
    rejected_pts = {r.values.get("uid") for r in points if r.problems}
    model = schema.model()
    seg_fields = {f.name for f in model.layer(SEGMENT).fields}
    # 1. connections of a point table: one segment record per connected point number
    derived = []
    for r in points:
        if not hasattr(r, "extra"):
            continue
        for other in r.connect:
            vals = {k: v for k, v in r.extra.get("_all", r.values).items() if k in seg_fields and k not in _POINT_ONLY
                    and k not in ("uid", "status", "note", "acc_h", "acc_v", "survey_date")}
            for k in ("status", "note", "survey_date"):
                if r.values.get(k) is not None:
                    vals[k] = r.values[k]
            vals["start_uid"], vals["end_uid"] = r.values.get("uid"), other
            raw = dict(r.raw)
            raw["_connect"] = other
            s = Row(SEGMENT, r.record_no, vals, raw=raw)
            s.extra = {"depth_ref": r.extra.get("depth_ref"), "from_point_table": True}  # type: ignore
            if r.problems:
                s.problems.append(Problem("unknown_point", "start_uid", r.values.get("uid"),
                                          "（该点记录已被拒收 / its point record was rejected）"))
            derived.append(s)
    # 2. segment records of the file
    geo = [s for s in segments if s.geometry is not None and not s.problems]
    if geo:
        crs_geo = crs_in
        if not src.crs:
            xs = shapely.get_coordinates(np.array([s.geometry for s in geo], dtype=object))[:, 0]
            if len(xs) and np.median(xs) >= 1e7 and (coords._false_easting(coords.crs(crs_in)) or 0) < 1e6:
                crs_geo = coords.prefixed_crs(float(np.median(xs))) or crs_in
                plan.crs_in = crs_geo
        _geometries(plan, geo, np.array([s.geometry for s in geo], dtype=object), crs_geo, project_crs,
                    "LineString")
    ends = [(s.values.get("start_uid"), s.values.get("end_uid")) for s in list(segments) + derived]
    state.prefetch(POINT, [u for e in ends for u in e if u not in accepted_pts])
    state.prefetch(SEGMENT, [s.values.get("uid") for s in segments]
                   + [f"{a}-{b}" for a, b in ends if a is not None and b is not None])
    seen = {}
    for s in list(segments) + derived:
        _fix_utility(s) if s.values.get("utility") or s.problems else None
        vals = s.values
        for k in [k for k in list(vals) if k in _POINT_ONLY or k not in seg_fields]:
            vals.pop(k)
        start, end = vals.get("start_uid"), vals.get("end_uid")
        had_geometry = s.geometry is not None
        if not s.problems:
            pa = pb = None
            for fld, uid in (("start_uid", start), ("end_uid", end)):
                if uid is None:
                    if not had_geometry:
                        s.problems.append(Problem("missing_value", fld))
                    continue
                g, pv = _point_xy(uid, accepted_pts, state)
                if g is None:
                    why = "（该点记录已被拒收 / its point record was rejected）" if uid in rejected_pts else ""
                    s.problems.append(Problem("unknown_point", fld, uid, why))
                    continue
                if fld == "start_uid":
                    pa = (g, pv)
                else:
                    pb = (g, pv)
            if not s.problems:
                if not had_geometry:
                    if pa is None or pb is None:
                        s.problems.append(Problem("missing_coordinates", "geometry"))
                    else:
                        line = shapely.LineString([pa[0].coords[0], pb[0].coords[0]])
                        if line.length <= 0:
                            s.problems.append(Problem("invalid_geometry", "geometry", None,
                                                      "起点与终点重合 / start and end coincide"))
                        else:
                            s.geometry = line
                else:
                    _match_ends(s, pa, pb, tol)
        if not s.problems:
            # utility from the points when the segment does not say
            if not vals.get("utility"):
                for p in (pa, pb):
                    if p and p[1] and p[1].get("utility"):
                        vals["utility"] = p[1]["utility"]
                        if p[1].get("subclass") and not vals.get("subclass"):
                            vals["subclass"] = p[1]["subclass"]
                        break
            _fix_utility(s)
        if not s.problems and getattr(s, "extra", {}).get("from_point_table"):
            # depths at both ends come from the two points' rows
            vals["depth_start"] = pa[1].get("depth") if pa and pa[1] else None
            vals["depth_end"] = pb[1].get("depth") if pb and pb[1] else None
        if not s.problems:
            if vals.get("depth_ref") is None and (vals.get("depth_start") is not None
                                                  or vals.get("depth_end") is not None):
                ref = getattr(s, "extra", {}).get("depth_ref") or (plan.mapping.get("depth_ref"))
                table = mapping.config()["depth_ref_by_utility"]
                vals["depth_ref"] = ref or table.get(vals.get("utility"), table["default"])
            uid = vals.get("uid")
            if uid is None:
                uid = f"{start}-{end}" if start is not None and end is not None else \
                    _geom_uid(f"{vals.get('utility') or 'L'}-L", s.geometry)
                vals["uid"] = uid
            if uid in seen:
                first = seen[uid]
                if getattr(s, "extra", {}).get("from_point_table"):
                    s.action = "merged"
                else:
                    s.problems.append(Problem("duplicate_uid", "uid", uid, first.record_no))
            else:
                rev = f"{end}-{start}"
                if getattr(s, "extra", {}).get("from_point_table") and rev in seen:
                    s.action = "merged"
                else:
                    seen[uid] = s
        if s.problems:
            _reject(plan, s)
        elif s.action == "merged":
            plan.rows.append(s)
        else:
            _decide(plan, s, state, SEGMENT)


def _match_ends(s, pa, pb, tol):
    import shapely

    coords_ = shapely.get_coordinates(s.geometry)
    a, b = coords_[0], coords_[-1]

    def d(p, q):
        return float(np.hypot(*(np.asarray(p[0].coords[0]) - q)))
    forward = [d(pa, a) if pa else 0.0, d(pb, b) if pb else 0.0]
    backward = [d(pa, b) if pa else 0.0, d(pb, a) if pb else 0.0]
    if max(forward) <= tol:
        return
    if max(backward) <= tol:
        s.geometry = s.geometry.reverse()
        return
    fld, dist = ("start_uid", forward[0]) if forward[0] > tol else ("end_uid", forward[1])
    s.problems.append(Problem("point_mismatch", fld, s.values.get(fld), f"{dist:.2f}"))


def _decide(plan, row, state, layer):
    """insert / update / unchanged against the project (and earlier files of this import)."""
    uid = row.values["uid"]
    got = state.get(layer, uid)
    if got is None:
        row.action = "insert"
    else:
        fid, old, geom = got
        same = all(_same(old.get(k), v) for k, v in row.values.items())
        same = same and geom is not None and row.geometry is not None and \
            geom.equals_exact(row.geometry, 1e-6)
        row.action = "unchanged" if same else "update"
        row.fid = fid
    plan.rows.append(row)
    state.put(layer, uid, row.fid, row.values, row.geometry)


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return str(a) == str(b)


def _findings(plan, points, state):
    """Tees and crosses with the wrong number of connected pipes: findings, not rejects."""
    want = mapping.check_value("tee_pipes")
    ends = defaultdict(int)
    at = [r.values["uid"] for r in plan.rows if r.layer == POINT and r.values.get("feature") in want]
    for vals in state.segments_at(at).values():
        for k in ("start_uid", "end_uid"):
            if vals.get(k):
                ends[vals[k]] += 1
    dom = schema.model().domain("point_feature")
    tmpl = mapping.config()["findings"]["tee_pipes"]
    for r in plan.rows:
        if r.layer != POINT:
            continue
        feat = r.values.get("feature")
        if feat in want and ends[r.values["uid"]] != want[feat]:
            args = {"uid": r.values["uid"], "feature_zh": dom.label(feat, "zh"),
                    "feature_en": dom.label(feat, "en"), "expected": want[feat],
                    "found": ends[r.values["uid"]]}
            plan.findings.append({"finding": "tee_pipes", "record_no": r.record_no, "uid": r.values["uid"],
                                  "feature": feat, "expected": want[feat], "found": ends[r.values["uid"]],
                                  "message_zh": tmpl[0].format(**args), "message_en": tmpl[1].format(**args)})
