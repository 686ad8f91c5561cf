"""The review workflow: findings grouped for review, and per-owner review sheets.

``group_findings(project, by)`` puts each finding of the ``conflict`` table in
its groups: the renovation area(s) its geometry meets (``area``), its rule
(``rule``), the owner(s) of the pipes it involves (``owner``) or its review
status (``review``). A finding that meets two areas or involves the pipes of
two owners is listed once in each; a finding in no group (outside every area,
or involving no pipe of a known owner) is listed once with group ``None``.

``export_owner_sheets(project, out_dir)`` writes **one XLSX workbook per
owner** (utility) -- one file to send to each utility and take back -- named
``findings_<owner>.xlsx``. Each holds a sheet ``findings`` with the findings
that involve that owner's pipes (resolved ones left out unless asked), with a
representative point of the finding in the project CRS and in CGCS2000
lon/lat (EPSG:4490) and a ``geo:`` map link; the review, reviewer and note
columns are the only editable cells (the sheet is protected without password,
so the ``conflict_id`` column that matches rows back cannot be changed by
accident), and the review column has a drop-down of the statuses a reviewer
may set. A hidden sheet ``_renewal_planner`` carries the owner, the project
and the export time, and three hidden columns keep the review, reviewer and
note as exported, so that only rows a utility changed are applied back.

``import_owner_sheet(project, xlsx)`` applies the changed rows' statuses and
notes in one transaction; unknown ids, invalid statuses and duplicate rows are
reported, not applied. The reviewer recorded for a changed row is the row's
reviewer cell when the utility filled or changed it, else the ``reviewer``
argument, else the sheet's owner.
"""
from __future__ import annotations

import copy
import os
import re
import sqlite3

import numpy as np

from ..layers.errors import InputError, require
from . import results

GROUP_KEYS = ("area", "rule", "owner", "review")
PIPE_LAYERS = ("pipe_segment", "pipe_point")
#: The statuses a reviewer sets ('resolved' is the checks' own verdict).
SHEET_REVIEWS = ("open", "accepted", "waived")
SHEET_NAME = "findings"
META_SHEET = "_renewal_planner"
LONLAT_CRS = "EPSG:4490"  # CGCS2000 geographic
FINDING_COLUMNS = ["conflict_id", "rule_id", "severity", "certainty", "review", "layer_a", "uid_a",
                   "layer_b", "uid_b", "measured", "required", "unit", "message_zh", "message_en",
                   "rule_source", "reviewer", "review_note", "reviewed_at"]
#: Labels of the group of findings in no group, per grouping.
NO_GROUP = {"area": ("不在改造片区内", "outside renovation areas"),
            "owner": ("无权属单位(权属不明或不涉及管线)", "no owner (unknown, or no pipe involved)"),
            "rule": ("无规则", "no rule"), "review": ("无状态", "no status")}


def _pd():
    return require("pandas", feature="Review")


def _model():
    from ..layers import schema

    return schema.model()


def _require_project(project: str) -> None:
    from ..layers import gpkg

    gpkg.project_info(project)  # InputError when missing / not a project


def _table(con, sql: str, columns: list):
    """Rows of ``sql`` as a frame; an empty frame when the table is missing."""
    pd = _pd()
    try:
        return pd.read_sql_query(sql, con)
    except (sqlite3.Error, pd.errors.DatabaseError):
        return pd.DataFrame(columns=columns)


def _findings(project: str):
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        return _table(con, f"SELECT {', '.join(FINDING_COLUMNS)} FROM {results.TABLE}", FINDING_COLUMNS)
    finally:
        con.close()


