"""The QGIS side of the conflict checks: the ``renewal_planner:check`` algorithm
and the dock's Checks tab (task, filters, zoom, review, results layer).

The rules are replaced by a controllable fake (the rules have their own unit
tests), so these tests only depend on the engine's merge and on the plugin.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import threading

import pandas as pd
import pytest
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QCoreApplication, QEvent, Qt
from qgis.PyQt.QtTest import QTest
from shapely.geometry import LineString, Point, Polygon

import renewal_planner
from renewal_planner.tools import check, engine, results
from renewal_planner.tools.engine.findings import conflict_id, new_findings

X0, Y0 = 500000.0, 2500000.0  # EPSG:4547 (CGCS2000 / 3-degree GK CM 114E)

# (rule, layer_a, uid_a, layer_b, uid_b, measured, severity, certainty, geometry)
FINDINGS = [
    ("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1", 0.5, "error", "certain",
     Point(X0 + 100, Y0 + 100)),
    ("tree_pipe_clearance", "tree", "T2", "pipe_segment", "JS1", 0.9, "error", "possible",
     Point(X0 + 300, Y0 + 300)),
    ("tree_pipe_clearance", "tree", "T3", "pipe_segment", "WS2", 1.2, "warning", "certain",
     LineString([(X0 + 1000, Y0 + 1000), (X0 + 1060, Y0 + 1080)])),
    ("building_clearance", "pipe_segment", "JS1", "building", "B1", 0.3, "warning", "possible",
     Polygon([(X0 - 500, Y0 - 500), (X0 - 470, Y0 - 500), (X0 - 470, Y0 - 460), (X0 - 500, Y0 - 460)])),
]
RULES_RUN = "tree_pipe_clearance,building_clearance"


def cid(uid_a, uid_b):
    for rule, la, a, lb, b, *_ in FINDINGS:
        if (a, b) == (uid_a, uid_b):
            return conflict_id(rule, la, a, lb, b)
    raise KeyError((uid_a, uid_b))


class FakeRules:
    """rule_function stand-in: each rule returns its rows of ``self.findings``.

    ``on_call(rule_id)`` runs inside the rule (to cancel, block, count)."""

    def __init__(self):
        self.findings = list(FINDINGS)
        self.on_call = None
        self.calls = []

    def __call__(self, rule_id):
        def rule(ctx):
            self.calls.append(rule_id)
            if self.on_call is not None:
                self.on_call(rule_id)
            rows = [f for f in self.findings if f[0] == rule_id]
            col = list(zip(*rows)) if rows else [[] for _ in range(9)]
            return new_findings(rule_id, col[1][0] if rows else "tree", list(col[2]),
                                col[3][0] if rows else "pipe_segment", list(col[4]), list(col[5]),
                                1.5, "m", list(col[6]), list(col[7]), "test source", list(col[8]))
        return rule


@pytest.fixture(scope="module")
def template(tmp_path_factory, qgis_app):
    """A project with styles and one renovation area, built once and copied per test."""
    import geopandas as gpd

    from renewal_planner.layers import io
    from renewal_planner.layers.project import init_project

    path = init_project(str(tmp_path_factory.mktemp("checks") / "template.gpkg"))
    area = gpd.GeoDataFrame({"uid": ["A1"], "community": ["幸福小区"]},
                            geometry=[Polygon([(X0, Y0), (X0 + 400, Y0), (X0 + 400, Y0 + 400), (X0, Y0 + 400)])],
                            crs="EPSG:4547")
    io.write_layer(path, "renovation_area", area)
    return path


@pytest.fixture
def project(template, tmp_path, monkeypatch):
    path = str(tmp_path / "p.gpkg")
    shutil.copy(template, path)
    fake = FakeRules()
    monkeypatch.setattr(engine, "rule_function", fake)
    return path, fake


def table(path):
    return results.read_conflicts(path).set_index("conflict_id")


# -- the Processing algorithm -----------------------------------------------------------------

@pytest.fixture
def processing(qgis_processing, qgis_iface):
    from processing.core.Processing import Processing

    Processing.initialize()
    p = renewal_planner.classFactory(qgis_iface)
    p.initProcessing()
    yield
    p.unload()


def test_check_algorithm_writes_findings_csv_and_table(processing, project, tmp_path):
    import processing as qp

    path, fake = project
    out_csv = tmp_path / "findings.csv"
    feedback = QgsProcessingFeedback()
    progress = []
    feedback.progressChanged.connect(progress.append)
    res = qp.run("renewal_planner:check", {"PROJECT": path, "ONLY": RULES_RUN, "CSV": str(out_csv)},
                 feedback=feedback)
    assert progress == [50, 100]  # two rules: the second starts at 50 %, then done
    assert res["FINDINGS"] == 4 and res["CERTAIN"] == 2
    assert res["NEW"] == 4 and res["RESOLVED"] == 0
    assert res["CSV"] == str(out_csv)
    assert fake.calls == ["tree_pipe_clearance", "building_clearance"]
    with open(out_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == check.CSV_COLUMNS
    assert sorted((r["uid_a"], r["uid_b"], r["measured"], r["review"]) for r in rows) == [
        ("JS1", "B1", "0.3", "open"), ("T1", "JS1", "0.5", "open"), ("T2", "JS1", "0.9", "open"),
        ("T3", "WS2", "1.2", "open")]
    t = table(path)
    assert len(t) == 4 and t.loc[cid("T2", "JS1"), "certainty"] == "possible"
    # the conflict table as an output layer
    assert res["CONFLICTS"] == f"{os.path.abspath(path)}|layername=conflict"
    assert QgsVectorLayer(res["CONFLICTS"] + "|geometrytype=Point", "c", "ogr").featureCount() == 2

    # certain only: the count and the CSV, while the table still gets every finding
    fake.findings = FINDINGS[:3]  # the building finding disappears
    res = qp.run("renewal_planner:check", {"PROJECT": path, "ONLY": RULES_RUN, "CSV": str(out_csv),
                                          "CERTAIN_ONLY": True})
    assert res["FINDINGS"] == 2 and res["CERTAIN"] == 2 and res["NEW"] == 0 and res["RESOLVED"] == 1
    with open(out_csv, encoding="utf-8") as fh:
        assert sorted(r["uid_a"] for r in csv.DictReader(fh)) == ["T1", "T3"]
    t = table(path)
    assert t.loc[cid("JS1", "B1"), "review"] == "resolved" and t.loc[cid("T2", "JS1"), "review"] == "open"


def test_check_algorithm_all_rules_by_default_and_no_csv(processing, project):
    import processing as qp
    from renewal_planner.tools.engine.registry import RULES

    path, fake = project
    res = qp.run("renewal_planner:check", {"PROJECT": path})
    assert fake.calls == list(RULES)
    assert res["FINDINGS"] == 4 and not res["CSV"]


def test_check_algorithm_cancel_writes_nothing(processing, project):
    import processing as qp

    path, fake = project
    qp.run("renewal_planner:check", {"PROJECT": path, "ONLY": RULES_RUN})
    before = table(path)
    feedback = QgsProcessingFeedback()
    fake.findings = [FINDINGS[0]]          # would resolve three findings...
    fake.on_call = lambda rid: feedback.cancel()  # ...but the user cancels in the first rule
    with pytest.raises(QgsProcessingException, match="nothing was written"):
        qp.run("renewal_planner:check", {"PROJECT": path, "ONLY": RULES_RUN}, feedback=feedback)
    assert fake.calls[-1] == "tree_pipe_clearance"  # the second rule never ran
    after = table(path)
    assert after.equals(before)


@pytest.mark.parametrize("params, message", [
    ({"ONLY": "no_such_rule"}, "unknown rule 'no_such_rule'"),
    ({"AREA": "NOPE"}, "no renovation area with uid 'NOPE'"),
    ({"RULES": "/nonexistent/profile.yaml"}, "profile.yaml"),
])
def test_check_algorithm_bad_input(processing, project, params, message):
    import processing as qp

    path, fake = project
    with pytest.raises(QgsProcessingException, match=message):
        qp.run("renewal_planner:check", {"PROJECT": path, **params})
    assert len(table(path)) == 0


def test_check_algorithm_in_a_model(processing, project, tmp_path):
    """The check as a step of a Processing model (what the Model Designer builds)."""
    import processing as qp
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource)

    path, fake = project
    out_csv = tmp_path / "model.csv"
    model = QgsProcessingModelAlgorithm("rp_check_model", "tests")
    child = QgsProcessingModelChildAlgorithm("renewal_planner:check")
    child.setChildId("check")
    for name, value in (("PROJECT", path), ("ONLY", "building_clearance"), ("CSV", str(out_csv))):
        child.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    model.addChildAlgorithm(child)
    qp.run(model, {})
    with open(out_csv, encoding="utf-8") as fh:
        assert [r["uid_b"] for r in csv.DictReader(fh)] == ["B1"]
    assert list(table(path)["rule_id"]) == ["building_clearance"]


# -- the Checks tab ---------------------------------------------------------------------------

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
    d.tabs.setCurrentWidget(d.checks_tab)
    path, _ = project
    assert d.project_tab.open_project(path)
    yield d
    d.checks_tab.cancel_check()
    p.unload()
    QgsProject.instance().clear()
    _flush_deletes()


def run_and_wait(qtbot, tab, rules=("tree_pipe_clearance", "building_clearance")):
    tab.set_rules(list(rules))
    task = tab.run_check()
    assert task is not None
    assert not tab.progress.isHidden() and not tab.cancel_button.isHidden()
    assert not tab.run_button.isEnabled()
    qtbot.waitUntil(lambda: tab.task is None, timeout=30000)
    return task


def test_checks_tab_knows_the_project_and_its_areas(dock):
    tab = dock.checks_tab
    assert dock.current_project() == tab.project_path
    assert os.path.samefile(tab.project_path, dock.project_tab.current_path)
    assert [tab.area_combo.itemData(i) for i in range(tab.area_combo.count())] == [None, "A1"]
    assert "幸福小区" in tab.area_combo.itemText(1)
    from renewal_planner.tools.engine.registry import RULES

    assert tab.selected_rules() == list(RULES)
    assert tab.check_options()["only"] is None  # all rules: no --only
    tab.set_rules(["cover_depth"])
    tab.area_combo.setCurrentIndex(1)
    assert tab.check_options() == {"rules": None, "only": ["cover_depth"], "dem": None, "area": "A1"}
    assert tab.model.rowCount() == 0 and tab.run_button.isEnabled()


def test_checks_tab_runs_in_a_task_and_shows_the_results(dock, project, qtbot):
    path, fake = project
    tab = dock.checks_tab
    run_and_wait(qtbot, tab)
    assert fake.calls == ["tree_pipe_clearance", "building_clearance"]
    assert tab.progress.isHidden() and tab.run_button.isEnabled()
    assert tab.model.rowCount() == 4 and tab.proxy.rowCount() == 4
    assert tab.count_label.text() == "4 of 4 findings"
    assert "4 findings (2 certain): 4 new, 0 resolved" in tab.status_label.text()
    # sorted by severity: errors first
    assert [tab.model.record(r)["uid_a"] for r in range(2)] == ["T1", "T2"]
    assert len(table(path)) == 4

    # the styled results layers: point, line and polygon sublayers of the conflict table
    from renewal_planner.plugin.checks_tab import conflict_layers

    layers = conflict_layers(path)
    counts = sorted((lyr.geometryType(), lyr.featureCount()) for lyr in layers)
    assert counts == [(0, 2), (1, 1), (2, 1)]  # points, lines, polygons
    root = QgsProject.instance().layerTreeRoot()
    groups = [g for g in root.findGroups(True) if g.customProperty("renewal_planner/theme") == "results"]
    assert len(groups) == 1
    assert {lyr.id() for lyr in layers} <= set(groups[0].findLayerIds())


def test_results_layers_are_added_when_missing(dock, project, qtbot):
    from renewal_planner.plugin.checks_tab import conflict_layers

    path, fake = project
    qproject = QgsProject.instance()
    root = qproject.layerTreeRoot()
    qproject.removeMapLayers([lyr.id() for lyr in conflict_layers(path)])
    for g in root.findGroups(True):
        if g.customProperty("renewal_planner/theme") == "results":
            g.parent().removeChildNode(g)
    assert conflict_layers(path) == []
    run_and_wait(qtbot, dock.checks_tab)
    layers = conflict_layers(path)
    assert sorted((lyr.geometryType(), lyr.featureCount()) for lyr in layers) == [(0, 2), (1, 1), (2, 1)]
    group = root.children()[0]
    assert group.customProperty("renewal_planner/theme") == "results"
    assert sorted(group.findLayerIds()) == sorted(lyr.id() for lyr in layers)
    # styled as the Project tab styles them: by severity, named after the model
    assert all(lyr.renderer().type() == "categorizedSymbol" and lyr.renderer().classAttribute() == "severity"
               for lyr in layers)
    assert all("Conflicts" in lyr.name() or "冲突检查结果" in lyr.name() for lyr in layers)
    # a second run refreshes them, it does not add more
    run_and_wait(qtbot, dock.checks_tab)
    assert len(conflict_layers(path)) == 3


def test_checks_tab_cancel_writes_nothing(dock, project, qtbot):
    path, fake = project
    tab = dock.checks_tab
    gate, entered = threading.Event(), threading.Event()

    def block(rule_id):
        entered.set()
        gate.wait(20)

    fake.on_call = block
    tab.set_rules(["tree_pipe_clearance", "building_clearance"])
    task = tab.run_check()
    assert tab.run_check() is None  # one run at a time
    assert entered.wait(20)
    tab.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: tab.task is None, timeout=30000)
    assert task is not None
    assert fake.calls == ["tree_pipe_clearance"]
    assert "nothing was written" in tab.status_label.text()
    assert len(table(path)) == 0 and tab.model.rowCount() == 0


def test_filters_narrow_the_table(dock, qtbot):
    tab = dock.checks_tab
    run_and_wait(qtbot, tab)

    def shown():
        return sorted((tab.model.frame.set_index("conflict_id").loc[c, "uid_a"],
                       tab.model.frame.set_index("conflict_id").loc[c, "uid_b"])
                      for c in tab.visible_conflict_ids())

    tab.select_code(tab.rule_filter, "tree_pipe_clearance")
    assert shown() == [("T1", "JS1"), ("T2", "JS1"), ("T3", "WS2")]
    assert tab.count_label.text() == "3 of 4 findings"
    tab.select_code(tab.severity_filter, "error")
    assert shown() == [("T1", "JS1"), ("T2", "JS1")]
    tab.select_code(tab.certainty_filter, "possible")
    assert shown() == [("T2", "JS1")]
    tab.select_code(tab.rule_filter, None)
    tab.select_code(tab.severity_filter, None)
    assert shown() == [("JS1", "B1"), ("T2", "JS1")]
    tab.select_code(tab.certainty_filter, None)
    tab.text_filter.setText("js1")  # case-insensitive, in either feature
    assert shown() == [("JS1", "B1"), ("T1", "JS1"), ("T2", "JS1")]
    tab.text_filter.setText("WS2")
    assert shown() == [("T3", "WS2")]
    tab.text_filter.setText("")
    tab.certain_only.setChecked(True)
    assert shown() == [("T1", "JS1"), ("T3", "WS2")] and not tab.certainty_filter.isEnabled()
    tab.certain_only.setChecked(False)
    tab.select_code(tab.review_filter, "waived")
    assert shown() == []
    tab.select_code(tab.review_filter, None)
    assert tab.proxy.rowCount() == 4


def test_review_from_the_tab_persists_and_survives_a_rerun(dock, project, qtbot):
    from renewal_planner.plugin.checks_tab import user_name

    path, fake = project
    tab = dock.checks_tab
    run_and_wait(qtbot, tab)
    assert tab.apply_review() == 0  # nothing selected: refused, nothing written
    tab.select_conflicts([cid("T1", "JS1"), cid("JS1", "B1")])
    assert sorted(tab.selected_conflict_ids()) == sorted([cid("T1", "JS1"), cid("JS1", "B1")])
    tab.select_code(tab.review_combo, "waived")
    tab.note_edit.setText("树已移栽 tree moved")
    tab.apply_review_button.click()

    t = table(path)
    for c in (cid("T1", "JS1"), cid("JS1", "B1")):
        assert t.loc[c, "review"] == "waived"
        assert t.loc[c, "reviewer"] == user_name() != ""
        assert t.loc[c, "review_note"] == "树已移栽 tree moved"
        assert t.loc[c, "reviewed_at"]
    assert t.loc[cid("T2", "JS1"), "review"] == "open" and pd.isna(t.loc[cid("T2", "JS1"), "reviewer"])
    # the table shows it and keeps the selection
    tab.select_code(tab.review_filter, "waived")
    assert sorted(tab.visible_conflict_ids()) == sorted([cid("T1", "JS1"), cid("JS1", "B1")])
    assert len(tab.selected_conflict_ids()) == 2

    # a second run (B1 gone) keeps T1's review and note; B1 becomes resolved, its note kept
    fake.findings = FINDINGS[:3]
    run_and_wait(qtbot, tab)
    t = table(path)
    assert t.loc[cid("T1", "JS1"), "review"] == "waived"
    assert t.loc[cid("T1", "JS1"), "review_note"] == "树已移栽 tree moved"
    assert t.loc[cid("JS1", "B1"), "review"] == "resolved"
    assert t.loc[cid("JS1", "B1"), "previous_review"] == "waived"
    assert tab.visible_conflict_ids() == [cid("T1", "JS1")]
    tab.select_code(tab.review_filter, None)
    labels = {tab.model.record(r)["uid_a"]: tab.model.index(r, 3).data() for r in range(tab.model.rowCount())}
    assert labels["T1"] == tab.model.label("review", "waived") and labels["T2"] == tab.model.label("review", "open")


def test_clicking_a_row_zooms_to_the_finding(dock, qgis_iface, qtbot):
    from qgis.core import QgsRectangle

    tab = dock.checks_tab
    run_and_wait(qtbot, tab)
    canvas = qgis_iface.mapCanvas()
    canvas.setExtent(QgsRectangle(0, 0, 10, 10))
    flashed = []
    original = canvas.flashGeometries
    canvas.flashGeometries = lambda geoms, *a, **k: (flashed.append([g.asWkt() for g in geoms]),
                                                   original(geoms, *a, **k))
    try:
        tab.text_filter.setText("WS2")
        assert tab.proxy.rowCount() == 1
        view = tab.view
        view.show()
        index = tab.proxy.index(0, 5)
        QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view.visualRect(index).center())
        extent = canvas.extent()
        line = QgsRectangle(X0 + 1000, Y0 + 1000, X0 + 1060, Y0 + 1080)
        assert extent.contains(line), extent.toString()
        assert extent.width() < 1000  # zoomed in, not the whole project
        assert flashed and flashed[-1][0].startswith("LineString")

        # a point finding: an extent of at least MIN_ZOOM_SIZE around it
        tab.text_filter.setText("T1")
        QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier,
                         view.visualRect(tab.proxy.index(0, 5)).center())
        extent = canvas.extent()
        assert extent.contains(QgsRectangle(X0 + 90, Y0 + 90, X0 + 110, Y0 + 110)), extent.toString()
        assert extent.width() < 200
    finally:
        del canvas.flashGeometries


# -- inside the qgis / qgis_process executables ----------------------------------------------

_GEOS_PROBE = """
import ctypes, sys
ctypes.CDLL('libgeos_c.so.1', mode=ctypes.RTLD_GLOBAL)  # what the qgis executables do
if sys.argv[1] == 'isolate':
    from renewal_planner.plugin import deps
    assert 'shapely' in deps.isolate_bundled_libraries(), 'shapely not isolated'
