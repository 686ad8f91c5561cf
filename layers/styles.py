"""Layer styles, attribute forms and the QGIS project file, from the one declaration.

Everything here is derived from ``model.yaml`` (through ``schema``): the field
aliases, the drop-down lists of the code lists, the constraints that refuse a
bad value at entry, the defaults, and the CJJ 61 colours of the pipelines.
The styles are stored in the GeoPackage's ``layer_styles`` table, so any QGIS
that opens the GeoPackage -- with or without this plugin -- gets styled layers
with working forms.

Only ``qgis.core`` is used (never ``qgis.gui``); every public function starts a
headless QgsApplication when none is running, so this works from the command
line too. The APIs used exist in QGIS 3.22; the few renamed in later versions
go through small compatibility helpers.
"""
from __future__ import annotations

import os
import sqlite3

from . import schema
from .qgis_env import qgis_app

# --------------------------------------------------------------------------
# Cartographic choices (not rules): colours are RGB(A) tuples.

GREY = (160, 160, 160, 255)            # abandoned features
PLANNED_FILL = (255, 255, 255, 0)      # hollow planned points
POINT_STROKE = (35, 35, 35, 255)

#: Marker shape per appurtenance (pipe_point.appurtenance); characteristic
#: points without appurtenance are small circles.
APPURTENANCE_SHAPES = {
    "manhole": "circle",
    "valve": "diamond",
    "valve_chamber": "square",
    "hydrant": "triangle",
    "inlet": "square_with_corners",
    "meter": "pentagon",
    "air_valve": "octagon",
    "junction_box": "hexagon",
    "handhole": "half_square",
    "transformer": "star",
}
APPURTENANCE_SIZE = 3.2    # mm
PLAIN_POINT_SIZE = 1.6     # mm
PIPE_WIDTH = 0.6           # mm
PIPE_WIDTH_ABANDONED = 0.25

ROAD_PART_COLOURS = {
    "carriageway": (190, 190, 190, 200),
    "non_motor": (215, 200, 170, 200),
    "sidewalk": (235, 220, 195, 200),
    "green_belt": (150, 205, 120, 200),
    "whole": (255, 255, 255, 0),      # red-line area: outline only
}
ROAD_RED_LINE = (220, 30, 30, 255)
PLANTING_COLOURS = {
    "pattern": (120, 190, 90, 170),
    "lawn": (170, 220, 120, 170),
    "shrub_mass": (70, 150, 70, 170),
    "hedge": (40, 120, 60, 170),
    "flower_bed": (240, 150, 190, 170),
    "other": (150, 200, 150, 170),
}
STALL_COLOURS = {
    "perpendicular": (120, 160, 220, 150),
    "parallel": (120, 160, 220, 150),
    "angled": (120, 160, 220, 150),
    "accessible": (40, 90, 200, 200),
    "ev_charging": (60, 180, 120, 180),
    "micro": (170, 190, 230, 150),
}
TREE_COLOUR = (40, 150, 50, 255)
TREE_SIZES = {"tree": 3.2, "shrub": 1.8}
SEVERITY_COLOURS = {
    "error": (230, 0, 0, 255),
    "warning": (255, 140, 0, 255),
    "info": (0, 112, 255, 255),
}
#: Reviews after which a finding is drawn faded.
FADED_REVIEWS = ("waived", "resolved")
FADED_ALPHA = 80

#: Layer-tree groups, top to bottom (so points and results draw above areas).
THEMES = {
    "results": ("检查结果", "Check results"),
    "pipeline": ("管线", "Pipelines"),
    "greening": ("绿化", "Greening"),
    "parking": ("停车与消防", "Parking and fire lanes"),
    "renovation": ("老旧小区改造", "Renovation"),
    "plan": ("规划", "Plan"),
    "imports": ("导入记录", "Imports"),
}
GEOMETRY_LABELS = {"Point": ("点", "points"), "LineString": ("线", "lines"),
                   "Polygon": ("面", "polygons")}

#: Default of every uid: a UUID without braces (works in QGIS 3.22).
UID_DEFAULT = "regexp_replace(uuid(),'[{}]','')"
UPDATED_AT_DEFAULT = "now()"
#: Display expression per table without uid.
DISPLAY_FIELDS = {"conflict": "conflict_id", "import_batch": "batch_id"}
#: Fields of the conflict table a reviewer edits; the rest is the checks' output.
CONFLICT_EDITABLE = ("review", "reviewer", "review_note", "reviewed_at")

STYLE_NAME = {"zh": "zh", "en": "en"}
PROP_THEME = "renewal_planner/theme"
PROP_LAYER = "renewal_planner/layer"


# --------------------------------------------------------------------------
# Compatibility helpers (QGIS 3.22 .. 3.40: some enums became scoped).

