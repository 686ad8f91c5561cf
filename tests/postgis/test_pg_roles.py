"""Roles, row-level security and the history table, connecting as each role;
hostile names and values fail cleanly and change nothing."""
import threading

import pytest
import shapely

from renewal_planner.layers import io, pg
from renewal_planner.layers.errors import InputError

from .conftest import as_user

psycopg = pytest.importorskip("psycopg")

OWNER_A = "武汉水务集团"
OWNER_B = "武汉燃气集团"


@pytest.fixture
def roles_project(pg_conninfo, make_project, new_schema):
    """A project with two pipes of each owner and roles ua (A), ub (B), viewer, planner."""
    p = make_project()
    s = pg.PgProject(p).schema
    tag = s.split("_", 1)[1]
    names = {k: f"{k}_{tag}" for k in ("ua", "ub", "viewer", "planner")}
    pg.grant(p, names["ua"], "utility", owner=OWNER_A)
    pg.grant(p, names["ub"], "utility", owner=OWNER_B)
    pg.grant(p, names["viewer"], "viewer")
    pg.grant(p, names["planner"], "planner")
    with psycopg.connect(pg_conninfo) as con:
        for uid, util, owner, x in (("A1", "JS", OWNER_A, 0), ("A2", "JS", OWNER_A, 10),
                                    ("B1", "RQ", OWNER_B, 20), ("B2", "RQ", OWNER_B, 30)):
            con.execute(f'INSERT INTO "{s}".pipe_point (uid, utility, owner, geom) '
                        f"VALUES (%s, %s, %s, ST_SetSRID(ST_MakePoint(%s, 3380000), 4547))",
                        (uid, util, owner, 530000 + x))
        con.execute(f'INSERT INTO "{s}".planned_road (uid, part) VALUES (%s, %s)', ("R1", "whole"))
    return p, s, names


def _as(pg_conninfo, role):
    return psycopg.connect(as_user(pg_conninfo, role))


def test_utility_writes_only_its_own_pipes(pg_conninfo, roles_project):
    p, s, r = roles_project
    with _as(pg_conninfo, r["ua"]) as con:
        # reads everything
        assert con.execute(f'SELECT count(*) FROM "{s}".pipe_point').fetchone()[0] == 4
        # another owner's rows: invisible to UPDATE / DELETE
        assert con.execute(f'UPDATE "{s}".pipe_point SET depth = 9 WHERE uid = %s', ("B1",)).rowcount == 0
        assert con.execute(f'DELETE FROM "{s}".pipe_point WHERE owner = %s', (OWNER_B,)).rowcount == 0
        con.commit()
        # inserting a pipe of another owner, or giving its own pipe away: refused
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            con.execute(f'INSERT INTO "{s}".pipe_point (uid, utility, owner) VALUES (%s, %s, %s)',
                        ("X1", "RQ", OWNER_B))
        con.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            con.execute(f'UPDATE "{s}".pipe_point SET owner = %s WHERE uid = %s', (OWNER_B, "A1"))
        con.rollback()
        # its own: allowed
        assert con.execute(f'UPDATE "{s}".pipe_point SET depth = 1.5 WHERE owner = %s', (OWNER_A,)).rowcount == 2
        con.execute(f'INSERT INTO "{s}".pipe_point (uid, utility, owner) VALUES (%s, %s, %s)', ("A3", "JS", OWNER_A))
        assert con.execute(f'DELETE FROM "{s}".pipe_point WHERE uid = %s', ("A2",)).rowcount == 1
        con.commit()
        # and no plan layer
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(f'UPDATE "{s}".planned_road SET name = %s', ("x",))
        con.rollback()
    with psycopg.connect(pg_conninfo) as con:
        got = dict(con.execute(f'SELECT uid, depth FROM "{s}".pipe_point').fetchall())
    assert got == {"A1": 1.5, "A3": None, "B1": None, "B2": None}


def test_our_own_writer_is_refused_too(pg_conninfo, roles_project):
    import geopandas as gpd

    p, s, r = roles_project
    pa = pg.project_string(as_user(pg_conninfo, r["ua"]), s)
    frame = gpd.GeoDataFrame({"uid": ["Y1"], "utility": ["RQ"], "owner": [OWNER_B]},
                             geometry=[shapely.Point(530100, 3380100)], crs="EPSG:4547")
    with pytest.raises(InputError, match="row-level security"):
        io.write_layer(pa, "pipe_point", frame)
    frame["owner"] = OWNER_A
    assert io.write_layer(pa, "pipe_point", frame) == 1
    got = io.read_layer(pa, "pipe_point")
    assert sorted(got["uid"]) == ["A1", "A2", "B1", "B2", "Y1"]


