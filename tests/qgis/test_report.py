"""Reports (tools/report.py): the PDF opened and read back with poppler
(pdfinfo, pdftotext, pdftoppm), the HTML and XLSX read back, against counts
taken independently from the project's conflict table with SQL."""
from __future__ import annotations

import base64
import math
import os
import re
import shutil
import sqlite3
import subprocess
import time
import unicodedata

import pytest

from renewal_planner.layers import gpkgblob, schema
from renewal_planner.layers.errors import InputError
from renewal_planner.tools import report

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftotext) is installed by make deps")

#: Qt writes a PDF's ToUnicode map with the lowest code point of each glyph;
#: CJK fonts share the glyphs of these radicals with the ideographs, so text
#: extracts as the radical. NFKC folds the Kangxi radicals; this folds the
#: CJK radicals supplement that have no decomposition.
RADICALS = {unicodedata.lookup(f"CJK RADICAL {n}"): c for n, c in [
    ("C-SIMPLIFIED CART", "车"), ("C-SIMPLIFIED LONG", "长"), ("C-SIMPLIFIED LEAF", "页"),
    ("SIMPLIFIED HORN", "角"), ("WEST TWO", "西"), ("C-SIMPLIFIED GATE", "门"),
    ("C-SIMPLIFIED SEE", "见"), ("C-SIMPLIFIED SHELL", "贝"), ("C-SIMPLIFIED HORSE", "马"),
    ("C-SIMPLIFIED WIND", "风"), ("C-SIMPLIFIED EAT", "饣"), ("C-SIMPLIFIED FLY", "飞"),
    ("C-SIMPLIFIED BIRD", "鸟"), ("C-SIMPLIFIED FISH", "鱼"), ("C-SIMPLIFIED TOOTH", "齿")]}


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(RADICALS.get(ch, ch) for ch in text)


def pdf_pages(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def pdf_text(path, first=None, last=None, raw=True) -> str:
    cmd = ["pdftotext"] + (["-raw"] if raw else [])
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    out = subprocess.run(cmd + [str(path), "-"], capture_output=True, check=True).stdout
    return norm(out.decode("utf-8"))


def sql(project, query, *args):
    con = sqlite3.connect(project)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def report_order(project):
    """conflict_ids of the open findings in report order, by SQL."""
    rules = [c for c, _, _ in schema.model().domain("rule").codes]
    rule_rank = " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(rules))
    return [r[0] for r in sql(project, f"""
        SELECT conflict_id FROM conflict WHERE review = 'open' ORDER BY
          CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 WHEN 'info' THEN 2 ELSE 3 END,
          CASE certainty WHEN 'certain' THEN 0 WHEN 'possible' THEN 1 ELSE 2 END,
          CASE rule_id {rule_rank} ELSE 99 END, conflict_id""")]


def multiply_findings(project, n):
    """Copies of the project's findings (new ids, every review status) up to n rows."""
    con = sqlite3.connect(project)
    gpkgblob.register_functions(con)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(conflict)") if r[1] != "fid"]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM conflict").fetchall()
        ci, ri = cols.index("conflict_id"), cols.index("review")
        new = []
        for k in range(n - len(rows)):
            r = list(rows[k % len(rows)])
            r[ci] = f"{r[ci]}-{k:05d}"
            r[ri] = ("open", "open", "accepted", "waived", "resolved")[k % 5]
            new.append(r)
        with con:
            con.executemany(f"INSERT INTO conflict ({', '.join(cols)}) VALUES "
                            f"({', '.join('?' * len(cols))})", new)
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory, qgis_app):
    from renewal_planner.tools import check, demo, results

    out = tmp_path_factory.mktemp("report_demo")
    built = demo.build_demo(str(out))
    check.check_project(built["project"], dem=built.get("dem"))
    project = built["project"]
    # one reviewed finding: counted in the summary, listed, but no atlas page
    first = report_order(project)[0]
    results.set_review(project, [first], "accepted", reviewer="王工", note="已核实")
    return project, first


@pytest.fixture(scope="module")
def demo_pdf(demo_project, tmp_path_factory):
    project, _ = demo_project
    path = tmp_path_factory.mktemp("report_pdf") / "report.pdf"
    r = report.write_report(project, str(path), lang="both")
    return path, r


# -- PDF -----------------------------------------------------------------------------------------


