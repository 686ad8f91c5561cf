"""The dock on a PostGIS project, through a connection saved in QGIS with an
authentication configuration, against a real throwaway PostgreSQL cluster.

The cluster trusts its superuser but makes the test's login role
authenticate with a password (scram-sha-256), so every connection the
plugin makes - the layers QGIS opens, and the engine's psycopg connections
in background tasks - only works if the credentials were handed over from
QGIS's authentication database. The password must then appear nowhere: not
in a layer source, the project string, the message log or a saved .qgz.

Skipped, with the reason, only when the PostgreSQL server binaries (or
PostGIS, or psycopg) are missing.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import zipfile

import pytest

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (make deps)")

from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsCategorizedSymbolRenderer,  # noqa: E402
                       QgsDataSourceUri, QgsProject, QgsProviderRegistry)
from qgis.PyQt.QtCore import QCoreApplication, QEvent  # noqa: E402

ROLE = "rp_dock_user"
MASTER = "x"
CONN = f"rp test {os.getpid()}"


def _server_missing():
    from renewal_planner.bench import pgcluster

    try:
        pgcluster.bindir()
    except RuntimeError as exc:
        return str(exc)
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    if not any(os.path.isfile(f"/usr/share/postgresql/{v}/extension/postgis.control")
               for v in ("13", "14", "15", "16", "17")):
        return "the PostGIS extension is not installed (postgresql-*-postgis-3)"
    return None


def _flush_deletes():
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture(scope="module")
def server():
    """A throwaway cluster whose role ROLE must give a password over TCP."""
    reason = _server_missing()
    if reason:
        pytest.skip(f"PostGIS dock tests need a PostgreSQL server: {reason}")
    from renewal_planner.bench.pgcluster import throwaway_cluster

    # quotes, spaces, @ : / ; in the password: it must survive every hand-off
    password = "p@ss w'o:r/d;" + secrets.token_hex(8)
    with throwaway_cluster(settings={"shared_buffers": "64MB", "max_connections": "40"}) as ci:
        with psycopg.connect(ci, autocommit=True) as con:
            con.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(ROLE), psycopg.sql.Literal(password)))
            con.execute(psycopg.sql.SQL("GRANT CREATE ON DATABASE postgres TO {}").format(
                psycopg.sql.Identifier(ROLE)))
            con.execute(psycopg.sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(
                psycopg.sql.Identifier(ROLE)))
            hba = con.execute("SHOW hba_file").fetchone()[0]
            with open(hba) as f:
                rules = f.read()
            with open(hba, "w") as f:  # first match wins: the role needs its password
                f.write(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n" + rules)
            con.execute("SELECT pg_reload_conf()")
        kv = psycopg.conninfo.conninfo_to_dict(ci)
        # the premise: without the password the role is refused
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host=kv["host"], port=kv["port"], dbname=kv["dbname"], user=ROLE).close()
        psycopg.connect(host=kv["host"], port=kv["port"], dbname=kv["dbname"], user=ROLE,
                        password=password).close()
        yield {"conninfo": ci, "host": kv["host"], "port": kv["port"], "dbname": kv["dbname"],
               "password": password}


@pytest.fixture(scope="module")
def saved_connection(server, qgis_app):
    """A QGIS authentication configuration (Basic: user + password) and a saved
    PostgreSQL connection using it. Removed afterwards."""
    am = QgsApplication.authManager()
    assert not am.isDisabled(), am.disabledMessage()
    assert am.setMasterPassword(MASTER, True), "cannot set/verify the test auth DB's master password"
    cfg = QgsAuthMethodConfig("Basic")
    cfg.setName(f"renewal planner test {os.getpid()}")
    cfg.setConfig("username", ROLE)
    cfg.setConfig("password", server["password"])
    res = am.storeAuthenticationConfig(cfg)
    assert (res[0] if isinstance(res, tuple) else res)
    authcfg = cfg.id() or res[1].id()
    md = QgsProviderRegistry.instance().providerMetadata("postgres")
    uri = QgsDataSourceUri()
    uri.setConnection(server["host"], str(server["port"]), server["dbname"], "", "",
                      QgsDataSourceUri.SslDisable, authcfg)
    md.saveConnection(md.createConnection(uri.uri(False), {}), CONN)
    yield {"name": CONN, "authcfg": authcfg}
    md.deleteConnection(CONN)
    am.removeAuthenticationConfig(authcfg)


@pytest.fixture
def message_log(qgis_app):
    seen = []

    def record(message, tag, level):
        seen.append(f"{tag}: {message}")

    log = QgsApplication.messageLog()
    log.messageReceived.connect(record)
    yield seen
    log.messageReceived.disconnect(record)


@pytest.fixture
def dock(qgis_iface, saved_connection):
    from renewal_planner.layers import pg
    from renewal_planner.plugin import pgconn
    from renewal_planner.plugin.dock import RenewalPlannerDock

    d = RenewalPlannerDock(qgis_iface)
    yield d
    d.shutdown()
    assert pgconn.REGISTRY not in pg.CONNECT_HOOKS  # unloading removes the hand-off
    d.deleteLater()
    QgsProject.instance().clear()
    _flush_deletes()


def _no_secret(text: str, server) -> None:
    assert server["password"] not in text
    assert "password=" not in text.lower()


def _create(dock, qtbot, schema: str):
    tab = dock.project_tab
    tab.show_postgis()
    panel = tab.pg_panel
    names = [panel.connection_combo.itemData(i) for i in range(panel.connection_combo.count())]
    assert CONN in names
    panel.connection_combo.setCurrentIndex(names.index(CONN))
    panel.new_schema_edit.setText(schema)
    assert panel.create_button.isEnabled()
    task = panel.create_schema()
    assert task is not None
    qtbot.waitUntil(lambda: tab.task is None, timeout=120000)
    return tab


def test_create_and_open_a_pg_project_styled_with_authcfg_and_no_password(
        dock, qtbot, server, saved_connection, message_log, tmp_path):
    from qgis.core import QgsWkbTypes

    from renewal_planner.layers import pg, schema
    from renewal_planner.plugin import pgconn

    name = f"dock_new_{os.getpid()}"
    tab = _create(dock, qtbot, name)
    panel = tab.pg_panel
    # the new schema is listed, selected and opened
    assert panel.schema_combo.findData(name) >= 0 and panel.schema() == name
    project = dock.current_project()
    assert project == f"postgresql://{ROLE}@{server['host']}:{server['port']}/{server['dbname']}" \
                      f"?sslmode=disable&schema={name}"
    assert tab.current_connection == CONN

    layers = pgconn.project_layers(project)
    model = schema.model()
    expected = sum(3 if lyr.geometry == "Geometry" else 1 for lyr in model.layers.values())
    assert len(layers) == expected
    by_table = {}
    for lyr in layers:
        assert lyr.isValid() and lyr.providerType() == "postgres"
        src = lyr.source()
        assert f"authcfg={saved_connection['authcfg']}" in src
        assert f"user='{ROLE}'" not in src and "user=" not in src
        _no_secret(src, server)
        _no_secret(lyr.publicSource(), server)
        by_table.setdefault(lyr.customProperty("renewal_planner/layer"), []).append(lyr)
        # QGIS really connected with the authcfg: the table is readable (and empty)
        assert lyr.featureCount() == 0
    seg = by_table["pipe_segment"][0]
    assert isinstance(seg.renderer(), QgsCategorizedSymbolRenderer)
    assert seg.renderer().classAttribute() == "utility"
    assert {c.value() for c in seg.renderer().categories()} >= set(model.domain("utility").values)
    # the style is the one init stored in layer_styles (QGIS reads it back through the authcfg)
    assert seg.listStylesInDatabase()[0] >= 2  # zh (default) and en
    _msg, ok = seg.loadDefaultStyle()
    assert ok and isinstance(seg.renderer(), QgsCategorizedSymbolRenderer)
    idx = seg.fields().indexOf("utility")
    assert seg.editorWidgetSetup(idx).type() == "ValueMap"
    assert QgsWkbTypes.geometryType(seg.wkbType()) == QgsWkbTypes.LineGeometry
    assert sorted(QgsWkbTypes.displayString(lyr.wkbType()) for lyr in by_table["conflict"]) == \
        ["LineString", "Point", "Polygon"]
    # grouped per theme, as a GeoPackage project
    root = QgsProject.instance().layerTreeRoot()
    node = root.findLayer(seg.id())
    assert node is not None and node.parent().customProperty("renewal_planner/theme") == "pipeline"
    assert QgsProject.instance().crs().authid() == pg.project_crs(project)

    # a .qgz of the session keeps the authcfg, never the password
    qgz = str(tmp_path / "session.qgz")
    assert QgsProject.instance().write(qgz)
    with zipfile.ZipFile(qgz) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert f"authcfg={saved_connection['authcfg']}" in text
    _no_secret(text, server)
    assert not [m for m in message_log if server["password"] in m]

    # the same name again: a clean refusal, nothing half-written
    message_log.clear()
    _create(dock, qtbot, name)
    assert any("exists already" in m for m in message_log)
    assert not [m for m in message_log if server["password"] in m]


def _load_demo(project: str) -> int:
    """The demo district's layers written into ``project`` through our own loader
    (as the dock's user: the credentials come from the hook)."""
    from renewal_planner.layers import io
    from renewal_planner.tools.demo import build_demo

    import tempfile

    out = tempfile.mkdtemp(prefix="rp-demo-")
    try:
        gpkg = build_demo(out, with_styles=False)["project"]
        n = 0
        for name in ("pipe_point", "pipe_segment", "planned_road", "renovation_area", "renovation_work",
                     "tree", "planting_area", "parking_stall", "fire_lane", "building"):
            n += io.write_layer(project, name, io.read_layer(gpkg, name), fill_defaults=False)
        return n
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture
def processing_provider(qgis_processing, qgis_iface):
    from processing.core.Processing import Processing

    import renewal_planner

    Processing.initialize()
    p = renewal_planner.classFactory(qgis_iface)
    p.initProcessing()
    yield
    p.unload()


def test_checks_from_the_dock_on_the_pg_project_match_the_command_line(
        dock, qtbot, server, saved_connection, message_log, processing_provider):
    from renewal_planner.plugin import pgconn

    name = f"dock_demo_{os.getpid()}"
    tab = _create(dock, qtbot, name)
    project = dock.current_project()
    assert project and project.endswith(f"schema={name}")
    assert _load_demo(project) > 100

    checks = dock.checks_tab
    assert checks.project_path == project  # one project for every tab
    assert dock.quantities_tab is None or dock.quantities_tab.project_path == project
    assert dock.import_tab is None or dock.import_tab.project_path == project
    assert checks.area_combo.count() >= 1
    # after an import the import tab reloads the project's pipe layers from the database
    assert dock.import_tab is not None
    pipes = dock.import_tab.refresh_project_layers()
    assert sorted(lyr.customProperty("renewal_planner/layer") for lyr in pipes) == ["pipe_point", "pipe_segment"]
    assert all(lyr.featureCount() > 0 for lyr in pipes)
    task = checks.run_check()
    assert task is not None
    qtbot.waitUntil(lambda: checks.task is None, timeout=300000)
    result = checks.last_result
    assert result is not None, "the checks failed: " + " | ".join(message_log[-3:])
    dock_rows = result["rows"]
    assert len(dock_rows) > 0
    assert checks.model.rowCount() == len(result["frame"]) >= len(dock_rows)
    # the conflict layers on the map are the project's, reloaded
    conflict = pgconn.project_layers(project, "conflict")
    assert len(conflict) == 3 and sum(lyr.featureCount() for lyr in conflict) == len(result["frame"])

    # the command line, as the superuser (trusted), on the same schema
    cli_project = f"postgresql://postgres@{server['host']}:{server['port']}/{server['dbname']}?schema={name}"
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    proc = subprocess.run([sys.executable, "-m", "renewal_planner", "check", cli_project, "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    cli_rows = json.loads(proc.stdout)
    assert len(cli_rows) == len(dock_rows)
    assert sorted(r["conflict_id"] for r in cli_rows) == sorted(r["conflict_id"] for r in dock_rows)

    # the Processing algorithm takes the same project string; the dock's
    # connection hands it the credentials, its conflict output uses the authcfg
    import processing as qp

    res = qp.run("renewal_planner:check", {"PROJECT": project})
    assert res["FINDINGS"] == len(dock_rows)
    assert f"authcfg={saved_connection['authcfg']}" in res["CONFLICTS"]
    _no_secret(res["CONFLICTS"], server)
    assert not [m for m in message_log if server["password"] in m]
