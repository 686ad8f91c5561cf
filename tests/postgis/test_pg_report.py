"""`renewal-planner report` on a PostGIS project: the same XLSX cells and the
same HTML text as for the GeoPackage project with the same findings."""
import html
import os
import re
import shutil

import pytest

from renewal_planner.layers import io, pg
from renewal_planner.tools import check, report

from .conftest import load_layers

psycopg = pytest.importorskip("psycopg")
openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture(scope="module")
def pair(pg_conninfo, demo_gpkg, tmp_path_factory):
    """(GeoPackage, PostGIS) projects of the demo district with the same conflict
    table, byte for byte (the GeoPackage checked, its findings copied), one
    finding reviewed; the GeoPackage named like the schema so the reports'
    project names agree."""
    name = f"rep_{os.getpid()}"
    gp = str(tmp_path_factory.mktemp("rep") / f"{name}.gpkg")
    shutil.copy(demo_gpkg["project"], gp)
    check.check_project(gp, dem=demo_gpkg["dem"])
    cid = io.read_layer(gp, "conflict")["conflict_id"].iloc[3]
    _review(gp, cid)
    p = pg.project_string(pg_conninfo, name)
    pg.init_project(p, styles=False)
    load_layers(gp, p)
    io.write_layer(p, "conflict", io.read_layer(gp, "conflict"), fill_defaults=False)
    return gp, p


def _review(project, cid):
    from renewal_planner.tools import results

    assert results.set_review(project, [cid], "waived", reviewer="张工",
                              note="已与燃气公司确认'; DROP TABLE conflict; --") == 1


def xlsx_cells(path):
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    wb.close()
    return out


def html_text(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"<img[^>]*>", "<img>", text)
    text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
    return [t for t in (html.unescape(x).strip() for x in re.split(r"<[^>]+>", text)) if t]


def test_xlsx_report_identical(pair, tmp_path):
    gp, p = pair
    a = report.write_report(gp, str(tmp_path / "g.xlsx"))
    b = report.write_report(p, str(tmp_path / "p.xlsx"))
    assert {k: a[k] for k in ("findings", "open", "atlas_pages")} == {k: b[k] for k in ("findings", "open",
                                                                                     "atlas_pages")}
    ca, cb = xlsx_cells(tmp_path / "g.xlsx"), xlsx_cells(tmp_path / "p.xlsx")
    assert list(ca) == list(cb)
    findings = list(ca)[1]
    assert len(ca[findings]) == a["findings"] + 1 > 20
    assert ca == cb
    # the reviewed finding, its hostile note verbatim, and timestamps as text
    flat = [c for row in cb[findings] for c in row]
    assert "已与燃气公司确认'; DROP TABLE conflict; --" in flat
    assert any(isinstance(c, str) and re.match(r"\d{4}-\d\d-\d\dT", c) for c in flat)


def test_html_report_same_text(pair, tmp_path):
    gp, p = pair
    a = report.write_report(gp, str(tmp_path / "g.html"), max_pages=5)
    b = report.write_report(p, str(tmp_path / "p.html"), max_pages=5)
    assert a["atlas_pages"] == b["atlas_pages"] == 5
    ta, tb = html_text(tmp_path / "g.html"), html_text(tmp_path / "p.html")
    assert len(ta) > 100
    assert ta == tb
    # the maps are there in both (one per atlas page plus the overview)
    na = open(tmp_path / "g.html", encoding="utf-8").read().count("<img")
    nb = open(tmp_path / "p.html", encoding="utf-8").read().count("<img")
    assert na == nb >= 6


def test_pdf_report_postgis(pair, tmp_path):
    gp, p = pair
    a = report.write_report(gp, str(tmp_path / "g.pdf"), max_pages=3)
    b = report.write_report(p, str(tmp_path / "p.pdf"), max_pages=3)
    assert a["pages"] == b["pages"] > 3
    assert os.path.getsize(tmp_path / "p.pdf") > 10000


def test_report_after_pg_check_matches(demo_gpkg, tmp_path, pg_conninfo):
    """Both stores checked by the engine: the same findings rows in the XLSX
    (the run's own timestamps aside)."""
    name = f"rep2_{os.getpid()}"
    gp = str(tmp_path / f"{name}.gpkg")
    shutil.copy(demo_gpkg["project"], gp)
    p = pg.project_string(pg_conninfo, name)
    pg.init_project(p, styles=False)
    load_layers(gp, p)
    check.check_project(gp, dem=demo_gpkg["dem"])
    check.check_project(p, dem=demo_gpkg["dem"])
    report.write_report(gp, str(tmp_path / "g.xlsx"))
    report.write_report(p, str(tmp_path / "p.xlsx"))
    ca, cb = xlsx_cells(tmp_path / "g.xlsx"), xlsx_cells(tmp_path / "p.xlsx")
    sheet = list(ca)[1]
    head = ca[sheet][0]
    keep = [i for i, h in enumerate(head) if not any(k in str(h) for k in ("首次发现", "最近发现", "审核时间"))]
    assert len(keep) == len(head) - 3
    rows = [[r[i] for i in keep] for r in ca[sheet]]
    assert rows == [[r[i] for i in keep] for r in cb[sheet]]
    assert ca[list(ca)[0]] == cb[list(cb)[0]]


def test_cli_report_postgis(pair, tmp_path, capsys):
    from renewal_planner.cli import main

    _, p = pair
    assert main(["report", p, "--out", str(tmp_path / "r.xlsx")]) == 0
    assert "findings" in capsys.readouterr().out
    assert (tmp_path / "r.xlsx").stat().st_size > 5000


def test_report_missing_schema_fails_cleanly(pg_conninfo, tmp_path):
    from renewal_planner.layers.errors import InputError

    p = pg.project_string(pg_conninfo, "no_such_schema")
    with pytest.raises(InputError, match="no schema"):
        report.write_report(p, str(tmp_path / "r.xlsx"))
    assert not (tmp_path / "r.xlsx").exists()