def test_pdf_page_count_and_summary_table(demo_project, demo_pdf):
    project, accepted = demo_project
    path, r = demo_pdf
    total = sql(project, "SELECT count(*) FROM conflict")[0][0]
    n_open = sql(project, "SELECT count(*) FROM conflict WHERE review = 'open'")[0][0]
    assert total >= 30 and n_open == total - 1
    expected = 1 + n_open + math.ceil(total / report.LIST_ROWS_PER_PAGE)
    assert pdf_pages(path) == r["pages"] == expected
    assert (r["findings"], r["open"], r["atlas_pages"]) == (total, n_open, n_open)

    text = pdf_text(path, 1, 1)
    assert "城市更新规划 冲突检查报告 / Renewal Planner conflict report" in text
    assert f"Project: {os.path.splitext(os.path.basename(project))[0]}" in text
    assert "EPSG:4547" in text and "第 1 / " in text and f"Page 1 of {expected}" in text
    # the table: label lines, then one line of ten counts per rule, then the total
    body = text.split("已解决\nresolved\n", 1)[1]
    got, label = {}, []
    for line in body.splitlines():
        tokens = line.split()
        if len(tokens) == 10 and all(t.isdigit() for t in tokens):
            got[" ".join(label)] = [int(t) for t in tokens]
            label = []
        elif line.strip():
            label.append(line.strip())
    codes = {"severity": ("error", "warning", "info"), "certainty": ("certain", "possible"),
             "review": ("open", "accepted", "waived", "resolved")}
    rule_codes = schema.model().domain("rule").codes
    expected_rows = {}
    for rule, zh, en in rule_codes + (("", "合计", "Total"),):
        where = "rule_id = ?" if rule else "? = ''"
        n = sql(project, f"SELECT count(*) FROM conflict WHERE {where}", rule)[0][0]
        if not n:
            continue
        row = [n]
        for col, values in codes.items():
            for v in values:
                row.append(sql(project, f"SELECT count(*) FROM conflict WHERE {where} AND {col} = ?",
                               rule, v)[0][0])
        expected_rows[f"{zh} {en}"] = row
    assert got == expected_rows
    assert got["合计 Total"][0] == total and got["合计 Total"][7] == 1  # one accepted


def test_pdf_atlas_pages_follow_report_order_and_skip_reviewed(demo_project, demo_pdf):
    project, accepted = demo_project
    path, r = demo_pdf
    order = report_order(project)
    assert accepted not in order
    for i in (0, 1, len(order) - 1):
        page = pdf_text(path, 2 + i, 2 + i)
        assert f"Open finding {i + 1} of {len(order)}" in page
        assert order[i] in page
        rule, source, review = sql(project, "SELECT rule_id, rule_source, review FROM conflict "
                                   "WHERE conflict_id = ?", order[i])[0]
        zh, en = [(z, e) for c, z, e in schema.model().domain("rule").codes if c == rule][0]
        assert f"{zh} / {en}" in page and f"[{rule}]" in page
        assert source.split()[0] in page
        assert "待审核 / open" in page
    atlas_text = pdf_text(path, 2, 1 + len(order))
    assert accepted not in atlas_text
    listing = pdf_text(path, 2 + len(order))
    assert accepted in listing and "已确认 accepted" in listing
    for cid in order:
        assert cid in listing


def _yellow_pixels(png):
    """(image, [(x, y)] of the highlight's pure yellow pixels)."""
    import numpy as np
    from qgis.PyQt.QtGui import QImage

    img = QImage(str(png)).convertToFormat(QImage.Format_RGB32)
    assert not img.isNull()
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes() if hasattr(img, "sizeInBytes") else img.byteCount())
    a = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width()]
    b, g, r = a[..., 0].astype(int), a[..., 1].astype(int), a[..., 2].astype(int)
    ys, xs = np.nonzero((r > 235) & (g > 235) & (b < 60))
    return img, list(zip(xs.tolist(), ys.tolist()))


