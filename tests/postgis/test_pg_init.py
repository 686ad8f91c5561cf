"""init of a PostGIS project: every table, column, constraint, index, code list,
style, trigger and policy the declaration asks for; bad targets fail cleanly."""
import pytest

from renewal_planner.layers import pg, schema
from renewal_planner.layers.errors import InputError

psycopg = pytest.importorskip("psycopg")


def _schema_of(p):
    return pg.PgProject(p).schema


def test_init_creates_every_table_column_constraint_and_index(pg_conninfo, make_project):
    p = make_project()
    s = _schema_of(p)
    m = schema.model()
    with psycopg.connect(pg_conninfo) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s", (s,))}
        assert tables == set(m.layers) | {"code_list", "rp_project", "rp_role", "history"}
        for lyr in m.layers.values():
            cols = {r[0]: (r[1], r[2]) for r in con.execute(
                "SELECT column_name, is_nullable, data_type FROM information_schema.columns "
                "WHERE table_schema=%s AND table_name=%s", (s, lyr.name))}
            want = set(lyr.field_names) | {"fid"} | ({"geom"} if lyr.geometry else set())
            assert set(cols) == want, lyr.name
            for f in lyr.fields:
                assert (cols[f.name][0] == "NO") == f.required, (lyr.name, f.name)
                assert cols[f.name][1] == {"text": "text", "integer": "bigint", "real": "double precision",
                                           "datetime": "timestamp with time zone",
                                           "date": "date", "boolean": "boolean"}[f.type]
            uniq = {r[0] for r in con.execute(
                "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
                "AND a.attnum = ANY (c.conkey) WHERE c.contype = 'u' AND c.conrelid = %s::regclass",
                (f"{s}.{lyr.name}",))}
            assert uniq == {f.name for f in lyr.fields if f.unique}, lyr.name
            if lyr.geometry:
                gist = con.execute("SELECT count(*) FROM pg_indexes WHERE schemaname=%s AND tablename=%s "
                                   "AND indexdef LIKE '%%USING gist (geom)%%'", (s, lyr.name)).fetchone()[0]
                assert gist == 1, lyr.name
                gtype, srid = con.execute(
                    "SELECT type, srid FROM geometry_columns WHERE f_table_schema=%s AND f_table_name=%s",
                    (s, lyr.name)).fetchone()
                assert (gtype, srid) == (lyr.geometry.upper(), 4547)
        n_codes = sum(len(d.codes) for d in m.domains.values())
        assert con.execute(f'SELECT count(*) FROM "{s}".code_list').fetchone()[0] == n_codes
        assert con.execute(f'SELECT parent FROM "{s}".code_list WHERE domain=%s AND code=%s',
                           ("subclass", "YS")).fetchone()[0] == "PS"
        info = dict(con.execute(f'SELECT key, value FROM "{s}".rp_project').fetchall())
        assert info["app"] == "renewal_planner" and info["crs"] == "EPSG:4547"
        # row-level security on the pipes only
        rls = dict(con.execute("SELECT relname, relrowsecurity FROM pg_class c JOIN pg_namespace n "
                               "ON n.oid = c.relnamespace WHERE n.nspname=%s AND relkind='r'", (s,)).fetchall())
        assert {k for k, v in rls.items() if v} == {"pipe_point", "pipe_segment"}
        # history and updated_at triggers on every thematic layer
        trig = con.execute("SELECT event_object_table, trigger_name FROM information_schema.triggers "
                           "WHERE trigger_schema=%s", (s,)).fetchall()
        for lyr in m.thematic:
            assert (lyr.name, "rp_history") in trig and (lyr.name, "rp_touch") in trig


