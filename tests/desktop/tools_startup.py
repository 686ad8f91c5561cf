"""Run inside the real QGIS desktop (``qgis --code tools_startup.py``) by test_desktop_tools.py.

Drives the issue-5 tools as a user would, on the demo district built beside
QGIS by the test: opens the project from the Renewal Planner dock, toggles
editing, clicks the tools' toolbar buttons and clicks / moves the mouse on
the map canvas's viewport (QTest events at map points converted with the
canvas's coordinate transform). Records what the tools did in a JSON report
($RP_TOOLS_JSON) and screenshots of the whole screen into $RP_TOOLS_OUT.
Each step records its error instead of stopping.

$RP_TOOLS_CASES: a JSON file with the demo project path, a ready-marker path
(the demo is built while QGIS starts) and the map points of each case.
"""
import json
import os
import time
import traceback

from qgis.core import QgsApplication, QgsPointXY, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QPoint, Qt, QTimer
from qgis.PyQt.QtGui import QGuiApplication
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QToolBar

REPORT = os.environ["RP_TOOLS_JSON"]
OUT = os.environ["RP_TOOLS_OUT"]
TIMEOUT = float(os.environ.get("RP_TOOLS_TIMEOUT", "240"))
with open(os.environ["RP_TOOLS_CASES"], encoding="utf-8") as _fh:
    CASES = json.load(_fh)
report = {"errors": {}, "steps": [], "messages": [], "live": [], "timings": {}}
state = {"t0": time.time(), "step": None}


def iface():
    import qgis.utils

    return qgis.utils.iface


def plugin():
    import qgis.utils

    return qgis.utils.plugins["renewal_planner"]


def canvas():
    return iface().mapCanvas()


# -- helpers ---------------------------------------------------------------------------
def pix(x, y):
    """Viewport pixel of map point (x, y)."""
    p = canvas().getCoordinateTransform().transform(QgsPointXY(x, y))
    return QPoint(int(round(p.x())), int(round(p.y())))


def click(x, y, button=Qt.LeftButton):
    """Click at map point (x, y); returns the map point of the clicked pixel."""
    p = pix(x, y)
    m = canvas().getCoordinateTransform().toMapCoordinates(p)
    QTest.mouseClick(canvas().viewport(), button, Qt.NoModifier, p)
    return [m.x(), m.y()]


def move(x, y):
    QTest.mouseMove(canvas().viewport(), pix(x, y))


def zoom(points, margin):
    iface().messageBar().clearWidgets()  # its coming and going would resize the canvas mid-step
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    canvas().setExtent(QgsRectangle(min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin))
    canvas().refresh()


def press_tool_button(object_name):
    """Click the toolbar button of a plugin action (as a user would)."""
    win = iface().mainWindow()
    action = win.findChild(QAction, object_name)
    if action is None:
        raise RuntimeError(f"no action {object_name}")
    for bar in win.findChildren(QToolBar):
        w = bar.widgetForAction(action)
        if w is not None and w.isVisible():
            QTest.mouseClick(w, Qt.LeftButton)
            return action
    action.trigger()  # toolbar hidden: the action itself
    return action


def project_layer(table):
    from renewal_planner.plugin.maptools.base import find_layer

    return find_layer(table, CASES["project"])


def start_editing(layer):
    iface().setActiveLayer(layer)
    if not layer.isEditable():
        iface().actionToggleEditing().trigger()
    return layer.isEditable()


def shoot(name):
    """The whole X screen (main window, floating panels, message bar)."""
    QgsApplication.processEvents()
    path = os.path.join(OUT, name)
    ok = QGuiApplication.primaryScreen().grabWindow(0).save(path, "PNG")
    report.setdefault("screenshots", {})[name] = path if ok else None
    return ok


def bar_texts():
    out = []
    for item in iface().messageBar().items():
        out.append(f"{item.title()}: {item.text()}")
    return out


