"""The QGIS face of the plugin, headless with pytest-qgis's mocked iface."""
from __future__ import annotations

import os
import sqlite3

import pytest
from qgis.core import Qgis, QgsApplication, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QObject, Qt
from qgis.PyQt.QtWidgets import QAction, QDockWidget

import renewal_planner
from renewal_planner.plugin import deps, main


class Spy:
    """Record the iface calls that add and remove things, to check they balance."""

    def __init__(self, iface, monkeypatch):
        self.calls = []
        for name in ("addToolBarIcon", "removeToolBarIcon", "addPluginToMenu", "removePluginMenu",
                     "addDockWidget", "removeDockWidget"):
            original = getattr(iface, name)

            def wrapper(*args, _name=name, _original=original):
                self.calls.append((_name, args[-1]))
                return _original(*args)

            monkeypatch.setattr(iface, name, wrapper, raising=False)

    def count(self, name):
        return sum(1 for n, _ in self.calls if n == name)


def _flush_deletes():
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QCoreApplication.processEvents()


def _state(iface):
    win = iface.mainWindow()
    registry = QgsApplication.processingRegistry()
    return {
        "actions": sum(isinstance(c, QAction) for c in win.children()),
        "docks": sum(isinstance(c, QDockWidget) for c in win.children()),
        "all_qobjects": len(win.findChildren(QObject)),
        "providers": len(registry.providers()),
        "ours": registry.providerById("renewal_planner") is not None,
    }


@pytest.fixture
def plugin(qgis_iface, monkeypatch):
    spy = Spy(qgis_iface, monkeypatch)
    p = renewal_planner.classFactory(qgis_iface)
    p.spy = spy
    yield p
    if p.dock is not None or p.provider is not None:
        p.unload()
    _flush_deletes()


def test_class_factory_returns_the_plugin(qgis_iface):
    p = renewal_planner.classFactory(qgis_iface)
    assert isinstance(p, main.RenewalPlannerPlugin)
    assert p.iface is qgis_iface
    # nothing is added before initGui
    assert p.dock is None and p.action is None and p.provider is None


def test_init_gui_adds_and_unload_removes_everything(plugin, qgis_iface):
    _flush_deletes()
    before = _state(qgis_iface)
    assert not before["ours"]

    plugin.initGui()
    during = _state(qgis_iface)
    assert during["actions"] == before["actions"] + 1
    assert during["docks"] == before["docks"] + 1
    assert during["providers"] == before["providers"] + 1
    provider = QgsApplication.processingRegistry().providerById("renewal_planner")
    assert provider is not None and provider.name() == "Renewal Planner"
    assert {"demo", "init", "check"} <= {a.name() for a in provider.algorithms()}
    assert QgsApplication.processingRegistry().algorithmById("renewal_planner:init") is not None
    dock = qgis_iface.mainWindow().findChild(QDockWidget, "RenewalPlannerDock")
    assert dock is plugin.dock
    assert "城市更新规划助手" in dock.windowTitle()
    assert plugin.spy.count("addToolBarIcon") == 1
    assert plugin.spy.count("addPluginToMenu") == 1
    assert plugin.spy.count("addDockWidget") == 1

    # the action toggles the dock
    assert not dock.isVisible()
    plugin.action.setChecked(True)
    assert dock.isVisibleTo(qgis_iface.mainWindow())
    plugin.action.setChecked(False)
    assert not dock.isVisibleTo(qgis_iface.mainWindow())

    plugin.unload()
    _flush_deletes()
    after = _state(qgis_iface)
    assert after == before
    assert plugin.spy.count("removeToolBarIcon") == 1
    assert plugin.spy.count("removePluginMenu") == 1
    assert plugin.spy.count("removeDockWidget") == 1
    assert qgis_iface.mainWindow().findChild(QDockWidget, "RenewalPlannerDock") is None
    assert plugin.translator is None


def test_reload_twice_leaves_nothing_behind(qgis_iface):
    _flush_deletes()
    before = _state(qgis_iface)
    for _ in range(2):
        p = renewal_planner.classFactory(qgis_iface)
        p.initGui()
        p.unload()
        _flush_deletes()
    assert _state(qgis_iface) == before


