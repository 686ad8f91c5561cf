"""Importer end to end on small generated files: every reader, batches, quarantine,
transactions, re-import, NULL stays NULL (no QGIS)."""
import json
import pathlib
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewal_planner.layers.errors import InputError
from renewal_planner.layers.importer import batch as batchmod
from renewal_planner.layers.importer import import_files

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from import_helpers import DATA, GOOD_ROWS, POINT_HEADER, make_project, rows, table_dump, write_csv


def _one(project, path, **kw):
    (s,) = import_files(project, [str(path)], **kw)
    assert s["accepted"] + s["rejected"] == s["records_in"]
    return s


def test_point_table_builds_points_and_segments(tmp_path):
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "pts.csv", POINT_HEADER, GOOD_ROWS, title="XX路给水管线点成果表")
    s = _one(p, f)
    # 5 points + 4 connections
    assert (s["records_in"], s["accepted"], s["rejected"]) == (9, 9, 0)
    got = rows(p, "SELECT uid, start_uid, end_uid, diameter_mm, material, depth_start, depth_end, depth_ref, "
                  "utility FROM pipe_segment ORDER BY uid")
    assert got == [("JS1-JS2", "JS1", "JS2", 300.0, "球墨铸铁", 1.2, 1.1, "top", "JS"),
                   ("JS2-JS3", "JS2", "JS3", 300.0, "球墨铸铁", 1.1, 1.0, "top", "JS"),
                   ("JS3-JS4", "JS3", "JS4", 110.0, "PE", 1.0, None, "top", "JS"),
                   ("JS5-JS2", "JS5", "JS2", 200.0, "PE", 1.15, 1.1, "top", "JS")]
    # X is the northing: JS1 lies at easting 501500, northing 3379500
    from renewal_planner.layers import io
    df = io.read_layer(p, "pipe_point").set_index("uid")
    assert (df.geometry["JS1"].x, df.geometry["JS1"].y) == (501500.0, 3379500.0)
    assert df.loc["JS2", "feature"] == "tee" and df.loc["JS1", "appurtenance"] == "valve"
    # NULL stays NULL: JS4 has no depth, JS2 no appurtenance
    assert rows(p, "SELECT depth, appurtenance FROM pipe_point WHERE uid='JS4'") == [(None, None)]
    assert s["findings"] == []  # JS2 is a tee with exactly 3 pipes
    b = rows(p, "SELECT records_in, accepted, rejected, updated, unchanged, sha256, mapping FROM import_batch")
    assert b[0][:5] == (9, 9, 0, 0, 0) and len(b[0][5]) == 64
    assert json.loads(b[0][6])["columns"]["X"] == "north"
    assert rows(p, "SELECT DISTINCT source FROM pipe_point") == [(s["batch_id"],)]


def test_gbk_table_with_zone_prefix(tmp_path):
    p = make_project(tmp_path)
    s = _one(p, DATA / "points_gbk.csv")
    assert s["encoding"] == "GB18030" and s["crs_in"] == "EPSG:4526"
    assert (s["records_in"], s["accepted"]) == (3, 3)
    assert rows(p, "SELECT uid, utility, subclass, appurtenance, owner FROM pipe_point ORDER BY uid") == [
        ("YS1", "PS", "YS", "manhole", "市政"), ("YS2", "PS", "YS", "manhole", "市政")]
    # gravity drainage depths are to the invert; the box size of YS2 does not belong to YS1-YS2
    assert rows(p, "SELECT uid, depth_ref, diameter_mm, width_mm FROM pipe_segment") == [
        ("YS1-YS2", "invert", 600.0, None)]
    assert s["findings"] and s["findings"][0]["uid"] == "YS2"  # a tee with 1 pipe


def test_forced_encoding(tmp_path):
    p = make_project(tmp_path)
    with pytest.raises(InputError):
        import_files(p, [str(DATA / "points_gbk.csv")], encoding="utf-8")
    assert rows(p, "SELECT COUNT(*) FROM import_batch") == [(0,)]