def pipe_sides(project: str, findings=None):
    """The pipes involved in each finding: one row per (finding, pipe side) with
    columns conflict_id, side ('a'/'b'), layer, uid, owner (None when unknown)."""
    pd = _pd()
    f = _findings(project) if findings is None else findings
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        owners = pd.concat([_table(con, f"SELECT '{name}' AS layer, uid, owner FROM {name}",
                                   ["layer", "uid", "owner"]) for name in PIPE_LAYERS],
                           ignore_index=True)
    finally:
        con.close()
    sides = []
    for side in ("a", "b"):
        s = f[["conflict_id", f"layer_{side}", f"uid_{side}"]].rename(
            columns={f"layer_{side}": "layer", f"uid_{side}": "uid"})
        s = s[s["layer"].isin(PIPE_LAYERS) & s["uid"].notna()].assign(side=side)
        sides.append(s)
    long = pd.concat(sides, ignore_index=True)
    owners = owners.drop_duplicates(["layer", "uid"])
    long = long.merge(owners, on=["layer", "uid"], how="left")
    blank = long["owner"].isna() | (long["owner"].astype(str).str.strip() == "")
    long["owner"] = long["owner"].astype(object).where(~blank, None)
    return long[["conflict_id", "side", "layer", "uid", "owner"]]


def finding_areas(project: str):
    """(conflict_id, area uid, community) for every finding whose geometry
    intersects a renovation area (vectorised spatial join)."""
    pd = _pd()
    gpd = require("geopandas", minimum="0.14", feature="Review")
    from ..layers import io

    present = io.list_layers(project)
    if "renovation_area" not in present or results.TABLE not in present:
        return pd.DataFrame(columns=["conflict_id", "area", "community"])
    c = io.read_layer(project, results.TABLE, columns=["conflict_id"])
    a = io.read_layer(project, "renovation_area", columns=["uid", "community"])
    c = c[c.geometry.notna() & ~c.geometry.is_empty]
    a = a[a.geometry.notna() & ~a.geometry.is_empty]
    if not len(c) or not len(a):
        return pd.DataFrame(columns=["conflict_id", "area", "community"])
    j = gpd.sjoin(c[["conflict_id", "geometry"]], a[["uid", "community", "geometry"]].set_crs(c.crs,
                  allow_override=True), predicate="intersects", how="inner")
    return pd.DataFrame({"conflict_id": j["conflict_id"].to_numpy(), "area": j["uid"].to_numpy(),
                         "community": j["community"].to_numpy()}).drop_duplicates(["conflict_id", "area"])


def group_findings(project: str, by: str = "area"):
    """The findings with their group (see the module doc).

    Returns a DataFrame with columns ``group`` (area uid, rule id, owner name or
    review code; None for findings in no group), ``group_zh``, ``group_en``
    (labels) and the finding's fields (FINDING_COLUMNS), sorted by group
    (no-group last), severity and rule.
    """
    pd = _pd()
    if by not in GROUP_KEYS:
        raise InputError(f"group by must be one of {', '.join(GROUP_KEYS)}", field="by")
    _require_project(project)
    f = _findings(project)
    model = _model()
    if by in ("rule", "review"):
        domain = model.domain(by)
        codes = f["rule_id" if by == "rule" else "review"]
        out = f.assign(group=codes.astype(object).where(codes.notna(), None))

        def lab(lang):
            return out["group"].map(lambda c: None if c is None else _label(domain, c, lang))
        out = out.assign(group_zh=lab("zh"), group_en=lab("en"))
    elif by == "area":
        j = finding_areas(project)
        out = f.merge(j, on="conflict_id", how="left")
        name = out["community"].astype(object).where(out["community"].notna(), None)
        uid = out["area"].astype(object).where(out["area"].notna(), None)
        label = np.where(pd.notna(name), name.astype(str) + " (" + uid.astype(str) + ")", uid)
        out = out.drop(columns=["area", "community"]).assign(group=uid, group_zh=label, group_en=label)
    else:  # owner
        s = pipe_sides(project, f)
        s = s[s["owner"].notna()].drop_duplicates(["conflict_id", "owner"])[["conflict_id", "owner"]]
        out = f.merge(s, on="conflict_id", how="left").rename(columns={"owner": "group"})
        out["group"] = out["group"].astype(object).where(out["group"].notna(), None)
        out = out.assign(group_zh=out["group"], group_en=out["group"])
    none = out["group"].isna()
    zh, en = NO_GROUP[by]
    out.loc[none, "group_zh"], out.loc[none, "group_en"] = zh, en
    rank = out["severity"].map({"error": 0, "warning": 1, "info": 2}).fillna(3)
    out = out.assign(_none=none.astype(int), _rank=rank, _g=out["group_en"].astype(str))
    out = out.sort_values(["_none", "_g", "_rank", "rule_id", "uid_a", "uid_b"], kind="stable")
    cols = ["group", "group_zh", "group_en"] + FINDING_COLUMNS
    return out[cols].reset_index(drop=True)


