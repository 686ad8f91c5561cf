"""The review workflow: grouping of findings, and the per-owner review sheets
sent to the utilities and taken back.

The rules are replaced by a controllable fake (the rules have their own tests):
the findings, their geometries, the areas and the pipe owners are all laid out
by hand below, so every expected group and coordinate is known in advance.
"""
import os

import geopandas as gpd
import openpyxl
import pandas as pd
import pyproj
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from renewal_planner.layers import gpkg, io
from renewal_planner.layers.errors import InputError
from renewal_planner.tools import check, engine, results, review
from renewal_planner.tools.engine.findings import conflict_id, new_findings

X0, Y0 = 500000.0, 2500000.0  # EPSG:4547
WATER, GAS = "武汉水务集团", "武汉燃气集团"

# name: (rule, layer_a, uid_a, layer_b, uid_b, measured, geometry)
FINDINGS = {
    # in A1 only; water pipe JS1
    "F1": ("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1", 0.5, Point(X0 + 100, Y0 + 100)),
    # across A1 and A2 (they overlap for 300 <= x <= 400); water JS1 against gas RQ1
    "F2": ("horizontal_clearance", "pipe_segment", "JS1", "pipe_segment", "RQ1", 0.4,
           LineString([(X0 + 350, Y0 + 100), (X0 + 350, Y0 + 200)])),
    # outside every area; a drain of unknown owner
    "F3": ("building_clearance", "pipe_segment", "PS1", "building", "B1", 0.3,
           box(X0 - 500, Y0 - 500, X0 - 470, Y0 - 460)),
    # in A2; a water valve (pipe_point)
    "F4": ("stall_over_structure", "parking_stall", "S1", "pipe_point", "JSP1", 1.0, Point(X0 + 600, Y0 + 300)),
    # in A1; no pipe involved
    "F5": ("fire_lane_obstruction", "tree", "T9", "fire_lane", "L1", 1.0, Point(X0 + 50, Y0 + 50)),
    # in A2; two gas pipes of one owner
    "F6": ("horizontal_clearance", "pipe_segment", "RQ1", "pipe_segment", "RQ2", 0.2, Point(X0 + 500, Y0 + 50)),
}


def cid(name):
    rule, la, a, lb, b, *_ = FINDINGS[name]
    return conflict_id(rule, la, a, lb, b)


class FakeRules:
    def __init__(self):
        self.names = list(FINDINGS)

    def __call__(self, rule_id):
        def rule(ctx):
            rows = [FINDINGS[n] for n in self.names if FINDINGS[n][0] == rule_id]
            if not rows:
                return new_findings(rule_id, "tree", [], "pipe_segment", [], [], 1.0, "m", "error",
                                    "certain", "test", [])
            frames = [new_findings(rule_id, la, [a], lb, [b], [m], 1.0, "m", "error", "certain",
                                   "test source", [g]) for _, la, a, lb, b, m, g in rows]
            return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return rule


@pytest.fixture
def project(tmp_path, monkeypatch):
    path = gpkg.create_project(str(tmp_path / "p.gpkg"))
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
    fake = FakeRules()
    monkeypatch.setattr(engine, "rule_function", fake)
    return path, fake


ONLY = ",".join(sorted({f[0] for f in FINDINGS.values()}))


def run(path):
    return check.check_project(path, only=ONLY)


def table(path):
    return results.read_conflicts(path).set_index("conflict_id")


def groups_of(grouped):
    """{conflict_id: sorted groups} of a group_findings frame."""
    return {c: sorted(g.group.map(lambda v: v or "-")) for c, g in grouped.groupby("conflict_id")}


# -- grouping ----------------------------------------------------------------------------------