def test_messy_table_quarantine(tmp_path):
    p = make_project(tmp_path)
    bad = [r[:] for r in GOOD_ROWS]
    bad[1][7] = "-1"        # negative depth
    bad[2][4] = "abc"       # bad northing
    bad[3][1] = "ZZ"        # unknown class
    bad.append(["JS1", "JS", "", "", "3379600", "501600", "", "", "", "", ""])  # duplicate point
    bad.append(["JS7", "JS", "", "", "3379600", "501600", "", "", "", "99999", ""])  # absurd size
    bad.append(["JS8", "JS", "", "", "100", "200", "", "", "", "", ""])  # outside the CRS area
    bad.append(["", "JS", "", "", "3379600", "501610", "", "", "", "", ""])  # no point number
    f = write_csv(tmp_path / "bad.csv", POINT_HEADER, bad)
    s = _one(p, f)
    rej = {(r["record_no"], r["target_layer"]): r for r in s["rejects"]}
    assert rej[(2, "pipe_point")]["reason_code"] == "out_of_range" and rej[(2, "pipe_point")]["field"] == "埋深"
    assert rej[(3, "pipe_point")]["reason_code"] == "bad_number"
    assert rej[(4, "pipe_point")]["reason_code"] == "unknown_code"
    assert rej[(6, "pipe_point")]["reason_code"] == "duplicate_uid"
    assert rej[(7, "pipe_point")]["reason_code"] == "out_of_range"
    assert rej[(8, "pipe_point")]["reason_code"] == "outside_crs_area"
    assert rej[(9, "pipe_point")]["reason_code"] == "missing_value"
    # connections from / to rejected points are rejected as unknown points, never dropped
    assert {k for k, r in rej.items() if r["reason_code"] == "unknown_point"} == {
        (1, "pipe_segment"), (2, "pipe_segment"), (3, "pipe_segment"), (5, "pipe_segment")}
    for r in s["rejects"]:
        assert r["reason_zh"] and r["reason_en"] and json.loads(r["raw"])
    stored = rows(p, "SELECT COUNT(*), MIN(record_no) FROM import_reject")
    assert stored == [(s["rejected"], 1)]
    assert s["records_in"] == 9 + 4 and s["accepted"] == 2  # JS1 and JS5 points


def test_reimport_same_and_changed(tmp_path):
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "pts.csv", POINT_HEADER, GOOD_ROWS)
    first = _one(p, f)
    before = table_dump(p)
    again = _one(p, f)
    assert not again["written"] and again["duplicate_of"] == first["batch_id"]
    assert again["unchanged"] == again["accepted"] == 9
    assert table_dump(p) == before
    changed = [r[:] for r in GOOD_ROWS]
    changed[0][7] = "1.30"   # JS1 depth -> JS1 and JS1-JS2 change
    changed[4][9] = ""       # JS5-JS2 size now unknown: NULL, not 0
    write_csv(tmp_path / "pts.csv", POINT_HEADER, changed)
    s = _one(p, f)
    assert s["written"] and (s["updated"], s["inserted"]) == (3, 0)
    assert s["unchanged"] == 6
    assert rows(p, "SELECT depth, source FROM pipe_point WHERE uid='JS1'") == [(1.3, s["batch_id"])]
    assert rows(p, "SELECT diameter_mm FROM pipe_segment WHERE uid='JS5-JS2'") == [(None,)]
    assert rows(p, "SELECT source FROM pipe_point WHERE uid='JS3'") == [(first["batch_id"],)]
    assert rows(p, "SELECT COUNT(*) FROM pipe_point") == [(5,)]
    assert rows(p, "SELECT updated, unchanged FROM import_batch WHERE batch_id=?".replace("?", repr(s["batch_id"]))) \
        == [(3, 6)]