def test_translator_installed_for_chinese_and_removed(plugin, monkeypatch, tmp_path):
    qm = os.path.join(main.ROOT, "i18n", "renewal_planner_zh.qm")
    if not os.path.exists(qm):
        pytest.skip("i18n/renewal_planner_zh.qm not built (make translations)")
    monkeypatch.setattr(main, "qgis_locale", lambda: "zh_CN")
    plugin.initGui()
    assert plugin.translator is not None
    assert plugin.dock.project_tab.new_button.text() == "新建项目…"
    provider = QgsApplication.processingRegistry().providerById("renewal_planner")
    assert provider.algorithm("init").displayName() == "创建项目"
    plugin.unload()
    assert plugin.translator is None
    # English again once the translator is gone
    assert QCoreApplication.translate("ProjectTab", "New project…") == "New project…"


def test_english_locale_installs_no_translator(plugin, monkeypatch):
    monkeypatch.setattr(main, "qgis_locale", lambda: "en_US")
    plugin.initGui()
    assert plugin.translator is None
    assert plugin.dock.project_tab.new_button.text() == "New project…"


def test_missing_dependency_gives_one_message_not_an_exception(plugin, qgis_iface, monkeypatch):
    problems = [deps.Problem(deps.Requirement("shapely", "shapely", "2.0"), found="1.8.5"),
                deps.Problem(deps.Requirement("geopandas", "geopandas", "0.14"))]
    monkeypatch.setattr(deps, "check", lambda: problems)
    logged = []

    def on_log(message, tag, level):
        if tag == "Renewal Planner":
            logged.append((message, level))

    QgsApplication.messageLog().messageReceived.connect(on_log)
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    try:
        plugin.initGui()  # must not raise
        QCoreApplication.processEvents()
    finally:
        QgsApplication.messageLog().messageReceived.disconnect(on_log)
    warnings = bar.get_messages(Qgis.Warning)
    assert len(warnings) == 1
    text = warnings[0]
    assert "shapely 1.8.5 (need >= 2.0)" in text and "geopandas (not installed)" in text
    assert "python3 -m pip install --user 'shapely>=2.0' 'geopandas>=0.14'" in text
    assert "make run" in text
    assert [m for m, lvl in logged if lvl == Qgis.Warning and "geopandas" in m]
    tab = plugin.dock.project_tab
    assert plugin.dock is not None
    assert not tab.demo_button.isEnabled()            # needs shapely/geopandas
    assert tab.new_button.isEnabled() and tab.open_button.isEnabled()  # only need YAML
    assert "pip install" in tab.demo_button.toolTip()
    assert not tab.deps_label.isHidden()


def test_dependency_check_names_real_versions(monkeypatch):
    # an independent oracle: what importlib.metadata says for this interpreter
    from importlib import metadata

    assert deps.check() == [] or all(p.requirement.dist for p in deps.check())
    real = metadata.version("shapely")
    req = deps.Requirement("shapely", "shapely", "99.0")
    assert deps.check([req]) == [deps.Problem(req, found=real)]
    absent = deps.Requirement("no_such_module_rp", "no-such-dist")
    assert deps.check([absent]) == [deps.Problem(absent)]
    assert deps.pip_command([deps.Problem(req, real), deps.Problem(absent)]) == \
        "python3 -m pip install --user 'shapely>=99.0' no-such-dist"


@pytest.fixture
def processing(qgis_processing, qgis_iface):
    from processing.core.Processing import Processing

    Processing.initialize()
    p = renewal_planner.classFactory(qgis_iface)
    p.initProcessing()
    yield
    p.unload()


def _gpkg_srs(path):
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT DISTINCT c.srs_id FROM gpkg_geometry_columns c").fetchall()
    return {r[0] for r in rows}


def test_init_algorithm_creates_a_geopackage(processing, tmp_path):
    import processing as qgis_processing_module

    target = tmp_path / "p.gpkg"
    result = qgis_processing_module.run("renewal_planner:init",
                                        {"PROJECT": str(target), "CRS": "EPSG:4549"})
    assert result["PROJECT"] == str(target)
    with open(target, "rb") as fh:
        assert fh.read(16) == b"SQLite format 3\x00"
    assert _gpkg_srs(str(target)) == {4549}
    # never overwrites
    with pytest.raises(QgsProcessingException, match="exists already"):
        qgis_processing_module.run("renewal_planner:init", {"PROJECT": str(target)})


def test_init_algorithm_default_crs_is_cgcs2000_4547(processing, tmp_path):
    import processing as qgis_processing_module

    target = tmp_path / "d.gpkg"
    qgis_processing_module.run("renewal_planner:init", {"PROJECT": str(target)})
    assert _gpkg_srs(str(target)) == {4547}


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:999999"])
def test_init_algorithm_bad_crs_raises(processing, tmp_path, crs):
    import processing as qgis_processing_module

    target = tmp_path / "bad.gpkg"
    with pytest.raises(QgsProcessingException):
        qgis_processing_module.run("renewal_planner:init", {"PROJECT": str(target), "CRS": crs})
    assert not target.exists()


