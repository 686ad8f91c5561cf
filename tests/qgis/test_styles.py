"""Styles, forms and the project file, as a QGIS *without* the plugin sees them.

Layers are opened as plain ``QgsVectorLayer(f'{path}|layername=...', 'x', 'ogr')``
so the style comes from the GeoPackage's ``layer_styles`` table, never from
our code. Rendering checks read pixels of a map drawn by QGIS itself.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile

import pytest
from osgeo import ogr
from qgis.core import (Qgis, QgsCategorizedSymbolRenderer, QgsCoordinateReferenceSystem, QgsExpressionContext,
                       QgsExpressionContextUtils, QgsFeature, QgsFieldConstraints, QgsGeometry,
                       QgsMapRendererSequentialJob, QgsMapSettings, QgsPointXY, QgsProject,
                       QgsRectangle, QgsVectorLayer, QgsVectorLayerUtils)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument

from renewal_planner.layers import project as rp_project
from renewal_planner.layers import schema, styles

M = schema.model()
NULL_SENTINEL = "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"
HARD = QgsFieldConstraints.ConstraintStrengthHard
LAYER_ORIGIN = QgsFieldConstraints.ConstraintOriginLayer


@pytest.fixture(scope="module")
def base_project(tmp_path_factory, qgis_app):
    folder = tmp_path_factory.mktemp("styles")
    path = rp_project.init_project(str(folder / "p.gpkg"), write_qgs=True)
    return path


@pytest.fixture
def gpkg(base_project, tmp_path):
    """A private copy of the styled project (tests that add features)."""
    dst = tmp_path / "p.gpkg"
    shutil.copy(base_project, dst)
    return str(dst)


def plain(path, name, extra=""):
    layer = QgsVectorLayer(f"{path}|layername={name}{extra}", "x", "ogr")
    assert layer.isValid(), name
    return layer


def rgb(colour: QColor):
    return (colour.red(), colour.green(), colour.blue())


def add_features(path, name, rows):
    """Write rows [(wkt, {field: value})] with GDAL (independent of QGIS)."""
    ds = ogr.Open(path, 1)
    lyr = ds.GetLayerByName(name)
    for wkt, attrs in rows:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in attrs.items():
            f.SetField(k, v)
        f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        assert lyr.CreateFeature(f) == 0
    ds = None


def render(layers, extent, size=(500, 300)):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    settings.setOutputSize(QSize(*size))
    settings.setOutputDpi(96)
    settings.setExtent(QgsRectangle(*extent))
    settings.setBackgroundColor(QColor(255, 255, 255))
    flag = getattr(getattr(Qgis, "MapSettingsFlag", None), "Antialiasing", None)
    settings.setFlag(flag if flag is not None else QgsMapSettings.Antialiasing, False)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    # the extent keeps its aspect (5:3 = 500:300), so map -> pixel is linear
    ms = job.mapSettings()

    def pixel(x, y):
        pt = ms.mapToPixel().transform(QgsPointXY(x, y))
        return rgb(QColor(img.pixel(int(round(pt.x())), int(round(pt.y())))))

    return img, pixel, ms


def ctx_for(layer, attrs):
    f = QgsFeature(layer.fields())
    for k, v in attrs.items():
        f.setAttribute(k, v)
    ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    ctx.setFeature(f)
    return ctx


# --------------------------------------------------------------------------


def test_every_layer_has_default_zh_and_named_en_style(base_project):
    con = sqlite3.connect(base_project)
    rows = con.execute("SELECT f_table_name, stylename, useAsDefault FROM layer_styles").fetchall()
    con.close()
    expected = set()
    for lyr in M.layers.values():
        expected |= {(lyr.name, "zh", 1), (lyr.name, "en", 0)}
    assert set(rows) == expected
    assert len(rows) == len(expected)  # one each, no duplicates


def test_store_styles_again_replaces_not_duplicates(gpkg):
    styles.store_styles(gpkg)
    con = sqlite3.connect(gpkg)
    n = con.execute("SELECT count(*) FROM layer_styles").fetchone()[0]
    con.close()
    assert n == 2 * len(M.layers)


@pytest.mark.parametrize("name", ["pipe_point", "pipe_segment"])
def test_pipe_categories_use_cjj61_colours(base_project, name):
    layer = plain(base_project, name)
    r = layer.renderer()
    assert isinstance(r, QgsCategorizedSymbolRenderer)
    assert r.classAttribute() == "utility"
    got = {c.value(): rgb(c.symbol().color()) for c in r.categories()}
    assert got == {k: tuple(v) for k, v in M.colours.items()}
    assert set(got) == set(M.domain("utility").values)
    # hand-written CJJ 61 values as an independent oracle
    assert got["GY"] == (0, 0, 0) and got["QT"] == (102, 0, 204) and got["JS"] == (0, 255, 255)
    labels = {c.value(): c.label() for c in r.categories()}
    assert labels["JS"] == "给水 JS"


def test_planned_and_abandoned_pipes_are_drawn_differently(gpkg):
    add_features(gpkg, "pipe_segment", [
        ("LINESTRING (0 50, 100 50)", {"uid": "a", "utility": "JS", "status": "existing"}),
        ("LINESTRING (0 30, 100 30)", {"uid": "b", "utility": "JS", "status": "planned"}),
        ("LINESTRING (0 10, 100 10)", {"uid": "c", "utility": "JS", "status": "abandoned"}),
    ])
    layer = plain(gpkg, "pipe_segment")
    _, pixel, _ = render([layer], (0, 0, 100, 60))
    cyan, grey, white = (0, 255, 255), styles.GREY[:3], (255, 255, 255)
    xs = [x / 2 for x in range(10, 190)]
    existing = [pixel(x, 50) for x in xs]
    planned = [pixel(x, 30) for x in xs]
    abandoned = [pixel(x, 10) for x in xs]
    assert all(p == cyan for p in existing)
    share = sum(p == cyan for p in planned) / len(planned)
    assert 0.3 < share < 0.95, share                     # dashed: gaps along the line
    assert all(p in (cyan, white) for p in planned)
    # abandoned: a neutral grey (a pen under one pixel wide blends a little)
    assert all(p[0] == p[1] == p[2] and abs(p[0] - grey[0]) <= 12 for p in abandoned)


def test_planned_points_hollow_and_appurtenances_have_own_shapes(gpkg):
    add_features(gpkg, "pipe_point", [
        ("POINT (20 30)", {"uid": "a", "utility": "RQ", "status": "existing", "appurtenance": "manhole"}),
        ("POINT (50 30)", {"uid": "b", "utility": "RQ", "status": "planned", "appurtenance": "manhole"}),
        ("POINT (80 30)", {"uid": "c", "utility": "RQ", "status": "abandoned", "appurtenance": "manhole"}),
    ])
    layer = plain(gpkg, "pipe_point")
    _, pixel, _ = render([layer], (0, 0, 100, 60))
    assert pixel(20, 30) == (255, 0, 255)           # RQ magenta, filled
    assert pixel(50, 30) == (255, 255, 255)         # planned: hollow
    assert pixel(80, 30) == styles.GREY[:3]         # abandoned: grey
    # a planned point still shows its class colour on the outline
    _, pixel_zoom, ms = render([layer], (45, 27, 55, 33))
    ring = [pixel_zoom(50 + dx / 10, 30) for dx in range(-40, 41)]
    assert (255, 0, 255) in ring

    # marker shape per appurtenance (data-defined), distinct for each
    cats = layer.renderer().categories()   # keep the copies alive while in use
    sl = cats[0].symbol().symbolLayer(0)
    prop = sl.dataDefinedProperties().property(styles._sl_prop("Name"))
    shapes = {}
    for code in M.domain("appurtenance").values:
        value, ok = prop.valueAsString(ctx_for(layer, {"appurtenance": code}), "?")
        assert ok
        shapes[code] = value
    assert shapes["manhole"] == "circle" and shapes["valve"] == "diamond"
    assert shapes["hydrant"] == "triangle"
    from qgis.core import QgsSimpleMarkerSymbolLayerBase
    real = [QgsSimpleMarkerSymbolLayerBase.decodeShape(s) for c, s in shapes.items() if c != "none"]
    assert all(ok for _, ok in real)                   # names QGIS 3.22 knows
    assert len({shape for shape, _ in real}) == len(real)   # no two alike (aliases too)


def test_every_layer_has_a_renderer_and_trees_shrubs_differ(base_project):
    for lyr in M.layers.values():
        if lyr.geometry is None:
            continue
        # the empty generic-geometry conflict table opens without a geometry
        # type; its sublayers are checked in the conflict test
        layer = plain(base_project, lyr.name, "|geometrytype=Point" if lyr.name == "conflict" else "")
        assert layer.renderer() is not None, lyr.name
        assert layer.renderer().type() in ("categorizedSymbol", "RuleRenderer") or lyr.name in (
            "renovation_area", "renovation_work", "fire_lane", "building"), lyr.name
    tree_layer = plain(base_project, "tree")
    tree_cats = tree_layer.renderer().categories()
    sizes = {c.value(): c.symbol().size() for c in tree_cats}
    assert sizes["shrub"] < sizes["tree"]
    assert all(rgb(c.symbol().color())[1] > 100 for c in tree_cats)   # green
    fire_layer = plain(base_project, "fire_lane")
    kinds = [sl.layerType() for sl in fire_layer.renderer().symbol().symbolLayers()]
    assert "LinePatternFill" in kinds                                  # hatched
    road_layer = plain(base_project, "planned_road")
    road = road_layer.renderer()
    assert road.classAttribute() == "part"
    assert {c.value() for c in road.categories()} == set(M.domain("road_part").values)


def test_conflict_style_draws_every_geometry_type(gpkg):
    base = {"rule_id": "cover_depth", "certainty": "certain", "layer_a": "pipe_segment",
            "uid_a": "x", "review": "open"}
    add_features(gpkg, "conflict", [
        ("POINT (20 30)", dict(base, conflict_id="1", severity="error")),
        ("LINESTRING (40 10, 40 50)", dict(base, conflict_id="2", severity="warning")),
        ("POLYGON ((60 10, 90 10, 90 50, 60 50, 60 10))", dict(base, conflict_id="3", severity="info")),
    ])
    expected = {"Point": ((20, 30), styles.SEVERITY_COLOURS["error"][:3]),
                "LineString": ((40, 30), styles.SEVERITY_COLOURS["warning"][:3]),
                "Polygon": ((60, 30), styles.SEVERITY_COLOURS["info"][:3])}
    for kind, ((x, y), colour) in expected.items():
        layer = plain(gpkg, "conflict", f"|geometrytype={kind}")
        assert layer.featureCount() == 1, kind
        _, pixel, _ = render([layer], (0, 0, 100, 60))
        assert pixel(x, y) == colour, kind
        # nothing drawn where the other geometry types are
        for other, ((ox, oy), _) in expected.items():
            if other != kind:
                assert pixel(ox, oy) == (255, 255, 255), (kind, other)
    # colours by severity hand-checked: error red, warning orange, info blue
    assert styles.SEVERITY_COLOURS["error"][:3] == (230, 0, 0)
    assert styles.SEVERITY_COLOURS["info"][2] == 255


def _domain_fields():
    for lyr in M.layers.values():
        for f in lyr.fields:
            if f.domain and not f.multi:
                yield lyr, f


def test_value_maps_hold_exactly_the_domain_codes(base_project):
    layers = {}
    count = 0
    for lyr, f in _domain_fields():
        layer = layers.setdefault(lyr.name, plain(base_project, lyr.name))
        setup = layer.editorWidgetSetup(layer.fields().indexOf(f.name))
        assert setup.type() == "ValueMap", (lyr.name, f.name)
        entries = [list(e.items())[0] for e in setup.config()["map"]]
        codes = [v for _, v in entries if v != NULL_SENTINEL]
        assert codes == M.domain(f.domain).values, (lyr.name, f.name)
        assert any(v == NULL_SENTINEL for _, v in entries) == (not f.required)
        count += 1
    assert count >= 20
    util = plain(base_project, "pipe_segment")
    entries = dict(list(e.items())[0] for e in util.editorWidgetSetup(
        util.fields().indexOf("utility")).config()["map"])
    assert entries["给水 JS"] == "JS" and entries["工业 GY"] == "GY"
    assert util.attributeAlias(util.fields().indexOf("utility")) == "管线类别"


def test_english_style_is_stored_beside(base_project):
    layer = plain(base_project, "pipe_segment")
    count, ids, names, descs, _ = layer.listStylesInDatabase()
    sid = ids[names[:count].index("en")]   # the layer's own styles come first
    qml = layer.getStyleFromDatabase(sid)
    qml = qml[0] if isinstance(qml, tuple) else qml
    doc = QDomDocument()
    doc.setContent(qml)
    layer.importNamedStyle(doc)
    idx = layer.fields().indexOf("utility")
    entries = dict(list(e.items())[0] for e in layer.editorWidgetSetup(idx).config()["map"])
    assert entries["water supply (JS)"] == "JS"
    assert layer.attributeAlias(idx) == "Utility class"


def _valid(layer, idx, **attrs):
    f = QgsFeature(layer.fields())
    for k, v in attrs.items():
        f.setAttribute(k, v)
    ok, errors = QgsVectorLayerUtils.validateAttribute(layer, f, idx, HARD, LAYER_ORIGIN)
    return ok


def test_bad_values_refused_good_values_pass(base_project):
    layer = plain(base_project, "pipe_point")
    i = layer.fields().indexOf
    assert not _valid(layer, i("utility"), utility="XX")
    assert not _valid(layer, i("utility"), utility=None)
    assert _valid(layer, i("utility"), utility="JS")
    assert not _valid(layer, i("depth"), depth=-0.5)
    assert not _valid(layer, i("depth"), depth=60.5)
    assert _valid(layer, i("depth"), depth=1.2)
    assert _valid(layer, i("depth"), depth=None)
    assert not _valid(layer, i("uid"), uid=None)
    assert not _valid(layer, i("uid"), uid="  ")
    assert _valid(layer, i("uid"), uid="P-001")
    assert not _valid(layer, i("status"), status="built")
    assert _valid(layer, i("status"), status="planned")
    for fname in ("uid", "utility", "depth"):
        assert layer.fields().at(i(fname)).constraints().constraintStrength(
            QgsFieldConstraints.ConstraintExpression if fname != "uid"
            else QgsFieldConstraints.ConstraintNotNull) == HARD


def test_every_range_and_required_field_is_enforced(base_project):
    checked = 0
    for lyr in M.layers.values():
        layer = plain(base_project, lyr.name)
        for f in lyr.fields:
            idx = layer.fields().indexOf(f.name)
            if f.min is not None:
                assert not _valid(layer, idx, **{f.name: f.min - 1}), (lyr.name, f.name)
                assert _valid(layer, idx, **{f.name: f.min}), (lyr.name, f.name)
                checked += 1
            if f.max is not None:
                assert not _valid(layer, idx, **{f.name: f.max + 1}), (lyr.name, f.name)
                assert _valid(layer, idx, **{f.name: f.max}), (lyr.name, f.name)
            if f.required:
                assert not _valid(layer, idx, **{f.name: None}), (lyr.name, f.name)
            if f.unique:
                assert layer.fieldConstraints(idx) & QgsFieldConstraints.ConstraintUnique
    assert checked >= 30


def test_multi_code_field_checks_each_item(base_project):
    layer = plain(base_project, "renovation_area")
    idx = layer.fields().indexOf("works")
    assert layer.editorWidgetSetup(idx).type() == "TextEdit"
    assert _valid(layer, idx, works="gas,power")
    assert _valid(layer, idx, works="rain_sewer_separation, greening")
    assert _valid(layer, idx, works=None)
    assert not _valid(layer, idx, works="gas,swimming_pool")
    assert not _valid(layer, idx, works="GAS")


def test_defaults_uid_updated_at_and_model_defaults(gpkg):
    layer = plain(gpkg, "pipe_segment")
    i = layer.fields().indexOf
    d = layer.defaultValueDefinition(i("uid"))
    assert d.expression() == styles.UID_DEFAULT
    a, b = layer.defaultValue(i("uid")), layer.defaultValue(i("uid"))
    assert a and b and a != b
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", a.lower())
    upd = layer.defaultValueDefinition(i("updated_at"))
    assert upd.expression() == "now()" and upd.applyOnUpdate()
    assert layer.defaultValueDefinition(i("status")).expression() == "'existing'"
    # depth_ref has no default: NULL means the class's convention (rules file)
    assert layer.defaultValueDefinition(i("depth_ref")).expression() == ""
    assert layer.editFormConfig().readOnly(i("fid"))

    # a feature made as the form makes it gets the defaults and passes its constraints
    assert layer.startEditing()
    geom = QgsGeometry.fromWkt("LINESTRING (0 0, 10 0)")
    feat = QgsVectorLayerUtils.createFeature(layer, geom, {i("utility"): "DL"})
    assert feat["status"] == "existing" and not feat["depth_ref"]  # NULL: the class convention
    assert feat["uid"] and "{" not in feat["uid"]
    assert feat["updated_at"] is not None
    for idx in range(layer.fields().count()):
        ok, errors = QgsVectorLayerUtils.validateAttribute(layer, feat, idx, HARD, LAYER_ORIGIN)
        assert ok, (layer.fields()[idx].name(), errors)
    assert layer.addFeature(feat)
    assert layer.commitChanges(), layer.commitErrors()
    fire = plain(gpkg, "fire_lane")
    assert float(fire.defaultValue(fire.fields().indexOf("required_width_m"))) == 4.0


def test_tables_without_geometry_get_forms(base_project):
    layer = plain(base_project, "import_reject")
    idx = layer.fields().indexOf("reason_code")
    assert layer.attributeAlias(idx) == "原因代码"
    assert layer.editorWidgetSetup(idx).type() == "ValueMap"
    assert not _valid(layer, layer.fields().indexOf("record_no"), record_no=0)


def _check_project(qgz, gpkg_name="p.gpkg"):
    proj = QgsProject()
    assert proj.read(qgz)
    try:
        layers = list(proj.mapLayers().values())
        assert len(layers) == len(M.layers) - 1 + 3           # conflict as three sublayers
        assert all(lay.isValid() for lay in layers)
        assert proj.crs().authid() == "EPSG:4547"
        seen = {}
        root = proj.layerTreeRoot()
        for lay in layers:
            name = lay.customProperty(styles.PROP_LAYER)
            node = root.findLayer(lay.id())
            theme = node.parent().customProperty(styles.PROP_THEME)
            assert theme == M.layer(name).theme, name
            seen.setdefault(name, []).append(lay)
        assert set(seen) == set(M.layers)
        kinds = sorted(styles.geometry_kind(lay) for lay in seen["conflict"])
        assert kinds == ["LineString", "Point", "Polygon"]
        groups = [g.customProperty(styles.PROP_THEME) for g in root.children()]
        assert set(groups) == {lyr.theme for lyr in M.layers.values()}
        assert groups[0] == "results"
        seg = seen["pipe_segment"][0]
        assert isinstance(seg.renderer(), QgsCategorizedSymbolRenderer)
        assert seg.name() == "管线段 Pipeline segments"
    finally:
        proj.clear()


def test_project_file_rereads_grouped_with_relative_paths(base_project, tmp_path):
    qgz = os.path.splitext(base_project)[0] + ".qgz"
    assert os.path.isfile(qgz)
    with zipfile.ZipFile(qgz) as z:
        qgs = z.read([n for n in z.namelist() if n.endswith(".qgs")][0]).decode("utf-8")
    assert "./p.gpkg|layername=pipe_segment" in qgs
    assert os.path.dirname(base_project) not in qgs
    _check_project(qgz)
    # moved together to another folder, it still opens (relative paths)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(base_project, moved / "p.gpkg")
    shutil.copy(qgz, moved / "p.qgz")
    _check_project(str(moved / "p.qgz"))


def test_add_project_layers_into_current_project(base_project, qgis_new_project):
    out = styles.add_project_layers(base_project, lang="en")
    inst = QgsProject.instance()
    assert set(out) == {n for n in M.layers if n != "conflict"} | {
        "conflict:Point", "conflict:LineString", "conflict:Polygon"}
    assert all(inst.mapLayer(lay.id()) is lay for lay in out.values())
    assert inst.crs() == QgsCoordinateReferenceSystem("EPSG:4547")
    seg = out["pipe_segment"]
    idx = seg.fields().indexOf("utility")
    entries = dict(list(e.items())[0] for e in seg.editorWidgetSetup(idx).config()["map"])
    assert entries["industrial (GY)"] == "GY"


def test_build_layer_style_on_memory_layer(qgis_app):
    """Works on any layer with the model's fields (e.g. a PostGIS one later)."""
    fields = "&".join(f"field={f.name}:{'double' if f.type == 'real' else 'string'}"
                      for f in M.layer("tree").fields)
    layer = QgsVectorLayer(f"Point?crs=EPSG:4547&{fields}", "t", "memory")
    styles.build_layer_style(layer, "tree", "en")
    assert layer.name() == "树木 Trees"
    assert layer.displayExpression() == '"uid"'
    idx = layer.fields().indexOf("kind")
    entries = dict(list(e.items())[0] for e in layer.editorWidgetSetup(idx).config()["map"])
    assert entries == {"tree (tree)": "tree", "shrub (shrub)": "shrub"}