def added_features(layer):
    feats = list(layer.editBuffer().addedFeatures().values()) if layer.editBuffer() else []
    names = layer.fields().names()
    rows = []
    for f in feats:
        row = {n: f.attribute(n) for n in names if n in (
            "uid", "stall_no", "stall_type", "width_m", "length_m", "angle_deg", "community", "kind", "species")}
        row = {k: (None if v is None or (hasattr(v, "isNull") and v.isNull()) else v) for k, v in row.items()}
        row["wkt"] = f.geometry().asWkt(3)
        rows.append(row)
    return rows


def result_rows(result):
    if result is None:
        return None
    return [{"slot": int(s), "skipped": bool(k), "reason": str(r), "wkt": g.wkt}
            for s, k, r, g in zip(result["slot"], result["skipped"], result["reason"], result.geometry)]


# -- steps (generators: yield milliseconds to wait, or a predicate to poll) ------------------
def s_wait_ready():
    t = time.time()
    while "renewal_planner" not in __import__("qgis.utils", fromlist=["x"]).plugins:
        yield 200
    while not os.path.exists(CASES["ready"]):
        yield 200
    report["timings"]["waited_for_demo_s"] = round(time.time() - t, 1)


def s_open_project():
    win = iface().mainWindow()
    win.setGeometry(0, 0, 1600, 1000)  # Xvfb has no window manager to maximise it
    for d in win.findChildren(QDockWidget):  # room for the canvas: the browser goes
        if d.objectName() in ("Browser", "Browser2") and d.isVisible():
            d.hide()
    dock = win.findChild(QDockWidget, "RenewalPlannerDock")
    if not dock.isVisible():
        win.findChild(QAction, "RenewalPlannerToggleDock").trigger()
    layers = dock.project_tab.open_project(CASES["project"])
    report["opened_layers"] = len(layers)
    report["current_project"] = dock.current_project()
    report["live_enabled"] = bool(plugin().live_checks and plugin().live_checks.enabled)
    lc = plugin().live_checks
    if lc is not None:
        lc.findings_ready.connect(lambda lid, fid, frame: report["live"].append({
            "step": state["step"], "layer": QgsProject.instance().mapLayer(lid).name()
            if QgsProject.instance().mapLayer(lid) else lid, "fid": int(fid), "n": int(len(frame)),
            "rules": sorted(set(frame["rule_id"])) if len(frame) else [],
            "findings": [{"rule": r, "certainty": c, "measured": m, "required": q, "message": t}
                         for r, c, m, q, t in zip(frame["rule_id"], frame["certainty"], frame["measured"],
                                                  frame["required"], frame["message_zh"])] if len(frame) else [],
            "t": round(time.time() - state["t0"], 2)}))
    dock.hide()  # the project is open: the canvas gets the room (as a user would close it)
    yield 500
    report["canvas_size"] = [canvas().width(), canvas().height()]


def row_tool(key, table, case, screenshot, setup=None):
    layer = project_layer(table)
    rep = report.setdefault(key, {})
    rep["layer"] = layer.name() if layer else None
    rep["editable"] = start_editing(layer)
    rep["count_before"] = layer.featureCount()
    row = case["row"]
    zoom(row, case.get("margin", 15))
    yield 800
    canvas().waitWhileRendering()
    action = press_tool_button(f"RenewalPlanner_{key}")
    tool = plugin().row_tools.tools[key]
    rep["tool_active"] = canvas().mapTool() is tool and action.isChecked()
    if setup is not None:
        setup(tool)
    if tool.panel is not None:  # the floating options panel, over the layers panel
        tool.panel.adjustSize()
        tool.panel.move(5, 1000 - tool.panel.height() - 40)
    rep["map_units_per_pixel"] = canvas().mapUnitsPerPixel()
    (x0, y0), (x1, y1) = row
    t = time.time()
    rep["clicked"] = [click(x0, y0)]
    move((x0 + x1) / 2, (y0 + y1) / 2)
    move(x1, y1)  # the live preview follows the mouse
    rep["preview_s"] = round(time.time() - t, 2)
    rep["preview"] = result_rows(tool.result)
    rep["preview_summary"] = tool.panel.summary.text() if tool.panel else None
    rep["preview_labels"] = [text for _, text in tool.labels.items]
    yield 600
    shoot(screenshot)
    n_msgs = len(report["messages"])
    n_live = len(report["live"])
    rep["clicked"].append(click(x1, y1))  # the second click writes the row
    rep["added"] = added_features(layer)
    fids = set(layer.editBuffer().addedFeatures().keys())
    rep["count_after"] = layer.featureCount()
    rep["undo_count"] = layer.undoStack().count()
    rep["undo_text"] = layer.undoStack().text(layer.undoStack().count() - 1)
    rep["tool_messages"] = [m for m in report["messages"][n_msgs:]]
    t = time.time()
    while time.time() - t < 15 and not fids <= {c["fid"] for c in report["live"][n_live:]}:
        yield 100  # live checks: debounce + a QgsTask per burst
    rep["live_s"] = round(time.time() - t, 2)
    rep["live"] = [c for c in report["live"][n_live:] if c["fid"] in fids]
    yield 200
    rep["bar"] = bar_texts()
    rep["messages_after"] = [m for m in report["messages"][n_msgs:]]


