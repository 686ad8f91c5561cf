"""The dock's Quantities tab and its Report button, on the demo district.

The figures are checked against ``compute_quantities`` run independently
(itself tested against hand counts in tests/unit), the exports by reading the
files back, the report by ``pdfinfo`` and the project's conflict table.
"""
from __future__ import annotations

import csv
import math
import os
import re
import sqlite3
import subprocess

import pandas as pd
import pytest
from qgis.core import QgsProject
from qgis.PyQt.QtCore import QCoreApplication, QEvent, Qt
from qgis.PyQt.QtWidgets import QDialog, QFileDialog

import renewal_planner
from renewal_planner.plugin import quantities_tab as qt_mod
from renewal_planner.tools import quantities as q
from renewal_planner.tools import report


@pytest.fixture(scope="module")
def demo(tmp_path_factory, qgis_app):
    from renewal_planner.tools import check, demo as demo_mod

    out = tmp_path_factory.mktemp("quantities_demo")
    built = demo_mod.build_demo(str(out), with_styles=False)
    check.check_project(built["project"], dem=built.get("dem"))
    return built["project"]


@pytest.fixture(scope="module")
def expected(demo):
    return q.compute_quantities(demo)


def _flush_deletes():
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def dock(qgis_iface, demo):
    QgsProject.instance().clear()
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    p.action.setChecked(True)
    d = p.dock
    d.tabs.setCurrentWidget(d.quantities_tab)
    assert d.project_tab.open_project(demo)
    yield d
    d.quantities_tab.cancel()
    p.unload()
    QgsProject.instance().clear()
    _flush_deletes()


def compute_and_wait(qtbot, tab):
    task = tab.compute()
    assert task is not None
    assert not tab.progress.isHidden() and not tab.compute_button.isEnabled()
    qtbot.waitUntil(lambda: tab.task is None, timeout=60000)
    return task