def test_atlas_page_shows_the_finding_highlighted_inside_the_map(demo_project, demo_pdf, tmp_path):
    project, _ = demo_project
    path, _ = demo_pdf
    dpi = 60
    for page in (1, 2, 3):
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page),
                        "-singlefile", str(path), str(tmp_path / f"p{page}")], check=True)
    img, cover = _yellow_pixels(tmp_path / "p1.png")
    assert abs(img.width() - report.PAGE_W / 25.4 * dpi) < 2
    assert cover == []  # no finding is highlighted on the cover
    x, y, w, h = (v / 25.4 * dpi for v in report.ATLAS_MAP)
    for page in (2, 3):
        img, pts = _yellow_pixels(tmp_path / f"p{page}.png")
        assert len(pts) > 20, page
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        assert x - 1 <= min(xs) and max(xs) <= x + w + 1 and y - 1 <= min(ys) and max(ys) <= y + h + 1
        # the map is centred on the finding
        cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
        assert abs(cx - (x + w / 2)) < w / 4 and abs(cy - (y + h / 2)) < h / 4
    # every atlas page highlights its finding, whatever its geometry type
    import pyogrio

    order = report_order(project)
    geoms = pyogrio.read_dataframe(project, layer="conflict").set_index("conflict_id").geometry
    kinds = {geoms[c].geom_type.replace("Multi", "") for c in order}
    assert {"Point", "LineString", "Polygon"} <= kinds
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", "2", "-l", str(1 + len(order)), str(path),
                    str(tmp_path / "a")], check=True)
    pngs = sorted(tmp_path.glob("a-*.png"))
    assert len(pngs) == len(order)
    for png in pngs:
        _, pts = _yellow_pixels(png)
        assert len(pts) > 5, png.name
        assert all(x - 1 <= px <= x + w + 1 and y - 1 <= py <= y + h + 1 for px, py in pts), png.name


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chinese_and_english_labels_render(demo_project, tmp_path, lang):
    project, accepted = demo_project
    path = tmp_path / f"r_{lang}.pdf"
    report.write_report(project, str(path), lang=lang, max_pages=1)
    text = pdf_text(path)
    rules = {c: (z, e) for c, z, e in schema.model().domain("rule").codes}
    present = [r[0] for r in sql(project, "SELECT DISTINCT rule_id FROM conflict")]
    if lang == "zh":
        assert "城市更新规划 冲突检查报告" in text and "Renewal Planner conflict report" not in text
        for r in present:
            assert rules[r][0] in text
        assert "严重程度" in text and "审核状态" in text and "待审核" in text and "第 1 / " in text
        assert "Severity" not in text
    else:
        assert "Renewal Planner conflict report" in text and "冲突检查报告" not in text
        for r in present:
            assert rules[r][1] in text
        assert "Severity" in text and "Review" in text and "Page 1 of" in text
        assert "严重程度" not in text
    assert pdf_pages(path) == 1 + 1 + math.ceil(len(sql(project, "SELECT fid FROM conflict"))
                                                / report.LIST_ROWS_PER_PAGE)


# -- HTML and XLSX ---------------------------------------------------------------------------------


