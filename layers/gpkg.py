"""Create a project GeoPackage from the one declaration of the data model.

Uses GDAL's own Python bindings (``osgeo``, shipped with QGIS) because they
write what another GIS reads: field domains (code lists and ranges),
NOT NULL / UNIQUE / DEFAULT, aliases (gpkg_data_columns) and the R-tree.
The file is written beside the target and renamed into place only when
complete, so a failed ``init`` never leaves or damages a file.
"""
from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import tempfile

from . import schema
from .errors import InputError

GEOM_COLUMN = "geom"
PROJECT_TABLE = "rp_project"
CODE_LIST_TABLE = "code_list"
SQLITE_MAGIC = b"SQLite format 3\x00"


def _ogr():
    from osgeo import gdal, ogr, osr

    gdal.UseExceptions()
    ogr.UseExceptions()
    osr.UseExceptions()
    return gdal, ogr, osr


def parse_crs(crs: str):
    """Return an osr.SpatialReference for a projected CRS in metres, or raise InputError."""
    _, _, osr = _ogr()
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(str(crs))
    except Exception:
        raise InputError(f"unknown CRS {crs!r}") from None
    if not srs.IsProjected():
        raise InputError(f"CRS {crs} is not projected: a project needs a projected CRS in metres "
                         f"(for example EPSG:4547)")
    if abs(srs.GetLinearUnits() - 1.0) > 1e-9:
        raise InputError(f"CRS {crs} is not in metres ({srs.GetLinearUnitsName()})")
    srs.AutoIdentifyEPSG()
    return srs


def crs_authid(srs) -> str:
    code = srs.GetAuthorityCode(None)
    name = srs.GetAuthorityName(None)
    return f"{name}:{code}" if code and name else srs.ExportToWkt()


def _ogr_type(ogr, ftype):
    return {
        "text": (ogr.OFTString, ogr.OFSTNone),
        "integer": (ogr.OFTInteger64, ogr.OFSTNone),
        "real": (ogr.OFTReal, ogr.OFSTNone),
        "datetime": (ogr.OFTDateTime, ogr.OFSTNone),
        "date": (ogr.OFTDate, ogr.OFSTNone),
        "boolean": (ogr.OFTInteger, ogr.OFSTBoolean),
    }[ftype]


def _geom_type(ogr, name):
    return {
        "Point": ogr.wkbPoint,
        "LineString": ogr.wkbLineString,
        "Polygon": ogr.wkbPolygon,
        "Geometry": ogr.wkbUnknown,
        None: ogr.wkbNone,
    }[name]


def _range_domain_name(f: schema.Field) -> str:
    def fmt(v):
        return "inf" if v is None else ("%g" % v).replace("-", "m").replace(".", "p")

    return f"range_{f.type}_{fmt(f.min)}_{fmt(f.max)}"


def _default_literal(f: schema.Field):
    if f.default is None:
        return None
    if f.type == "text":
        return "'" + str(f.default).replace("'", "''") + "'"
    return str(f.default)


def check_target(path: str) -> str:
    """Validate the target of ``init``: return its absolute path or raise InputError."""
    path = os.path.abspath(path)
    if not path.lower().endswith(".gpkg"):
        raise InputError("a project file must end in .gpkg", file=path)
    if os.path.exists(path):
        if os.path.isdir(path):
            raise InputError("is a folder, not a GeoPackage", file=path)
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head != SQLITE_MAGIC:
            raise InputError("exists and is not a GeoPackage; it was left untouched", file=path)
        raise InputError("exists already; it was left untouched (choose a new file name)", file=path)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise InputError("folder does not exist", file=folder)
    if not os.access(folder, os.W_OK):
        raise InputError("folder is not writable", file=folder)
    return path


