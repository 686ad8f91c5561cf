"""Quantities (tools/quantities.py) against hand-counted figures.

The small project: area A = box (0,0)-(120,100) 甲小区, area B = box
(250,0)-(350,100) 乙小区. Every expected figure below is counted by hand from
the coordinates in this file; the demo district is checked against an
independent geopandas oracle (clip / sjoin).
"""
from __future__ import annotations

import csv
import math
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import make_project  # noqa: E402

shapely = pytest.importorskip("shapely")
from shapely.geometry import LineString, Point, box  # noqa: E402

from renewal_planner.layers.errors import InputError  # noqa: E402
from renewal_planner.tools import quantities as q  # noqa: E402


def _stall(x, y, **kw):
    return dict(geometry=box(x, y, x + 2.5, y + 5.3), **kw)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("q")
    path = make_project(
        tmp,
        renovation_area=[
            dict(uid="A", geometry=box(0, 0, 120, 100), community="甲小区", neighbourhood="一社区",
                 buildings=3, households=60, floor_area_m2=5000.0, year=2025, phase="design"),
            dict(uid="B", geometry=box(250, 0, 350, 100), community="乙小区", neighbourhood="一社区",
                 buildings=2, households=40, floor_area_m2=3000.0, year=2026, phase="planned"),
        ],
        pipe_segment=[
            # drainage, 300 m, 120 m inside A, 180 m outside
            dict(uid="S1", geometry=LineString([(-100, 50), (200, 50)]), utility="PS", subclass="YS",
                 material="HDPE", diameter_mm=400.0),
            # water, 100 m wholly inside A
            dict(uid="S2", geometry=LineString([(10, 10), (110, 10)]), utility="JS", subclass="JP",
                 material="PE", diameter_mm=100.0),
            # water, abandoned, 50 m inside A: in the theme table, not in the summary
            dict(uid="S3", geometry=LineString([(10, 20), (60, 20)]), utility="JS", subclass="JP",
                 material="PE", diameter_mm=100.0, status="abandoned"),
            # power duct bank 800x600, 100 m, half inside B
            dict(uid="S4", geometry=LineString([(260, 50), (260, 150)]), utility="DL", subclass="GD",
                 material="PVC", width_mm=800.0, height_mm=600.0),
            # water, B's diagonal corner to corner: 100*sqrt(2) m, wholly inside (ends on the boundary)
            dict(uid="S5", geometry=LineString([(250, 0), (350, 100)]), utility="JS", subclass="JP",
                 material="PE", diameter_mm=100.0),
        ],
        pipe_point=[
            dict(uid="P1", geometry=Point(50, 50), utility="PS", appurtenance="manhole"),
            dict(uid="P2", geometry=Point(100, 50), utility="PS", appurtenance="manhole"),
            dict(uid="P3", geometry=Point(60, 55), utility="PS", appurtenance="inlet"),
            dict(uid="P4", geometry=Point(120, 30), utility="PS", appurtenance="manhole"),  # on A's edge
            dict(uid="P5", geometry=Point(300, 50), utility="JS", appurtenance="valve"),
            dict(uid="P6", geometry=Point(20, 10), utility="JS", appurtenance="none"),   # not counted
            dict(uid="P7", geometry=Point(-50, 50), utility="PS", appurtenance="manhole"),  # outside
        ],
        tree=[
            dict(geometry=Point(5, 90), kind="tree", species="香樟"),
            dict(geometry=Point(10, 90), kind="tree", species="香樟"),
            dict(geometry=Point(15, 90), kind="tree", species="香樟"),
            dict(geometry=Point(20, 90), kind="tree", species="桂花"),
            dict(geometry=Point(25, 90), kind="tree", species="桂花"),
            dict(geometry=Point(300, 90), kind="shrub", species="红叶石楠"),
            dict(geometry=Point(500, 500), kind="tree", species="香樟"),  # outside
        ],
        parking_stall=[
            _stall(40, 70, stall_type="perpendicular"),
            _stall(42.5, 70, stall_type="perpendicular"),
            _stall(45, 70, stall_type="perpendicular"),
            _stall(47.5, 70, stall_type="accessible"),
            _stall(270, 70, stall_type="ev_charging"),
            _stall(272.5, 70, stall_type="ev_charging", community="丙小区"),  # its own community
            _stall(249, 10, stall_type="perpendicular"),  # straddles B's edge, centre inside
        ],
        planting_area=[
            dict(geometry=box(10, 60, 30, 80), planting="lawn"),       # 400 m² in A
            dict(geometry=box(110, 60, 130, 62), planting="hedge"),    # 40 m²: 20 in A, 20 outside
            dict(geometry=box(260, 10, 270, 20), planting="pattern"),  # 100 m² in B
        ],
        building=[
            dict(geometry=box(20, 25, 40, 35), name="1栋"),
            dict(geometry=box(60, 25, 80, 35), name="2栋"),
            dict(geometry=box(280, 20, 300, 30), name="1栋", community="乙小区"),
            dict(geometry=box(310, 20, 330, 30), name="2栋"),
            dict(geometry=box(310, 40, 330, 45), name="旧房", status="abandoned"),
        ],
        fire_lane=[dict(geometry=box(0, 40, 120, 46), name="主通道", community="甲小区")],
    )
    return path, q.compute_quantities(path)


