"""The review workflow in the dock: findings grouped by area / rule / owner /
review beside the results table, one review for a whole group, and the
owner sheets exported and imported from the Checks tab.

The rules are a fake (as in the unit tests of tools/review.py); the layout of
areas, pipes, owners and findings is made by hand so every group is known.
"""
from __future__ import annotations

import os

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from qgis.core import QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from shapely.geometry import LineString, Point, box

import renewal_planner
from renewal_planner.tools import check, engine, results, review
from renewal_planner.tools.engine.findings import conflict_id, new_findings

X0, Y0 = 500000.0, 2500000.0
WATER, GAS = "武汉水务集团", "武汉燃气集团"
FINDINGS = {
    "F1": ("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1", Point(X0 + 100, Y0 + 100)),
    "F2": ("horizontal_clearance", "pipe_segment", "JS1", "pipe_segment", "RQ1",
           LineString([(X0 + 350, Y0 + 100), (X0 + 350, Y0 + 200)])),
    "F3": ("building_clearance", "pipe_segment", "PS1", "building", "B1", box(X0 - 500, Y0 - 500, X0 - 470, Y0 - 460)),
    "F4": ("stall_over_structure", "parking_stall", "S1", "pipe_point", "JSP1", Point(X0 + 600, Y0 + 300)),
    "F5": ("fire_lane_obstruction", "tree", "T9", "fire_lane", "L1", Point(X0 + 50, Y0 + 50)),
    "F6": ("horizontal_clearance", "pipe_segment", "RQ1", "pipe_segment", "RQ2", Point(X0 + 500, Y0 + 50)),
}
ONLY = ",".join(sorted({f[0] for f in FINDINGS.values()}))


def cid(name):
    rule, la, a, lb, b, _ = FINDINGS[name]
    return conflict_id(rule, la, a, lb, b)


def fake_rule_function(rule_id):
    def rule(ctx):
        rows = [f for f in FINDINGS.values() if f[0] == rule_id]
        frames = [new_findings(rule_id, la, [a], lb, [b], [0.5], 1.0, "m", "error", "certain", "test", [g])
                  for _, la, a, lb, b, g in rows]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return rule


@pytest.fixture
def project(tmp_path, monkeypatch, qgis_app):
    from renewal_planner.layers import io
    from renewal_planner.layers.project import init_project

    path = init_project(str(tmp_path / "p.gpkg"))
    crs = "EPSG:4547"
    io.write_layer(path, "renovation_area", gpd.GeoDataFrame(
        {"uid": ["A1", "A2"], "community": ["幸福小区", "和平小区"]},
        geometry=[box(X0, Y0, X0 + 400, Y0 + 400), box(X0 + 300, Y0, X0 + 700, Y0 + 400)], crs=crs))
    io.write_layer(path, "pipe_segment", gpd.GeoDataFrame(
        {"uid": ["JS1", "RQ1", "RQ2", "PS1"], "utility": ["JS", "RQ", "RQ", "PS"],
         "owner": [WATER, GAS, GAS, None]},
        geometry=[LineString([(X0, Y0 + 150), (X0 + 700, Y0 + 150)])] * 4, crs=crs))
    io.write_layer(path, "pipe_point", gpd.GeoDataFrame(
        {"uid": ["JSP1"], "utility": ["JS"], "owner": [WATER]}, geometry=[Point(X0 + 600, Y0 + 300)], crs=crs))
    monkeypatch.setattr(engine, "rule_function", fake_rule_function)
    check.check_project(path, only=ONLY)
    return path


@pytest.fixture
def dock(qgis_iface, project, monkeypatch):
    QgsProject.instance().clear()
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    p.action.setChecked(True)
    d = p.dock
    d.tabs.setCurrentWidget(d.checks_tab)
    messages = []
    monkeypatch.setattr(d, "report", lambda message, lvl="info": messages.append((lvl, message)))
    d.messages = messages
    assert d.project_tab.open_project(project)
    yield d
    p.unload()
    QgsProject.instance().clear()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QCoreApplication.processEvents()


def table(path):
    return results.read_conflicts(path).set_index("conflict_id")


def test_group_by_owner_narrows_the_table_and_reviews_a_whole_group(dock, project):
    tab = dock.checks_tab
    panel = tab.review_panel
    assert tab.model.rowCount() == 6
    assert panel.group_by() is None and panel.tree.isHidden()
    panel.set_group_by("owner")
    assert not panel.tree.isHidden()
    groups = panel.groups()
    assert groups[0][2] == 6  # "all findings" first
    assert {(k, n) for k, _, n in groups[1:]} == {(WATER, 3), (GAS, 2), (None, 2)}
    assert panel.choose_group(WATER)
    assert sorted(tab.visible_conflict_ids()) == sorted([cid("F1"), cid("F2"), cid("F4")])
    assert tab.count_label.text().startswith("3")

    # the whole group at once: select all shown, one status and note
    panel.select_all_button.click()
    assert sorted(tab.selected_conflict_ids()) == sorted([cid("F1"), cid("F2"), cid("F4")])
    tab.select_code(tab.review_combo, "waived")
    tab.note_edit.setText("已与水务集团确认 agreed with the utility")
    tab.apply_review_button.click()
    t = table(project)
    for name in ("F1", "F2", "F4"):
        assert t.loc[cid(name), "review"] == "waived"
        assert t.loc[cid(name), "review_note"] == "已与水务集团确认 agreed with the utility"
        assert t.loc[cid(name), "reviewer"] and t.loc[cid(name), "reviewed_at"]
    for name in ("F3", "F5", "F6"):
        assert t.loc[cid(name), "review"] == "open" and pd.isna(t.loc[cid(name), "reviewer"])
    # the chosen group stays chosen after the table reloads, the counts follow
    assert panel.current_group() == WATER
    water = panel.tree.topLevelItem([k for k, *_ in panel.groups()].index(WATER))
    reviews = list(panel._reviews)
    assert water.text(2 + reviews.index("waived")) == "3" and water.text(2 + reviews.index("open")) == ""

    # by review status now: the groups are the statuses
    panel.set_group_by("review")
    assert {(k, n) for k, _, n in panel.groups()[1:]} == {("open", 3), ("waived", 3)}
    panel.choose_group("open")
    assert sorted(tab.visible_conflict_ids()) == sorted([cid("F3"), cid("F5"), cid("F6")])
    panel.choose_group(renewal_planner.plugin.review_panel.ALL)
    assert len(tab.visible_conflict_ids()) == 6
    panel.set_group_by(None)
    assert panel.tree.isHidden() and len(tab.visible_conflict_ids()) == 6