def test_group_by_area_owner_rule_review(project):
    path, _ = project
    run(path)
    by_area = review.group_findings(path, "area")
    assert groups_of(by_area) == {cid("F1"): ["A1"], cid("F2"): ["A1", "A2"], cid("F3"): ["-"],
                                  cid("F4"): ["A2"], cid("F5"): ["A1"], cid("F6"): ["A2"]}
    assert len(by_area) == 7  # F2 listed in both areas
    assert set(by_area.loc[by_area.group == "A1", "group_zh"]) == {"幸福小区 (A1)"}
    assert by_area.group.isna().to_numpy()[-1]  # the no-group rows come last
    assert set(by_area.loc[by_area.group.isna(), "group_en"]) == {"outside renovation areas"}

    by_owner = review.group_findings(path, "owner")
    assert groups_of(by_owner) == {cid("F1"): [WATER], cid("F2"): sorted([WATER, GAS]), cid("F3"): ["-"],
                                   cid("F4"): [WATER], cid("F5"): ["-"], cid("F6"): [GAS]}

    by_rule = review.group_findings(path, "rule")
    assert groups_of(by_rule)[cid("F2")] == ["horizontal_clearance"]
    assert set(by_rule.loc[by_rule.group == "horizontal_clearance", "group_zh"]) == {"管线水平净距不足"}
    assert (by_rule.groupby("group").size().to_dict() ==
            {"tree_pipe_clearance": 1, "horizontal_clearance": 2, "building_clearance": 1,
             "stall_over_structure": 1, "fire_lane_obstruction": 1})

    results.set_review(path, [cid("F1"), cid("F2")], "waived", reviewer="李工")
    by_review = review.group_findings(path, "review")
    assert groups_of(by_review)[cid("F1")] == ["waived"] and groups_of(by_review)[cid("F3")] == ["open"]
    summary = review.group_summary(review.group_findings(path, "area")).set_index("group_en")
    assert summary.loc["幸福小区 (A1)", ["findings", "open", "waived"]].tolist() == [3, 1, 2]
    assert summary.loc["和平小区 (A2)", ["findings", "open", "waived"]].tolist() == [3, 2, 1]
    assert summary.loc["outside renovation areas", "findings"] == 1
    assert summary["group"].isna().sum() == 1

    with pytest.raises(InputError, match="group by"):
        review.group_findings(path, "colour")


def test_group_findings_of_an_empty_project(tmp_path):
    path = gpkg.create_project(str(tmp_path / "e.gpkg"))
    for by in review.GROUP_KEYS:
        assert len(review.group_findings(path, by)) == 0
    assert len(review.group_summary(review.group_findings(path, "owner"))) == 0
    assert review.export_owner_sheets(path, str(tmp_path / "out")) == []


def test_representative_points():
    import numpy as np

    x, y = review.representative_points([Point(1, 2), LineString([(0, 0), (10, 0), (10, 10)]),
                                         box(0, 0, 4, 2), None, Point()])
    assert (x[0], y[0]) == (1, 2)
    assert (x[1], y[1]) == (10, 0)  # the middle of the line by length
    assert 0 < x[2] < 4 and 0 < y[2] < 2
    assert np.isnan(x[3]) and np.isnan(x[4])


@pytest.mark.parametrize("text, code", [("waived", "waived"), ("已豁免", "waived"), ("已豁免 waived", "waived"),
                                        (" Accepted ", "accepted"), ("待审核 open", "open"),
                                        ("ok", None), ("", None), (None, None)])
def test_parse_review(text, code):
    assert review.parse_review(text) == code


# -- the owner sheet round trip ----------------------------------------------------------------

def sheet_rows(path):
    ws = openpyxl.load_workbook(path)["findings"]
    header = [c.value for c in ws[1]]
    return ws, header, {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}


def col(header, key):
    """1-based column of ``key`` in the sheet."""
    keys = [k for k, *_ in review._sheet_columns("EPSG:4547")]
    return header.index(review._sheet_columns("EPSG:4547")[keys.index(key)][1]) + 1