def _rows(df, **match):
    m = df
    for k, v in match.items():
        m = m[m[k].isna()] if v is None else m[m[k] == v]
    return m


def _one(df, col, **match):
    m = _rows(df, **match)
    assert len(m) == 1, (match, m)
    return m.iloc[0][col]


def test_pipes_by_area_class_size_material_status(small):
    _, r = small
    p = r["pipes"]
    assert _one(p, "length_km", area_uid="A", utility="PS") == pytest.approx(0.120)
    assert _one(p, "length_km", area_uid=None, utility="PS") == pytest.approx(0.180)
    assert _one(p, "length_km", area_uid="A", utility="JS", status="existing") == pytest.approx(0.100)
    assert _one(p, "length_km", area_uid="A", utility="JS", status="abandoned") == pytest.approx(0.050)
    assert _one(p, "length_km", area_uid="B", utility="JS") == pytest.approx(100 * math.sqrt(2) / 1000)
    dl = _rows(p, area_uid="B", utility="DL")
    assert len(dl) == 1 and dl.iloc[0]["section"] == "800×600"
    assert dl.iloc[0]["length_km"] == pytest.approx(0.050)
    assert _one(p, "length_km", area_uid=None, utility="DL") == pytest.approx(0.050)
    assert _one(p, "diameter_mm", area_uid="A", utility="PS") == 400
    assert _one(p, "material", area_uid="A", utility="PS") == "HDPE"
    assert set(_rows(p, area_uid="A")["community"]) == {"甲小区"}
    # nothing lost: inside + outside = the layer's length
    assert p["length_km"].sum() == pytest.approx((300 + 100 + 50 + 100 + 100 * math.sqrt(2)) / 1000)


def test_points_trees_stalls_planting(small):
    _, r = small
    pts = r["points"]
    assert _one(pts, "count", area_uid="A", appurtenance="manhole") == 3   # P1, P2, P4 on the edge
    assert _one(pts, "count", area_uid="A", appurtenance="inlet") == 1
    assert _one(pts, "count", area_uid="B", appurtenance="valve") == 1
    assert _one(pts, "count", area_uid=None, appurtenance="manhole") == 1
    assert "none" not in set(pts["appurtenance"])
    assert pts["count"].sum() == 6

    t = r["trees"]
    assert _one(t, "count", area_uid="A", species="香樟") == 3
    assert _one(t, "count", area_uid="A", species="桂花") == 2
    assert _one(t, "count", area_uid="B", kind="shrub") == 1
    assert _one(t, "count", area_uid=None, species="香樟") == 1

    s = r["stalls"]
    assert _one(s, "count", area_uid="A", stall_type="perpendicular") == 3
    assert _one(s, "count", area_uid="A", stall_type="accessible") == 1
    assert _one(s, "area_m2", area_uid="A", stall_type="perpendicular") == pytest.approx(3 * 2.5 * 5.3)
    # the stall with its own community is reported under it, the other under the area's
    assert _one(s, "count", area_uid="B", stall_type="ev_charging", community="乙小区") == 1
    assert _one(s, "count", area_uid="B", stall_type="ev_charging", community="丙小区") == 1
    assert _one(s, "count", area_uid="B", stall_type="perpendicular") == 1  # straddling, centre in B
    assert s["count"].sum() == 7

    g = r["planting"]
    assert _one(g, "area_m2", area_uid="A", planting="lawn") == pytest.approx(400)
    assert _one(g, "area_m2", area_uid="A", planting="hedge") == pytest.approx(20)
    assert _one(g, "area_m2", area_uid=None, planting="hedge") == pytest.approx(20)
    assert _one(g, "area_m2", area_uid="B", planting="pattern") == pytest.approx(100)

    f = r["fire_lanes"]
    assert _one(f, "count", area_uid="A") == 1
    assert _one(f, "area_m2", area_uid="A") == pytest.approx(720)