def test_html_is_self_contained_with_the_same_content(demo_project, tmp_path):
    project, accepted = demo_project
    path = tmp_path / "r.html"
    r = report.write_report(project, str(path))
    html = path.read_text(encoding="utf-8")
    srcs = re.findall(r"""(?:src|href)=['"]([^'"]*)['"]""", html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert len(srcs) == 1 + r["open"]  # overview + one map per open finding
    png = base64.b64decode(srcs[1].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from qgis.PyQt.QtGui import QImage

    img = QImage.fromData(png, "PNG")
    assert img.width() > 400 and img.height() > 400
    order = report_order(project)
    assert html.index(order[0]) < html.index(order[1]) < html.index(order[-1])
    assert "Renewal Planner conflict report" in html and "冲突检查报告" in html
    assert html.count("<tr>") >= 1 + r["findings"] + 1  # summary header+rows, list rows
    assert accepted in html


def test_xlsx_holds_every_finding(demo_project, tmp_path):
    import openpyxl

    project, accepted = demo_project
    path = tmp_path / "r.xlsx"
    report.write_report(project, str(path), lang="en")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Summary", "Findings"]
    rows = list(wb["Findings"].iter_rows(values_only=True))
    ids = {r[0] for r in rows[1:]}
    assert ids == {r[0] for r in sql(project, "SELECT conflict_id FROM conflict")}
    head = rows[0]
    row = [r for r in rows[1:] if r[0] == accepted][0]
    assert row[head.index("Review")] == "accepted" and row[head.index("Reviewer")] == "王工"
    summary = list(wb["Summary"].iter_rows(values_only=True))
    total = [r for r in summary if r and r[0] == "Total"][0]
    assert total[1] == len(ids)


# -- edge cases, input, command line, Processing -------------------------------------------------


def test_project_without_findings(tmp_path, qgis_app):
    from renewal_planner.layers.project import init_project

    project = init_project(str(tmp_path / "empty.gpkg"))
    for ext in ("pdf", "html", "xlsx"):
        r = report.write_report(project, str(tmp_path / f"e.{ext}"))
        assert r["findings"] == 0 and r["atlas_pages"] == 0
    assert pdf_pages(tmp_path / "e.pdf") == 1
    text = pdf_text(tmp_path / "e.pdf")
    assert "本项目没有冲突检查结果。" in text and "Findings: 0" in text


def test_ten_thousand_findings_within_a_minute(demo_project, tmp_path):
    import openpyxl

    project = str(tmp_path / "big.gpkg")
    shutil.copy(demo_project[0], project)
    multiply_findings(project, 10_000)
    n_open = sql(project, "SELECT count(*) FROM conflict WHERE review = 'open'")[0][0]
    t0 = time.perf_counter()
    r = report.write_report(project, str(tmp_path / "big.pdf"))
    seconds = time.perf_counter() - t0
    print(f"10,000 findings: PDF of {r['pages']} pages in {seconds:.1f} s")
    assert seconds < 60
    pages = 1 + report.DEFAULT_MAX_PAGES + math.ceil(10_000 / report.LIST_ROWS_PER_PAGE)
    assert r["atlas_pages"] == report.DEFAULT_MAX_PAGES < n_open and pdf_pages(tmp_path / "big.pdf") == pages
    cover = pdf_text(tmp_path / "big.pdf", 1, 1)
    assert f"first {report.DEFAULT_MAX_PAGES} of {n_open} open findings" in cover.replace("\n", " ")
    assert "All findings (10000)" in pdf_text(tmp_path / "big.pdf", pages, pages)
    assert pdf_text(tmp_path / "big.pdf", pages, pages).count("\n10000 ") == 1  # the last row
    r = report.write_report(project, str(tmp_path / "big.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "big.xlsx", read_only=True)
    assert sum(1 for _ in wb.worksheets[1].iter_rows(values_only=True)) == 10_001
    r = report.write_report(project, str(tmp_path / "big.html"), max_pages=20)
    assert (tmp_path / "big.html").read_text(encoding="utf-8").count("data:image/png") == 21


@pytest.mark.parametrize("out,kw,message", [
    ("r.doc", {}, "must end in .pdf, .html or .xlsx"),
    ("r.pdf", {"lang": "fr"}, "lang must be zh, en or both"),
    ("r.pdf", {"max_pages": -1}, "whole number"),
    ("nodir/r.pdf", {}, "folder of the report does not exist"),
])
def test_bad_arguments(demo_project, tmp_path, out, kw, message):
    with pytest.raises(InputError, match=re.escape(message)):
        report.write_report(demo_project[0], str(tmp_path / out), **kw)
    assert os.listdir(tmp_path) == []


def test_bad_projects(tmp_path):
    with pytest.raises(InputError, match="no such project file"):
        report.write_report(str(tmp_path / "none.gpkg"), str(tmp_path / "r.xlsx"))
    (tmp_path / "x.gpkg").write_text("not a geopackage")
    with pytest.raises(InputError):
        report.write_report(str(tmp_path / "x.gpkg"), str(tmp_path / "r.xlsx"))
    assert sorted(os.listdir(tmp_path)) == ["x.gpkg"]


def test_cancel_writes_nothing(demo_project, tmp_path):
    from renewal_planner.tools.engine.context import Cancelled

    calls = []
    with pytest.raises(Cancelled):
        report.write_report(demo_project[0], str(tmp_path / "r.pdf"),
                            is_cancelled=lambda: len(calls) > 3, progress=lambda f, m: calls.append(f))
    assert os.listdir(tmp_path) == []


def test_command_line(demo_project, tmp_path, capsys):
    from renewal_planner import cli

    out = tmp_path / "r.pdf"
    assert cli.main(["report", demo_project[0], "--out", str(out), "--max-pages", "2", "--lang", "en"]) == 0
    assert "atlas pages" in capsys.readouterr().out
    total = sql(demo_project[0], "SELECT count(*) FROM conflict")[0][0]
    assert pdf_pages(out) == 1 + 2 + math.ceil(total / report.LIST_ROWS_PER_PAGE)
    assert cli.main(["report", demo_project[0], "--out", str(tmp_path / "r.txt")]) == 2
    assert "must end in .pdf" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "r.xlsx")]) == 2


@pytest.fixture
def processing(qgis_processing, qgis_iface):
    import renewal_planner
    from processing.core.Processing import Processing

    Processing.initialize()
    p = renewal_planner.classFactory(qgis_iface)
    p.initProcessing()
    yield
    p.unload()


def test_processing_algorithm(processing, demo_project, tmp_path):
    import processing as qp
    from qgis.core import QgsProcessingException

    out = tmp_path / "r.pdf"
    res = qp.run("renewal_planner:report", {"PROJECT": demo_project[0], "OUTPUT": str(out),
                                            "LANG": 1, "MAX_PAGES": 1})
    total = sql(demo_project[0], "SELECT count(*) FROM conflict")[0][0]
    assert res["OUTPUT"] == str(out) and res["FINDINGS"] == total
    assert res["PAGES"] == pdf_pages(out) == 1 + 1 + math.ceil(total / report.LIST_ROWS_PER_PAGE)
    assert "Renewal Planner conflict report" not in pdf_text(out, 1, 1)  # Chinese only
    with pytest.raises(QgsProcessingException, match="must end in"):
        qp.run("renewal_planner:report", {"PROJECT": demo_project[0], "OUTPUT": str(tmp_path / "r.txt")})