def sql(project, query, *args):
    con = sqlite3.connect(project)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def pdf_pages(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def test_tab_is_in_the_dock_and_knows_the_areas(dock, demo):
    tab = dock.quantities_tab
    assert dock.tabs.indexOf(tab) >= 0
    assert tab.project_path == os.path.abspath(demo)
    uids = sorted(r[0] for r in sql(demo, "SELECT uid FROM renovation_area"))
    assert sorted(tab.area_combo.itemData(i) for i in range(1, tab.area_combo.count())) == uids
    assert tab.area_combo.itemData(0) is None
    assert not tab.export_xlsx_button.isEnabled() and not tab.export_csv_button.isEnabled()
    assert tab.report_button.isEnabled()


def test_compute_shows_the_summary_of_compute_quantities(dock, expected, qtbot):
    tab = dock.quantities_tab
    compute_and_wait(qtbot, tab)
    assert tab.result is not None
    # the text: exactly the headline lines of an independent run
    assert tab.summary() == "\n".join(q.summary_lines(expected))
    assert "户数 households: 2,556" in tab.summary()  # the demo's declared households (4 areas)
    # every theme's table holds the same frame, values unchanged
    for theme in q.THEME_ORDER:
        model = tab.models[theme]
        frame = expected[theme]
        assert model.rowCount() == len(frame) and model.columnCount() == len(frame.columns)
        assert model.columns() == [str(c) for c in frame.columns]
    s, model = expected["summary"], tab.models["summary"]
    total = s.index[s["scope"] == "total"][0]
    row = [r for r in range(model.rowCount()) if model.value(r, "scope") == "total"][0]
    for col in ("communities", "buildings_declared", "households", "pipe_km", "trees", "stalls",
                "planting_m2"):
        assert model.value(row, col) == pytest.approx(float(s.at[total, col])), col
    # shown with units' precision, in the UI language's code labels
    c = model.columns().index("pipe_km")
    assert model.data(model.index(row, c)) == f"{float(s.at[total, 'pipe_km']):,.3f}"
    pipes = tab.models["pipes"]
    km = sum(pipes.value(r, "length_km") for r in range(pipes.rowCount()))
    assert km == pytest.approx(expected["pipes"]["length_km"].sum())
    # sorting by length: descending order of the raw values
    lc = pipes.columns().index("length_km")
    pipes.sort(lc, Qt.DescendingOrder)
    vals = [pipes.value(r, "length_km") for r in range(pipes.rowCount())]
    assert vals == sorted(vals, reverse=True)
    assert tab.export_xlsx_button.isEnabled() and tab.export_csv_button.isEnabled()


def test_one_area(dock, demo, qtbot):
    tab = dock.quantities_tab
    uid = sql(demo, "SELECT uid FROM renovation_area ORDER BY uid")[0][0]
    tab.select_area(uid)
    compute_and_wait(qtbot, tab)
    one = q.compute_quantities(demo, area=uid)
    assert tab.summary() == "\n".join(q.summary_lines(one))
    assert tab.summary().startswith("片区 areas: 1;")
    assert set(tab.models["pipes"].frame()["area_uid"]) == {uid}


def test_exports_write_the_files(dock, expected, qtbot, tmp_path, monkeypatch):
    tab = dock.quantities_tab
    assert tab.export(".xlsx", str(tmp_path / "x.xlsx")) is None  # nothing computed yet: refused
    compute_and_wait(qtbot, tab)
    # XLSX through the (stubbed) file dialog
    target = tmp_path / "quantities.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    tab.export_xlsx_button.click()
    assert target.exists()
    import openpyxl

    wb = openpyxl.load_workbook(target, read_only=True)
    assert wb.sheetnames == [q.SHEETS[t] for t in q.THEME_ORDER]
    wb.close()
    # CSV: its length rows add up to the pipes' total
    path = tab.export(".csv", str(tmp_path / "quantities"))
    assert path.endswith(".csv") and os.path.exists(path)
    with open(path, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert rows
    expected_rows = list(q.csv_rows(expected))
    assert len(rows) == len(expected_rows)


def test_cancel_drops_the_result(dock, qtbot, monkeypatch):
    tab = dock.quantities_tab
    import threading

    gate = threading.Event()
    real = q.compute_quantities

    def slow(project, area=None):
        gate.wait(10)
        return real(project, area=area)

    monkeypatch.setattr(q, "compute_quantities", slow)
    task = tab.compute()
    qtbot.waitUntil(lambda: task.status() == task.Running, timeout=10000)
    tab.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: tab.task is None, timeout=30000)
    assert tab.result is None and tab.summary() == ""
    assert tab.compute_button.isEnabled()


def test_report_button_writes_a_pdf(dock, demo, qtbot, tmp_path, monkeypatch):
    tab = dock.quantities_tab
    target = tmp_path / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))

    def accept(dialog):
        assert dialog.path() == str(target)
        dialog.pages_spin.setValue(5)
        dialog.lang_combo.setCurrentIndex(dialog.lang_combo.findData("en"))
        return QDialog.Accepted

    monkeypatch.setattr(qt_mod.ReportOptionsDialog, "exec_", accept)
    seen = []
    real = report.write_report

    def spy(*a, **k):
        seen.append(k)
        return real(*a, **k)

    monkeypatch.setattr(report, "write_report", spy)
    tab.report_button.click()
    assert target.exists()
    assert seen and seen[0]["lang"] == "en" and seen[0]["max_pages"] == 5
    total = sql(demo, "SELECT count(*) FROM conflict")[0][0]
    n_open = sql(demo, "SELECT count(*) FROM conflict WHERE review = 'open'")[0][0]
    assert total > 5 and n_open > 5
    # cover + 5 atlas pages + the list of every finding
    expected = 1 + 5 + math.ceil(total / report.LIST_ROWS_PER_PAGE)
    assert pdf_pages(target) == expected == tab.last_report["pages"]
    assert tab.last_report["findings"] == total
    assert str(target) in tab.report_label.text()
    assert tab.report_button.isEnabled() and tab.report_progress_dialog is None