def test_buildings_and_summary(small):
    _, r = small
    b = r["buildings"].set_index("area_uid")
    assert b.loc["A", "buildings_declared"] == 3 and b.loc["A", "buildings_counted"] == 2
    assert b.loc["A", "buildings_difference"] == -1
    assert b.loc["B", "buildings_counted"] == 2   # the abandoned one is not counted
    assert b.loc["B", "households"] == 40 and b.loc["B", "floor_area_m2"] == 3000

    s = r["summary"]
    assert list(s["scope"]) == ["area", "area", "total", "outside"]
    a = s[s["area_uid"] == "A"].iloc[0]
    assert a["pipe_km"] == pytest.approx(0.220)          # abandoned S3 left out
    assert a["pipe_km_PS"] == pytest.approx(0.120)
    assert a["pipe_km_JS"] == pytest.approx(0.100)
    assert a["appurtenances"] == 4 and a["stalls"] == 4 and a["trees"] == 5 and a["shrubs"] == 0
    assert a["planting_m2"] == pytest.approx(420) and a["fire_lanes"] == 1
    t = s[s["scope"] == "total"].iloc[0]
    assert t["communities"] == 2 and t["buildings_declared"] == 5 and t["buildings_counted"] == 4
    assert t["households"] == 100 and t["floor_area_m2"] == 8000
    assert t["pipe_km"] == pytest.approx(0.220 + 0.050 + 100 * math.sqrt(2) / 1000)
    assert t["pipe_km_DL"] == pytest.approx(0.050)
    assert t["stalls"] == 7 and t["trees"] == 5 and t["shrubs"] == 1 and t["appurtenances"] == 5
    assert t["planting_m2"] == pytest.approx(520)
    o = s[s["scope"] == "outside"].iloc[0]
    assert o["pipe_km"] == pytest.approx(0.230) and o["trees"] == 1 and o["appurtenances"] == 1
    lines = q.summary_lines(r)
    assert "households: 100" in lines[0] and "drainage 0.12 km" in lines[1]


def test_one_area(small):
    path, _ = small
    r = q.compute_quantities(path, area="B")
    assert set(r["pipes"]["area_uid"]) == {"B"}
    assert list(r["summary"]["scope"]) == ["area", "total"]
    assert r["summary"].iloc[1]["stalls"] == 3
    with pytest.raises(InputError, match="no renovation area"):
        q.compute_quantities(path, area="Z")


def test_overlapping_areas_total_counts_once(tmp_path):
    path = make_project(
        tmp_path,
        renovation_area=[dict(uid="A", geometry=box(0, 0, 100, 100), community="甲"),
                         dict(uid="B", geometry=box(50, 0, 150, 100), community="乙")],
        pipe_segment=[dict(geometry=LineString([(0, 50), (150, 50)]), utility="PS", subclass="WS")],
        planting_area=[dict(geometry=box(0, 0, 150, 10), planting="lawn")],
        tree=[dict(geometry=Point(75, 75), kind="tree", species="银杏")],
    )
    r = q.compute_quantities(path)
    p = r["pipes"]
    assert _one(p, "length_km", area_uid="A") == pytest.approx(0.100)
    assert _one(p, "length_km", area_uid="B") == pytest.approx(0.100)
    t = r["summary"].query("scope == 'total'").iloc[0]
    assert t["pipe_km"] == pytest.approx(0.150) and t["pipe_km_PS"] == pytest.approx(0.150)
    assert t["planting_m2"] == pytest.approx(1500)
    assert t["trees"] == 1                               # a point counts in the first area only
    assert _one(r["trees"], "count", area_uid="A") == 1


def test_pipe_on_a_shared_edge_counts_once(tmp_path):
    path = make_project(
        tmp_path,
        renovation_area=[dict(uid="A", geometry=box(0, 0, 100, 100), community="甲"),
                         dict(uid="B", geometry=box(0, 100, 100, 200), community="乙")],
        pipe_segment=[dict(geometry=LineString([(10, 100), (60, 100)]), utility="JS", subclass="JP"),
                      dict(geometry=LineString([(50, 50), (50, 150)]), utility="PS", subclass="WS")],
    )
    r = q.compute_quantities(path)
    p = r["pipes"]
    assert _one(p, "length_km", area_uid="A", utility="JS") == pytest.approx(0.050)
    assert len(_rows(p, area_uid="B", utility="JS")) == 0
    assert _one(p, "length_km", area_uid="A", utility="PS") == pytest.approx(0.050)
    assert _one(p, "length_km", area_uid="B", utility="PS") == pytest.approx(0.050)
    assert p["length_km"].sum() == pytest.approx(0.150)
    t = r["summary"].query("scope == 'total'").iloc[0]
    assert t["pipe_km"] == pytest.approx(0.150)


