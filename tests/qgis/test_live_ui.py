"""Checks while drawing in QGIS (plugin/live_checks.py) on the demo district:
a stall added over a manhole in the edit buffer is reported in the message bar
and the Checks tab's table; switched off, edits are not checked."""
from __future__ import annotations

import os

import pytest
from qgis.core import Qgis, QgsFeature, QgsGeometry, QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from qgis.PyQt.QtWidgets import QAction, QToolBar

import renewal_planner
from renewal_planner.layers import io
from renewal_planner.plugin.live_checks import ACTION_OBJECT_NAME, checked_fields, layer_table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from renewal_planner.tools.demo import build_demo

    out = tmp_path_factory.mktemp("live_ui")
    return build_demo(str(out), with_styles=False)


def _flush_deletes():
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def plugin(qgis_iface, demo):
    QgsProject.instance().clear()
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    p.live_checks.set_enabled(True)
    assert p.dock.project_tab.open_project(demo["project"])
    yield p
    p.unload()
    QgsProject.instance().clear()
    _flush_deletes()


def _layer(table):
    for lyr in QgsProject.instance().mapLayers().values():
        if layer_table(lyr)[1] == table:
            return lyr
    raise LookupError(table)


def _manhole(demo):
    pts = io.read_layer(demo["project"], "pipe_point", active_only=True)
    mh = pts.loc[pts["appurtenance"] == "manhole"].sort_values("uid")
    return mh.iloc[len(mh) // 2]


def _stall(layer, uid, x, y):
    f = QgsFeature(layer.fields())
    f.setAttribute("uid", uid)
    f.setAttribute("stall_no", "P-12")
    f.setAttribute("stall_type", "perpendicular")
    f.setAttribute("status", "planned")
    f.setGeometry(QgsGeometry.fromWkt(
        f"POLYGON(({x - 1.25} {y - 2.65}, {x + 1.25} {y - 2.65}, {x + 1.25} {y + 2.65}, "
        f"{x - 1.25} {y + 2.65}, {x - 1.25} {y - 2.65}))"))
    return f


def test_toggle_action_on_the_drawing_toolbar(plugin, qgis_iface):
    action = plugin.live_checks.action
    assert isinstance(action, QAction) and action.objectName() == ACTION_OBJECT_NAME
    assert action.isCheckable() and action.isChecked()
    assert "边画边查" in action.text()
    assert action.parent() is not qgis_iface.mainWindow()     # the plugin's one main-window action stays one
    assert isinstance(action.parent(), QToolBar) and action in action.parent().actions()
    watched = set(plugin.live_checks.watched().values())
    assert {"parking_stall", "tree", "pipe_segment", "pipe_point", "building", "fire_lane"} <= watched
    assert "planting_area" not in watched                      # no rule reads it
    assert "stall_no" not in checked_fields("parking_stall") and "status" in checked_fields("parking_stall")


def test_new_stall_over_a_manhole_is_reported(plugin, qgis_iface, qtbot, demo):
    live = plugin.live_checks
    tab = plugin.dock.checks_tab
    mh = _manhole(demo)
    stalls = _layer("parking_stall")
    assert stalls.startEditing()
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    got = []
    live.findings_ready.connect(lambda lid, fid, frame: got.append((lid, fid, frame)))
    assert stalls.addFeature(_stall(stalls, "LIVE-C1", mh.geometry.x, mh.geometry.y))
    qtbot.waitUntil(lambda: len(got) == 1, timeout=15000)
    lid, fid, frame = got[0]
    assert lid == stalls.id() and fid < 0                         # read from the edit buffer
    hit = frame.loc[(frame["rule_id"] == "stall_over_structure") & (frame["uid_b"] == mh["uid"])]
    assert len(hit) == 1 and hit["uid_a"].iloc[0] == "LIVE-C1" and hit["measured"].iloc[0] == 0.0
    msgs = bar.get_messages(Qgis.Warning) + bar.get_messages(Qgis.Critical)
    assert any(mh["uid"] in m and "LIVE-C1" in m for m in msgs), msgs
    # the Checks tab shows it as a live row
    model = tab.model
    rows = [r for r in range(model.rowCount()) if model.frame["conflict_id"].iat[r] in set(hit["conflict_id"])]
    assert len(rows) == 1
    rec = model.record(rows[0])
    assert rec["live"] is True and rec["uid_b"] == mh["uid"]
    # nothing was saved: the file does not hold the stall
    assert "LIVE-C1" not in set(io.read_layer(demo["project"], "parking_stall")["uid"])

    # moved off the manhole: checked again, the live row goes, a success message
    bar.clear_messages()
    far = QgsGeometry(stalls.getFeature(fid).geometry())
    far.translate(0.0, 40.0)
    stalls.changeGeometry(fid, far)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=15000)
    assert not ((got[1][2]["rule_id"] == "stall_over_structure") & (got[1][2]["uid_b"] == mh["uid"])).any()
    if len(got[1][2]) == 0:
        assert bar.get_messages(Qgis.Success)
        assert not (model.frame["conflict_id"].isin(set(hit["conflict_id"]))).any()

    # a name typed in is not a reason to check; the status is
    stalls.changeAttributeValue(fid, stalls.fields().indexOf("stall_no"), "P-13")
    qtbot.wait(500)
    assert len(got) == 2
    stalls.changeAttributeValue(fid, stalls.fields().indexOf("status"), "abandoned")
    qtbot.waitUntil(lambda: len(got) == 3, timeout=15000)
    assert len(got[2][2]) == 0
    stalls.rollBack()


def test_switched_off_edits_are_not_checked(plugin, qgis_iface, qtbot, demo):
    live = plugin.live_checks
    mh = _manhole(demo)
    stalls = _layer("parking_stall")
    assert stalls.startEditing()
    got = []
    live.findings_ready.connect(lambda lid, fid, frame: got.append(frame))
    live.action.setChecked(False)
    assert not live.enabled
    qgis_iface.messageBar().clear_messages()
    assert stalls.addFeature(_stall(stalls, "LIVE-C2", mh.geometry.x, mh.geometry.y))
    qtbot.wait(800)
    assert got == []
    assert not any("LIVE-C2" in m for m in qgis_iface.messageBar().get_messages(Qgis.Warning))
    # on again: the next edit is checked
    live.action.setChecked(True)
    fid = [f.id() for f in stalls.getFeatures() if f["uid"] == "LIVE-C2"][0]
    g = QgsGeometry(stalls.getFeature(fid).geometry())
    g.translate(0.1, 0.0)
    stalls.changeGeometry(fid, g)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=15000)
    assert (got[0]["uid_b"] == mh["uid"]).any()
    stalls.rollBack()


def test_layers_of_another_file_are_not_checked(plugin, qtbot, demo, tmp_path):
    import shutil

    from qgis.core import QgsVectorLayer

    other = str(tmp_path / "other.gpkg")
    shutil.copy(demo["project"], other)
    lyr = QgsVectorLayer(f"{other}|layername=parking_stall", "other stalls", "ogr")
    assert lyr.isValid()
    QgsProject.instance().addMapLayer(lyr)
    live = plugin.live_checks
    assert lyr.id() in live.watched()          # listened to, but not the open project
    got = []
    live.findings_ready.connect(lambda *a: got.append(a))
    mh = _manhole(demo)
    assert lyr.startEditing()
    assert lyr.addFeature(_stall(lyr, "LIVE-C3", mh.geometry.x, mh.geometry.y))
    qtbot.wait(600)
    assert got == []
    lyr.rollBack()
    assert os.path.exists(other)