def test_cli_init_with_project_file(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    target = tmp_path / "x.gpkg"
    r = subprocess.run([sys.executable, "-m", "renewal_planner", "init", str(target), "--qgs"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert target.is_file() and (tmp_path / "x.qgz").is_file()
    con = sqlite3.connect(target)
    n = con.execute("SELECT count(*) FROM layer_styles WHERE useAsDefault").fetchone()[0]
    con.close()
    assert n == len(M.layers)


def test_add_project_layers_styles_a_geopackage_without_stored_styles(tmp_path, qgis_app):
    from renewal_planner.layers import gpkg as rp_gpkg

    path = rp_gpkg.create_project(str(tmp_path / "bare.gpkg"))
    con = sqlite3.connect(path)
    assert not con.execute("SELECT count(*) FROM sqlite_master WHERE name='layer_styles'").fetchone()[0]
    con.close()
    proj = QgsProject()
    try:
        out = styles.add_project_layers(path, proj, lang="zh")
        seg = out["pipe_segment"]
        assert isinstance(seg.renderer(), QgsCategorizedSymbolRenderer)
        cats = seg.renderer().categories()
        assert {c.value(): rgb(c.symbol().color()) for c in cats}["GY"] == (0, 0, 0)
        idx = seg.fields().indexOf("utility")
        assert not _valid(seg, idx, utility="XX") and _valid(seg, idx, utility="GY")
    finally:
        proj.clear()