def group_summary(grouped):
    """Per group of ``group_findings``: findings and the count per review status
    (columns group, group_zh, group_en, findings, open, accepted, waived, resolved),
    in the order of the grouped frame."""
    pd = _pd()
    reviews = list(_model().domain("review").values)
    if not len(grouped):
        return pd.DataFrame(columns=["group", "group_zh", "group_en", "findings"] + reviews)
    g = grouped.assign(_key=grouped["group"].astype(object).where(grouped["group"].notna(), "\0none"))
    counts = pd.crosstab(g["_key"], g["review"]).reindex(columns=reviews, fill_value=0)
    first = g.drop_duplicates("_key").set_index("_key")[["group", "group_zh", "group_en"]]
    out = first.join(counts)
    out[reviews] = out[reviews].fillna(0)
    out["findings"] = g.groupby("_key", sort=False).size().reindex(out.index).to_numpy()
    for r in reviews:
        out[r] = out[r].astype(int)
    return out.reset_index(drop=True)[["group", "group_zh", "group_en", "findings"] + reviews]


def _label(domain, code, lang):
    try:
        return domain.label(code, lang)
    except (KeyError, ValueError):
        return code


# -- owner sheets -------------------------------------------------------------------------------

def _sheet_columns(crs: str):
    """(key, header, width, editable, hidden) of the owner sheet, in order."""
    c = _model().layer(results.TABLE)

    def alias(name):
        return f"{c.field(name).alias('zh')}\n{c.field(name).alias('en')}"
    return [
        ("conflict_id", alias("conflict_id"), 18, False, False),
        ("rule_zh", "规则\nRule (zh)", 22, False, False),
        ("rule_en", "规则(英文)\nRule (en)", 26, False, False),
        ("severity", alias("severity"), 12, False, False),
        ("certainty", alias("certainty"), 12, False, False),
        ("pipe", "本单位管线\nYour pipe", 16, False, False),
        ("pipe_layer", "管线图层\nPipe layer", 14, False, False),
        ("other_layer", "另一要素图层\nOther layer", 16, False, False),
        ("other_uid", "另一要素\nOther feature", 16, False, False),
        ("area", "改造片区\nRenovation area", 20, False, False),
        ("measured", alias("measured"), 10, False, False),
        ("required", alias("required"), 10, False, False),
        ("unit", alias("unit"), 8, False, False),
        ("message_zh", alias("message_zh"), 40, False, False),
        ("message_en", alias("message_en"), 40, False, False),
        ("rule_source", alias("rule_source"), 24, False, False),
        ("x", f"X ({crs})\nX ({crs})", 13, False, False),
        ("y", f"Y ({crs})\nY ({crs})", 13, False, False),
        ("lon", "经度 (CGCS2000)\nLongitude (CGCS2000)", 13, False, False),
        ("lat", "纬度 (CGCS2000)\nLatitude (CGCS2000)", 13, False, False),
        ("map_link", "地图链接\nMap link", 26, False, False),
        ("review", alias("review") + " ▼", 16, True, False),
        ("reviewer", alias("reviewer"), 14, True, False),
        ("review_note", alias("review_note"), 40, True, False),
        ("exported_review", "导出时审核状态\nReview as exported", 4, False, True),
        ("exported_reviewer", "导出时审核人\nReviewer as exported", 4, False, True),
        ("exported_note", "导出时审核意见\nNote as exported", 4, False, True),
    ]


def _norm_header(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).replace(" ▼", "").strip().lower()


def review_choice(code: str) -> str:
    """The text of a review status in the sheet's drop-down: '已豁免 waived'."""
    return f"{_label(_model().domain('review'), code, 'zh')} {code}"