import shapely
from shapely.geometry import Point
print(shapely.to_wkb(Point(1, 2)).hex())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RTLD_DEEPBIND is Linux only")
def test_wheels_keep_their_own_geos_next_to_qgis_global_one():
    """QGIS's libgeos_c in the global scope breaks the shapely wheel unless it is
    loaded with RTLD_DEEPBIND (deps.isolate_bundled_libraries, run by initProcessing)."""
    plain = subprocess.run([sys.executable, "-c", _GEOS_PROBE, "plain"], capture_output=True, text=True)
    isolated = subprocess.run([sys.executable, "-c", _GEOS_PROBE, "isolate"], capture_output=True, text=True)
    assert isolated.returncode == 0, isolated.stderr
    assert isolated.stdout.strip() == "0101000000000000000000f03f0000000000000040"
    # the failure it prevents (if this starts passing, QGIS's GEOS and the wheel's agree)
    assert plain.returncode != 0 and "WKB output dimension" in plain.stderr


@pytest.mark.skipif(not shutil.which("qgis_process"), reason="no qgis_process")
def test_qgis_process_runs_the_checks_headless(tmp_path):
    """`qgis_process run renewal_planner:check` with real rules on a tiny project."""
    import sysconfig

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit"))
    from engine_helpers import make_project

    path = make_project(tmp_path, pipe_segment=[
        {"uid": "NODEPTH", "geometry": LineString([(X0, Y0), (X0 + 10, Y0)]), "utility": "JS",
         "diameter_mm": 300, "depth_start": None, "depth_end": None},
        {"uid": "KNOWN", "geometry": LineString([(X0, Y0 + 20), (X0 + 10, Y0 + 20)]), "utility": "JS",
         "diameter_mm": 300, "depth_start": 1.2, "depth_end": 1.2}])
    root = os.path.dirname(os.path.abspath(renewal_planner.__file__))
    config = tmp_path / "cfg"
    plugins = config / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "renewal_planner").symlink_to(root, target_is_directory=True)
    exe = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"QT_QPA_PLATFORM": "offscreen", "QGIS_CUSTOM_CONFIG_PATH": str(config),
                "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
                "PYTHONPATH": sysconfig.get_paths()["purelib"]})
    enable = subprocess.run([exe, "plugins", "enable", "renewal_planner"], env=env,
                            capture_output=True, text=True, timeout=180)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    out_csv = tmp_path / "f.csv"
    run = subprocess.run([exe, "run", "renewal_planner:check", "--", f"PROJECT={path}",
                          "ONLY=depth_unknown", f"CSV={out_csv}"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FINDINGS:\t1" in run.stdout
    with open(out_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["rule_id"], r["uid_a"]) for r in rows] == [("depth_unknown", "NODEPTH")]
    assert list(table(path)["uid_a"]) == ["NODEPTH"]
    bad = subprocess.run([exe, "run", "renewal_planner:check", "--", f"PROJECT={path}", "ONLY=nope"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "unknown rule 'nope'" in bad.stdout + bad.stderr


def test_checks_tab_in_chinese(qgis_iface, monkeypatch):
    from renewal_planner.plugin import main

    if not os.path.exists(os.path.join(main.ROOT, "i18n", "renewal_planner_zh.qm")):
        pytest.skip("i18n/renewal_planner_zh.qm not built (make translations)")
    monkeypatch.setattr(main, "qgis_locale", lambda: "zh_CN")
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    try:
        tab = p.dock.checks_tab
        assert p.dock.tabs.tabText(p.dock.tabs.indexOf(tab)) == "冲突检查"
        assert tab.run_button.text() == "运行检查"
        assert tab.rule_filter.itemText(0) == "全部规则"
        assert tab.severity_filter.itemText(1) == "错误"   # code list label from model.yaml
        assert tab.model.headerData(0, Qt.Horizontal) == "规则"
        assert tab.count_label.text() == "显示 0 / 共 0 条"
        alg = QgsApplication.processingRegistry().algorithmById("renewal_planner:check")
        assert alg.displayName() == "冲突检查"
    finally:
        p.unload()
        _flush_deletes()
