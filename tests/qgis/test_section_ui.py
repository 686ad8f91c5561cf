"""The cross-section and profile map tools on a real QgsMapCanvas, driven by mouse events."""
from __future__ import annotations

import os
import pathlib
import sys

import pytest
from qgis.core import Qgis, QgsPointXY, QgsProject, QgsRectangle, QgsVectorLayer
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from shapely.geometry import LineString, Point

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "unit"))
from engine_helpers import make_project  # noqa: E402

from renewal_planner.plugin.maptools.profile_tool import ProfileMapTool  # noqa: E402
from renewal_planner.plugin.maptools.section_tool import SectionMapTool  # noqa: E402


def pt(uid, x, y, utility="PS", ground=10.0):
    return dict(geometry=Point(x, y), uid=uid, utility=utility, ground_elev=ground)


def ps(uid, a, b, xa, xb, da, db):
    return dict(geometry=LineString([(xa, -10), (xb, -10)]), uid=uid, utility="PS", start_uid=a, end_uid=b,
                depth_start=da, depth_end=db, depth_ref="invert", diameter_mm=400)


@pytest.fixture
def project(tmp_path):
    """Three parallel pipes along x at y = 2, 5, 9 (a section x = 10 cuts them) and a
    3-segment drainage run along y = -10 whose middle segment rises 0.05 m."""
    p = make_project(
        tmp_path,
        pipe_point=[pt("A1", 0, 2, "JS"), pt("A2", 20, 2, "JS"), pt("B1", 0, 5, "RQ"), pt("B2", 20, 5, "RQ"),
                    pt("C1", 0, 9, "DL"), pt("C2", 20, 9, "DL"),
                    pt("P1", 0, -10), pt("P2", 30, -10), pt("P3", 60, -10), pt("P4", 90, -10)],
        pipe_segment=[
            dict(geometry=LineString([(0, 2), (20, 2)]), uid="JS1", utility="JS", start_uid="A1", end_uid="A2",
                 depth_start=1.0, depth_end=1.0, diameter_mm=300),
            dict(geometry=LineString([(0, 5), (20, 5)]), uid="RQ1", utility="RQ", start_uid="B1", end_uid="B2",
                 depth_start=1.2, depth_end=1.2, diameter_mm=200, pressure_mpa=0.2),
            dict(geometry=LineString([(0, 5.9), (20, 5.9)]), uid="DL1", utility="DL", start_uid="C1",
                 end_uid="C2", depth_start=0.8, depth_end=0.8, width_mm=500, height_mm=300),
            ps("S1", "P1", "P2", 0, 30, 2.0, 2.1), ps("S2", "P2", "P3", 30, 60, 2.1, 2.05),
            ps("S3", "P3", "P4", 60, 90, 2.05, 2.3)])
    yield p
    QgsProject.instance().removeAllMapLayers()


@pytest.fixture
def canvas(qtbot, project):
    c = QgsMapCanvas()
    qtbot.addWidget(c)
    lyr = QgsVectorLayer(f"{project}|layername=pipe_segment", "pipe_segment", "ogr")
    assert lyr.isValid()
    QgsProject.instance().addMapLayer(lyr)
    c.setDestinationCrs(lyr.crs())
    c.setLayers([lyr])
    c.resize(600, 400)
    c.show()
    c.setExtent(QgsRectangle(-5, -20, 95, 20))
    with qtbot.waitSignal(c.mapCanvasRefreshed, timeout=10000):
        c.refresh()
    # no render job may read the layer while a tool reads it: no more renders (map settings,
    # extent and scale stay as they are)
    c.freeze(True)
    c.stopRendering()
    qtbot.waitUntil(lambda: not c.isDrawing(), timeout=10000)
    yield c
    if c.mapTool() is not None:
        c.unsetMapTool(c.mapTool())


def event(canvas, x, y, kind=QEvent.MouseButtonRelease, button=Qt.LeftButton):
    pix = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    e = QgsMapMouseEvent(canvas, kind, QPoint(int(pix.x()), int(pix.y())), button, button, Qt.NoModifier)
    e.setMapPoint(QgsPointXY(x, y))
    return e


def click(tool, canvas, x, y, **kw):
    tool.canvasReleaseEvent(event(canvas, x, y, **kw))