def parse_review(value):
    """The review code of a sheet cell ('waived', '已豁免', '已豁免 waived', 'Waived'),
    or None when it is not a known status."""
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    if not text:
        return None
    domain = _model().domain("review")
    for code in domain.values:
        zh, en = _label(domain, code, "zh"), _label(domain, code, "en")
        if text.lower() in {code.lower(), en.lower(), zh.lower(), f"{zh} {code}".lower(),
                            f"{zh} {en}".lower()}:
            return code
    return None


def representative_points(geoms):
    """A point on each geometry: the point itself, the middle of a line (by
    length), a point inside a polygon; NaN for missing or empty geometries.
    Returns (x, y) numpy arrays."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return x, y
    g = geoms[ok]
    pts = shapely.point_on_surface(g)
    kinds = shapely.get_type_id(g)
    lines = np.isin(kinds, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    if lines.any():
        pts[lines] = shapely.line_interpolate_point(g[lines], 0.5, normalized=True)
    x[ok], y[ok] = shapely.get_x(pts), shapely.get_y(pts)
    return x, y


def _safe_name(owner: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", str(owner)).strip(" .")
    return name or "owner"


def owner_findings(project: str, owners=None, include_resolved: bool = False):
    """The rows of the owner sheets: one per (owner, finding involving that
    owner's pipes), with every column of the sheet (see ``_sheet_columns``)."""
    pd = _pd()
    from ..layers import io

    _require_project(project)
    crs = io.project_crs(project)
    c = io.read_layer(project, results.TABLE)
    if not include_resolved:
        c = c[c["review"] != "resolved"]
    f = pd.DataFrame(c.drop(columns="geometry"))
    s = pipe_sides(project, f)
    s = s[s["owner"].notna()]
    if owners is not None:
        wanted = [str(o) for o in owners]
        s = s[s["owner"].isin(wanted)]
    # a finding between two pipes of one owner: that owner's pipe is side a
    s = s.sort_values(["conflict_id", "owner", "side"]).drop_duplicates(["conflict_id", "owner"])
    rows = s.merge(f, on="conflict_id", how="left")
    is_a = (rows["side"] == "a").to_numpy()
    rows["pipe"] = np.where(is_a, rows["uid_a"], rows["uid_b"])
    rows["pipe_layer"] = np.where(is_a, rows["layer_a"], rows["layer_b"])
    rows["other_layer"] = np.where(is_a, rows["layer_b"], rows["layer_a"])
    rows["other_uid"] = np.where(is_a, rows["uid_b"], rows["uid_a"])
    model = _model()

    def relabel(series, fn):  # one call per distinct value, not per row
        values = series.dropna().unique()
        return series.map(dict(zip(values, (fn(v) for v in values))))
    for col in ("pipe_layer", "other_layer"):
        rows[col] = relabel(rows[col], lambda n: _layer_label(model, n))
    rule = model.domain("rule")
    rows["rule_zh"] = relabel(rows["rule_id"], lambda r: _label(rule, r, "zh"))
    rows["rule_en"] = relabel(rows["rule_id"], lambda r: _label(rule, r, "en"))
    for col in ("severity", "certainty"):
        dom = model.domain(col)
        rows[col] = relabel(rows[col], lambda v, d=dom: f"{_label(d, v, 'zh')} {v}")
    # areas
    j = finding_areas(project)
    if len(j):
        j = j.assign(label=np.where(j["community"].notna(), j["community"].astype(str) + " (" +
                                    j["area"].astype(str) + ")", j["area"].astype(str)))
        j = j.sort_values(["conflict_id", "label"])
        many = j["conflict_id"].duplicated(keep=False).to_numpy()
        areas = j.loc[~many].set_index("conflict_id")["label"]
        if many.any():  # the few findings across area borders: joined labels
            areas = pd.concat([areas, j.loc[many].groupby("conflict_id")["label"].agg("; ".join)])
        rows["area"] = rows["conflict_id"].map(areas)
    else:
        rows["area"] = None
    # coordinates
    geom = c.set_index("conflict_id").geometry
    x, y = representative_points(geom.reindex(rows["conflict_id"]).to_numpy())
    rows["x"], rows["y"] = np.round(x, 2), np.round(y, 2)
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    ok = ~np.isnan(x)
    if ok.any() and crs:
        pyproj = require("pyproj", feature="Owner review sheets")
        t = pyproj.Transformer.from_crs(crs, LONLAT_CRS, always_xy=True)
        lon[ok], lat[ok] = t.transform(x[ok], y[ok])
    rows["lon"], rows["lat"] = np.round(lon, 7), np.round(lat, 7)
    rows["map_link"] = [None if np.isnan(a) else f"geo:{b:.7f},{a:.7f}" for a, b in zip(lon, lat)]
    for col in ("measured", "required"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce").round(3)
    rows["exported_review"] = rows["review"]
    rows["exported_reviewer"] = rows["reviewer"]
    rows["exported_note"] = rows["review_note"]
    rank = rows["severity"].astype(str).str.split(" ").str[-1].map({"error": 0, "warning": 1, "info": 2}).fillna(3)
    rows = rows.assign(_rank=rank).sort_values(["owner", "_rank", "rule_id", "pipe", "other_uid"],
                                               kind="stable").drop(columns="_rank")
    return rows.reset_index(drop=True), crs


def _layer_label(model, name):
    if name is None or (isinstance(name, float) and name != name) or name == "":
        return None
    try:
        lyr = model.layer(name)
        return f"{lyr.alias('zh')} {name}"
    except (KeyError, ValueError):
        return name


def _cell_value(v):
    if v is None:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return v


def export_owner_sheets(project: str, out_dir: str, owners=None, include_resolved: bool = False,
                        now: str = None) -> list:
    """Write ``findings_<owner>.xlsx`` in ``out_dir`` for each owner (all owners
    whose pipes are involved in a finding, or those in ``owners``). Returns the
    paths written, in owner order. An owner without findings gets no file."""
    openpyxl = require("openpyxl", feature="Owner review sheets")
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if out_dir.lower().endswith(".xlsx"):
        raise InputError("give a folder: one workbook is written per owner", file=out_dir)
    rows, crs = owner_findings(project, owners, include_resolved)
    os.makedirs(out_dir, exist_ok=True)
    now = now or results.now_iso()
    columns = _sheet_columns(crs or "")
    editable_fill = PatternFill("solid", fgColor="FFF2CC")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    choices = [review_choice(c) for c in SHEET_REVIEWS]
    paths, used = [], {}
    for owner, frame in rows.groupby("owner", sort=True):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = SHEET_NAME
        for j, (key, header, width, editable, hidden) in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=j, value=header)
            cell.font = Font(bold=True)
            cell.fill = editable_fill if editable else header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = width
            if hidden:
                ws.column_dimensions[letter].hidden = True
        values = {key: frame[key].tolist() for key, *_ in columns if key in frame.columns}
        for key in ("review", "exported_review"):
            values[key] = [None if v is None or v != v else review_choice(v) for v in values[key]]
        n = len(frame)
        keys = [k for k, *_ in columns]
        editable_cols = {j for j, (_k, _h, _w, editable, _hid) in enumerate(columns, start=1) if editable}
        link_col = keys.index("map_link") + 1
        # style one cell of each kind, then copy its style array (much faster than
        # setting styles through openpyxl's descriptors on every cell)
        proto = ws.cell(row=2, column=editable_cols and min(editable_cols))
        proto.protection = Protection(locked=False)
        proto.fill = editable_fill
        editable_style = copy.copy(proto._style)
        link = ws.cell(row=2, column=link_col)
        link.style = "Hyperlink"
        link_style = copy.copy(link._style)
        for i in range(n):
            r = i + 2
            for j, key in enumerate(keys, start=1):
                value = _cell_value(values[key][i])
                cell = ws.cell(row=r, column=j, value=value)
                if j in editable_cols:
                    cell._style = copy.copy(editable_style)
                elif j == link_col and value:
                    cell.hyperlink = value
                    cell._style = copy.copy(link_style)
        review_col = get_column_letter(keys.index("review") + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="审核状态 Review",
                            error="请从列表中选择 Choose a status from the list",
                            promptTitle="审核状态 Review", prompt=" / ".join(choices))
        ws.add_data_validation(dv)
        dv.add(f"{review_col}2:{review_col}{max(n + 1, 2)}")
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns) - 3)}{n + 1}"
        ws.protection.sheet = True
        ws.protection.autoFilter = False
        ws.protection.sort = False
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        meta = wb.create_sheet(META_SHEET)
        for k, v in (("format", "renewal_planner owner review sheet 1"), ("owner", owner),
                     ("project", os.path.abspath(project)), ("crs", crs or ""), ("exported_at", now),
                     ("findings", n)):
            meta.append([k, v])
        meta.sheet_state = "hidden"
        base = f"findings_{_safe_name(owner)}"
        used[base] = used.get(base, 0) + 1
        if used[base] > 1:  # two owners whose names sanitise alike
            base = f"{base}_{used[base]}"
        path = os.path.join(out_dir, base + ".xlsx")
        wb.save(path)
        paths.append(path)
    return paths