def test_function_task_success_error_and_cancel(qgis_app):
    from renewal_planner.plugin.tasks import FunctionTask, TaskRunner

    runner = TaskRunner()
    out = {}

    def wait(task):
        import time

        deadline = time.time() + 20
        while task in runner.running() and time.time() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
        assert task not in runner.running()

    def work(fb):
        for i in range(5):
            fb.set_progress(i * 20)
        return 42

    t = runner.start(FunctionTask("ok", work, on_success=lambda r: out.setdefault("ok", r)))
    wait(t)
    assert out["ok"] == 42

    def boom(fb):
        raise ValueError("bad thing")

    t = runner.start(FunctionTask("err", boom, on_error=lambda e: out.setdefault("err", e)))
    wait(t)
    assert isinstance(out["err"], ValueError) and str(out["err"]) == "bad thing"

    import threading

    gate = threading.Event()

    def slow(fb):
        gate.wait(10)
        fb.check_canceled()
        return "late"

    t = runner.start(FunctionTask("cancel", slow, on_success=lambda r: out.setdefault("late", r),
                                  on_canceled=lambda: out.setdefault("canceled", True)))
    t.cancel()
    gate.set()
    wait(t)
    assert out.get("canceled") is True and "late" not in out


def test_dock_new_project_creates_and_opens_it(plugin, qgis_iface, tmp_path):
    from qgis.core import QgsProject

    plugin.initGui()
    QgsProject.instance().clear()
    tab = plugin.dock.project_tab
    target = str(tmp_path / "new.gpkg")
    try:
        assert tab.new_project(target) == target
        layers = [lyr for lyr in QgsProject.instance().mapLayers().values()
                  if lyr.source().split("|")[0] == target]
        assert len(layers) >= 5
        assert all(lyr.isValid() for lyr in layers)
        assert QgsProject.instance().crs().authid() == "EPSG:4547"
        root = QgsProject.instance().layerTreeRoot()
        assert len(root.findGroups()) >= 2  # one group per theme
        assert tab.project_label.text() == target

        bar = qgis_iface.messageBar()
        bar.clear_messages()
        assert tab.new_project(target) is None  # exists: refused, reported, not raised
        assert any("exists already" in m for m in bar.get_messages(Qgis.Critical))

        bar.clear_messages()
        not_project = tmp_path / "plain.txt"
        not_project.write_text("x")
        assert tab.open_project(str(not_project)) == []
        assert bar.get_messages(Qgis.Critical)
    finally:
        QgsProject.instance().clear()


def _source_strings():
    """(context, text) of every self.tr("...") / QCoreApplication.translate("ctx", "...") in plugin/."""
    import ast

    found = set()
    plugin_dir = os.path.join(main.ROOT, "plugin")
    for dirpath, _, files in os.walk(plugin_dir):
        for name in files:
            if not name.endswith(".py"):
                continue
            tree = ast.parse(open(os.path.join(dirpath, name), encoding="utf-8").read())
            for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
                for call in ast.walk(cls):
                    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr == "tr" and isinstance(call.func.value, ast.Name)
                            and call.func.value.id == "self" and call.args
                            and isinstance(call.args[0], ast.Constant)):
                        found.add((cls.name, call.args[0].value))
            for call in ast.walk(tree):  # QCoreApplication.translate("Context", "text")
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "translate" and len(call.args) >= 2
                        and all(isinstance(a, ast.Constant) for a in call.args[:2])):
                    found.add((call.args[0].value, call.args[1].value))
    return found


def test_every_ui_string_has_a_chinese_translation():
    import xml.etree.ElementTree as ET

    ts = ET.parse(os.path.join(main.ROOT, "i18n", "renewal_planner_zh.ts")).getroot()
    translated = {}
    for ctx in ts.iter("context"):
        for msg in ctx.iter("message"):
            tr = msg.find("translation")
            if tr.get("type") in (None, "") and tr.text:
                translated[(ctx.find("name").text, msg.find("source").text)] = tr.text
    strings = _source_strings()
    assert len(strings) >= 30
    missing = sorted(s for s in strings if s not in translated)
    assert not missing, f"untranslated (run scripts/update_ts.sh and translate): {missing}"
    # a translation is Chinese and keeps the {n} placeholders of its source
    import re

    for (ctx, src), zh in translated.items():
        if (ctx, src) in strings and src != "GeoPackage (*.gpkg)":
            assert re.search(r"[\u4e00-\u9fff]", zh), (ctx, src, zh)
        assert sorted(re.findall(r"\{\d\}", src)) == sorted(re.findall(r"\{\d\}", zh)), (src, zh)