def test_owner_sheets_round_trip(project, tmp_path):
    path, fake = project
    run(path)
    out = tmp_path / "sheets"
    paths = review.export_owner_sheets(path, str(out))
    assert [os.path.basename(p) for p in paths] == sorted([f"findings_{GAS}.xlsx", f"findings_{WATER}.xlsx"])
    gas_xlsx, water_xlsx = (os.path.join(out, f"findings_{o}.xlsx") for o in (GAS, WATER))

    # -- what the water utility gets
    ws, header, rows = sheet_rows(water_xlsx)
    assert set(rows) == {cid("F1"), cid("F2"), cid("F4")}
    assert header[0].startswith("冲突编号") and "Conflict ID" in header[0]
    f1, f2, f4 = rows[cid("F1")], rows[cid("F2")], rows[cid("F4")]
    h = dict(zip([k for k, *_ in review._sheet_columns("EPSG:4547")], header))
    assert f1[h["pipe"]] == "JS1" and f1[h["other_uid"]] == "T1" and f1[h["rule_zh"]] == "树木与管线距离不足"
    assert f1[h["rule_en"]] == "tree too close to pipe" and f1[h["severity"]] == "错误 error"
    assert f2[h["pipe"]] == "JS1" and f2[h["other_uid"]] == "RQ1" and f2[h["area"]] == "和平小区 (A2); 幸福小区 (A1)"
    assert f4[h["pipe"]] == "JSP1" and f4[h["other_uid"]] == "S1" and f4[h["pipe_layer"]].endswith("pipe_point")
    assert f1[h["measured"]] == 0.5 and f1[h["required"]] == 1.0 and f1[h["unit"]] == "m"
    assert f1[h["review"]] == "待审核 open"
    # coordinates: the point, the middle of the line; lon/lat by an independent transform
    to_ll = pyproj.Transformer.from_crs("EPSG:4547", "EPSG:4490", always_xy=True)
    assert (f1[h["x"]], f1[h["y"]]) == (X0 + 100, Y0 + 100)
    assert (f2[h["x"]], f2[h["y"]]) == (X0 + 350, Y0 + 150)
    lon, lat = to_ll.transform(X0 + 350, Y0 + 150)
    assert f2[h["lon"]] == pytest.approx(lon, abs=1e-6) and f2[h["lat"]] == pytest.approx(lat, abs=1e-6)
    assert 113.9 < lon < 114.1 and 22 < lat < 23  # CM 114E, 2500 km north
    assert f2[h["map_link"]] == f"geo:{lat:.7f},{lon:.7f}"
    r_f2 = 2 + list(rows).index(cid("F2"))
    assert ws.cell(row=r_f2, column=col(header, "map_link")).hyperlink.target == f2[h["map_link"]]
    # protection: the ids are locked, the review cells are not; a drop-down on the review column
    assert ws.protection.sheet
    assert ws.cell(row=2, column=1).protection.locked
    for key in ("review", "reviewer", "review_note"):
        assert not ws.cell(row=2, column=col(header, key)).protection.locked
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and dv[0].type == "list"
    assert dv[0].formula1 == '"待审核 open,已确认 accepted,已豁免 waived"'
    letter = openpyxl.utils.get_column_letter(col(header, "review"))
    assert str(dv[0].sqref) == f"{letter}2:{letter}4"
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(col(header, "exported_review"))].hidden
    meta = dict(openpyxl.load_workbook(water_xlsx)["_renewal_planner"].iter_rows(values_only=True))
    assert meta["owner"] == WATER and meta["crs"] == "EPSG:4547"

    _, _, gas_rows = sheet_rows(gas_xlsx)
    assert set(gas_rows) == {cid("F2"), cid("F6")}
    assert gas_rows[cid("F2")][h["pipe"]] == "RQ1" and gas_rows[cid("F2")][h["other_uid"]] == "JS1"
    assert gas_rows[cid("F6")][h["pipe"]] == "RQ1" and gas_rows[cid("F6")][h["other_uid"]] == "RQ2"

    # -- the planner decides on F6 in the dock meanwhile
    results.set_review(path, [cid("F6")], "accepted", reviewer="规划王工", note="改线 rerouted")

    # -- the water utility edits its sheet as a person would in Excel
    wb = openpyxl.load_workbook(water_xlsx)
    ws = wb["findings"]
    row_of = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    c_rev, c_who, c_note = col(header, "review"), col(header, "reviewer"), col(header, "review_note")
    ws.cell(row=row_of[cid("F1")], column=c_rev, value="已豁免 waived")
    ws.cell(row=row_of[cid("F1")], column=c_note, value="树已移栽 tree moved")
    ws.cell(row=row_of[cid("F4")], column=c_rev, value="accepted")
    ws.cell(row=row_of[cid("F4")], column=c_who, value="张工")
    ws.cell(row=row_of[cid("F2")], column=c_rev, value="差不多吧 fine")   # garbage status
    ws.cell(row=row_of[cid("F2")], column=c_note, value="应当不被写入")
    extra = ws.max_row + 1
    ws.cell(row=extra, column=1, value="ffffffffffffffff")               # an id the project never had
    ws.cell(row=extra, column=c_rev, value="waived")
    wb.save(water_xlsx)
    before = table(path)

    s = review.import_owner_sheet(path, water_xlsx, reviewer="水务审核组")
    assert s["owner"] == WATER and s["rows"] == 4
    assert sorted(s["applied"]) == sorted([cid("F1"), cid("F4")])
    assert s["unknown_ids"] == [(extra, "ffffffffffffffff")]
    assert s["invalid"] == [(row_of[cid("F2")], cid("F2"), "差不多吧 fine")]
    assert s["unchanged"] == 0 and s["duplicates"] == []
    t = table(path)
    assert t.loc[cid("F1"), ["review", "review_note", "reviewer"]].tolist() == ["waived", "树已移栽 tree moved", "水务审核组"]
    assert t.loc[cid("F1"), "reviewed_at"] and pd.isna(before.loc[cid("F1"), "reviewed_at"])
    assert t.loc[cid("F4"), ["review", "reviewer"]].tolist() == ["accepted", "张工"]  # the sheet's reviewer
    assert t.loc[cid("F2"), "review"] == "open" and pd.isna(t.loc[cid("F2"), "review_note"])  # not applied
    for other in ("F2", "F3", "F5", "F6"):  # everything else exactly as before
        assert t.loc[cid(other)].equals(before.loc[cid(other)]), other
    assert "ffffffffffffffff" not in t.index
    lines = review.import_summary_lines(s)
    assert "2 applied" in lines[0] and any("ffffffffffffffff" in ln for ln in lines)

    # the same sheet again: what it says is already there, nothing is written
    s2 = review.import_owner_sheet(path, water_xlsx, reviewer="someone else")
    assert s2["applied"] == [] and s2["unchanged"] == 2
    assert table(path).equals(t)

    # -- the gas utility only adds a note to F2 and leaves F6 (decided meanwhile) alone
    wb = openpyxl.load_workbook(gas_xlsx)
    ws = wb["findings"]
    row_of = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=row_of[cid("F2")], column=c_note, value="燃气管已改迁")
    wb.save(gas_xlsx)
    s = review.import_owner_sheet(path, gas_xlsx)
    assert s["applied"] == [cid("F2")] and s["unchanged"] == 1
    t = table(path)
    assert t.loc[cid("F2"), ["review", "review_note", "reviewer"]].tolist() == ["open", "燃气管已改迁", GAS]
    assert t.loc[cid("F6"), ["review", "review_note", "reviewer"]].tolist() == ["accepted", "改线 rerouted", "规划王工"]

    # -- the decisions survive later check runs
    run(path)
    t = table(path)
    assert t.loc[cid("F1"), ["review", "review_note", "reviewer"]].tolist() == ["waived", "树已移栽 tree moved", "水务审核组"]
    assert t.loc[cid("F4"), "review"] == "accepted" and t.loc[cid("F2"), "review_note"] == "燃气管已改迁"
    fake.names = [n for n in FINDINGS if n != "F1"]  # F1 gone: resolved, the waiver remembered
    run(path)
    t = table(path)
    assert t.loc[cid("F1"), ["review", "previous_review"]].tolist() == ["resolved", "waived"]
    fake.names = list(FINDINGS)  # back again: the waiver comes back with it
    run(path)
    assert table(path).loc[cid("F1"), ["review", "review_note"]].tolist() == ["waived", "树已移栽 tree moved"]

    # resolved findings are left out of new sheets unless asked
    fake.names = [n for n in FINDINGS if n != "F4"]
    run(path)
    again = review.export_owner_sheets(path, str(tmp_path / "again"), owners=[WATER])
    assert len(again) == 1 and set(sheet_rows(again[0])[2]) == {cid("F1"), cid("F2")}
    again = review.export_owner_sheets(path, str(tmp_path / "again2"), owners=[WATER], include_resolved=True)
    assert set(sheet_rows(again[0])[2]) == {cid("F1"), cid("F2"), cid("F4")}