def _read_sheet(xlsx: str):
    """(records, meta): the findings rows of an owner sheet as dicts keyed by
    column key with their 1-based sheet row, and the hidden meta key/values."""
    openpyxl = require("openpyxl", feature="Owner review sheets")
    if not os.path.isfile(xlsx):
        raise InputError("no such file", file=xlsx)
    try:
        wb = openpyxl.load_workbook(xlsx, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError...
        raise InputError(f"is not a readable XLSX workbook ({exc.__class__.__name__})", file=xlsx) from None
    meta = {}
    if META_SHEET in wb.sheetnames:
        for row in wb[META_SHEET].iter_rows(values_only=True):
            if row and row[0] is not None:
                meta[str(row[0])] = row[1] if len(row) > 1 else None
    ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
    lookup = {}
    for key, header, *_ in _sheet_columns(meta.get("crs") or ""):
        lookup[_norm_header(header)] = key
        lookup[key] = key
        for part in str(header).split("\n"):
            lookup.setdefault(_norm_header(part), key)
    it = ws.iter_rows(values_only=True)
    header = next(it, None) or ()
    cols = {}
    for j, h in enumerate(header):
        key = lookup.get(_norm_header(h))
        if key and key not in cols:
            cols[key] = j
    if "conflict_id" not in cols:
        raise InputError("no conflict_id column: not an owner review sheet", file=xlsx, layer=ws.title)
    if "review" not in cols and "review_note" not in cols:
        raise InputError("no review or review note column", file=xlsx, layer=ws.title)
    records = []
    for r, row in enumerate(it, start=2):
        rec = {k: (row[j] if j < len(row) else None) for k, j in cols.items()}
        rec["_row"] = r
        records.append(rec)
    return records, meta, cols


def _text(v):
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def import_owner_sheet(project: str, xlsx: str, reviewer: str = None, now: str = None) -> dict:
    """Apply the review statuses and notes of a returned owner sheet (module doc).

    Returns a summary: file, owner, rows (findings rows read), applied (ids),
    unchanged (count), unknown_ids [(row, id)], invalid [(row, id, value)],
    duplicates [(row, id)]. Everything valid is written in one transaction.
    """
    _require_project(project)
    records, meta, cols = _read_sheet(xlsx)
    owner = _text(meta.get("owner"))
    now = now or results.now_iso()
    from ..layers import gpkgblob

    con = sqlite3.connect(project, timeout=30)
    gpkgblob.register_functions(con)  # the GeoPackage's triggers call ST_* functions
    try:
        current = {cid: (review, who, note) for cid, review, who, note in con.execute(
            f"SELECT conflict_id, review, reviewer, review_note FROM {results.TABLE}")}
        summary = {"file": xlsx, "owner": owner, "rows": 0, "applied": [], "unchanged": 0,
                   "unknown_ids": [], "invalid": [], "duplicates": []}
        seen, updates = {}, []
        for rec in records:
            cid = _text(rec.get("conflict_id"))
            if cid is None:
                continue
            summary["rows"] += 1
            row = rec["_row"]
            if cid in seen:
                summary["duplicates"].append((row, cid))
                continue
            seen[cid] = row
            if cid not in current:
                summary["unknown_ids"].append((row, cid))
                continue
            db_review, db_reviewer, db_note = current[cid]
            has_export = "exported_review" in cols
            raw_review = rec.get("review") if "review" in cols else None
            base_review = parse_review(rec.get("exported_review")) if has_export else db_review
            base_note = _text(rec.get("exported_note")) if "exported_note" in cols else _text(db_note)
            base_reviewer = _text(rec.get("exported_reviewer")) if "exported_reviewer" in cols \
                else _text(db_reviewer)
            if "review" in cols:
                if _text(raw_review) is None:
                    code = base_review  # a cleared status cell: the status is left as it was
                else:
                    code = parse_review(raw_review)
                    if code is None or (code not in SHEET_REVIEWS and code != base_review):
                        summary["invalid"].append((row, cid, raw_review))
                        continue
            else:
                code = base_review
            note = _text(rec.get("review_note")) if "review_note" in cols else base_note
            cell_reviewer = _text(rec.get("reviewer")) if "reviewer" in cols else None
            review_changed = code != base_review
            note_changed = note != base_note
            already = code == db_review and note == _text(db_note)  # imported before, or set alike
            if (not review_changed and not note_changed) or already:
                summary["unchanged"] += 1
                continue
            who = cell_reviewer if cell_reviewer and cell_reviewer != base_reviewer else \
                (reviewer or owner or cell_reviewer)
            if review_changed:
                updates.append(("full", (code, who, note, now, cid)))
            else:
                updates.append(("note", (who, note, now, cid)))
            summary["applied"].append(cid)
        with con:
            full = [u for kind, u in updates if kind == "full"]
            notes = [u for kind, u in updates if kind == "note"]
            if full:
                con.executemany(
                    f"UPDATE {results.TABLE} SET review = ?, reviewer = ?, review_note = ?, reviewed_at = ?, "
                    f"previous_review = NULL WHERE conflict_id = ?", full)
            if notes:
                con.executemany(
                    f"UPDATE {results.TABLE} SET reviewer = ?, review_note = ?, reviewed_at = ? "
                    f"WHERE conflict_id = ?", notes)
            if updates:
                con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?",
                            (now, results.TABLE))
        summary["reviewer"] = reviewer or owner
        return summary
    finally:
        con.close()