def test_constraints_refuse_bad_codes_ranges_and_duplicates(pg_conninfo, make_project):
    p = make_project()
    s = _schema_of(p)
    ins = f'INSERT INTO "{s}".pipe_point (uid, utility, depth) VALUES (%s, %s, %s)'
    with psycopg.connect(pg_conninfo) as con:
        con.execute(ins, ("P1", "JS", 1.2))
        con.commit()
        for args, err in ((("P2", "XX", 1.0), psycopg.errors.CheckViolation),      # not a utility code
                          (("P3", "JS", 61.0), psycopg.errors.CheckViolation),     # depth > 60
                          (("P1", "JS", 1.0), psycopg.errors.UniqueViolation),     # duplicate uid
                          ((None, None, 1.0), psycopg.errors.NotNullViolation)):   # utility required
            with pytest.raises(err):
                con.execute(ins, args)
            con.rollback()
        # declared defaults and the generated uid / updated_at
        con.execute(f'INSERT INTO "{s}".pipe_point (utility) VALUES (%s)', ("PS",))
        uid, status, source, app, upd = con.execute(
            f'SELECT uid, status, source, appurtenance, updated_at FROM "{s}".pipe_point '
            f"WHERE utility='PS'").fetchone()
        assert len(uid) == 32 and status == "existing" and source == "manual" and app == "none"
        assert upd is not None


def test_init_refuses_an_existing_schema_and_leaves_it(pg_conninfo, make_project):
    p = make_project()
    s = _schema_of(p)
    with psycopg.connect(pg_conninfo) as con:
        con.execute(f'INSERT INTO "{s}".tree (uid, kind) VALUES (%s, %s)', ("T1", "tree"))
        con.commit()
    with pytest.raises(InputError, match="exists already"):
        pg.init_project(p, styles=False)
    with psycopg.connect(pg_conninfo) as con:
        assert con.execute(f'SELECT uid FROM "{s}".tree').fetchall() == [("T1",)]


def test_init_bad_crs_writes_nothing(pg_conninfo, new_schema):
    s = new_schema()
    p = pg.project_string(pg_conninfo, s)
    with pytest.raises(InputError, match="not projected"):
        pg.init_project(p, crs="EPSG:4326", styles=False)
    with psycopg.connect(pg_conninfo) as con:
        assert con.execute("SELECT count(*) FROM pg_namespace WHERE nspname=%s", (s,)).fetchone()[0] == 0


@pytest.mark.parametrize("bad", [
    "postgresql://127.0.0.1/postgres",                      # no schema
    "postgresql://127.0.0.1/postgres?schema=",              # empty schema
    "postgresql://127.0.0.1/?schema=abc",                   # no database
    "postgresql://127.0.0.1/postgres?schema=a&schema=b",    # two schemas
])
def test_bad_project_strings(bad):
    with pytest.raises(InputError):
        pg.PgProject(bad)


def test_password_never_in_messages():
    with pytest.raises(InputError) as exc:
        pg.PgProject("postgresql://alice:s3cret@db.example/city?schema=Bad-Name")
    assert "s3cret" not in str(exc.value) and "alice:***@db.example" in str(exc.value)


def test_styles_stored_for_qgis(pg_conninfo, make_project):
    """QGIS's postgres provider opens the layers with our style: renderer, aliases, drop-downs."""
    pytest.importorskip("qgis.core", reason="styles need PyQGIS")
    p = make_project(styles=True)
    s = _schema_of(p)
    m = schema.model()
    with psycopg.connect(pg_conninfo) as con:
        rows = con.execute("SELECT f_table_name, stylename, useasdefault FROM public.layer_styles "
                           "WHERE f_table_schema=%s", (s,)).fetchall()
    assert sorted(rows) == sorted([(n, "zh", True) for n in m.layers] + [(n, "en", False) for n in m.layers])

    from qgis.core import QgsDataSourceUri, QgsVectorLayer

    from renewal_planner.layers.qgis_env import qgis_app

    qgis_app()
    kv = psycopg.conninfo.conninfo_to_dict(pg_conninfo)
    u = QgsDataSourceUri()
    u.setConnection(kv["host"], kv["port"], kv["dbname"], kv["user"], "")
    u.setDataSource(s, "pipe_segment", "geom", "", "fid")
    layer = QgsVectorLayer(u.uri(False), "pipe_segment", "postgres")
    assert layer.isValid()
    assert layer.renderer().type() == "categorizedSymbol"
    assert layer.renderer().classAttribute() == "utility"
    idx = layer.fields().indexOf("utility")
    assert layer.attributeAlias(idx) == "管线类别"
    setup = layer.editorWidgetSetup(idx)
    assert setup.type() == "ValueMap"
    del layer