@pytest.fixture
def fake_demo(monkeypatch):
    """A stand-in tools.demo.build_demo (the real one is tested by its own tests)."""
    import sys
    import types

    import renewal_planner.tools as tools_pkg
    from renewal_planner.layers.errors import InputError
    from renewal_planner.layers.project import init_project

    calls = []

    def build_demo(out_dir, seed=1, progress=None):
        calls.append((out_dir, seed))
        if seed == 13:
            raise InputError("unlucky seed", field="seed")
        os.makedirs(out_dir, exist_ok=True)
        for p in (10, 50, 90):
            if progress:
                progress(p)
        return {"project": init_project(os.path.join(out_dir, "demo.gpkg"))}

    mod = types.ModuleType("renewal_planner.tools.demo")
    mod.build_demo = build_demo
    monkeypatch.setitem(sys.modules, "renewal_planner.tools.demo", mod)
    monkeypatch.setattr(tools_pkg, "demo", mod, raising=False)
    return calls


def test_algorithms_name_missing_packages(processing, monkeypatch, tmp_path):
    import processing as qgis_processing_module

    problems = [deps.Problem(deps.Requirement("yaml", "PyYAML"))]
    monkeypatch.setattr(deps, "check", lambda: problems)
    with pytest.raises(QgsProcessingException, match=r"PyYAML \(not installed\).*pip install --user PyYAML"):
        qgis_processing_module.run("renewal_planner:init", {"PROJECT": str(tmp_path / "x.gpkg")})
    assert not (tmp_path / "x.gpkg").exists()


def test_demo_algorithm_calls_build_demo(processing, fake_demo, tmp_path):
    import processing as qgis_processing_module

    out = tmp_path / "demo"
    result = qgis_processing_module.run("renewal_planner:demo", {"OUT_DIR": str(out), "SEED": 7})
    assert fake_demo == [(str(out), 7)]
    assert result["PROJECT"] == str(out / "demo.gpkg") and os.path.exists(result["PROJECT"])
    assert result["OUT_DIR"] == str(out)
    with pytest.raises(QgsProcessingException, match="field seed: unlucky seed"):
        qgis_processing_module.run("renewal_planner:demo", {"OUT_DIR": str(tmp_path / "d2"), "SEED": 13})


def test_init_algorithm_in_a_model(processing, tmp_path):
    """The algorithm as a step of a Processing model (what the Model Designer builds)."""
    import processing as qgis_processing_module
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource)

    target = tmp_path / "model.gpkg"
    model = QgsProcessingModelAlgorithm("rp_model", "tests")
    child = QgsProcessingModelChildAlgorithm("renewal_planner:init")
    child.setChildId("init")
    child.addParameterSources("PROJECT", [QgsProcessingModelChildParameterSource.fromStaticValue(str(target))])
    child.addParameterSources("CRS", [QgsProcessingModelChildParameterSource.fromStaticValue("EPSG:4547")])
    model.addChildAlgorithm(child)
    qgis_processing_module.run(model, {})
    assert _gpkg_srs(str(target)) == {4547}


def test_dock_open_demo_runs_in_a_task_and_opens_the_project(plugin, fake_demo, tmp_path, monkeypatch):
    import time

    from qgis.core import QgsProject

    plugin.initGui()
    QgsProject.instance().clear()
    monkeypatch.setattr(QgsApplication, "qgisSettingsDirPath", staticmethod(lambda: str(tmp_path) + "/"))
    tab = plugin.dock.project_tab
    seen = []
    task = tab.open_demo()
    task.progressChanged.connect(seen.append)
    assert task is not None and not tab.progress.isHidden()
    assert tab.open_demo() is None  # one at a time
    deadline = time.time() + 30
    while tab.task is not None and time.time() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.01)
    try:
        assert tab.task is None and tab.progress.isHidden()
        assert len(fake_demo) == 1
        out_dir = fake_demo[0][0]
        assert out_dir.startswith(os.path.join(str(tmp_path), "renewal_planner", "demo-"))
        assert tab.project_label.text() == os.path.join(out_dir, "demo.gpkg")
        assert len(QgsProject.instance().mapLayers()) >= 5
        assert tab.demo_button.isEnabled()
    finally:
        QgsProject.instance().clear()