def test_empty_project(tmp_path):
    path = make_project(tmp_path)
    r = q.compute_quantities(path)
    assert list(r) == q.THEME_ORDER
    assert all(len(r[k]) == 0 for k in q.THEMES)
    t = r["summary"].iloc[0]
    assert t["scope"] == "total" and t["pipe_km"] == 0
    q.write_quantities(r, str(tmp_path / "e.xlsx"))
    q.write_quantities(r, str(tmp_path / "e.csv"))


def test_xlsx_round_trip(small, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    _, r = small
    out = q.write_quantities(r, str(tmp_path / "q.xlsx"))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总 Summary", "管线 Pipes", "附属物 Appurtenances", "车位 Stalls",
                             "树木 Trees", "种植 Planting", "消防通道 Fire lanes", "楼栋户数 Buildings"]
    ws = wb["管线 Pipes"]
    zh = [c.value for c in ws[1]]
    en = [c.value for c in ws[2]]
    assert zh == ["片区编号", "小区名称", "管线类别", "管线小类", "材质", "管径(mm)", "断面(宽×高 mm)", "状态",
                  "长度(km)"]
    assert en[:3] == ["Area ID", "Community", "Utility class"] and en[-1] == "Length (km)"
    rows = [row for row in ws.iter_rows(min_row=3, values_only=True)]
    assert len(rows) == len(r["pipes"])
    ps_a = [row for row in rows if row[0] == "A" and row[2] == "排水 / drainage"]
    assert len(ps_a) == 1 and ps_a[0][8] == pytest.approx(0.12) and ps_a[0][5] == 400
    assert ps_a[0][3] == "雨水 / rain" and ps_a[0][7] == "现状 / existing"
    assert ws.cell(row=3, column=9).number_format == "#,##0.000"
    s = wb["汇总 Summary"]
    head = [c.value for c in s[2]]
    total = [row for row in s.iter_rows(min_row=3, values_only=True) if row[0] == "合计 / total"][0]
    assert total[head.index("Households")] == 100
    assert total[head.index("Parking stalls")] == 7
    assert total[head.index("drainage pipes (km)")] == pytest.approx(0.12)
    b = wb["楼栋户数 Buildings"]
    assert [c.value for c in b[1]][:4] == ["片区编号", "小区名称", "楼栋数(申报)", "楼栋数(图上)"]


def test_csv_long_table(small, tmp_path):
    _, r = small
    out = q.write_quantities(r, str(tmp_path / "q.csv"))
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == q.CSV_COLUMNS
    pipes = [x for x in rows if x["theme"] == "pipes"]
    assert sum(float(x["quantity"]) for x in pipes) == pytest.approx(r["pipes"]["length_km"].sum())
    hit = [x for x in pipes if x["area_uid"] == "A" and x["utility"] == "PS"]
    assert len(hit) == 1 and hit[0]["unit"] == "km" and float(hit[0]["quantity"]) == pytest.approx(0.12)
    assert hit[0]["diameter_mm"] in ("400.0", "400") and hit[0]["measure"] == "length_km"
    trees = [x for x in rows if x["theme"] == "trees" and x["area_uid"] == "A" and x["species"] == "香樟"]
    assert trees[0]["quantity"] == "3" and trees[0]["unit"] == "pcs"
    tot = [x for x in rows if x["theme"] == "summary" and x["area_uid"] == "(total)"
           and x["measure"] == "households"]
    assert float(tot[0]["quantity"]) == 100


def test_bad_input(tmp_path, small):
    path, r = small
    with pytest.raises(InputError, match="no such project"):
        q.compute_quantities(str(tmp_path / "missing.gpkg"))
    with pytest.raises(InputError, match="GeoPackage"):
        q.compute_quantities(str(tmp_path / "x.shp"))
    with pytest.raises(InputError, match="xlsx or .csv"):
        q.write_quantities(r, str(tmp_path / "q.pdf"))
    from renewal_planner import cli

    assert cli.main(["quantities", str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "q.xlsx")]) == 2
    assert cli.main(["quantities", path, "--out", str(tmp_path / "q.txt")]) == 2
    assert cli.main(["quantities", path]) == 2            # --out is required
    assert not (tmp_path / "q.xlsx").exists()
    assert cli.main(["quantities", path, "--out", str(tmp_path / "ok.csv")]) == 0
    assert (tmp_path / "ok.csv").stat().st_size > 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from renewal_planner.tools.demo import build_demo

    res = build_demo(str(tmp_path_factory.mktemp("demo")), with_styles=False)
    return res["project"], q.compute_quantities(res["project"])


