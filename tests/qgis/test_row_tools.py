"""The stall-row and tree-row map tools on a real QgsMapCanvas, driven by mouse events."""
from __future__ import annotations

import pathlib
import sys

import pytest
from qgis.core import Qgis, QgsPointXY, QgsProject, QgsRectangle, QgsVectorLayer
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from shapely.geometry import LineString, Point, box

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "unit"))
from engine_helpers import make_project  # noqa: E402

from renewal_planner.plugin.maptools.stall_row_tool import StallRowTool  # noqa: E402
from renewal_planner.plugin.maptools.tree_row_tool import TreeRowTool  # noqa: E402

# the unit tests' district: a 48 m row crossing a fire lane, a manhole, a valve, a hydrant, a tree
# and a building; placed slots 1 2 3 6 7 9 12 13 14 (see tests/unit/test_stall_row.py)
PLACED_SLOTS = [1, 2, 3, 6, 7, 9, 12, 13, 14]


@pytest.fixture
def project(tmp_path):
    p = make_project(
        tmp_path,
        fire_lane=[dict(geometry=box(10, -2, 14, 10), uid="XF1")],
        pipe_point=[dict(geometry=Point(20.0, 2.0), utility="PS", appurtenance="manhole", uid="M1"),
                    dict(geometry=Point(26.4, 5.4), utility="JS", appurtenance="valve", cover_size=0.3, uid="V1"),
                    dict(geometry=Point(40.1, -3.0), utility="JS", appurtenance="hydrant", uid="H1")],
        tree=[dict(geometry=Point(1.0, 7.0), kind="tree", crown_m=4.0, uid="T1")],
        building=[dict(geometry=box(46.5, 3, 50, 10), uid="B1")],
        renovation_area=[dict(geometry=box(-10, -10, 24, 20), community="甲小区", uid="A1"),
                         dict(geometry=box(24, -10, 60, 20), community="乙小区", uid="A2")],
        pipe_segment=[dict(geometry=LineString([(0, -8), (30, -8)]), utility="RQ", diameter_mm=200,
                           pressure_mpa=0.2, uid="RQ1", depth_start=1.0, depth_end=1.0)],
        planned_road=[dict(geometry=box(0, -20, 48, -12), uid="R1", part="carriageway")],
    )
    yield p
    QgsProject.instance().removeAllMapLayers()


def open_layer(path, name):
    lyr = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    assert lyr.isValid(), name
    QgsProject.instance().addMapLayer(lyr)
    return lyr


@pytest.fixture
def canvas(qtbot, project):
    c = QgsMapCanvas()
    qtbot.addWidget(c)
    layers = [open_layer(project, n) for n in ("parking_stall", "tree", "fire_lane", "planned_road")]
    c.setDestinationCrs(layers[0].crs())
    c.setLayers(layers)
    c.resize(600, 400)
    c.show()
    c.setExtent(QgsRectangle(-6, -22, 54, 18))
    with qtbot.waitSignal(c.mapCanvasRefreshed, timeout=10000):
        c.refresh()
    # no render job may read the layers while a tool reads them: no more renders (map settings,
    # extent and scale stay as they are)
    c.freeze(True)
    c.stopRendering()
    qtbot.waitUntil(lambda: not c.isDrawing(), timeout=10000)
    yield c
    if c.mapTool() is not None:
        c.unsetMapTool(c.mapTool())


def layer(name):
    return QgsProject.instance().mapLayersByName(name)[0]


def event(canvas, x, y, kind=QEvent.MouseButtonRelease, button=Qt.LeftButton, modifiers=Qt.NoModifier):
    pix = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    e = QgsMapMouseEvent(canvas, kind, QPoint(int(pix.x()), int(pix.y())), button, button, modifiers)
    e.setMapPoint(QgsPointXY(x, y))  # exact map coordinates, not rounded to the pixel
    return e


def click(tool, canvas, x, y, **kw):
    tool.canvasReleaseEvent(event(canvas, x, y, **kw))


def move(tool, canvas, x, y):
    tool.canvasMoveEvent(event(canvas, x, y, kind=QEvent.MouseMove, button=Qt.NoButton))


def added(lyr):
    return list(lyr.editBuffer().addedFeatures().values()) if lyr.editBuffer() else []