def test_import_rejects_resolved_and_duplicates_and_bad_files(project, tmp_path):
    path, _ = project
    run(path)
    (water,) = review.export_owner_sheets(path, str(tmp_path), owners=[WATER])
    wb = openpyxl.load_workbook(water)
    ws = wb["findings"]
    _, header, _ = sheet_rows(water)
    c_rev = col(header, "review")
    row_of = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=row_of[cid("F1")], column=c_rev, value="resolved")  # only the checks resolve
    dup = ws.max_row + 1
    ws.cell(row=dup, column=1, value=cid("F4"))
    ws.cell(row=dup, column=c_rev, value="waived")
    ws.cell(row=row_of[cid("F4")], column=c_rev, value="")  # a cleared status cell changes nothing
    wb.save(water)
    before = table(path)
    s = review.import_owner_sheet(path, water)
    assert s["invalid"] == [(row_of[cid("F1")], cid("F1"), "resolved")]
    assert s["duplicates"] == [(dup, cid("F4"))] and s["applied"] == []
    assert table(path).equals(before)

    with pytest.raises(InputError, match="no such file"):
        review.import_owner_sheet(path, str(tmp_path / "missing.xlsx"))
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(InputError, match="not a readable XLSX"):
        review.import_owner_sheet(path, str(bad))
    other = openpyxl.Workbook()
    other.active.append(["a", "b"])
    other.save(tmp_path / "other.xlsx")
    with pytest.raises(InputError, match="conflict_id"):
        review.import_owner_sheet(path, str(tmp_path / "other.xlsx"))
    with pytest.raises(InputError, match="folder"):
        review.export_owner_sheets(path, str(tmp_path / "one.xlsx"))


