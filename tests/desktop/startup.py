"""Run inside the real QGIS desktop (``qgis --code startup.py``) by test_desktop.py.

Once QGIS is up it checks what a user would see, writes a JSON report to
$RP_STARTUP_JSON, a screenshot of the main window to $RP_STARTUP_PNG, and quits.
Each step records its error instead of stopping, so the test sees them all.
"""
import json
import os
import time
import traceback

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QAction, QDockWidget

REPORT = os.environ["RP_STARTUP_JSON"]
SHOT = os.environ["RP_STARTUP_PNG"]
WORK = os.environ["RP_STARTUP_WORK"]
TIMEOUT = float(os.environ.get("RP_STARTUP_TIMEOUT", "300"))
report = {"errors": {}, "steps": []}
state = {"t0": time.time()}


def iface():
    import qgis.utils

    return qgis.utils.iface


def step(name):
    def deco(fn):
        def run(*args):
            report["steps"].append(name)
            try:
                return fn(*args)
            except Exception:
                report["errors"][name] = traceback.format_exc()
        run.__name__ = name
        return run
    return deco


def counts():
    win = iface().mainWindow()
    return {"actions": sum(isinstance(c, QAction) for c in win.children()),
            "docks": sum(isinstance(c, QDockWidget) for c in win.children()),
            "providers": len(QgsApplication.processingRegistry().providers())}


@step("plugin")
def check_plugin():
    import qgis.utils

    report["qgis_version"] = QgsApplication.instance().applicationVersion() if hasattr(
        QgsApplication.instance(), "applicationVersion") else ""
    from qgis.core import Qgis

    report["qgis_version"] = Qgis.QGIS_VERSION
    report["plugins"] = sorted(qgis.utils.plugins)
    report["active_plugins"] = sorted(qgis.utils.active_plugins)
    plugin = qgis.utils.plugins["renewal_planner"]
    report["plugin_class"] = type(plugin).__name__
    report["plugin_module_file"] = __import__("renewal_planner").__file__
    report["dependency_problems"] = [p.describe() for p in plugin.problems]
    import shapely

    report["shapely_version"] = shapely.__version__
    report["locale"] = __import__("renewal_planner.plugin.main", fromlist=["x"]).qgis_locale()


@step("dock")
def check_dock():
    win = iface().mainWindow()
    win.resize(1600, 1000)
    dock = win.findChild(QDockWidget, "RenewalPlannerDock")
    report["dock_exists"] = dock is not None
    action = win.findChild(QAction, "RenewalPlannerToggleDock")
    report["action_exists"] = action is not None
    report["action_in_plugins_menu"] = any(
        action in m.actions() or any(action in sub.menu().actions() for sub in m.actions() if sub.menu())
        for m in [iface().pluginMenu()]) if action else False
    action.trigger()  # as a user clicking the toolbar button
    QgsApplication.processEvents()
    report["dock_visible"] = dock.isVisible()
    report["dock_title"] = dock.windowTitle()
    tab = dock.project_tab
    report["buttons"] = {b.objectName(): [b.text(), b.isEnabled()]
                         for b in (tab.new_button, tab.open_button, tab.demo_button)}


@step("provider")
def check_provider():
    reg = QgsApplication.processingRegistry()
    prov = reg.providerById("renewal_planner")
    report["provider"] = prov.name() if prov else None
    report["algorithms"] = sorted(a.id() for a in prov.algorithms()) if prov else []


@step("init_algorithm")
def run_init():
    import processing

    target = os.path.join(WORK, "init.gpkg")
    res = processing.run("renewal_planner:init", {"PROJECT": target, "CRS": "EPSG:4547"})
    report["init_result"] = res.get("PROJECT")
    report["init_exists"] = os.path.exists(target)


@step("open_project")
def open_project():
    demo_available = True
    try:
        from renewal_planner.tools import demo  # noqa: F401
    except ImportError:
        demo_available = False
    report["demo_available"] = demo_available
    dock = iface().mainWindow().findChild(QDockWidget, "RenewalPlannerDock")
    if demo_available and dock.project_tab.demo_button.isEnabled():
        state["task"] = dock.project_tab.open_demo()
        report["demo_task_started"] = state["task"] is not None
        return "wait"
    layers = dock.project_tab.open_project(os.path.join(WORK, "init.gpkg"))
    report["opened_layers"] = len(layers)


def demo_done():
    dock = iface().mainWindow().findChild(QDockWidget, "RenewalPlannerDock")
    return dock.project_tab.task is None


@step("after_open")
def after_open():
    layers = list(QgsProject.instance().mapLayers().values())
    report["layers"] = len(layers)
    report["valid_layers"] = sum(lyr.isValid() for lyr in layers)
    report["groups"] = [g.name() for g in QgsProject.instance().layerTreeRoot().findGroups()]
    report["project_label"] = iface().mainWindow().findChild(
        QDockWidget, "RenewalPlannerDock").project_tab.project_label.text()
    report["features"] = sum(max(lyr.featureCount(), 0) for lyr in layers if hasattr(lyr, "featureCount"))
    iface().mapCanvas().refreshAllLayers()


@step("screenshot")
def screenshot():
    win = iface().mainWindow()
    win.raise_()
    report["screenshot"] = bool(win.grab().save(SHOT, "PNG"))


@step("unload_reload")
def unload_reload():
    import qgis.utils

    before = counts()
    report["counts_loaded"] = before
    qgis.utils.unloadPlugin("renewal_planner")
    QgsApplication.sendPostedEvents(None, 52)  # QEvent.DeferredDelete
    QgsApplication.processEvents()
    report["counts_unloaded"] = counts()
    report["provider_after_unload"] = QgsApplication.processingRegistry().providerById(
        "renewal_planner") is not None
    report["dock_after_unload"] = iface().mainWindow().findChild(QDockWidget, "RenewalPlannerDock") is not None
    qgis.utils.loadPlugin("renewal_planner")
    qgis.utils.startPlugin("renewal_planner")
    report["counts_reloaded"] = counts()


def finish():
    report["elapsed_s"] = round(time.time() - state["t0"], 1)
    with open(REPORT, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, ensure_ascii=False)
    QgsProject.instance().setDirty(False)
    os._exit(0)  # QGIS's own shutdown is not under test here


def main():
    log = report.setdefault("log", [])
    QgsApplication.messageLog().messageReceived.connect(
        lambda msg, tag, level: log.append(f"{tag}|{int(level)}: {msg[:600]}"))
    check_plugin()
    check_dock()
    check_provider()
    run_init()
    if open_project() == "wait":
        def poll():
            if demo_done() or time.time() - state["t0"] > TIMEOUT:
                report["demo_finished"] = demo_done()
                QTimer.singleShot(100, rest)
            else:
                QTimer.singleShot(250, poll)
        poll()
    else:
        rest()


def rest():
    after_open()
    # let the canvas render before the screenshot
    QTimer.singleShot(4000, lambda: (screenshot(), unload_reload(), finish()))


def when_ready():
    import qgis.utils

    if "renewal_planner" in getattr(qgis.utils, "plugins", {}) or time.time() - state["t0"] > 60:
        QTimer.singleShot(500, lambda: _guard(main))
    else:
        QTimer.singleShot(250, when_ready)


def _guard(fn):
    try:
        fn()
    except Exception:
        report["errors"]["main"] = traceback.format_exc()
        finish()


# a hard deadline, whatever happens
QTimer.singleShot(int(TIMEOUT * 1000) + 30000, finish)
QTimer.singleShot(1000, when_ready)
