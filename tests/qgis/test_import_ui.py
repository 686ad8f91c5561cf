"""The dock's Import tab (plugin/import_tab.py) driven headless: plan in a task,
mapping shown and edited, preview layers, commit through the real QgsTask
path, cancel, stale plans, saved mapping files re-used by ``import_files``.

The test table: a water line JS1-JS2-JS3-JS4 with a branch JS5-JS2 (5 points,
4 segments from the 连接方向 column) and one bad point JS6 (ground elevation
'abc', no connections): 10 records, 9 accepted, 1 rejected.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import threading

from renewal_planner.plugin import deps

# As inside QGIS (plugin/main.py): the wheels' PROJ / GEOS / GDAL loaded with
# RTLD_DEEPBIND before anything imports them.
deps.isolate_bundled_libraries()

import pytest  # noqa: E402
import yaml  # noqa: E402
from qgis.core import QgsProject  # noqa: E402
from qgis.PyQt.QtCore import QCoreApplication, QEvent  # noqa: E402

import renewal_planner  # noqa: E402
from renewal_planner.layers import importer  # noqa: E402

HEADER = ["物探点号", "管种", "特征点", "附属物", "X", "Y", "地面高程", "埋深", "连接方向", "管径", "材质"]
ROWS = [
    ["JS1", "JS", "直线点", "阀门", "3379500.000", "501500.000", "12.50", "1.20", "JS2", "DN300", "球墨铸铁"],
    ["JS2", "给水", "三通", "", "3379510.000", "501500.000", "12.40", "1.10", "JS3", "DN300", "球墨铸铁"],
    ["JS3", "JS", "弯头", "", "3379510.000", "501510.000", "12.30", "1.00", "JS4", "De110", "PE"],
    ["JS4", "JS", "终点", "", "3379520.000", "501510.000", "12.20", "", "", "De110", "PE"],
    ["JS5", "JS", "直线点", "", "3379510.000", "501490.000", "12.45", "1.15", "JS2", "DN200", "PE"],
    ["JS6", "JS", "直线点", "", "3379530.000", "501530.000", "abc", "1.00", "", "DN100", "PE"],
]
TABLES = ("pipe_point", "pipe_segment", "import_batch", "import_reject")


def write_csv(path, header=HEADER, rows=ROWS):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return str(path)


def dump(project):
    con = sqlite3.connect(project)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        con.close()


def query(project, sql):
    con = sqlite3.connect(project)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory, qgis_app):
    from renewal_planner.layers.project import init_project

    return init_project(str(tmp_path_factory.mktemp("imp") / "template.gpkg"))


@pytest.fixture
def project(template, tmp_path):
    path = str(tmp_path / "p.gpkg")
    shutil.copy(template, path)
    return path


@pytest.fixture
def table_csv(tmp_path):
    return write_csv(tmp_path / "给水点.csv")


def _flush_deletes():
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def dock(qgis_iface, project):
    QgsProject.instance().clear()
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    p.action.setChecked(True)
    d = p.dock
    d.tabs.setCurrentWidget(d.import_tab)
    assert d.project_tab.open_project(project)
    yield d
    d.import_tab.cancel_task()
    p.unload()
    QgsProject.instance().clear()
    _flush_deletes()


def wait(qtbot, tab):
    qtbot.waitUntil(lambda: tab.task is None, timeout=30000)


def plan(qtbot, tab, files):
    tab.set_files(files)
    task = tab.start_plan()
    assert task is not None
    assert not tab.progress.isHidden() and not tab.cancel_button.isHidden()
    assert not tab.plan_button.isEnabled() and not tab.import_button.isEnabled()
    wait(qtbot, tab)
    assert tab.plan is not None, tab.status_label.text()
    return tab.plan


def mapping_rows(tab):
    t = tab.mapping_table
    return {t.item(i, 0).text(): t.cellWidget(i, 2).currentData() for i in range(t.rowCount())}


def combo_of(tab, column):
    t = tab.mapping_table
    for i in range(t.rowCount()):
        if t.item(i, 0).text() == column:
            return t.cellWidget(i, 2)
    raise KeyError(column)


def preview_counts(tab):
    return {lyr.customProperty("renewal_planner/import_preview_layer"): lyr.featureCount()
            for lyr in tab.previews()}


def test_tab_is_in_the_dock_and_knows_the_project(dock, project):
    tab = dock.import_tab
    assert dock.tabs.indexOf(tab) >= 0
    assert os.path.samefile(tab.project_path, dock.current_project())
    assert tab.plan_button.isEnabled() and not tab.import_button.isEnabled()
    assert not tab.save_mapping_button.isEnabled() and not tab.report_button.isEnabled()


def test_plan_shows_mapping_rejects_and_previews_without_writing(dock, project, table_csv, qtbot):
    tab = dock.import_tab
    before = dump(project)
    p = plan(qtbot, tab, [table_csv])
    assert dump(project) == before  # planning writes nothing
    (fp, meta), = p.plans
    assert (fp.records_in, fp.accepted, fp.rejected) == (10, 9, 1)
    assert tab.import_button.isEnabled() and tab.save_mapping_button.isEnabled()
    # the detected mapping, one combo per source column
    got = mapping_rows(tab)
    assert list(got) == HEADER
    assert got["物探点号"] == "uid" and got["X"] == "north" and got["Y"] == "east"
    assert got["地面高程"] == "ground_elev" and got["连接方向"] == "connect" and got["管径"] == "size"
    assert tab.encoding_combo.currentText() == fp.encoding == "utf-8"
    assert tab.crs_widget.crs().authid() == "EPSG:4547"
    assert "pipe_point" in tab.target_label.text() and "pipe_segment" in tab.target_label.text()
    # one reject: JS6's ground elevation
    rt = tab.rejects_table
    assert rt.rowCount() == 1
    assert rt.item(0, 0).data(0) == 6 and rt.item(0, 2).text() == "地面高程" and rt.item(0, 3).text() == "abc"
    assert rt.item(0, 4).text() in (fp.rejects[0]["reason_zh"], fp.rejects[0]["reason_en"])
    assert fp.rejects[0]["reason_code"] == "bad_number"
    assert "1" in tab.file_list.item(0).text()
    # previews: 5 points, 4 segments, in the project's CRS, JS1 where X/Y say
    assert preview_counts(tab) == {"pipe_point": 5, "pipe_segment": 4}
    pts = next(lyr for lyr in tab.previews() if lyr.customProperty("renewal_planner/import_preview_layer")
               == "pipe_point")
    assert pts.crs().authid() == "EPSG:4547"
    js1 = next(f for f in pts.getFeatures() if f["uid"] == "JS1")
    pt = js1.geometry().asPoint()
    assert (round(pt.x(), 3), round(pt.y(), 3)) == (501500.0, 3379500.0)
    assert js1["action"] == "insert"
    assert {f["uid"] for f in pts.getFeatures()} == {"JS1", "JS2", "JS3", "JS4", "JS5"}
    # discard removes the previews and the plan
    tab.discard()
    assert tab.previews() == [] and tab.plan is None and tab._preview_group(create=False) is None
    assert dump(project) == before


def test_editing_the_mapping_changes_the_plan(dock, project, table_csv, qtbot):
    tab = dock.import_tab
    plan(qtbot, tab, [table_csv])
    combo = combo_of(tab, "地面高程")
    combo.setCurrentIndex(combo.findData(None))  # ignore the column with the bad value
    assert tab.dirty and not tab.import_button.isEnabled()
    assert tab.start_commit() is None  # refused until planned again
    assert tab.overrides[table_csv]["columns"] == {"地面高程": None}
    tab.replan_button.click()
    wait(qtbot, tab)
    (fp, _), = tab.plan.plans
    assert (fp.records_in, fp.accepted, fp.rejected) == (10, 10, 0)
    assert "地面高程" not in fp.mapping["columns"]
    assert all("ground_elev" not in r.values or r.values["ground_elev"] is None for r in fp.rows)
    assert tab.rejects_table.rowCount() == 0 and mapping_rows(tab)["地面高程"] is None
    assert preview_counts(tab) == {"pipe_point": 6, "pipe_segment": 4}
    assert len(tab.previews()) == 2  # the old previews were replaced, not added to
    # mapping 物探点号 to 'note' leaves the points without uid: all rejected
    combo = combo_of(tab, "物探点号")
    combo.setCurrentIndex(combo.findData("note"))
    tab.start_plan()
    wait(qtbot, tab)
    (fp, _), = tab.plan.plans
    assert fp.accepted == 0 and fp.rejected == fp.records_in
    assert {r["reason_code"] for r in fp.rejects if r["target_layer"] == "pipe_point"} == {"missing_value"}
    # a CRS chosen in the widget goes into the plan's per-file options
    from qgis.core import QgsCoordinateReferenceSystem

    tab.crs_widget.setCrs(QgsCoordinateReferenceSystem("EPSG:4549"))
    assert tab.plan_arguments()["per_file"][table_csv]["crs"] == "EPSG:4549"


def test_import_writes_the_batch_through_the_task(dock, project, table_csv, qtbot, tmp_path):
    tab = dock.import_tab
    plan(qtbot, tab, [table_csv])
    bid = tab.plan.plans[0][1]["batch_id"]
    seen = []
    task = tab.start_commit()
    assert task is not None
    task.progressChanged.connect(seen.append)
    assert not tab.cancel_button.isHidden() and not tab.import_button.isEnabled()
    wait(qtbot, tab)
    assert tab.committed is not None, tab.status_label.text()
    assert query(project, "SELECT count(*) FROM pipe_point") == [(5,)]
    assert query(project, "SELECT count(*) FROM pipe_segment") == [(4,)]
    assert sorted(r[0] for r in query(project, "SELECT uid FROM pipe_segment")) == \
        ["JS1-JS2", "JS2-JS3", "JS3-JS4", "JS5-JS2"]
    assert query(project, "SELECT batch_id, records_in, accepted, rejected FROM import_batch") == [(bid, 10, 9, 1)]
    assert query(project, "SELECT batch_id, record_no, field, value, reason_code FROM import_reject") == \
        [(bid, 6, "地面高程", "abc", "bad_number")]
    assert set(r[0] for r in query(project, "SELECT DISTINCT source FROM pipe_point")) == {bid}
    # previews gone, summary shown, the project's layers reloaded
    assert tab.previews() == [] and tab.plan is None and not tab.import_button.isEnabled()
    assert not tab.summary_text.isHidden() and bid in tab.summary_text.toPlainText()
    assert bid in tab.status_label.text()
    layers = tab.refresh_project_layers()
    counts = {lyr.source().split("layername=")[1].split("|")[0]: lyr.featureCount() for lyr in layers}
    assert counts.get("pipe_point") == 5 and counts.get("pipe_segment") == 4
    # report of the last import
    assert tab.report_button.isEnabled()
    files = tab.write_report(str(tmp_path / "rep.html"))
    assert sorted(os.path.basename(f) for f in files) == ["rep.html", "rep.xlsx"]
    assert "abc" in open(files[0], encoding="utf-8").read()


def test_cancel_during_the_import_leaves_the_project_unchanged(dock, project, table_csv, qtbot, monkeypatch):
    tab = dock.import_tab
    plan(qtbot, tab, [table_csv])
    before = dump(project)
    entered, gate = threading.Event(), threading.Event()
    real = importer.project_fingerprint

    def blocking(path):  # commit_plan's last look at the project before it writes
        entered.set()
        gate.wait(20)
        return real(path)

    monkeypatch.setattr(importer, "project_fingerprint", blocking)
    task = tab.start_commit()
    assert task is not None
    assert entered.wait(20)
    tab.cancel_button.click()
    gate.set()
    wait(qtbot, tab)
    assert dump(project) == before
    assert tab.committed is None and tab.plan is not None  # the plan stays: import again or discard
    assert tab.status_label.text() == tab.tr("Canceled: nothing was written")
    assert preview_counts(tab) == {"pipe_point": 5, "pipe_segment": 4}
    monkeypatch.setattr(importer, "project_fingerprint", real)
    # and it can still be imported
    tab.start_commit()
    wait(qtbot, tab)
    assert query(project, "SELECT count(*) FROM pipe_point") == [(5,)]


def test_cancel_during_planning(dock, project, table_csv, qtbot, monkeypatch):
    tab = dock.import_tab
    entered, gate = threading.Event(), threading.Event()
    from renewal_planner.layers.importer import readers

    real = readers.read

    def blocking(*a, **kw):
        entered.set()
        gate.wait(20)
        return real(*a, **kw)

    monkeypatch.setattr(readers, "read", blocking)
    tab.set_files([table_csv])
    assert tab.start_plan() is not None
    assert entered.wait(20)
    tab.cancel_task()
    gate.set()
    wait(qtbot, tab)
    assert tab.plan is None and tab.previews() == []
    assert tab.status_label.text() == tab.tr("Canceled: nothing was written")


def test_a_stale_plan_is_refused(dock, project, table_csv, qtbot, tmp_path):
    tab = dock.import_tab
    plan(qtbot, tab, [table_csv])
    other = write_csv(tmp_path / "other.csv", rows=[["WS1", "WS", "直线点", "", "3379600", "501600", "12", "1",
                                                      "", "DN400", "PE"]])
    importer.import_files(project, [other])  # someone else imports meanwhile
    before = dump(project)
    tab.start_commit()
    wait(qtbot, tab)
    assert tab.committed is None
    assert "changed since" in tab.status_label.text()
    assert dump(project) == before


def test_saved_mapping_gives_the_same_import(dock, project, template, table_csv, qtbot, tmp_path):
    tab = dock.import_tab
    plan(qtbot, tab, [table_csv])
    combo = combo_of(tab, "地面高程")
    combo.setCurrentIndex(combo.findData(None))
    combo = combo_of(tab, "附属物")
    combo.setCurrentIndex(combo.findData("note"))
    # saved before re-planning: the edits are in the file all the same
    path = tab.save_mapping(str(tmp_path / "m.yaml"))
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    assert doc["columns"]["地面高程"] is None and doc["columns"]["附属物"] == "note"
    assert doc["columns"]["物探点号"] == "uid" and doc["encoding"] == "utf-8"
    assert set(doc["columns"]) == set(HEADER)
    tab.start_plan()
    wait(qtbot, tab)
    fp = tab.plan.plans[0][0]
    tab.start_commit()
    wait(qtbot, tab)
    (ui_summary,) = tab.committed[1]
    # the same file and mapping file through the command line's function, on a fresh project
    fresh = str(tmp_path / "fresh.gpkg")
    shutil.copy(template, fresh)
    (cli_summary,) = importer.import_files(fresh, [table_csv], mapping=path)
    keys = ("records_in", "accepted", "rejected", "inserted", "target_layer", "encoding", "crs_in")
    assert {k: cli_summary[k] for k in keys} == {k: ui_summary[k] for k in keys}
    assert (cli_summary["accepted"], cli_summary["rejected"]) == (10, 0)
    assert cli_summary["mapping"]["columns"] == fp.mapping["columns"]
    cols = "uid, utility, feature, appurtenance, ground_elev, depth, note"
    assert query(fresh, f"SELECT {cols} FROM pipe_point ORDER BY uid") == \
        query(project, f"SELECT {cols} FROM pipe_point ORDER BY uid")
    assert query(fresh, "SELECT note FROM pipe_point WHERE uid = 'JS1'") == [("阀门",)]