def move(tool, canvas, x, y):
    tool.canvasMoveEvent(event(canvas, x, y, kind=QEvent.MouseMove, button=Qt.NoButton))


def pipes_layer():
    return QgsProject.instance().mapLayersByName("pipe_segment")[0]


def test_section_tool_two_clicks_plot_and_export(canvas, project, qgis_iface, tmp_path):
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    tool = SectionMapTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    click(tool, canvas, 10.0, 0.0)
    move(tool, canvas, 10.0, 6.0)
    band = tool.band.asGeometry()
    assert band.length() == pytest.approx(6.0)
    click(tool, canvas, 10.0, 12.0)
    sec = tool.section
    assert sec is not None
    assert list(sec.pipes["uid"]) == ["JS1", "RQ1", "DL1"]
    assert sec.pipes["offset"].tolist() == pytest.approx([2.0, 5.0, 5.9])
    assert list(sec.breaches["uid_b"]) == ["DL1"]  # RQ1-DL1: 0.55 m < 1.0 m
    panel = tool.panel
    assert panel is not None and not panel.isHidden()
    assert not panel.image.pixmap().isNull() and panel.image.pixmap().width() > 300
    assert "3" in panel.summary.text() and "1" in panel.summary.text()
    assert bar.get_messages(Qgis.Warning)  # a breach: a warning
    for ext in ("png", "svg", "pdf"):
        assert panel.buttons[ext].isEnabled()
        out = panel.export_to(str(tmp_path / f"cs.{ext}"))
        assert os.path.getsize(out) > 1000
    assert "pipe:DL1" in open(tmp_path / "cs.svg", encoding="utf-8").read()
    # nothing written: the layer is not in edit mode and unchanged
    lyr = pipes_layer()
    assert not lyr.isEditable() and lyr.featureCount() == 6
    tool.dispose()


def test_section_with_no_pipe_gives_a_message_and_no_panel(canvas, project, qgis_iface):
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    tool = SectionMapTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    click(tool, canvas, 40.0, 0.0)
    click(tool, canvas, 40.0, 12.0)
    assert tool.section is None and tool.panel is None
    assert any("cuts no pipe" in m for m in bar.get_messages(Qgis.Warning))
    # right click cancels a started line
    click(tool, canvas, 10.0, 0.0)
    click(tool, canvas, 10.0, 5.0, button=Qt.RightButton)
    assert tool.start is None and tool.band.asGeometry().isEmpty()


def test_profile_tool_click_on_a_pipe(canvas, project, qgis_iface, tmp_path):
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    tool = ProfileMapTool(canvas, qgis_iface, lambda: project)
    canvas.setMapTool(tool)
    click(tool, canvas, 15.0, -10.05)  # near S1
    prof = tool.profile
    assert prof is not None
    assert list(prof.segments["uid"]) == ["S1", "S2", "S3"]
    assert list(prof.reverse["uid"]) == ["S2"]
    assert not tool.panel.isHidden() and not tool.panel.image.pixmap().isNull()
    assert any("1" in m for m in bar.get_messages(Qgis.Warning))
    out = tool.panel.export_to(str(tmp_path / "p.svg"))
    assert "reverse:S2" in open(out, encoding="utf-8").read()
    # a click off every pipe: a hint, the last profile stays
    bar.clear_messages()
    click(tool, canvas, 50.0, 15.0)
    assert tool.profile is prof
    assert bar.get_messages(Qgis.Info)
    # a run through disconnected pipes: a clear message, nothing changes
    bar.clear_messages()
    assert tool.run(uids=["S1", "S3"]) is None
    assert any("not connected" in m for m in bar.get_messages(Qgis.Warning))
    assert tool.profile is prof
    tool.dispose()


def test_plugin_toolbar_has_both_tools(qgis_iface, project):
    import renewal_planner

    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    try:
        tools = p.analysis_tools
        texts = {a.text() for a in tools.actions.values()}
        assert texts == {"Cross-section / 横断面", "Profile / 纵断面"}
        tools.actions["section"].trigger()
        assert qgis_iface.mapCanvas().mapTool() is tools.tools["section"]
        tools.actions["profile"].trigger()
        assert qgis_iface.mapCanvas().mapTool() is tools.tools["profile"]
    finally:
        p.unload()
    assert p.analysis_tools is None