def test_stall_row_tool_writes_placed_stalls_as_one_undoable_command(canvas, project, qgis_iface):
    lyr = layer("parking_stall")
    tool = StallRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.accessible_spin.setValue(0.0)   # the preset 0.5 % would make the first stall accessible
    assert tool.panel is not None and tool.panel.isVisible()
    assert lyr.startEditing()
    stack = lyr.undoStack()
    n0 = stack.count()
    click(tool, canvas, 0, 0)
    move(tool, canvas, 30, 0)                    # live preview while moving
    assert tool.result is not None and len(tool.result) == 12
    assert tool.ok_band.numberOfVertices() > 0 and tool.skip_band.numberOfVertices() > 0
    assert "placed" in tool.panel.summary.text()
    move(tool, canvas, 48, 0)
    assert len(tool.result) == 20
    assert sorted(tool.result.loc[~tool.result["skipped"], "slot"]) == PLACED_SLOTS
    assert len(tool.labels.items) == 11          # one label per skipped position
    click(tool, canvas, 48, 0)
    feats = added(lyr)
    assert len(feats) == len(PLACED_SLOTS)
    by_no = {f["stall_no"]: f for f in feats}
    assert set(by_no) == {f"P{i}" for i in range(1, 10)}
    f1 = by_no["P1"]                              # slot 1: x 2.4 .. 4.8
    bb = f1.geometry().boundingBox()
    assert (bb.xMinimum(), bb.xMaximum(), bb.yMinimum(), bb.yMaximum()) == pytest.approx((2.4, 4.8, 0, 5.3))
    assert f1["stall_type"] == "perpendicular" and f1["width_m"] == 2.4 and f1["length_m"] == 5.3
    assert f1["angle_deg"] == 90 and f1["community"] == "甲小区" and f1["status"] == "planned"
    assert by_no["P9"]["community"] == "乙小区"
    assert all(f["uid"] for f in feats) and len({f["uid"] for f in feats}) == 9
    assert stack.count() == n0 + 1
    assert stack.text(stack.count() - 1) == "Stall row"
    assert tool.result is None and tool.ok_band.numberOfVertices() == 0   # preview cleared
    stack.undo()
    assert added(lyr) == []
    stack.redo()
    assert len(added(lyr)) == 9
    # nothing saved: the GeoPackage still has no stall
    import pyogrio

    assert pyogrio.read_info(project, layer="parking_stall")["features"] == 0
    # a second row over the first: every position overlaps a stall of the edit buffer
    click(tool, canvas, 0, 0)
    move(tool, canvas, 48, 0)
    r = tool.result.set_index("slot")
    assert all("stall" in r.loc[k, "reason"] for k in PLACED_SLOTS)
    click(tool, canvas, 48, 0)
    assert len(added(lyr)) == 9 and stack.count() == n0 + 1
    lyr.rollBack()


def test_options_angled_accessible_prefix_right_side(canvas, project, qgis_iface):
    lyr = layer("parking_stall")
    lyr.startEditing()
    tool = StallRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.accessible_spin.setValue(0.0)   # the preset 0.5 % would make the first stall accessible
    p = tool.panel
    p.layout_combo.setCurrentIndex([d for d in range(p.layout_combo.count())
                                    if p.layout_combo.itemData(d) == ("angled", 60)][0])
    assert p.width_spin.value() == 2.8 and p.length_spin.value() == 6.0   # preset follows the layout
    p.side_combo.setCurrentIndex(1)
    p.prefix_edit.setText("A-")
    p.start_spin.setValue(7)
    p.accessible_spin.setValue(10.0)
    click(tool, canvas, 0, -30)   # away from every obstacle
    click(tool, canvas, 20, -30)
    feats = sorted(added(lyr), key=lambda f: f["stall_no"])
    # 60°: kerb edge 2.8 / sin 60 = 3.233 m; one accessible (4.0 / sin 60 = 4.619) + 4 more in 20 m
    assert [f["stall_no"] for f in feats] == ["A-10", "A-11", "A-7", "A-8", "A-9"]
    types = {f["stall_no"]: f["stall_type"] for f in feats}
    assert types["A-7"] == "accessible" and types["A-8"] == "angled"
    assert all(f["angle_deg"] == 60 for f in feats)
    assert all(f.geometry().boundingBox().yMaximum() <= -30 + 1e-9 for f in feats)   # right side
    assert feats[2].geometry().area() == pytest.approx(4.0 * 6.0)
    lyr.rollBack()


def test_layer_not_in_edit_mode_changes_nothing(canvas, project, qgis_iface):
    lyr = layer("parking_stall")
    assert not lyr.isEditable()
    tool = StallRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.accessible_spin.setValue(0.0)   # the preset 0.5 % would make the first stall accessible
    qgis_iface.messageBar().clear_messages()
    click(tool, canvas, 0, 0)
    click(tool, canvas, 48, 0)
    assert not lyr.isEditable() and lyr.featureCount() == 0
    msgs = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert any("not in edit mode" in m for m in msgs)