def test_viewer_reads_only_planner_writes_plan(pg_conninfo, roles_project):
    p, s, r = roles_project
    with _as(pg_conninfo, r["viewer"]) as con:
        assert con.execute(f'SELECT count(*) FROM "{s}".pipe_point').fetchone()[0] == 4
        assert con.execute(f'SELECT count(*) FROM "{s}".history').fetchone()[0] >= 5
        for stmt in (f'UPDATE "{s}".planned_road SET name = %s', f'UPDATE "{s}".pipe_point SET note = %s',
                     f'UPDATE "{s}".conflict SET review_note = %s'):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(stmt, ("x",))
            con.rollback()
    with _as(pg_conninfo, r["planner"]) as con:
        assert con.execute(f'UPDATE "{s}".planned_road SET name = %s', ("规划一路",)).rowcount == 1
        con.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(f'UPDATE "{s}".pipe_point SET note = %s', ("x",))
        con.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nobody forges history
            con.execute(f'DELETE FROM "{s}".history')
        con.rollback()


def test_history_records_who_and_old_new_values(pg_conninfo, roles_project):
    p, s, r = roles_project
    with _as(pg_conninfo, r["ua"]) as con:
        before = con.execute(f'SELECT updated_at FROM "{s}".pipe_point WHERE uid=%s', ("A1",)).fetchone()[0]
        con.execute(f'UPDATE "{s}".pipe_point SET depth = 2.25, note = %s WHERE uid = %s',
                    ("moved'; DROP TABLE history; --", "A1"))
        con.commit()
        con.execute(f'DELETE FROM "{s}".pipe_point WHERE uid = %s', ("A2",))
        con.commit()
        after = con.execute(f'SELECT updated_at FROM "{s}".pipe_point WHERE uid=%s', ("A1",)).fetchone()[0]
    assert after > before  # kept by the database
    with psycopg.connect(pg_conninfo) as con:
        rows = con.execute(f'SELECT op, uid, old_values, new_values, changed_by, changed_at FROM "{s}".history '
                           f"WHERE changed_by = %s ORDER BY id", (r["ua"],)).fetchall()
    assert [(op, uid) for op, uid, *_ in rows] == [("UPDATE", "A1"), ("DELETE", "A2")]
    op, uid, old, new, who, when = rows[0]
    assert old["depth"] is None and new["depth"] == 2.25
    assert new["note"] == "moved'; DROP TABLE history; --" and old["owner"] == OWNER_A
    assert who == r["ua"] and when is not None
    assert rows[1][2]["uid"] == "A2" and rows[1][3] is None


