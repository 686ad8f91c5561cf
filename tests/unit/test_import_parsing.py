"""Importer: header recognition, value codes, size parsing, coordinates (no QGIS)."""
import numpy as np
import pytest

from renewal_planner.layers.errors import InputError
from renewal_planner.layers.importer import coords, mapping
from renewal_planner.layers.importer.sizes import SizeError, parse_size


@pytest.mark.parametrize("header, target", [
    ("物探点号", "uid"), ("点号", "uid"), ("管种", "utility"), ("管线类别", "utility"),
    ("特征点", "feature"), ("附属物", "appurtenance"), ("X", "north"), ("Y", "east"),
    ("X坐标(m)", "north"), ("Ｙ", "east"), ("地面高程(m)", "ground_elev"), ("管顶高程", "top_elev"),
    ("管底高程", "invert_elev"), ("埋深（m）", "depth"), ("连接方向", "connect"),
    ("起点点号", "start_uid"), ("终点点号", "end_uid"), ("起点埋深", "depth_start"),
    ("终点埋深", "depth_end"), ("管径(mm)", "size"), ("材质", "material"), ("压力(MPa)", "pressure_mpa"),
    ("电压（kV）", "voltage_kv"), ("电缆条数", "cable_count"), ("总孔数", "holes_total"),
    ("占用孔数", "holes_used"), ("已用孔数", "holes_used"), ("权属单位", "owner"), ("建设年代", "build_year"),
    ("埋设方式", "burial"), ("Start_Point", "start_uid"), ("diameter_mm", "size"),
    ("Depth at start (m)", "depth_start"), ("备 注", "note"),
])
def test_headers_recognised(header, target):
    assert mapping.recognise([header]) == {header: target}


def test_unknown_header_not_mapped_and_first_wins():
    got = mapping.recognise(["物探点号", "点号", "颜色"])
    assert got == {"物探点号": "uid"}


def test_mapping_file_overrides(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("columns:\n  编码: uid\n  点号: null\n", encoding="utf-8")
    m = mapping.load_mapping(str(f))
    assert mapping.apply_mapping(["点号", "编码", "X"], m) == {"编码": "uid", "X": "north"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  编码: nonsense\n", encoding="utf-8")
    with pytest.raises(InputError, match="nonsense"):
        mapping.load_mapping(str(bad))


@pytest.mark.parametrize("text, code", [("JS", ("JS", None)), ("给水", ("JS", None)),
                                        ("雨水", ("PS", "YS")), ("YS", ("PS", "YS")),
                                        ("water supply", ("JS", None)), ("上水", ("JS", None)),
                                        ("天然气", ("RQ", "TR")), ("xyz", (None, None))])
def test_utility_as_code_or_name(text, code):
    assert mapping.utility_of(text) == code


def test_feature_and_appurtenance_names():
    assert mapping.code_of("point_feature", "三通") == "tee"
    assert mapping.code_of("point_feature", "拐点") == "bend"
    assert mapping.code_of("appurtenance", "窨井") == "manhole"
    assert mapping.code_of("appurtenance", "hydrant") == "hydrant"
    assert mapping.code_of("appurtenance", "飞碟") is None


@pytest.mark.parametrize("text, want", [
    ("DN300", {"diameter_mm": 300.0}), ("dn 300", {"diameter_mm": 300.0}), ("De110", {"diameter_mm": 110.0}),
    ("Φ300", {"diameter_mm": 300.0}), ("φ200mm", {"diameter_mm": 200.0}), ("300", {"diameter_mm": 300.0}),
    (300, {"diameter_mm": 300.0}), ("800×600", {"width_mm": 800.0, "height_mm": 600.0}),
    ("800X600", {"width_mm": 800.0, "height_mm": 600.0}), ("800*600", {"width_mm": 800.0, "height_mm": 600.0}),
    ("4孔2根", {"holes_total": 4, "cable_count": 2}), ("6孔", {"holes_total": 6}), ("3根", {"cable_count": 3}),
    ("600×400/6孔", {"width_mm": 600.0, "height_mm": 400.0, "holes_total": 6}),
    ("", {}), (None, {}), (float("nan"), {}),
])
def test_size_table(text, want):
    assert parse_size(text) == want


@pytest.mark.parametrize("text", ["abc", "DN", "300/200/100x", "-5"])
def test_bad_sizes_raise(text):
    with pytest.raises(SizeError):
        parse_size(text)


def test_null_tokens():
    for v in (None, "", " ", "NULL", "-", "/", float("nan")):
        assert mapping.is_null(v)
    for v in (0, "0", "0.0", "无名"):
        assert not mapping.is_null(v)


# ---------------------------------------------------------------- coordinates

def test_survey_convention_x_is_northing():
    # headers: X -> north, Y -> east; values as surveyors write them
    e, n, crs, notes = coords.table_crs([501548.0], [3379503.0], "EPSG:4547")
    assert (e[0], n[0], crs, notes) == (501548.0, 3379503.0, "EPSG:4547", [])


def test_x_used_as_easting_is_swapped_back():
    # a table that put the easting under X: the 'north' column holds 501548
    e, n, crs, notes = coords.table_crs([3379503.0, 3379600.0], [501548.0, 501600.0], "EPSG:4547")
    assert list(e) == [501548.0, 501600.0] and list(n) == [3379503.0, 3379600.0]
    assert notes and "swapped" in notes[0]


def test_zone_prefix_selects_prefixed_crs():
    e, n, crs, notes = coords.table_crs([38501548.0], [3379503.0], "EPSG:4547")
    assert crs == "EPSG:4526" and "prefix" in notes[0]
    # and it lands where the unprefixed coordinate does (same central meridian 114°E)
    x, y = coords.transform(e, n, crs, "EPSG:4547")
    assert x[0] == pytest.approx(501548.0, abs=1e-6) and y[0] == pytest.approx(3379503.0, abs=1e-6)


def test_zone_prefix_other_zone_transforms():
    # zone 39 (117°E): a point 1.5° east of the 114°E zone's central meridian is still in China
    e, n, crs, _ = coords.table_crs([39500000.0], [3379503.0], "EPSG:4547")
    assert crs == "EPSG:4527"
    x, _ = coords.transform(e, n, crs, "EPSG:4547")
    assert x[0] > 700000  # 117°E lies ~290 km east of 114°E at 30.5°N


def test_prefixed_crs_table():
    assert coords.prefixed_crs(25_400_000) == "EPSG:4513"
    assert coords.prefixed_crs(45_400_000) == "EPSG:4533"
    assert coords.prefixed_crs(13_400_000) == "EPSG:4491"
    assert coords.prefixed_crs(501_548) is None


def test_outside_area_is_refused():
    inside = coords.inside_area(np.array([501548.0, 501548.0, 9e6]), np.array([3379503.0, 1e5, 3379503.0]),
                                "EPSG:4547")
    assert list(inside) == [True, False, False]