def test_report_cancel_writes_nothing(dock, tmp_path, monkeypatch):
    tab = dock.quantities_tab
    target = tmp_path / "cancelled.pdf"
    real = report.write_report

    def cancel_soon(*a, **k):
        progress = k["progress"]

        def first_then_cancel(fraction, message=""):
            progress(fraction, message)
            tab.report_progress_dialog.cancel()  # the dialog's Cancel button

        k["progress"] = first_then_cancel
        return real(*a, **k)

    monkeypatch.setattr(report, "write_report", cancel_soon)
    assert tab.run_report(str(target), lang="both", max_pages=2) is None
    assert not target.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".report-")]
    assert tab.report_button.isEnabled()


def test_report_xlsx_runs_in_a_task(dock, demo, qtbot, tmp_path):
    tab = dock.quantities_tab
    target = tmp_path / "report.xlsx"
    task = tab.run_report(str(target), lang="zh")
    assert task is not None and not tab.report_button.isEnabled()
    qtbot.waitUntil(lambda: tab.report_task is None, timeout=60000)
    assert target.exists() and tab.last_report["findings"] == sql(demo, "SELECT count(*) FROM conflict")[0][0]
    assert tab.report_button.isEnabled()


def test_report_refuses_other_formats(dock, tmp_path):
    tab = dock.quantities_tab
    assert tab.run_report(str(tmp_path / "report.docx")) is None
    assert not (tmp_path / "report.docx").exists()


def test_frame_model_is_read_only_and_handles_missing_values():
    model = qt_mod.FrameModel(pd.DataFrame({"a": [1.5, None], "status": ["planned", None]}),
                              labels={"a": "A"}, codes={"status": {"planned": "规划"}},
                              formats={"a": "{:.1f}"})
    assert model.headerData(0, Qt.Horizontal) == "A" and model.headerData(1, Qt.Horizontal) == "status"
    assert model.data(model.index(0, 0)) == "1.5" and model.data(model.index(1, 0)) == ""
    assert model.data(model.index(0, 1)) == "规划" and model.data(model.index(0, 1), Qt.UserRole) == "planned"
    assert model.value(1, "a") is None
    assert not model.flags(model.index(0, 0)) & Qt.ItemIsEditable
    assert not model.setData(model.index(0, 0), 3)


def test_quantities_tab_in_chinese(qgis_iface, monkeypatch, demo, expected, qtbot):
    from renewal_planner.plugin import main

    if not os.path.exists(os.path.join(main.ROOT, "i18n", "renewal_planner_zh.qm")):
        pytest.skip("i18n/renewal_planner_zh.qm not built (make translations)")
    monkeypatch.setattr(main, "qgis_locale", lambda: "zh_CN")
    QgsProject.instance().clear()
    p = renewal_planner.classFactory(qgis_iface)
    p.initGui()
    try:
        d = p.dock
        tab = d.quantities_tab
        assert d.tabs.tabText(d.tabs.indexOf(tab)) == "工程量"
        assert tab.report_button.text() == "报告…"
        assert tab.export_xlsx_button.text() == "导出 XLSX…"
        assert tab.theme_tabs.tabText(0) == "汇总" and tab.theme_tabs.tabText(1) == "管线"
        assert d.project_tab.open_project(demo)
        compute_and_wait(qtbot, tab)
        model = tab.models["pipes"]
        assert model.headerData(model.columns().index("length_km"), Qt.Horizontal) == "长度(km)"
        r = [i for i in range(model.rowCount()) if model.value(i, "utility") == "JS"][0]
        assert model.data(model.index(r, model.columns().index("utility"))) == "给水"
    finally:
        tab.cancel()
        p.unload()
        QgsProject.instance().clear()
        _flush_deletes()