def test_failure_midway_changes_nothing(tmp_path, monkeypatch):
    p = make_project(tmp_path)
    f0 = write_csv(tmp_path / "a.csv", POINT_HEADER, GOOD_ROWS[:2])
    _one(p, f0)
    before = table_dump(p)
    f = write_csv(tmp_path / "b.csv", POINT_HEADER, GOOD_ROWS)
    real = batchmod._execute
    calls = []

    def broken(con, sql, rows_):
        calls.append(sql)
        if "INTO pipe_segment" in sql:
            raise RuntimeError("disk on fire")
        return real(con, sql, rows_)

    monkeypatch.setattr(batchmod, "_execute", broken)
    with pytest.raises(RuntimeError):
        import_files(p, [f])
    assert any("pipe_point" in c for c in calls)  # it did fail midway
    assert table_dump(p) == before


def test_cancel_before_write_changes_nothing(tmp_path):
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "a.csv", POINT_HEADER, GOOD_ROWS)
    before = table_dump(p)
    seen = []
    with pytest.raises(InputError, match="cancelled"):
        import_files(p, [f], progress=lambda fr, m: seen.append(m), is_cancelled=lambda: len(seen) >= 2)
    assert table_dump(p) == before


def test_line_table_after_point_table(tmp_path):
    p = make_project(tmp_path)
    pts = write_csv(tmp_path / "pts.csv", POINT_HEADER, [r[:8] + ["", "", ""] for r in GOOD_ROWS])
    lines = write_csv(tmp_path / "lines.csv", ["起点点号", "终点点号", "起点埋深", "终点埋深", "管径", "材质", "建设年代"],
                      [["JS1", "JS2", "1.2", "1.1", "DN300", "PE", "2005年"],
                       ["JS2", "JS99", "1.1", "1.0", "DN300", "PE", ""],
                       ["JS3", "", "", "", "", "", ""]])
    s1, s2 = import_files(p, [pts, lines])
    assert s1["accepted"] == 5 and s2["records_in"] == 3
    assert [(r["record_no"], r["reason_code"], r["field"]) for r in s2["rejects"]] == [
        (2, "unknown_point", "end_uid"), (3, "missing_value", "end_uid")]
    assert rows(p, "SELECT uid, utility, build_year, depth_start FROM pipe_segment") == [("JS1-JS2", "JS", 2005, 1.2)]


