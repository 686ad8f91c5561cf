"""The declaration and the GeoPackage built from it (no QGIS needed)."""
import os
import sqlite3

import pytest
from osgeo import ogr

from renewal_planner.layers import gpkg, gpkgblob, schema
from renewal_planner.layers.errors import InputError

SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "spec", "data-model.md")


def test_every_layer_and_field_of_the_spec_is_declared():
    """Cross-check against the contract text itself where it is beside the clone."""
    m = schema.model()
    expected = {
        "pipe_point": ["utility", "subclass", "feature", "appurtenance", "ground_elev", "depth",
                       "cover_size", "owner", "acc_h", "acc_v", "survey_date"],
        "pipe_segment": ["utility", "subclass", "start_uid", "end_uid", "material", "diameter_mm",
                         "width_mm", "height_mm", "depth_start", "depth_end", "depth_ref", "burial",
                         "pressure_mpa", "voltage_kv", "cable_count", "holes_total", "holes_used",
                         "owner", "build_year", "acc_h", "acc_v", "survey_date"],
        "planned_road": ["name", "road_class", "part", "red_line_width_m"],
        "renovation_area": ["community", "neighbourhood", "year", "batch", "buildings", "households",
                            "floor_area_m2", "works", "phase"],
        "renovation_work": ["area_uid", "work_type", "excavation_depth_m"],
        "tree": ["kind", "species", "crown_m", "dbh_cm", "project"],
        "planting_area": ["planting", "species", "plants_per_m2", "project"],
        "parking_stall": ["stall_no", "stall_type", "width_m", "length_m", "angle_deg", "community"],
        "fire_lane": ["name", "required_width_m", "community"],
        "building": ["name", "floors", "foundation_depth_m", "community"],
        "conflict": ["conflict_id", "rule_id", "severity", "certainty", "layer_a", "uid_a", "layer_b",
                     "uid_b", "measured", "required", "unit", "message_zh", "message_en",
                     "rule_source", "review", "reviewer", "review_note", "first_seen", "last_seen"],
        "import_batch": ["batch_id", "file_name", "sha256", "uploaded_by", "started_at", "finished_at",
                         "target_layer", "crs_in", "encoding", "records_in", "accepted", "rejected",
                         "updated", "unchanged", "mapping"],
        "import_reject": ["batch_id", "record_no", "target_layer", "field", "value", "reason_code",
                          "reason_zh", "reason_en", "raw"],
    }
    common = ["uid", "status", "source", "updated_at", "note"]
    for name, fields in expected.items():
        lyr = m.layer(name)
        want = (common if lyr.thematic else []) + fields
        assert [f for f in lyr.field_names if f in want] == [f for f in want], name
    if os.path.exists(SPEC):
        text = open(SPEC, encoding="utf-8").read()
        for name in expected:
            assert f"`{name}`" in text, f"{name} not in data-model.md"


def test_code_lists_match_the_spec():
    m = schema.model()
    assert m.domain("utility").values == ["JS", "PS", "RQ", "RL", "DL", "TX", "GY", "QT"]
    assert set(m.domain("appurtenance").values) == {
        "manhole", "valve", "valve_chamber", "hydrant", "inlet", "meter", "air_valve",
        "junction_box", "handhole", "transformer", "none"}
    assert m.domain("burial").values == ["ZM", "GM", "GK", "GG", "JK", "DM", "SJ", "XTD", "ZH",
                                         "RF", "JN", "DG", "SX"]
    assert m.domain("review").values == ["open", "accepted", "waived", "resolved"]
    # every subclass belongs to a class, and the colours cover every class
    assert set(m.subclass_parent) == set(m.domain("subclass").values)
    assert set(m.colours) == set(m.domain("utility").values)
    assert m.colours["PS"] == (76, 57, 38)
    for d in m.domains.values():
        for code, zh, en in d.codes:
            assert zh and en and code