def test_two_utilities_write_at_once_lose_nothing(pg_conninfo, roles_project):
    import geopandas as gpd

    p, s, r = roles_project
    errors = []

    def load(role, owner, prefix, x0):
        try:
            pr = pg.project_string(as_user(pg_conninfo, role), s)
            for k in range(5):
                frame = gpd.GeoDataFrame(
                    {"uid": [f"{prefix}{k}_{i}" for i in range(100)], "utility": ["JS"] * 100,
                     "owner": [owner] * 100},
                    geometry=[shapely.Point(x0 + i, 3380500 + k) for i in range(100)], crs="EPSG:4547")
                io.write_layer(pr, "pipe_point", frame, source=f"batch-{prefix}{k}")
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(r["ua"], OWNER_A, "QA", 531000)),
               threading.Thread(target=load, args=(r["ub"], OWNER_B, "QB", 532000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with psycopg.connect(pg_conninfo) as con:
        n = dict(con.execute(f'SELECT owner, count(*) FROM "{s}".pipe_point GROUP BY owner').fetchall())
        h = dict(con.execute(f"SELECT changed_by, count(*) FROM \"{s}\".history WHERE op='INSERT' "
                             f"AND layer='pipe_point' GROUP BY changed_by").fetchall())
    assert n == {OWNER_A: 502, OWNER_B: 502}
    assert h[r["ua"]] == 500 and h[r["ub"]] == 500


def test_grant_cli_and_bad_roles(pg_conninfo, make_project, capsys, tmp_path):
    from renewal_planner.cli import main

    p = make_project()
    s = pg.PgProject(p).schema
    assert main(["grant", p, "--role", f"v_{s}", "--viewer"]) == 0
    assert f"role v_{s}" in capsys.readouterr().out
    assert main(["grant", p, "--role", f"u_{s}", "--utility", "x'); DROP TABLE rp_role; --"]) == 0
    with psycopg.connect(pg_conninfo) as con:
        assert con.execute(f'SELECT kind, owner FROM "{s}".rp_role WHERE role_name=%s',
                           (f"u_{s}",)).fetchone() == ("utility", "x'); DROP TABLE rp_role; --")
        n_roles = con.execute("SELECT count(*) FROM pg_roles").fetchone()[0]
    for bad in ('evil"; DROP SCHEMA public CASCADE; --', "Robert'); DROP TABLE pipe_point;--", "a b", ""):
        assert main(["grant", p, "--role", bad, "--viewer"]) == 2
    assert main(["grant", p, "--role", "x", "--viewer", "--planner"]) == 2       # one kind only
    assert main(["grant", str(tmp_path / "a.gpkg"), "--role", "x", "--viewer"]) == 2  # PostGIS only
    assert main(["grant", p, "--role", "x", "--utility", " "]) == 2
    err = capsys.readouterr().err
    assert err.count("renewal-planner: error:") == 7
    with psycopg.connect(pg_conninfo) as con:
        assert con.execute("SELECT count(*) FROM pg_roles").fetchone()[0] == n_roles
        assert con.execute(f'SELECT count(*) FROM "{s}".rp_role').fetchone()[0] == 2


def _snapshot(con):
    return con.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                       "ORDER BY 1, 2").fetchall()


@pytest.mark.parametrize("schema_name", [
    'x"; DROP TABLE public.spatial_ref_sys; --',
    "x'; DROP SCHEMA public CASCADE; --",
    "a;b", "Upper", "1abc", "a" * 64, "public.x",
])
def test_hostile_schema_names_do_nothing(pg_conninfo, schema_name):
    from renewal_planner.cli import main

    import urllib.parse

    kv = psycopg.conninfo.conninfo_to_dict(pg_conninfo)
    p = (f"postgresql://{kv['user']}@{kv['host']}:{kv['port']}/{kv['dbname']}?"
         + urllib.parse.urlencode({"schema": schema_name}))
    with psycopg.connect(pg_conninfo) as con:
        before = _snapshot(con)
    assert main(["init", p]) == 2
    assert main(["check", p]) == 2
    with pytest.raises(InputError, match="schema name"):
        io.read_layer(p, "pipe_point")
    with psycopg.connect(pg_conninfo) as con:
        assert _snapshot(con) == before


def test_hostile_layer_names_and_values(pg_conninfo, make_project):
    import geopandas as gpd

    p = make_project()
    s = pg.PgProject(p).schema
    with psycopg.connect(pg_conninfo) as con:
        before = _snapshot(con)
    for bad in ("pipe_point; DROP TABLE rp_project", 'pipe_point"; DROP TABLE x; --', "rp_project", "history"):
        with pytest.raises(InputError):
            io.read_layer(p, bad)
        with pytest.raises(InputError):
            pg.write_layer(p, bad, gpd.GeoDataFrame({"uid": ["a"]}))
    hostile = ["x'); DROP TABLE pipe_point; --", 'a"b\\c;', "Robert'); DELETE FROM rp_project;--", "\t\n%s %(x)s {}"]
    frame = gpd.GeoDataFrame({"uid": hostile, "utility": ["JS"] * 4, "note": list(reversed(hostile))},
                             geometry=[shapely.Point(530000 + i, 3380000) for i in range(4)], crs="EPSG:4547")
    assert io.write_layer(p, "pipe_point", frame) == 4
    got = io.read_layer(p, "pipe_point").set_index("uid")
    assert sorted(got.index) == sorted(hostile)
    assert [got.loc[u, "note"] for u in hostile] == list(reversed(hostile))
    # a hostile area uid: a clean "no such area", nothing changed
    from renewal_planner.tools import check

    with pytest.raises(InputError, match="no renovation area"):
        check.check_project(p, area="x' OR '1'='1'; DROP TABLE pipe_point; --")
    # a column that is not in the data model
    with pytest.raises(InputError, match="not a field"):
        io.write_layer(p, "pipe_point", gpd.GeoDataFrame({"uid": ["z"], "utility": ["JS"], "x; DROP": [1]}))
    with psycopg.connect(pg_conninfo) as con:
        assert _snapshot(con) == before
        assert con.execute(f'SELECT count(*) FROM "{s}".pipe_point').fetchone()[0] == 4
        assert con.execute(f'SELECT count(*) FROM "{s}".rp_project').fetchone()[0] == 5