def test_demo_totals_match_an_independent_oracle(demo):
    import geopandas as gpd

    from renewal_planner.layers import io

    path, r = demo
    areas = io.read_layer(path, "renovation_area")
    s = r["summary"]
    tot = s[s["scope"] == "total"].iloc[0]
    assert tot["communities"] == areas["community"].nunique() == 4
    assert tot["households"] == areas["households"].sum()
    assert tot["buildings_declared"] == areas["buildings"].sum()
    assert tot["floor_area_m2"] == pytest.approx(areas["floor_area_m2"].sum())

    # pipes: clip each area with geopandas (an overlay, independent of the engine);
    # the demo's areas do not overlap, and a pipe on the edge of two adjacent
    # areas counts in the first by uid: take away what earlier areas hold
    pipes = io.read_layer(path, "pipe_segment")
    areas = areas.sort_values("uid").reset_index(drop=True)
    assert gpd.GeoSeries(areas.geometry).union_all().area == pytest.approx(areas.area.sum())
    for i, a in areas.iterrows():
        clipped = gpd.clip(pipes, a.geometry)
        if i:
            clipped = clipped.set_geometry(clipped.difference(areas.geometry[:i].union_all()))
        for util, grp in clipped.groupby("utility"):
            mine = r["pipes"][(r["pipes"]["area_uid"] == a["uid"]) & (r["pipes"]["utility"] == util)]
            assert mine["length_km"].sum() == pytest.approx(grp.length.sum() / 1000, abs=1e-9), (a["uid"], util)
        live = clipped[clipped["status"] != "abandoned"]
        row = s[s["area_uid"] == a["uid"]].iloc[0]
        assert row["pipe_km"] == pytest.approx(live.length.sum() / 1000, abs=1e-9)
    assert r["pipes"]["length_km"].sum() == pytest.approx(pipes.length.sum() / 1000)

    # trees and stalls: spatial join (stalls by centroid: rectangles)
    trees = io.read_layer(path, "tree")
    jt = gpd.sjoin(trees, areas[["uid", "geometry"]].rename(columns={"uid": "area"}), predicate="within")
    for (uid, species), n in jt.groupby(["area", "species"]).size().items():
        assert r["trees"][(r["trees"]["area_uid"] == uid) & (r["trees"]["species"] == species)]["count"].sum() == n
    stalls = io.read_layer(path, "parking_stall")
    cs = stalls.set_geometry(stalls.centroid)
    js = gpd.sjoin(cs, areas[["uid", "geometry"]].rename(columns={"uid": "area"}), predicate="within")
    for (uid, kind), n in js.groupby(["area", "stall_type"]).size().items():
        assert r["stalls"][(r["stalls"]["area_uid"] == uid) & (r["stalls"]["stall_type"] == kind)]["count"].sum() == n
    assert r["stalls"]["count"].sum() == len(stalls)
    assert tot["stalls"] + s[s["scope"] == "outside"].iloc[0]["stalls"] == \
        (stalls["status"] != "abandoned").sum()

    # planting: overlay area
    plant = io.read_layer(path, "planting_area")
    for _, a in areas.iterrows():
        clipped = gpd.clip(plant, a.geometry)
        mine = r["planting"][r["planting"]["area_uid"] == a["uid"]]["area_m2"].sum()
        assert mine == pytest.approx(clipped.area.sum())

    # buildings mapped per area: by centroid
    blds = io.read_layer(path, "building")
    blds = blds[blds["status"] != "abandoned"]
    jb = gpd.sjoin(blds.set_geometry(blds.centroid), areas[["uid", "geometry"]].rename(columns={"uid": "area"}), predicate="within")
    counted = r["buildings"].set_index("area_uid")["buildings_counted"]
    for uid, n in jb.groupby("area").size().items():
        assert counted[uid] == n


def test_demo_workbook(demo, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    _, r = demo
    out = q.write_quantities(r, str(tmp_path / "demo.xlsx"))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "汇总 Summary"
    for theme in q.THEMES:
        ws = wb[q.SHEETS[theme]]
        assert ws.max_row == 2 + len(r[theme])
