"""A Renewal Planner project: create it, find its layers, read and write them.

A project is one GeoPackage (the embedded default) or one PostGIS schema
(layers/pg.py) behind the same functions.
"""
from __future__ import annotations

import os

from . import gpkg, schema
from .errors import InputError


def init_project(path: str, crs: str = None, write_qgs: bool = False) -> str:
    """Create a project GeoPackage with styles and forms stored in it.

    Everything is written to a temporary file first, so a failure leaves
    nothing behind and never touches an existing file.

    A PostgreSQL project string (``postgresql://...?schema=NAME``) creates the
    schema instead, in one transaction (layers/pg.py).
    """
    if is_pg(path):
        from . import pg

        return pg.init_project(path, crs=crs)
    path = gpkg.create_project(path, crs=crs)
    try:
        from . import styles

        styles.store_styles(path)
        if write_qgs:
            styles.write_project_file(path, os.path.splitext(path)[0] + ".qgz")
    except BaseException:
        os.unlink(path)
        raise
    return path


def layer_uri(path: str, layer: str) -> str:
    return f"{path}|layername={layer}"


def is_pg(project) -> bool:
    """True for a PostgreSQL project string (postgresql://user@host/db?schema=name)."""
    return isinstance(project, str) and project.lower().startswith(("postgresql://", "postgres://"))


def require_project(path: str) -> dict:
    if is_pg(path):
        from . import pg

        info = pg.project_info(path)
        if info.get("app") != "renewal_planner":
            raise InputError("is not a Renewal Planner project", file=pg.PgProject(path).display)
        return info
    info = gpkg.project_info(path)
    if info.get("app") != "renewal_planner":
        raise InputError("is not a Renewal Planner project", file=path)
    return info