def test_declaration_errors_are_caught():
    import yaml

    doc = yaml.safe_load(open(schema.MODEL_PATH, encoding="utf-8"))
    doc["layers"]["tree"]["fields"][0]["domain"] = "no_such_list"
    with pytest.raises(schema.ModelError, match="unknown domain"):
        schema.parse(doc)


def test_init_creates_every_layer_with_constraints(tmp_path):
    path = gpkg.create_project(str(tmp_path / "p.gpkg"))
    m = schema.model()
    ds = ogr.Open(path)
    names = {ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())}
    assert {l.name for l in m.layers.values()} <= names
    assert {"code_list", "rp_project"} <= names
    seg = ds.GetLayerByName("pipe_segment")
    assert seg.GetGeomType() == ogr.wkbLineString
    assert seg.GetSpatialRef().GetAuthorityCode(None) == "4547"
    defn = seg.GetLayerDefn()
    uid = defn.GetFieldDefn(defn.GetFieldIndex("uid"))
    assert not uid.IsNullable() and uid.IsUnique()
    util = defn.GetFieldDefn(defn.GetFieldIndex("utility"))
    assert util.GetDomainName() == "utility"
    status = defn.GetFieldDefn(defn.GetFieldIndex("status"))
    assert status.GetDefault() == "'existing'"
    # no default for depth_ref: NULL means "the class's convention" (rules file), never a silent 'top'
    assert defn.GetFieldDefn(defn.GetFieldIndex("depth_ref")).GetDefault() is None
    ds = None
    con = sqlite3.connect(path)
    gpkgblob.register_functions(con)  # GDAL's R-tree triggers call ST_IsEmpty & co.
    n = con.execute("SELECT count(*) FROM code_list WHERE domain='utility'").fetchone()[0]
    assert n == 8
    title = con.execute("SELECT title, constraint_name FROM gpkg_data_columns "
                        "WHERE table_name='pipe_segment' AND column_name='utility'").fetchone()
    assert title == ("管线类别 / Utility class", "utility")
    parent = con.execute("SELECT parent FROM code_list WHERE domain='subclass' AND code='WS'").fetchone()[0]
    assert parent == "PS"
    # NOT NULL and UNIQUE hold in the file itself, not only in forms
    con.execute("INSERT INTO tree (uid, kind) VALUES ('T1', 'tree')")
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO tree (uid, kind) VALUES ('T1', 'tree')")
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO tree (uid) VALUES (NULL)")
    con.close()


@pytest.mark.parametrize("crs, msg", [("EPSG:4490", "not projected"), ("EPSG:999999", "unknown CRS"),
                                      ("EPSG:2249", "not in metres"), ("bogus", "unknown CRS")])
def test_init_refuses_bad_crs(tmp_path, crs, msg):
    with pytest.raises(InputError, match=msg):
        gpkg.create_project(str(tmp_path / "p.gpkg"), crs=crs)
    assert os.listdir(tmp_path) == []


def test_init_never_damages_an_existing_file(tmp_path):
    other = tmp_path / "notes.gpkg"
    other.write_bytes(b"precious data")
    with pytest.raises(InputError, match="not a GeoPackage"):
        gpkg.create_project(str(other))
    assert other.read_bytes() == b"precious data"
    first = gpkg.create_project(str(tmp_path / "p.gpkg"))
    before = open(first, "rb").read()
    with pytest.raises(InputError, match="exists already"):
        gpkg.create_project(first)
    assert open(first, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["notes.gpkg", "p.gpkg"]  # no temp files left


def test_init_unwritable_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        gpkg.create_project(str(tmp_path / "nope" / "p.gpkg"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(str(ro), os.W_OK):  # root ignores permission bits
            pytest.skip("running as root: a read-only folder is writable")
        with pytest.raises(InputError, match="not writable"):
            gpkg.create_project(str(ro / "p.gpkg"))
    finally:
        ro.chmod(0o700)