def create_project(path: str, crs: str = None, model: schema.Model = None) -> str:
    """Create an empty project GeoPackage with every layer, table and code list.

    Returns the absolute path. Raises InputError for a bad target or CRS; the
    target is only created when everything succeeded.
    """
    model = model or schema.model()
    crs = crs or model.default_crs
    path = check_target(path)
    srs = parse_crs(crs)
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", prefix=".rp-init-", dir=os.path.dirname(path))
    os.close(fd)
    os.unlink(tmp)
    try:
        _write_schema(tmp, srs, model)
        _write_metadata(tmp, srs, model)
        try:
            os.link(tmp, path)  # fails if path appeared meanwhile: never overwrite
        except FileExistsError:
            raise InputError("exists already; it was left untouched", file=path) from None
        except OSError:
            if os.path.exists(path):
                raise InputError("exists already; it was left untouched", file=path) from None
            os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _write_schema(path, srs, model: schema.Model):
    gdal, ogr, _ = _ogr()
    ds = gdal.GetDriverByName("GPKG").Create(path, 0, 0, 0, gdal.GDT_Unknown)
    try:
        for dom in model.domains.values():
            ds.AddFieldDomain(ogr.CreateCodedFieldDomain(
                dom.name, f"Renewal Planner code list {dom.name}", ogr.OFTString, ogr.OFSTNone,
                {c: f"{zh} / {en}" for c, zh, en in dom.codes}))
        ranges = {}
        for lyr in model.layers.values():
            for f in lyr.fields:
                if (f.min is not None or f.max is not None) and f.type in ("integer", "real"):
                    ranges[_range_domain_name(f)] = f
        for name, f in ranges.items():
            ftype = ogr.OFTInteger64 if f.type == "integer" else ogr.OFTReal
            ds.AddFieldDomain(ogr.CreateRangeFieldDomain(
                name, f"{f.min} .. {f.max}", ftype, ogr.OFSTNone,
                -float("inf") if f.min is None else float(f.min), f.min is not None,
                float("inf") if f.max is None else float(f.max), f.max is not None))

        for lyr in model.layers.values():
            options = ["FID=fid", f"IDENTIFIER={lyr.en}", f"DESCRIPTION={lyr.zh} / {lyr.en}"]
            if lyr.geometry is not None:
                options += [f"GEOMETRY_NAME={GEOM_COLUMN}", "SPATIAL_INDEX=YES",
                            "GEOMETRY_NULLABLE=YES"]
            ol = ds.CreateLayer(lyr.name, srs if lyr.geometry is not None else None,
                                _geom_type(ogr, lyr.geometry), options=options)
            for f in lyr.fields:
                t, st = _ogr_type(ogr, f.type)
                fd = ogr.FieldDefn(f.name, t)
                fd.SetSubType(st)
                fd.SetAlternativeName(f"{f.zh} / {f.en}")
                if f.required:
                    fd.SetNullable(False)
                if f.unique:
                    fd.SetUnique(True)
                lit = _default_literal(f)
                if lit is not None:
                    fd.SetDefault(lit)
                if f.domain and not f.multi:
                    fd.SetDomainName(f.domain)
                elif (f.min is not None or f.max is not None) and f.type in ("integer", "real"):
                    fd.SetDomainName(_range_domain_name(f))
                ol.CreateField(fd)
    finally:
        ds = None  # noqa: F841 - closes the file


def _write_metadata(path, srs, model: schema.Model):
    from .. import __version__

    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(f"CREATE TABLE {PROJECT_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
            con.executemany(f"INSERT INTO {PROJECT_TABLE} VALUES (?, ?)", [
                ("app", "renewal_planner"),
                ("app_version", __version__),
                ("model_version", str(model.version)),
                ("crs", crs_authid(srs)),
                ("created_at", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")),
            ])
            con.execute(
                f"CREATE TABLE {CODE_LIST_TABLE} (domain TEXT NOT NULL, code TEXT NOT NULL, "
                "label_zh TEXT, label_en TEXT, parent TEXT, sort_order INTEGER, "
                "PRIMARY KEY (domain, code))")
            rows = []
            for dom in model.domains.values():
                for i, (c, zh, en) in enumerate(dom.codes):
                    parent = model.subclass_parent.get(c) if dom.name == "subclass" else None
                    rows.append((dom.name, c, zh, en, parent, i))
            con.executemany(f"INSERT INTO {CODE_LIST_TABLE} VALUES (?,?,?,?,?,?)", rows)
            # Field aliases for any GIS (gpkg schema extension; `name` must be
            # unique across the file, so the aliases go into `title`).
            con.executemany(
                "INSERT INTO gpkg_data_columns (table_name, column_name, title, description) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (table_name, column_name) DO UPDATE SET "
                "title = excluded.title, description = excluded.description",
                [(lyr.name, f.name, f"{f.zh} / {f.en}", f.en)
                 for lyr in model.layers.values() for f in lyr.fields])
            # Register the plain tables so GDAL and QGIS list them as attribute tables.
            for table, desc in ((PROJECT_TABLE, "Renewal Planner project settings"),
                                (CODE_LIST_TABLE, "Code lists / 代码表")):
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                    "last_change) VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                    (table, table, desc))
    finally:
        con.close()


def project_info(path: str) -> dict:
    """The rp_project key/values of a project, or InputError if it is not one."""
    if not os.path.isfile(path):
        raise InputError("no such project file", file=path)
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise InputError("is not a GeoPackage", file=path)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(f"SELECT key, value FROM {PROJECT_TABLE}").fetchall()
    except sqlite3.DatabaseError:
        raise InputError("is not a Renewal Planner project (no rp_project table)", file=path) from None
    finally:
        con.close()
    return dict(rows)
