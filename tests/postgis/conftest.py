"""A throwaway PostgreSQL + PostGIS cluster for the session (bench/pgcluster.py),
the demo district as a GeoPackage and loaded into PostGIS, and helpers.

The tests skip, with the reason, only when the PostgreSQL server binaries are
missing (``make deps`` installs them).
"""
import itertools
import os
import shutil

import pytest

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (make deps)")

DEMO_LAYERS = ("pipe_point", "pipe_segment", "planned_road", "renovation_area", "renovation_work",
               "tree", "planting_area", "parking_stall", "fire_lane", "building")
_names = itertools.count(1)


def _server_missing():
    from renewal_planner.bench import pgcluster

    try:
        pgcluster.bindir()
    except RuntimeError as exc:
        return str(exc)
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    if not any(os.path.isfile(os.path.join(d, "postgis.control"))
               for d in ("/usr/share/postgresql/%s/extension" % v for v in ("13", "14", "15", "16", "17"))):
        return "the PostGIS extension is not installed (postgresql-*-postgis-3)"
    return None


@pytest.fixture(scope="session")
def pg_conninfo():
    reason = _server_missing()
    if reason:
        pytest.skip(f"PostGIS tests need a PostgreSQL server: {reason}")
    from renewal_planner.bench.pgcluster import throwaway_cluster

    with throwaway_cluster(settings={"shared_buffers": "128MB", "max_connections": "50"}) as ci:
        yield ci


def as_user(conninfo: str, user: str) -> str:
    kv = psycopg.conninfo.conninfo_to_dict(conninfo)
    kv["user"] = user
    return psycopg.conninfo.make_conninfo(**kv)


@pytest.fixture
def new_schema():
    """A fresh schema name per call."""
    return lambda prefix="t": f"{prefix}_{os.getpid()}_{next(_names)}"


@pytest.fixture
def make_project(pg_conninfo, new_schema):
    """make_project(styles=False) -> project string of a new, empty PostGIS project."""
    from renewal_planner.layers import pg

    def make(styles=False, prefix="t"):
        p = pg.project_string(pg_conninfo, new_schema(prefix))
        pg.init_project(p, styles=styles)
        return p

    return make


@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory):
    from renewal_planner.tools.demo import build_demo

    out = tmp_path_factory.mktemp("demo")
    res = build_demo(str(out), with_styles=False)
    return res


def load_layers(src: str, dst: str, layers=DEMO_LAYERS):
    """Copy the data-model layers of project ``src`` into project ``dst`` (our own loader)."""
    from renewal_planner.layers import io

    n = {}
    for name in layers:
        n[name] = io.write_layer(dst, name, io.read_layer(src, name), fill_defaults=False)
    return n


@pytest.fixture(scope="session")
def demo_pg(pg_conninfo, demo_gpkg):
    """The demo district loaded into a PostGIS project (unchecked)."""
    from renewal_planner.layers import pg

    p = pg.project_string(pg_conninfo, f"demo_{os.getpid()}")
    pg.init_project(p, styles=False)
    load_layers(demo_gpkg["project"], p)
    return p