def test_a_plain_sheet_with_code_headers_is_accepted(project, tmp_path):
    """A utility may send back its own table: conflict_id / review / review_note
    columns (English keys), no hidden columns: compared with the project."""
    path, _ = project
    run(path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["conflict_id", "review", "review_note", "reviewer"])
    ws.append([cid("F3"), "waived", "废弃管 abandoned", "排水公司"])
    ws.append([cid("F5"), "open", None, None])  # as it is: unchanged
    wb.save(tmp_path / "plain.xlsx")
    s = review.import_owner_sheet(path, str(tmp_path / "plain.xlsx"))
    assert s["applied"] == [cid("F3")] and s["unchanged"] == 1 and s["owner"] is None
    t = table(path)
    assert t.loc[cid("F3"), ["review", "review_note", "reviewer"]].tolist() == ["waived", "废弃管 abandoned", "排水公司"]


def test_cli_review_export_and_import(project, tmp_path, capsys):
    from renewal_planner import cli

    path, _ = project
    run(path)
    out = tmp_path / "cli"
    assert cli.main(["review", "export", path, "--out", str(out), "--owner", GAS]) == 0
    files = os.listdir(out)
    assert files == [f"findings_{GAS}.xlsx"]
    assert cli.main(["review", "import", path, str(out / files[0]), "--reviewer", "x"]) == 0
    assert "0 applied" in capsys.readouterr().out
    assert cli.main(["review", "import", path, str(tmp_path / "none.xlsx")]) == 2