def _enum(owner, scoped: str, member: str, legacy: str = None):
    """``owner.scoped.member`` (new scoped enums) or ``owner.legacy`` (3.22)."""
    scope = getattr(owner, scoped, None)
    if scope is not None and hasattr(scope, member):
        return getattr(scope, member)
    return getattr(owner, legacy or member)


def _sl_prop(name: str):
    from qgis.core import QgsSymbolLayer

    return _enum(QgsSymbolLayer, "Property", name, "Property" + name)


def _constraint(name: str):
    from qgis.core import QgsFieldConstraints

    return _enum(QgsFieldConstraints, "Constraint", name, name)


def _hard():
    from qgis.core import QgsFieldConstraints

    return _enum(QgsFieldConstraints, "ConstraintStrength", "ConstraintStrengthHard")


def geometry_kind(layer) -> str:
    """'Point', 'LineString', 'Polygon', or None (no or unknown geometry)."""
    from qgis.core import Qgis, QgsWkbTypes

    gt = layer.geometryType()
    scoped = getattr(Qgis, "GeometryType", None)          # QGIS >= 3.30
    for kind, new, old in (("Point", "Point", "PointGeometry"),
                           ("LineString", "Line", "LineGeometry"),
                           ("Polygon", "Polygon", "PolygonGeometry")):
        candidates = [getattr(QgsWkbTypes, old, None)]
        if scoped is not None:
            candidates.append(getattr(scoped, new, None))
        if any(c is not None and gt == c for c in candidates):
            return kind
    return None


def _colour(rgba):
    from qgis.PyQt.QtGui import QColor

    return QColor(*rgba)


def _cstr(rgba) -> str:
    """A colour as QGIS's 'r,g,b,a' string (for data-defined colours)."""
    rgba = tuple(rgba) + (255,) * (4 - len(rgba))
    return ",".join(str(int(v)) for v in rgba)