def s_stall_row():
    yield from row_tool("stall_row", "parking_stall", CASES["stall_row"], "desktop_stall_row.png")


def s_tree_row():
    def setup(tool):
        tool.panel.spacing_spin.setValue(CASES["tree_row"]["spacing_m"])
        tool.panel.species_edit.setText(CASES["tree_row"].get("species", ""))

    yield from row_tool("tree_row", "tree", CASES["tree_row"], "desktop_tree_row.png", setup)


def s_live_tree():
    """A tree digitised by hand in a fire lane: checked at once (message bar)."""
    from qgis.core import QgsFeature, QgsGeometry

    layer = project_layer("tree")
    rep = report.setdefault("live_tree", {})
    x, y = CASES["live_tree"]
    m0 = len(report["messages"])
    f = QgsFeature(layer.fields())
    f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
    f.setAttribute(layer.fields().indexOf("uid"), "LIVE-TEST-TREE")
    f.setAttribute(layer.fields().indexOf("kind"), "tree")
    t = time.time()
    layer.beginEditCommand("live tree")
    rep["added"] = layer.addFeature(f)
    layer.endEditCommand()
    fid = f.id()
    rep["fid"] = fid
    deadline = time.time() + 10
    while not any(c["fid"] == fid for c in report["live"]) and time.time() < deadline:
        yield 20
    rep["checked_s"] = round(time.time() - t, 2)
    rep["live"] = [c for c in report["live"] if c["fid"] == fid]
    yield 200
    rep["messages"] = report["messages"][m0:]
    rep["bar"] = bar_texts()


def s_section():
    rep = report.setdefault("section", {})
    line = CASES["section"]["line"]
    zoom(line, 12)
    yield 800
    canvas().waitWhileRendering()
    press_tool_button("RenewalPlanner_section")
    tool = plugin().analysis_tools.tools["section"]
    rep["tool_active"] = canvas().mapTool() is tool
    (x0, y0), (x1, y1) = line
    rep["clicked"] = [click(x0, y0)]
    move(x1, y1)
    rep["clicked"].append(click(x1, y1))
    yield 300
    sec = tool.section
    panel = tool.panel
    rep["panel_exists"] = panel is not None
    rep["message"] = tool.last_message
    if sec is not None:
        rep["ground_source"] = sec.ground_source
        rep["pipes"] = [{"uid": r["uid"], "utility": r["utility"], "offset": float(r["offset"]),
                         "top": float(r["top"]), "bottom": float(r["bottom"])} for _, r in sec.pipes.iterrows()]
        rep["breaches"] = int(sec.clearances["breach"].sum()) if len(sec.clearances) else 0
    if panel is not None:
        iface().mainWindow().resizeDocks([panel], [470], Qt.Vertical)
        yield 300
        rep["panel_visible"] = panel.isVisible()
        rep["panel_title"] = panel.windowTitle()
        rep["summary"] = panel.summary.text()
        pm = panel.pixmap
        rep["plot_size"] = [pm.width(), pm.height()] if pm is not None else None
        rep["export_enabled"] = all(b.isEnabled() for b in panel.buttons.values())
        rep["svg"] = panel.export_to(os.path.join(OUT, "section.svg"))
    yield 300
    shoot("desktop_cross_section.png")
    if panel is not None:
        panel.hide()