def import_summary_lines(summary: dict) -> list:
    """Human-readable lines (Chinese / English) of an import summary."""
    lines = [f"{os.path.basename(summary['file'])}: owner {summary.get('owner') or '-'}; "
             f"{summary['rows']} rows, {len(summary['applied'])} applied, {summary['unchanged']} unchanged, "
             f"{len(summary['unknown_ids'])} unknown ids, {len(summary['invalid'])} invalid statuses, "
             f"{len(summary['duplicates'])} duplicates"]
    for row, cid in summary["unknown_ids"]:
        lines.append(f"  row {row}: unknown conflict_id {cid} (未知冲突编号), not applied")
    for row, cid, value in summary["invalid"]:
        lines.append(f"  row {row}: {cid}: invalid review status {value!r} (审核状态无效), not applied")
    for row, cid in summary["duplicates"]:
        lines.append(f"  row {row}: {cid} appears again (重复), not applied")
    return lines


def review_command(args) -> int:
    """``renewal-planner review export|import``."""
    if args.review_command == "export":
        owners = [o.strip() for o in args.owner.split(",") if o.strip()] if args.owner else None
        paths = export_owner_sheets(args.project, args.out, owners=owners,
                                    include_resolved=args.include_resolved)
        for p in paths:
            print(p)
        print(f"{len(paths)} owner sheets written to {args.out}")
        return 0
    summary = import_owner_sheet(args.project, args.file, reviewer=args.reviewer)
    for line in import_summary_lines(summary):
        print(line)
    return 0