def test_xlsx_two_row_header(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    p = make_project(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "TX"
    ws.append(["通信管线点成果表"])
    ws.append(["点号", "特征", "坐标", None, "埋深", "连接方向", "规格", "权属单位"])
    ws.append([None, None, "X", "Y", None, None, None, None])
    ws.append([101, "直线点", 3379500.0, 501500.0, 0.8, 102, "4孔2根", "电信"])
    ws.append([102, "终点", 3379500.0, 501520.0, None, None, "4孔2根", "电信"])
    path = tmp_path / "tx.xlsx"
    wb.save(path)
    s = _one(p, path)
    assert (s["records_in"], s["accepted"]) == (3, 3)
    assert rows(p, "SELECT uid, utility, depth FROM pipe_point ORDER BY uid") == [("101", "TX", 0.8),
                                                                                   ("102", "TX", None)]
    assert rows(p, "SELECT uid, holes_total, cable_count, diameter_mm FROM pipe_segment") == [
        ("101-102", 4, 2, None)]


def test_gbk_shapefile_without_cpg_and_lines_matching_points(tmp_path):
    fiona = pytest.importorskip("fiona")
    p = make_project(tmp_path)
    pts = tmp_path / "rq_points.shp"
    schema = {"geometry": "Point", "properties": {"点号": "str", "管类": "str", "附属物": "str"}}
    with fiona.open(pts, "w", driver="ESRI Shapefile", schema=schema, crs="EPSG:4547", encoding="GBK") as c:
        c.write({"geometry": {"type": "Point", "coordinates": (501500.0, 3379500.0)},
                 "properties": {"点号": "RQ1", "管类": "燃气", "附属物": "阀门"}})
        c.write({"geometry": {"type": "Point", "coordinates": (501530.0, 3379500.0)},
                 "properties": {"点号": "RQ2", "管类": "燃气", "附属物": "无"}})
    for ext in (".cpg",):
        (tmp_path / ("rq_points" + ext)).unlink(missing_ok=True)
    s = _one(p, pts)
    assert s["encoding"] == "GB18030" and s["accepted"] == 2
    assert rows(p, "SELECT uid, utility, appurtenance FROM pipe_point ORDER BY uid") == [
        ("RQ1", "RQ", "valve"), ("RQ2", "RQ", "none")]
    lines = tmp_path / "rq_lines.shp"
    schema = {"geometry": "LineString", "properties": {"起点点号": "str", "终点点号": "str", "管径": "str"}}
    with fiona.open(lines, "w", driver="ESRI Shapefile", schema=schema, crs="EPSG:4547", encoding="GBK") as c:
        c.write({"geometry": {"type": "LineString", "coordinates": [(501530.2, 3379500.0), (501500.0, 3379500.1)]},
                 "properties": {"起点点号": "RQ1", "终点点号": "RQ2", "管径": "De160"}})  # drawn backwards
        c.write({"geometry": {"type": "LineString", "coordinates": [(501500.0, 3379500.0), (501560.0, 3379500.0)]},
                 "properties": {"起点点号": "RQ1", "终点点号": "RQ2", "管径": "De160"}})  # end 30 m off
    s = _one(p, lines)
    assert s["encoding"] == "GBK"  # from the .cpg
    assert [(r["reason_code"], r["field"]) for r in s["rejects"]] == [("point_mismatch", "end_uid")]
    assert rows(p, "SELECT uid, utility, diameter_mm FROM pipe_segment") == [("RQ1-RQ2", "RQ", 160.0)]


def test_geojson_wgs84_transformed_and_bad_feature_kept(tmp_path):
    p = make_project(tmp_path)
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.0, 30.5]},
         "properties": {"point_no": "DL1", "utility": "DL"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["x", 30.5]},
         "properties": {"point_no": "DL2", "utility": "DL"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[114, 30], [114.1, 30], [114, 30.1], [114, 30]]]},
         "properties": {"point_no": "DL3", "utility": "DL"}},
    ]}
    f = tmp_path / "dl.geojson"
    f.write_text(json.dumps(doc), encoding="utf-8")
    s = _one(p, f)
    assert s["accepted"] == 1 and s["rejected"] == 2
    assert {r["reason_code"] for r in s["rejects"]} == {"unreadable", "invalid_geometry"}
    from renewal_planner.layers import io
    g = io.read_layer(p, "pipe_point").geometry.iloc[0]
    assert g.x == pytest.approx(500000.0, abs=0.01) and 3.37e6 < g.y < 3.38e6  # 114°E is the central meridian


DXF = """0\nSECTION\n2\nENTITIES\n0\nLINE\n8\nJS\n10\n500000.0\n20\n3379500.0\n11\n500010.0\n21\n3379500.0
0\nINSERT\n8\nPS_POINT\n2\nMH\n10\n500005.0\n20\n3379505.0\n0\nPOINT\n8\nJS\n10\n500000.0\n20\n3379500.0
0\nLINE\n8\nJS\n10\n900000000.0\n20\n3379500.0\n11\n900000010.0\n21\n3379500.0\n0\nENDSEC\n0\nEOF\n"""


def test_dxf_lines_and_block_points(tmp_path):
    p = make_project(tmp_path)
    f = tmp_path / "cad.dxf"
    f.write_text(DXF, encoding="ascii")
    s = _one(p, f)
    assert (s["records_in"], s["accepted"], s["rejected"]) == (4, 3, 1)
    assert s["rejects"][0]["reason_code"] == "outside_crs_area"
    assert sorted(rows(p, "SELECT utility, subclass FROM pipe_point")) == [("JS", None), ("PS", None)]
    assert rows(p, "SELECT utility FROM pipe_segment") == [("JS",)]
    again = _one(p, f)  # uids made from coordinates are stable
    assert not again["written"] and again["unchanged"] == 3