def s_profile():
    rep = report.setdefault("profile", {})
    x, y = CASES["profile"]["point"]
    zoom([(x, y)], 25)
    yield 800
    canvas().waitWhileRendering()
    press_tool_button("RenewalPlanner_profile")
    tool = plugin().analysis_tools.tools["profile"]
    rep["tool_active"] = canvas().mapTool() is tool
    click(x, y)
    yield 300
    prof = tool.profile
    panel = tool.panel
    rep["panel_exists"] = panel is not None
    rep["message"] = tool.last_message
    if prof is not None:
        rep["segments"] = list(prof.segments["uid"])
        rep["utilities"] = sorted(set(prof.segments["utility"]))
        rep["direction"] = prof.direction
        rep["length"] = float(prof.length)
        rep["reverse"] = int(prof.segments["reverse"].sum())
        rep["crossing_utilities"] = sorted(set(prof.crossings["utility"])) if len(prof.crossings) else []
    if panel is not None:
        iface().mainWindow().resizeDocks([panel], [470], Qt.Vertical)
        yield 300
        rep["panel_visible"] = panel.isVisible()
        rep["panel_title"] = panel.windowTitle()
        rep["summary"] = panel.summary.text()
        pm = panel.pixmap
        rep["plot_size"] = [pm.width(), pm.height()] if pm is not None else None
        rep["export_enabled"] = all(b.isEnabled() for b in panel.buttons.values())
        rep["pdf"] = panel.export_to(os.path.join(OUT, "profile.pdf"))
    yield 300
    shoot("desktop_profile.png")


STEPS = [("wait_ready", s_wait_ready), ("open_project", s_open_project), ("stall_row", s_stall_row),
         ("tree_row", s_tree_row), ("live_tree", s_live_tree), ("section", s_section), ("profile", s_profile)]


# -- the driver ------------------------------------------------------------------------------
def finish():
    if report["steps"][-1:] != ["profile"] or "profile" in report["errors"]:
        try:
            shoot("last_state.png")
        except Exception:  # noqa: BLE001
            pass
    report["elapsed_s"] = round(time.time() - state["t0"], 1)
    with open(REPORT, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, ensure_ascii=False, default=str)
    for lyr in QgsProject.instance().mapLayers().values():  # no "save edits?" question
        if hasattr(lyr, "isEditable") and lyr.isEditable():
            lyr.rollBack()
    QgsProject.instance().setDirty(False)
    os._exit(0)  # QGIS's own shutdown is not under test here


def run_steps(i=0):
    if i >= len(STEPS):
        finish()
        return
    name, fn = STEPS[i]
    state["step"] = name
    report["steps"].append(name)
    t = time.time()
    gen = fn()

    def advance():
        try:
            delay = next(gen) if gen is not None else None
        except StopIteration:
            delay = None
        except Exception:  # noqa: BLE001 - reported, the next step runs
            report["errors"][name] = traceback.format_exc()
            delay = None
        if delay is None or time.time() - state["t0"] > TIMEOUT:
            if delay is not None:
                report["errors"][name] = "timed out"
            report["timings"][name] = round(time.time() - t, 2)
            QTimer.singleShot(0, lambda: run_steps(i + 1))
        else:
            QTimer.singleShot(int(delay), advance)

    advance()


def on_message(item):
    try:
        from qgis.gui import QgsMessageBarItem
        from qgis.PyQt import sip

        item = sip.cast(item, QgsMessageBarItem)
        report["messages"].append({"step": state["step"], "title": item.title(), "text": item.text(),
                                   "level": int(item.level())})
    except Exception:  # noqa: BLE001 - never a Python error dialog from here
        report["errors"]["message_bar"] = traceback.format_exc()


def start():
    import qgis.utils

    if qgis.utils.iface is None or "renewal_planner" not in qgis.utils.plugins:
        if time.time() - state["t0"] < 90:
            QTimer.singleShot(200, start)
            return
    qgis.utils.iface.messageBar().widgetAdded.connect(on_message)
    run_steps()


QTimer.singleShot(int(TIMEOUT * 1000) + 20000, finish)  # a hard deadline, whatever happens
QTimer.singleShot(300, start)
