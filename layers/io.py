"""Read and write project layers as GeoDataFrames (bulk, vectorised, via pyogrio).

Column names are those of the data model; the geometry column is
``geometry`` in memory and ``geom`` in the GeoPackage.
"""
from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import uuid

from . import gpkg, schema
from .errors import InputError, require

_PD_DTYPES = {"text": "object", "integer": "Int64", "real": "float64",
              "datetime": "datetime64[ms, UTC]", "date": "object", "boolean": "boolean"}


def _gpd():
    return require("geopandas", minimum="0.14", feature="Reading project layers")


def _pyogrio():
    return require("pyogrio", feature="Reading project layers")


def _pg(project):
    """layers/pg.py when ``project`` is a PostgreSQL project string, else None."""
    if isinstance(project, str) and project.lower().startswith(("postgresql://", "postgres://")):
        from . import pg

        return pg
    return None


def list_layers(project: str) -> list:
    if _pg(project):
        return _pg(project).list_layers(project)
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
    finally:
        con.close()


def _has_arrow() -> bool:
    """pyogrio reads about 5x faster through Arrow when pyarrow is there."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def empty_frame(name: str, crs=None):
    """An empty GeoDataFrame with the columns of data-model layer ``name``."""
    gpd = _gpd()
    import pandas as pd

    lyr = schema.model().layer(name)
    cols = {f.name: pd.Series([], dtype=_PD_DTYPES[f.type]) for f in lyr.fields}
    if lyr.geometry is None:
        return pd.DataFrame(cols)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def read_layer(project: str, name: str, columns=None, where: str = None, bbox=None,
               active_only: bool = False):
    """Read data-model layer ``name`` of ``project`` into a GeoDataFrame.

    ``active_only`` drops features whose status is ``abandoned`` (rules.md:
    abandoned features take no part in checks). Raises InputError when the
    layer is missing or does not carry the data-model fields.
    """
    if _pg(project):
        return _pg(project).read_layer(project, name, columns=columns, where=where, bbox=bbox,
                                       active_only=active_only)
    lyr = schema.model().layer(name)
    if not os.path.isfile(project):
        raise InputError("no such project file", file=project)
    present = list_layers(project)
    if name not in present:
        raise InputError("layer is missing from the project", file=project, layer=name)
    pyogrio = _pyogrio()
    info = pyogrio.read_info(project, layer=name)
    have = set(info["fields"])
    missing = [f.name for f in lyr.fields if f.required and f.name not in have]
    if missing:
        raise InputError(f"required field missing: {', '.join(missing)}", file=project,
                         layer=name, field=missing[0])
    if lyr.geometry is not None:
        gtype = (info.get("geometry_type") or "").replace(" ", "")
        want = {"Point": ("Point", "PointZ", "MultiPoint"),
                "LineString": ("LineString", "LineStringZ", "MultiLineString"),
                "Polygon": ("Polygon", "PolygonZ", "MultiPolygon"),
                "Geometry": None}[lyr.geometry]
        if want and gtype not in want and gtype not in ("Unknown", "Geometry", ""):
            raise InputError(f"geometry type is {info.get('geometry_type')}, expected {lyr.geometry}",
                             file=project, layer=name)
    if active_only and "status" in have:
        cond = "(status IS NULL OR status <> 'abandoned')"
        where = f"({where}) AND {cond}" if where else cond
    cols = [c for c in (columns or lyr.field_names) if c in have]
    kwargs = dict(layer=name, columns=cols, where=where, bbox=bbox)
    if lyr.geometry is None:
        kwargs["read_geometry"] = False
    df = pyogrio.read_dataframe(project, use_arrow=_has_arrow(), **kwargs)
    for f in lyr.fields:  # Arrow gives dates as datetime.date objects: same dtype as without it
        if f.type == "date" and f.name in df.columns and df[f.name].dtype == object:
            import pandas as pd

            df[f.name] = pd.to_datetime(df[f.name]).astype("datetime64[ms]")
    for f in lyr.fields:  # absent optional fields read as all-null
        if f.name not in df.columns and (columns is None or f.name in columns):
            df[f.name] = None
    return df


def write_layer(project: str, name: str, frame, *, fill_defaults: bool = True,
                source: str = None):
    """Append ``frame`` to data-model layer ``name`` of ``project``.

    Unknown columns are an error (InputError naming the column); missing
    model columns are written as NULL, except ``uid`` (a new UUID),
    ``updated_at`` (now) and declared defaults when ``fill_defaults``.
    """
    pyogrio = _pyogrio()
    lyr = schema.model().layer(name)
    frame = frame.copy()
    geom_col = getattr(frame, "geometry", None)
    geom_name = frame.geometry.name if geom_col is not None and lyr.geometry else None
    unknown = [c for c in frame.columns if c != geom_name and c not in lyr.field_names]
    if unknown:
        raise InputError(f"column {unknown[0]!r} is not a field of the data model",
                         file=project, layer=name, field=unknown[0])
    n = len(frame)
    if fill_defaults:
        for f in lyr.fields:
            if f.name == "uid":
                if "uid" not in frame.columns:
                    frame["uid"] = None
                missing = frame["uid"].isna()
                if missing.any():
                    frame.loc[missing, "uid"] = [uuid.uuid4().hex for _ in range(int(missing.sum()))]
            elif f.name == "updated_at" and f.name not in frame.columns:
                frame["updated_at"] = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
            elif f.name == "source" and source is not None:
                frame["source"] = source
            elif f.default is not None and f.name not in frame.columns:
                frame[f.name] = f.default
    if n == 0:
        return 0
    if _pg(project):
        return _pg(project).write_layer(project, name, frame)
    if geom_name:
        pyogrio.write_dataframe(frame, project, layer=name, driver="GPKG", append=True)
    else:
        import pandas as pd

        pyogrio.write_dataframe(pd.DataFrame(frame), project, layer=name, driver="GPKG",
                                append=True)
    return n


def project_crs(project: str) -> str:
    if _pg(project):
        return _pg(project).project_crs(project)
    return gpkg.project_info(project).get("crs")
