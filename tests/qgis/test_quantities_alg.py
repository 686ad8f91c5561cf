"""``renewal_planner:quantities`` in Processing: the same figures as the engine."""
from __future__ import annotations

import csv
import os
import sys

import pytest
from qgis.core import QgsApplication, QgsProcessingException
from shapely.geometry import LineString, Point, box

import renewal_planner

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "unit"))
from engine_helpers import make_project  # noqa: E402

X0, Y0 = 500000.0, 2500000.0


@pytest.fixture
def processing(qgis_processing, qgis_iface):
    from processing.core.Processing import Processing

    Processing.initialize()
    p = renewal_planner.classFactory(qgis_iface)
    p.initProcessing()
    yield
    p.unload()


@pytest.fixture
def project(tmp_path):
    return make_project(
        tmp_path,
        renovation_area=[dict(uid="A", geometry=box(X0, Y0, X0 + 100, Y0 + 100), community="甲小区",
                              households=80, buildings=2)],
        pipe_segment=[dict(geometry=LineString([(X0 - 50, Y0 + 50), (X0 + 250, Y0 + 50)]),
                           utility="PS", subclass="YS", diameter_mm=300.0)],
        tree=[dict(geometry=Point(X0 + 10, Y0 + 10), kind="tree", species="香樟"),
              dict(geometry=Point(X0 + 20, Y0 + 10), kind="tree", species="银杏")],
    )


def test_algorithm_is_registered(processing):
    alg = QgsApplication.processingRegistry().algorithmById("renewal_planner:quantities")
    assert alg is not None and alg.name() == "quantities"


def test_quantities_algorithm_writes_xlsx_and_csv(processing, project, tmp_path):
    import openpyxl
    import processing as qp

    out = str(tmp_path / "q.xlsx")
    res = qp.run("renewal_planner:quantities", {"PROJECT": project, "OUTPUT": out})
    assert res["OUTPUT"] == out and os.path.isfile(out)
    assert res["PIPE_KM"] == pytest.approx(0.100)
    assert res["HOUSEHOLDS"] == 80 and res["TREES"] == 2 and res["STALLS"] == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "汇总 Summary" and "管线 Pipes" in wb.sheetnames
    out_csv = str(tmp_path / "q.csv")
    qp.run("renewal_planner:quantities", {"PROJECT": project, "OUTPUT": out_csv, "AREA": "A"})
    with open(out_csv, encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if r["theme"] == "pipes"]
    assert len(rows) == 1 and float(rows[0]["quantity"]) == pytest.approx(0.100)


def test_quantities_algorithm_bad_input(processing, project, tmp_path):
    import processing as qp

    with pytest.raises(QgsProcessingException, match="no renovation area"):
        qp.run("renewal_planner:quantities", {"PROJECT": project, "OUTPUT": str(tmp_path / "q.xlsx"),
                                              "AREA": "ZZ"})
    with pytest.raises(QgsProcessingException, match="xlsx or .csv"):
        qp.run("renewal_planner:quantities", {"PROJECT": project, "OUTPUT": str(tmp_path / "q.pdf")})
    assert not os.path.exists(tmp_path / "q.xlsx")