def test_zero_length_row_and_cancel(canvas, project, qgis_iface):
    lyr = layer("parking_stall")
    lyr.startEditing()
    tool = StallRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.accessible_spin.setValue(0.0)   # the preset 0.5 % would make the first stall accessible
    qgis_iface.messageBar().clear_messages()
    click(tool, canvas, 5, 5)
    click(tool, canvas, 5, 5)
    assert added(lyr) == [] and lyr.undoStack().count() == 0
    assert any("zero length" in m for m in qgis_iface.messageBar().get_messages(Qgis.Warning))
    click(tool, canvas, 0, 0)
    move(tool, canvas, 20, 0)
    click(tool, canvas, 20, 0, button=Qt.RightButton)   # right click cancels
    assert tool.start is None and tool.result is None and added(lyr) == []
    lyr.rollBack()


def test_ctrl_click_follows_the_kerb_edge(canvas, project, qgis_iface):
    """Ctrl+click near the road's north edge (y = -12), on its north side: stalls along that edge."""
    lyr = layer("parking_stall")
    lyr.startEditing()
    tool = StallRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.accessible_spin.setValue(0.0)   # the preset 0.5 % would make the first stall accessible
    qgis_iface.messageBar().clear_messages()
    click(tool, canvas, 30, -11.8, modifiers=Qt.ControlModifier)
    why = (qgis_iface.messageBar().get_messages(Qgis.Warning), tool.last_error, canvas.mapUnitsPerPixel(),
           canvas.extent().toString(), canvas.size(), [lyr.name() for lyr in canvas.layers()])
    assert tool.result is not None and len(tool.result) == 20, why   # the 48 m edge
    # the hydrant at (40.1, -3) is 3.7 m above the stalls' back: 4 stalls within 5 m of it
    assert tool.result["reason"].tolist().count("hydrant") == 4
    click(tool, canvas, 30, -11.8)
    feats = added(lyr)
    assert len(feats) == 16
    for f in feats:
        bb = f.geometry().boundingBox()
        assert bb.yMinimum() == pytest.approx(-12) and bb.yMaximum() == pytest.approx(-12 + 5.3)
    lyr.rollBack()


def test_real_mouse_clicks_on_the_viewport(canvas, project, qgis_iface, qtbot):
    lyr = layer("parking_stall")
    lyr.startEditing()
    tool = StallRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.accessible_spin.setValue(0.0)   # the preset 0.5 % would make the first stall accessible

    def pix(x, y):
        p = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
        return QPoint(int(round(p.x())), int(round(p.y())))

    qtbot.mouseClick(canvas.viewport(), Qt.LeftButton, pos=pix(0, -30))
    qtbot.mouseMove(canvas.viewport(), pix(25, -30))
    qtbot.mouseClick(canvas.viewport(), Qt.LeftButton, pos=pix(25, -30))
    # about 25 m (a pixel is 0.1 m): 10 stalls of 2.4 m
    assert len(added(lyr)) == 10
    lyr.undoStack().undo()
    assert added(lyr) == []
    lyr.rollBack()


def test_tree_row_tool_skips_the_gas_main_and_the_fire_lane(canvas, project, qgis_iface):
    lyr = layer("tree")
    lyr.startEditing()
    n_before = lyr.featureCount()
    tool = TreeRowTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    tool.panel.spacing_spin.setValue(6.0)
    tool.panel.species_edit.setText("国槐")
    # 1 m north of the gas main (y -8, DN200, clearance 1.2): x 0..30 skipped
    click(tool, canvas, 0, -7)
    move(tool, canvas, 60, -7)
    r = tool.result
    assert set(r.loc[r["skipped"], "chainage_m"]) == {0, 6, 12, 18, 24, 30}
    click(tool, canvas, 60, -7)
    feats = added(lyr)
    assert sorted(round(f.geometry().asPoint().x()) for f in feats) == [36, 42, 48, 54, 60]
    assert all(f["species"] == "国槐" and f["kind"] == "tree" for f in feats)
    lyr.undoStack().undo()
    assert added(lyr) == [] and lyr.featureCount() == n_before
    # a row along y = 5 crosses the fire lane (x 10..14): x 12 skipped
    tool.panel.kind_combo.setCurrentIndex(1)
    click(tool, canvas, 0, 5)
    click(tool, canvas, 24, 5)
    xs = sorted(round(f.geometry().asPoint().x()) for f in added(lyr))
    assert xs == [0, 6, 18, 24]
    assert all(f["kind"] == "shrub" for f in added(lyr))
    lyr.rollBack()