def test_epanet_inp(tmp_path):
    p = make_project(tmp_path)
    s = _one(p, DATA / "network.inp")
    assert (s["records_in"], s["accepted"], s["rejected"]) == (8, 7, 1)
    assert s["rejects"][0]["reason_code"] == "unknown_point" and s["rejects"][0]["value"] == "J9"
    assert rows(p, "SELECT uid, start_uid, end_uid, diameter_mm, utility FROM pipe_segment ORDER BY uid") == [
        ("P1", "R1", "J1", 300.0, "JS"), ("P2", "J1", "J2", 200.0, "JS"), ("P3", "J2", "J3", 150.0, "JS")]
    from renewal_planner.layers import io
    seg = io.read_layer(p, "pipe_segment").set_index("uid")
    assert len(seg.geometry["P1"].coords) == 3  # the vertex is kept


def test_outside_crs_area_with_crs_option(tmp_path):
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "pts.csv", POINT_HEADER, GOOD_ROWS[:1])
    # the same numbers in the 6° zone 19 CRS (111°E, false easting 500 km) are inside its area too,
    # but in a CRS of another country they are refused, not moved
    s = _one(p, f, crs="EPSG:32633")  # UTM 33N (Europe)
    assert s["accepted"] == 0 and s["rejected"] == 2  # the point, and its connection
    assert [r["reason_code"] for r in s["rejects"]] == ["outside_crs_area", "unknown_point"]
    assert "EPSG:4547" in s["rejects"][0]["reason_en"]


def test_report_files(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    p = make_project(tmp_path)
    bad = [r[:] for r in GOOD_ROWS]
    bad[0][9] = "XYZ"
    f = write_csv(tmp_path / "pts.csv", POINT_HEADER, bad)
    s = _one(p, f, report=str(tmp_path / "rep.html"))
    html_path, xlsx_path = s["report"]
    text = open(html_path, encoding="utf-8").read()
    assert s["batch_id"] in text and "XYZ" in text
    ws = openpyxl.load_workbook(xlsx_path).worksheets[0]
    head = [c.value for c in ws[1]]
    assert head[:len(POINT_HEADER)] == POINT_HEADER and "_reason_zh" in head
    assert ws.max_row == 1 + s["rejected"]


def test_cli_import(tmp_path, capsys):
    from renewal_planner import cli

    p = make_project(tmp_path)
    f = write_csv(tmp_path / "pts.csv", POINT_HEADER, GOOD_ROWS)
    assert cli.main(["import", p, f, "--batch", "b1"]) == 0
    assert "records 9" in capsys.readouterr().out
    assert cli.main(["import", p, str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert rows(p, "SELECT batch_id FROM import_batch") == [("b1",)]


# ---------------------------------------------------------------- property test

_CORRUPT = st.sampled_from(["", "NULL", "abc", "-5", "1e9", "JS1", "三通", "99999", "/", "Φ", "DN300",
                            "3379500", "38501500", "x,y", "\"", "雨水"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, len(POINT_HEADER) - 1), _CORRUPT), max_size=12),
       st.lists(st.integers(0, 4), max_size=3))
def test_random_corruptions_never_lose_a_record(tmp_path_factory, edits, dupes):
    tmp = tmp_path_factory.mktemp("prop")
    p = make_project(tmp)
    table = [r[:] for r in GOOD_ROWS] + [GOOD_ROWS[i][:] for i in dupes]
    for i, j, v in edits:
        table[i][j] = v
    f = write_csv(tmp / "t.csv", POINT_HEADER, table)
    (s,) = import_files(p, [f])
    from renewal_planner.layers.importer.validate import _SPLIT
    expected = len(table) + sum(len([t for t in _SPLIT.split(r[8].strip()) if t])
                                for r in table if r[8].strip() not in ("", "NULL", "/"))
    assert s["records_in"] == expected
    assert s["accepted"] + s["rejected"] == s["records_in"]
    stored_rejects = rows(p, "SELECT COUNT(*) FROM import_reject")[0][0]
    assert stored_rejects == s["rejected"]
    n_pts = rows(p, "SELECT COUNT(*) FROM pipe_point")[0][0]
    assert n_pts == s["by_layer"].get("pipe_point", {}).get("accepted", 0)