def _q(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _col(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _label(code, zh, en, lang):
    return f"{zh} {code}" if lang.startswith("zh") else f"{en} ({code})"


def _set_dd(symbol_layer, prop: str, expression: str):
    from qgis.core import QgsProperty

    symbol_layer.setDataDefinedProperty(_sl_prop(prop), QgsProperty.fromExpression(expression))


# --------------------------------------------------------------------------
# Symbols


def _marker(colour, size, shape="circle", stroke=POINT_STROKE, stroke_width=0.2):
    from qgis.core import QgsMarkerSymbol

    return QgsMarkerSymbol.createSimple({
        "name": shape, "color": _cstr(colour), "size": str(size),
        "outline_color": _cstr(stroke), "outline_width": str(stroke_width),
    })


def _line(colour, width, style="solid"):
    from qgis.core import QgsLineSymbol

    return QgsLineSymbol.createSimple({
        "line_color": _cstr(colour), "line_width": str(width), "line_style": style,
        "capstyle": "round", "joinstyle": "round",
    })


def _fill(colour, outline, outline_width=0.3, style="solid", outline_style="solid"):
    from qgis.core import QgsFillSymbol

    return QgsFillSymbol.createSimple({
        "color": _cstr(colour), "style": style, "outline_color": _cstr(outline),
        "outline_width": str(outline_width), "outline_style": outline_style,
    })


def _hatch(symbol, colour, angle=45, distance=2.0, width=0.3):
    """Add a line-pattern (hatch) layer to a fill symbol."""
    from qgis.core import QgsLinePatternFillSymbolLayer

    hatch = QgsLinePatternFillSymbolLayer()
    hatch.setLineAngle(angle)
    hatch.setDistance(distance)
    hatch.setSubSymbol(_line(colour, width))
    symbol.appendSymbolLayer(hatch)
    return symbol


_STATUS = _col("status")


def _status_overrides(symbol, colour):
    """Planned drawn dashed / hollow, abandoned grey and thin (data-defined).

    ``colour`` is the symbol's own colour, written into the expressions so
    the overrides are self-contained in the style.
    """
    from qgis.core import (QgsLinePatternFillSymbolLayer, QgsSimpleFillSymbolLayer,
                           QgsSimpleLineSymbolLayer, QgsSimpleMarkerSymbolLayer)

    planned = f"{_STATUS} = 'planned'"
    abandoned = f"{_STATUS} = 'abandoned'"
    for sl in symbol.symbolLayers():
        if isinstance(sl, QgsSimpleMarkerSymbolLayer):
            # hollow when planned: no fill, a thick stroke in the class colour
            _set_dd(sl, "FillColor", f"CASE WHEN {planned} THEN '{_cstr(PLANNED_FILL)}' "
                                     f"WHEN {abandoned} THEN '{_cstr(GREY)}' "
                                     f"ELSE '{_cstr(colour)}' END")
            _set_dd(sl, "StrokeColor", f"CASE WHEN {planned} THEN '{_cstr(colour)}' "
                                       f"WHEN {abandoned} THEN '{_cstr(GREY)}' "
                                       f"ELSE '{_cstr(POINT_STROKE)}' END")
            _set_dd(sl, "StrokeWidth", f"CASE WHEN {planned} THEN 0.6 ELSE {sl.strokeWidth()} END")
        elif isinstance(sl, QgsSimpleLineSymbolLayer):
            _set_dd(sl, "StrokeStyle", f"CASE WHEN {planned} THEN 'dash' ELSE 'solid' END")
            _set_dd(sl, "StrokeColor", f"CASE WHEN {abandoned} THEN '{_cstr(GREY)}' "
                                       f"ELSE '{_cstr(sl.color().getRgb())}' END")
            _set_dd(sl, "StrokeWidth", f"CASE WHEN {abandoned} THEN {PIPE_WIDTH_ABANDONED} "
                                       f"ELSE {sl.width()} END")
        elif isinstance(sl, QgsSimpleFillSymbolLayer):
            _set_dd(sl, "StrokeStyle", f"CASE WHEN {planned} THEN 'dash' ELSE 'solid' END")
            fill = sl.color().getRgb()
            _set_dd(sl, "FillColor", f"CASE WHEN {abandoned} THEN '{_cstr(GREY[:3] + (60,))}' "
                                     f"ELSE '{_cstr(fill)}' END")
            _set_dd(sl, "StrokeColor", f"CASE WHEN {abandoned} THEN '{_cstr(GREY)}' "
                                       f"ELSE '{_cstr(sl.strokeColor().getRgb())}' END")
        elif isinstance(sl, QgsLinePatternFillSymbolLayer) and sl.subSymbol() is not None:
            _status_overrides(sl.subSymbol(), colour)
    return symbol


def _categorized(field: str, domain: str, symbol_for, lang: str, status=True):
    """A categorized renderer over every code of ``domain`` (plus one for other values)."""
    from qgis.core import QgsCategorizedSymbolRenderer, QgsRendererCategory

    m = schema.model()
    cats = []
    for code, zh, en in m.domain(domain).codes:
        sym, colour = symbol_for(code)
        if status:
            _status_overrides(sym, colour)
        cats.append(QgsRendererCategory(code, sym, _label(code, zh, en, lang)))
    return QgsCategorizedSymbolRenderer(field, cats)


# --------------------------------------------------------------------------
# Renderers per layer


def _pipe_point_renderer(lang):
    from qgis.core import QgsProperty

    colours = schema.model().colours
    shape_expr = "CASE " + " ".join(
        f"WHEN {_col('appurtenance')} = {_q(a)} THEN {_q(s)}"
        for a, s in APPURTENANCE_SHAPES.items()) + " ELSE 'circle' END"
    listed = ", ".join(_q(a) for a in APPURTENANCE_SHAPES)
    size_expr = (f"CASE WHEN {_col('appurtenance')} IN ({listed}) THEN {APPURTENANCE_SIZE} "
                 f"ELSE {PLAIN_POINT_SIZE} END")

    def sym(code):
        colour = tuple(colours[code]) + (255,)
        s = _marker(colour, APPURTENANCE_SIZE)
        sl = s.symbolLayer(0)
        sl.setDataDefinedProperty(_sl_prop("Name"), QgsProperty.fromExpression(shape_expr))
        sl.setDataDefinedProperty(_sl_prop("Size"), QgsProperty.fromExpression(size_expr))
        return s, colour

    return _categorized("utility", "utility", sym, lang)


def _pipe_segment_renderer(lang):
    colours = schema.model().colours

    def sym(code):
        colour = tuple(colours[code]) + (255,)
        return _line(colour, PIPE_WIDTH), colour

    return _categorized("utility", "utility", sym, lang)


def _planned_road_renderer(lang):
    def sym(code):
        colour = ROAD_PART_COLOURS.get(code, (220, 220, 220, 200))
        if code == "whole":
            return _fill(colour, ROAD_RED_LINE, 0.6, style="no"), ROAD_RED_LINE
        return _fill(colour, (120, 120, 120, 255), 0.2), colour

    return _categorized("part", "road_part", sym, lang)


def _single(symbol):
    from qgis.core import QgsSingleSymbolRenderer

    return QgsSingleSymbolRenderer(symbol)


def _renovation_area_renderer(lang):
    outline = (230, 110, 0, 255)
    return _single(_status_overrides(_fill((255, 200, 120, 50), outline, 0.8), outline))


def _renovation_work_renderer(lang):
    colour = (150, 80, 20, 255)
    sym = _fill((150, 80, 20, 25), colour, 0.4)
    _hatch(sym, colour, angle=135, distance=2.5, width=0.25)
    return _single(_status_overrides(sym, colour))


def _tree_renderer(lang):
    def sym(code):
        return _marker(TREE_COLOUR, TREE_SIZES.get(code, 2.5), stroke=(20, 90, 20, 255)), TREE_COLOUR

    return _categorized("kind", "tree_kind", sym, lang)


def _planting_area_renderer(lang):
    def sym(code):
        colour = PLANTING_COLOURS.get(code, (150, 200, 150, 170))
        return _fill(colour, (40, 110, 40, 255), 0.25), colour

    return _categorized("planting", "planting", sym, lang)


def _parking_stall_renderer(lang):
    def sym(code):
        colour = STALL_COLOURS.get(code, (120, 160, 220, 150))
        return _fill(colour, (30, 60, 140, 255), 0.25), colour

    return _categorized("stall_type", "stall_type", sym, lang)


def _fire_lane_renderer(lang):
    red = (220, 0, 0, 255)
    sym = _fill((255, 0, 0, 20), red, 0.6)
    _hatch(sym, red, angle=45, distance=2.0, width=0.3)
    return _single(_status_overrides(sym, red))


def _building_renderer(lang):
    outline = (90, 90, 90, 255)
    return _single(_status_overrides(_fill((210, 205, 195, 180), outline, 0.3), outline))


def _severity_symbol(kind: str, colour):
    if kind == "Point":
        return _marker(colour, 4.0, shape="circle", stroke=(255, 255, 255, 255), stroke_width=0.4)
    if kind == "LineString":
        return _line(colour, 1.2)
    return _fill(colour[:3] + (70,), colour, 0.8)


def _faded(symbol, colour):
    """Findings waived or resolved drawn faded (data-defined alpha)."""
    from qgis.core import QgsSimpleFillSymbolLayer, QgsSimpleLineSymbolLayer, QgsSimpleMarkerSymbolLayer

    faded = f"{_col('review')} IN ({', '.join(_q(r) for r in FADED_REVIEWS)})"
    for sl in symbol.symbolLayers():
        if isinstance(sl, (QgsSimpleMarkerSymbolLayer, QgsSimpleFillSymbolLayer)):
            fill = sl.color().getRgb()
            _set_dd(sl, "FillColor", f"CASE WHEN {faded} THEN "
                                     f"'{_cstr(fill[:3] + (fill[3] * FADED_ALPHA // 255,))}' "
                                     f"ELSE '{_cstr(fill)}' END")
        if isinstance(sl, QgsSimpleFillSymbolLayer):
            _set_dd(sl, "StrokeColor", f"CASE WHEN {faded} THEN "
                                       f"'{_cstr(colour[:3] + (FADED_ALPHA,))}' "
                                       f"ELSE '{_cstr(colour)}' END")
        if isinstance(sl, QgsSimpleLineSymbolLayer):
            _set_dd(sl, "StrokeColor", f"CASE WHEN {faded} THEN "
                                       f"'{_cstr(colour[:3] + (FADED_ALPHA,))}' "
                                       f"ELSE '{_cstr(colour)}' END")
    return symbol


def _conflict_renderer(lang, kind):
    """By severity. ``kind`` None (generic geometry): a rule-based renderer whose
    rules also test the geometry type, so the one stored style draws the
    conflict layer whatever geometry type QGIS opens it as."""
    from qgis.core import QgsRuleBasedRenderer

    m = schema.model()
    severity = m.domain("severity")
    if kind is not None:
        def sym(code):
            colour = SEVERITY_COLOURS[code]
            return _faded(_severity_symbol(kind, colour), colour), colour

        return _categorized("severity", "severity", sym, lang, status=False)

    root = QgsRuleBasedRenderer.Rule(None)
    geom_names = {"Point": "Point", "LineString": "Line", "Polygon": "Polygon"}
    for code, zh, en in severity.codes:
        colour = SEVERITY_COLOURS[code]
        parent = QgsRuleBasedRenderer.Rule(None, 0, 0, f"{_col('severity')} = {_q(code)}",
                                           _label(code, zh, en, lang))
        for g, gname in geom_names.items():
            gzh, gen = GEOMETRY_LABELS[g]
            child = QgsRuleBasedRenderer.Rule(
                _faded(_severity_symbol(g, colour), colour), 0, 0,
                f"geometry_type($geometry) = {_q(gname)}", gzh if lang.startswith("zh") else gen)
            parent.appendChild(child)
        root.appendChild(parent)
    return QgsRuleBasedRenderer(root)


RENDERERS = {
    "pipe_point": _pipe_point_renderer,
    "pipe_segment": _pipe_segment_renderer,
    "planned_road": _planned_road_renderer,
    "renovation_area": _renovation_area_renderer,
    "renovation_work": _renovation_work_renderer,
    "tree": _tree_renderer,
    "planting_area": _planting_area_renderer,
    "parking_stall": _parking_stall_renderer,
    "fire_lane": _fire_lane_renderer,
    "building": _building_renderer,
}

#: Labels: layer -> field shown on the map.
LABEL_FIELDS = {"renovation_area": "community", "planned_road": "name", "fire_lane": "name"}


def _labeling(layer, field: str):
    from qgis.core import QgsPalLayerSettings, QgsTextBufferSettings, QgsTextFormat, \
        QgsVectorLayerSimpleLabeling

    fmt = QgsTextFormat()
    fmt.setSize(9)
    fmt.setColor(_colour((40, 40, 40, 255)))
    buf = QgsTextBufferSettings()
    buf.setEnabled(True)
    buf.setSize(0.8)
    buf.setColor(_colour((255, 255, 255, 255)))
    fmt.setBuffer(buf)
    pal = QgsPalLayerSettings()
    pal.fieldName = field
    pal.setFormat(fmt)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(pal))
    layer.setLabelsEnabled(True)


# --------------------------------------------------------------------------
# Forms


def domain_expression(f: schema.Field) -> str:
    """The QGIS expression a value of field ``f`` must satisfy (True for NULL
    unless the field is required); None when the field has no such rule."""
    m = schema.model()
    c = _col(f.name)
    parts = []
    if f.domain:
        codes = ", ".join(_q(v) for v in m.domain(f.domain).values)
        if f.multi:
            parts.append(f"array_all(array({codes}), "
                         f"array_foreach(string_to_array({c}, ','), trim(@element)))")
        else:
            parts.append(f"{c} IN ({codes})")
    if f.min is not None and f.type in ("integer", "real"):
        parts.append(f"{c} >= {f.min!r}")
    if f.max is not None and f.type in ("integer", "real"):
        parts.append(f"{c} <= {f.max!r}")
    if f.required and f.type == "text":
        parts.append(f"length(trim({c})) > 0")
    if not parts:
        return None
    body = " AND ".join(parts)
    if f.required:
        return body
    if f.multi:
        return f"{c} IS NULL OR trim({c}) = '' OR ({body})"
    return f"{c} IS NULL OR ({body})"


def _constraint_description(f: schema.Field, lang: str) -> str:
    zh = lang.startswith("zh")
    bits = []
    if f.domain:
        name = f.domain
        if f.multi:
            bits.append(f"逗号分隔的代码表 {name} 中的代码" if zh
                        else f"comma-separated codes of code list {name}")
        else:
            bits.append(f"代码表 {name} 中的代码" if zh else f"a code of code list {name}")
    if f.min is not None or f.max is not None:
        lo = "" if f.min is None else f"{f.min:g}"
        hi = "" if f.max is None else f"{f.max:g}"
        bits.append(f"范围 {lo}..{hi}" if zh else f"range {lo}..{hi}")
    if f.required and f.type == "text":
        bits.append("不能为空" if zh else "not empty")
    return ("须为 " if zh else "must be ") + ("，".join(bits) if zh else "; ".join(bits))


def _default_expression(f: schema.Field):
    if f.default is None:
        return None
    if f.type == "text":
        return _q(f.default)
    if f.type == "boolean":
        return "true" if f.default else "false"
    return repr(f.default) if isinstance(f.default, float) else str(f.default)


def _value_map(f: schema.Field, lang: str) -> dict:
    from qgis.core import QgsValueMapFieldFormatter

    entries = []
    if not f.required:
        entries.append({"<NULL>": QgsValueMapFieldFormatter.NULL_VALUE})
    for code, zh, en in schema.model().domain(f.domain).codes:
        entries.append({_label(code, zh, en, lang): code})
    return {"map": entries}


def configure_form(layer, lyr: schema.Layer, lang: str = "zh"):
    """Aliases, editor widgets, constraints and defaults of every field."""
    from qgis.core import QgsDefaultValue, QgsEditorWidgetSetup

    fields = layer.fields()
    form = layer.editFormConfig()
    fid = fields.indexOf("fid")
    if fid >= 0:
        form.setReadOnly(fid, True)
        layer.setFieldAlias(fid, "要素号" if lang.startswith("zh") else "Feature id")
    for f in lyr.fields:
        idx = fields.indexOf(f.name)
        if idx < 0:
            continue
        layer.setFieldAlias(idx, f.alias(lang))
        if f.domain and not f.multi:
            layer.setEditorWidgetSetup(idx, QgsEditorWidgetSetup("ValueMap", _value_map(f, lang)))
        elif f.domain and f.multi:
            layer.setEditorWidgetSetup(idx, QgsEditorWidgetSetup(
                "TextEdit", {"IsMultiline": False, "UseHtml": False}))
        elif f.type in ("date", "datetime"):
            fmt = "yyyy-MM-dd" if f.type == "date" else "yyyy-MM-dd HH:mm:ss"
            layer.setEditorWidgetSetup(idx, QgsEditorWidgetSetup("DateTime", {
                "allow_null": not f.required, "calendar_popup": True,
                "display_format": fmt, "field_format": fmt, "field_iso_format": False}))
        if f.required:
            layer.setFieldConstraint(idx, _constraint("ConstraintNotNull"), _hard())
        if f.unique:
            layer.setFieldConstraint(idx, _constraint("ConstraintUnique"), _hard())
        expr = domain_expression(f)
        if expr:
            layer.setConstraintExpression(idx, expr, _constraint_description(f, lang))
            layer.setFieldConstraint(idx, _constraint("ConstraintExpression"), _hard())
        if lyr.thematic and f.name == "uid":
            layer.setDefaultValueDefinition(idx, QgsDefaultValue(UID_DEFAULT, False))
        elif lyr.thematic and f.name == "updated_at":
            layer.setDefaultValueDefinition(idx, QgsDefaultValue(UPDATED_AT_DEFAULT, True))
            form.setReadOnly(idx, True)
        else:
            d = _default_expression(f)
            if d is not None:
                layer.setDefaultValueDefinition(idx, QgsDefaultValue(d, False))
        if lyr.name == "conflict" and f.name not in CONFLICT_EDITABLE:
            form.setReadOnly(idx, True)
    layer.setEditFormConfig(form)


def display_name(lyr: schema.Layer, kind: str = None) -> str:
    name = f"{lyr.zh} {lyr.en}"
    if kind is not None and lyr.geometry == "Geometry":
        zh, en = GEOMETRY_LABELS[kind]
        name += f" ({zh} {en})"
    return name


def build_layer_style(layer, name: str, lang: str = "zh", any_geometry: bool = False):
    """Style ``layer`` (a QgsVectorLayer of data-model layer ``name``): renderer,
    labels, forms (aliases, drop-downs, constraints, defaults), display name and
    display expression. Returns the layer.

    ``any_geometry`` (the conflict layer): a renderer that draws points, lines
    and polygons alike, whatever geometry type the layer was opened as; it is
    also used when the layer's geometry type is unknown."""
    qgis_app()
    lyr = schema.model().layer(name)
    kind = None if any_geometry else geometry_kind(layer)
    if lyr.geometry is not None:
        if name == "conflict":
            renderer = _conflict_renderer(lang, kind)
        else:
            renderer = RENDERERS[name](lang)
        layer.setRenderer(renderer)
        if name in LABEL_FIELDS and layer.fields().indexOf(LABEL_FIELDS[name]) >= 0:
            _labeling(layer, LABEL_FIELDS[name])
    configure_form(layer, lyr, lang)
    layer.setName(display_name(lyr, kind))
    if "uid" in lyr.field_names:
        layer.setDisplayExpression(_col("uid"))
    elif name in DISPLAY_FIELDS:
        layer.setDisplayExpression(_col(DISPLAY_FIELDS[name]))
    elif name == "import_reject":
        layer.setDisplayExpression(f"{_col('batch_id')} || ' #' || to_string({_col('record_no')})")
    layer.triggerRepaint()
    return layer


# --------------------------------------------------------------------------
# Styles stored in the GeoPackage


def _uri(gpkg_path: str, name: str, kind: str = None) -> str:
    uri = f"{gpkg_path}|layername={name}"
    if kind is not None:
        uri += f"|geometrytype={kind}"
    return uri


def _open(gpkg_path: str, name: str, kind: str = None, load_default_style=False):
    from qgis.core import QgsProject, QgsVectorLayer

    opts = QgsVectorLayer.LayerOptions(QgsProject.instance().transformContext())
    opts.loadDefaultStyle = load_default_style
    layer = QgsVectorLayer(_uri(gpkg_path, name, kind), name, "ogr", opts)
    return layer


def _save_style(layer, style_name: str, description: str, default: bool) -> str:
    """Save the layer's style into its database; returns an error text ('' if fine)."""
    if hasattr(layer, "saveStyleToDatabaseV2"):  # QGIS >= 3.44
        result = layer.saveStyleToDatabaseV2(style_name, description, default, "")
        if isinstance(result, tuple):
            ok, msg = result[0], result[-1]
            return "" if _is_success(ok) else (msg or "failed")
    msg = layer.saveStyleToDatabase(style_name, description, default, "")
    if isinstance(msg, tuple):
        msg = msg[-1]
    return msg or ""


def _is_success(ok) -> bool:
    if isinstance(ok, bool):
        return ok
    return getattr(ok, "name", str(ok)).endswith("Success")


def _existing_tables(gpkg_path: str):
    con = sqlite3.connect(f"file:{gpkg_path}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    finally:
        con.close()


def _delete_old_styles(gpkg_path: str, names):
    """Remove earlier styles of ours (by name) so a re-run replaces them."""
    con = sqlite3.connect(gpkg_path)
    try:
        has = con.execute("SELECT count(*) FROM sqlite_master WHERE name='layer_styles'").fetchone()[0]
        if has:
            with con:
                for table in names:
                    con.execute("DELETE FROM layer_styles WHERE f_table_name=? AND stylename IN (?, ?)",
                                (table, STYLE_NAME["zh"], STYLE_NAME["en"]))
    finally:
        con.close()


def _any_geometry_qml(gpkg_path: str, table: str, style_name: str):
    """Let a stored style apply to every geometry type of ``table``.

    QGIS refuses a whole style (forms too) whose ``layerGeometryType`` differs
    from the layer's; the conflict table opens as point, line and polygon
    sublayers, and its rule-based renderer draws all three, so the element
    is dropped.
    """
    import re

    con = sqlite3.connect(gpkg_path)
    try:
        with con:
            rows = con.execute("SELECT id, styleQML FROM layer_styles WHERE f_table_name=? "
                               "AND styleName=?", (table, style_name)).fetchall()
            for sid, qml in rows:
                qml = re.sub(r"<layerGeometryType>\s*\d+\s*</layerGeometryType>\s*", "", qml)
                con.execute("UPDATE layer_styles SET styleQML=? WHERE id=?", (qml, sid))
    finally:
        con.close()


def store_styles(gpkg_path: str) -> dict:
    """Write every layer's style into the GeoPackage's ``layer_styles`` table:
    the Chinese one as the default, an English one named 'en' beside it.

    Returns {layer name: error text} for tables QGIS could not store a style
    for (attribute tables on some versions); layers with geometry must succeed.
    """
    qgis_app()
    gpkg_path = os.path.abspath(gpkg_path)
    m = schema.model()
    present = _existing_tables(gpkg_path)
    names = [lyr.name for lyr in m.layers.values() if lyr.name in present]
    _delete_old_styles(gpkg_path, names)
    skipped = {}
    for name in names:
        lyr = m.layer(name)
        generic = lyr.geometry == "Geometry"
        for lang, default in (("en", False), ("zh", True)):
            # A generic-geometry table opens in QGIS as one sublayer per
            # geometry type; all share the one stored style, which QGIS only
            # writes with its renderer for a layer of a known geometry type.
            layer = _open(gpkg_path, name, "Point" if generic else None)
            if not layer.isValid():
                raise RuntimeError(f"{gpkg_path}: QGIS cannot open layer {name}")
            build_layer_style(layer, name, lang, any_geometry=generic)
            desc = f"Renewal Planner {lyr.zh} / {lyr.en} ({lang})"
            err = _save_style(layer, STYLE_NAME[lang], desc, default)
            del layer
            if generic and not err:
                _any_geometry_qml(gpkg_path, name, STYLE_NAME[lang])
            if err:
                if lyr.geometry is not None:
                    raise RuntimeError(f"{gpkg_path}: cannot store the style of {name}: {err}")
                skipped[name] = err
                break
    return skipped


# --------------------------------------------------------------------------
# Project layers and the project file


def _project_crs(gpkg_path: str):
    from qgis.core import QgsCoordinateReferenceSystem

    try:
        con = sqlite3.connect(f"file:{gpkg_path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM rp_project WHERE key='crs'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        row = None
    if row and row[0]:
        crs = QgsCoordinateReferenceSystem(row[0])
        if crs.isValid():
            return crs
    return None


def _load_stored_style(layer, lang: str) -> bool:
    """Apply the style stored in the GeoPackage for ``lang``; False if none."""
    from qgis.PyQt.QtXml import QDomDocument

    if lang.startswith("zh"):
        msg, ok = layer.loadDefaultStyle()
        return bool(ok)
    listed = layer.listStylesInDatabase()
    count, ids, names = listed[0], listed[1], listed[2]
    # the first ``count`` entries are this layer's own styles, others follow
    for sid, sname in zip(ids[:count], names[:count]):
        if sname == STYLE_NAME["en"]:
            qml = layer.getStyleFromDatabase(sid)
            qml = qml[0] if isinstance(qml, tuple) else qml
            doc = QDomDocument()
            parsed = doc.setContent(qml or "")
            if isinstance(parsed, tuple):
                parsed = parsed[0]
            if not parsed:
                return False
            ok = layer.importNamedStyle(doc)
            ok = ok[0] if isinstance(ok, tuple) else ok
            return bool(ok)
    return False


def add_project_layers(gpkg_path: str, project=None, lang: str = "zh") -> dict:
    """Add every layer of the project GeoPackage to ``project`` (default: the
    current QgsProject), styled, in one layer-tree group per theme.

    A layer takes the style stored in the GeoPackage ('zh' default or 'en'),
    or the one built from the model when none is stored; the conflict layer
    is added as three sublayers (points, lines, polygons) each styled for its
    geometry type. Returns {name: QgsVectorLayer}; conflict sublayers are
    named 'conflict:Point', 'conflict:LineString', 'conflict:Polygon'.
    """
    qgis_app()
    gpkg_path = os.path.abspath(gpkg_path)

    def opener(name, kind):
        layer = _open(gpkg_path, name, kind)
        if not layer.isValid():
            raise RuntimeError(f"{gpkg_path}: QGIS cannot open layer {name}")
        return layer

    return add_styled_layers(_existing_tables(gpkg_path), opener, _project_crs(gpkg_path), project, lang)


def add_styled_layers(present, opener, crs=None, project=None, lang: str = "zh", properties=None) -> dict:
    """What every store shares when its layers go on the map: each model layer
    in ``present`` opened by ``opener(name, kind)`` (kind: None, or 'Point' /
    'LineString' / 'Polygon' for the conflict sublayers), styled from the
    store's layer_styles or from the model, named, tagged (plus the custom
    ``properties``), and grouped per theme in ``project``; the project takes
    ``crs`` (a QgsCoordinateReferenceSystem or None) when it has none yet."""
    from qgis.core import QgsProject

    project = project if project is not None else QgsProject.instance()
    out = {}
    by_theme = {}
    for lyr in schema.model().layers.values():
        if lyr.name not in present:
            continue
        if lyr.geometry == "Geometry":
            variants = [(f"{lyr.name}:{k}", k) for k in GEOMETRY_LABELS]
        else:
            variants = [(lyr.name, None)]
        for key, kind in variants:
            layer = opener(lyr.name, kind)
            if kind is not None or not _load_stored_style(layer, lang):
                build_layer_style(layer, lyr.name, lang)
            layer.setName(display_name(lyr, kind))
            layer.setCustomProperty(PROP_LAYER, lyr.name)
            for prop, value in (properties or {}).items():
                layer.setCustomProperty(prop, value)
            out[key] = layer
            by_theme.setdefault(lyr.theme, []).append(layer)

    if crs is not None and crs.isValid() and (not project.crs().isValid() or not project.mapLayers()):
        project.setCrs(crs)

    order = list(THEMES) + [t for t in by_theme if t not in THEMES]
    geometry_rank = {"Point": 0, "LineString": 1, "Polygon": 2, None: 3}
    root = project.layerTreeRoot()
    position = 0
    for theme in order:
        layers = by_theme.get(theme)
        if not layers:
            continue
        zh, en = THEMES.get(theme, (theme, theme))
        group = root.insertGroup(position, f"{zh} {en}")
        group.setCustomProperty(PROP_THEME, theme)
        position += 1
        layers = sorted(layers, key=lambda lay: geometry_rank[geometry_kind(lay)])
        for layer in layers:
            project.addMapLayer(layer, False)
            group.addLayer(layer)
    return out


def write_project_file(gpkg_path: str, qgz_path: str, lang: str = "zh") -> str:
    """Write a QGIS project file (.qgz or .qgs) beside the GeoPackage with
    every layer, styled, grouped per theme, in the project CRS, with relative
    paths. Returns the path written."""
    qgis_app()
    from qgis.core import QgsProject

    gpkg_path = os.path.abspath(gpkg_path)
    qgz_path = os.path.abspath(qgz_path)
    project = QgsProject()
    try:
        project.setFileName(qgz_path)
        if hasattr(project, "setFilePathStorage"):
            from qgis.core import Qgis

            project.setFilePathStorage(_enum(Qgis, "FilePathType", "Relative"))
        else:  # pragma: no cover - before 3.22
            project.writeEntryBool("Paths", "/Absolute", False)
        project.setTitle(f"城市更新规划 Renewal Planner - "
                         f"{os.path.splitext(os.path.basename(gpkg_path))[0]}")
        add_project_layers(gpkg_path, project, lang)
        if not project.write(qgz_path):
            raise RuntimeError(f"{qgz_path}: cannot write the QGIS project: {project.error()}")
    finally:
        project.clear()
    return qgz_path