def test_group_by_area_and_rule_combine_with_the_filters(dock):
    tab = dock.checks_tab
    panel = tab.review_panel
    panel.set_group_by("area")
    groups = {k: (text, n) for k, text, n in panel.groups()[1:]}
    assert {k: n for k, (_, n) in groups.items()} == {"A1": 3, "A2": 3, None: 1}
    assert "幸福小区" in groups["A1"][0]
    panel.choose_group("A1")
    assert sorted(tab.visible_conflict_ids()) == sorted([cid("F1"), cid("F2"), cid("F5")])
    tab.select_code(tab.rule_filter, "horizontal_clearance")  # the group and the filters together
    assert tab.visible_conflict_ids() == [cid("F2")]
    tab.select_code(tab.rule_filter, None)
    panel.choose_group(None)
    assert tab.visible_conflict_ids() == [cid("F3")]
    panel.set_group_by("rule")
    assert dict((k, n) for k, _, n in panel.groups()[1:])["horizontal_clearance"] == 2


def test_owner_sheets_from_the_tab(dock, project, tmp_path, monkeypatch):
    from renewal_planner.plugin import review_panel

    tab = dock.checks_tab
    panel = tab.review_panel
    assert panel.export_button.isEnabled() and panel.import_button.isEnabled()
    out = tmp_path / "sheets"
    monkeypatch.setattr(review_panel.QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    panel.export_button.click()
    assert sorted(os.path.basename(p) for p in panel.last_export) == sorted(
        [f"findings_{WATER}.xlsx", f"findings_{GAS}.xlsx"])
    assert dock.messages[-1][0] == "success" and str(out) in dock.messages[-1][1]

    # the gas utility answers: F6 waived with a note; a bad status on F2
    gas = str(out / f"findings_{GAS}.xlsx")
    wb = openpyxl.load_workbook(gas)
    ws = wb["findings"]
    header = [c.value for c in ws[1]]
    keys = [k for k, *_ in review._sheet_columns("EPSG:4547")]
    headers = [h for _, h, *_ in review._sheet_columns("EPSG:4547")]
    c_rev = header.index(headers[keys.index("review")]) + 1
    c_note = header.index(headers[keys.index("review_note")]) + 1
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=rows[cid("F6")], column=c_rev, value="已豁免 waived")
    ws.cell(row=rows[cid("F6")], column=c_note, value="同一权属单位 same owner")
    ws.cell(row=rows[cid("F2")], column=c_rev, value="maybe")
    wb.save(gas)
    monkeypatch.setattr(review_panel.QFileDialog, "getOpenFileName", lambda *a, **k: (gas, "xlsx"))
    panel.set_group_by("review")
    panel.import_button.click()
    s = panel.last_import
    assert s["applied"] == [cid("F6")] and s["invalid"] == [(rows[cid("F2")], cid("F2"), "maybe")]
    t = table(project)
    assert t.loc[cid("F6"), ["review", "review_note", "reviewer"]].tolist() == ["waived", "同一权属单位 same owner", GAS]
    assert t.loc[cid("F2"), "review"] == "open"
    lvl, message = dock.messages[-1]
    assert lvl == "warning" and str(rows[cid("F2")]) in message
    # the tab shows it at once: the table and the groups
    row = tab.model.row_of(cid("F6"))
    assert tab.model.index(row, 3).data() == tab.model.label("review", "waived")
    assert dict((k, n) for k, _, n in panel.groups()[1:]) == {"open": 5, "waived": 1}

    # not a sheet: one message, nothing written
    before = table(project)
    bad = tmp_path / "bad.xlsx"
    bad.write_text("no")
    assert panel.import_sheet(str(bad)) is None
    assert dock.messages[-1][0] == "critical"
    assert table(project).equals(before)


def test_buttons_disabled_without_a_project(qgis_iface):
    QgsProject.instance().clear()
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    try:
        tab = p.dock.checks_tab
        tab.set_project(None)
        assert not tab.review_panel.export_button.isEnabled()
        assert not tab.review_panel.import_button.isEnabled()
        assert tab.review_panel.choose_export() == [] and tab.review_panel.choose_import() is None
        tab.review_panel.set_group_by("owner")
        assert tab.review_panel.tree.isHidden()
    finally:
        p.unload()
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        QCoreApplication.processEvents()
