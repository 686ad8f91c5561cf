"""``renewal-planner quantities``: the figures a renovation programme reports.

``compute_quantities(project, area=None)`` returns a dict of DataFrames, one
per theme plus ``summary``; ``write_quantities(result, path)`` writes them as
an XLSX workbook (summary sheet first, then one sheet per theme, Chinese and
English header rows) or as one long CSV table.

How features are assigned to renovation areas (by location, vectorised):

* pipes (pipe_segment): the length of the part of each segment inside each
  area (km). Segments wholly covered by an area count whole; only segments that
  cross an area's boundary are intersected with it. A stretch lying on the
  edge shared by two adjacent areas counts in the first of them (uid order)
  only. The part of a segment outside every area is reported with an empty
  area_uid.
* planting areas: the area (m²) of the part inside each area, likewise.
* pipe points, trees: the area that covers the point (on a shared boundary
  the first area in uid order, so every point counts once).
* parking stalls, fire lanes, buildings: the area that covers the polygon's
  representative point (``point_on_surface``), so each counts once.

Community: every row carries the renovation area's ``community``, except for
layers that have a ``community`` field of their own (parking_stall,
fire_lane, building): there the feature's own value wins where it is filled in
(a stall of a neighbouring community standing inside the area is reported
under its own community), and the area's value is used where it is empty.

Status: theme tables keep ``status`` as a key (existing / planned /
abandoned); the summary counts only features that are not abandoned
(rules.md: abandoned features take no part).

Households, floor area and declared buildings come from the renovation_area
fields; ``buildings_counted`` is the number of building features in the area,
shown beside the declared figure with their difference.

The summary has a row per area (``scope`` = ``area``), a total row over all
areas (``total``; pipe and planting figures measured inside the union of the
areas, so overlapping areas are not counted twice) and, when some features lie
outside every area, a row for them (``outside``).
"""
from __future__ import annotations

import csv
import os

import numpy as np

from ..layers.errors import InputError, require

UNASSIGNED = -1

#: theme -> (source layer, key columns, value columns [(column, unit)])
THEMES = {
    "pipes": ("pipe_segment", ["utility", "subclass", "material", "diameter_mm", "section", "status"],
              [("length_km", "km")]),
    "points": ("pipe_point", ["utility", "appurtenance", "status"], [("count", "pcs")]),
    "stalls": ("parking_stall", ["stall_type", "status"], [("count", "pcs"), ("area_m2", "m2")]),
    "trees": ("tree", ["kind", "species", "status"], [("count", "pcs")]),
    "planting": ("planting_area", ["planting", "status"], [("area_m2", "m2")]),
    "fire_lanes": ("fire_lane", ["status"], [("count", "pcs"), ("area_m2", "m2")]),
    "buildings": ("building", [], [("buildings_declared", "pcs"), ("buildings_counted", "pcs"),
                                   ("buildings_difference", "pcs"), ("households", "households"),
                                   ("floor_area_m2", "m2")]),
}
THEME_ORDER = ["summary"] + list(THEMES)

#: Sheet names (zh en) and labels of columns that are not fields of the data model.
SHEETS = {
    "summary": "汇总 Summary", "pipes": "管线 Pipes", "points": "附属物 Appurtenances",
    "stalls": "车位 Stalls", "trees": "树木 Trees", "planting": "种植 Planting",
    "fire_lanes": "消防通道 Fire lanes", "buildings": "楼栋户数 Buildings",
}
LABELS = {
    "scope": ("范围", "Scope"),
    "area_uid": ("片区编号", "Area ID"),
    "section": ("断面(宽×高 mm)", "Section W×H (mm)"),
    "length_km": ("长度(km)", "Length (km)"),
    "count": ("数量", "Count"),
    "area_m2": ("面积(m²)", "Area (m²)"),
    "buildings_declared": ("楼栋数(申报)", "Buildings (declared)"),
    "buildings_counted": ("楼栋数(图上)", "Buildings (mapped)"),
    "buildings_difference": ("楼栋数差值(图上−申报)", "Buildings: mapped − declared"),
    "communities": ("小区数", "Communities"),
    "pipe_km": ("管线合计(km)", "Pipes in total (km)"),
    "appurtenances": ("附属物(个)", "Appurtenances"),
    "stalls": ("停车位(个)", "Parking stalls"),
    "trees": ("乔木(株)", "Trees"),
    "shrubs": ("灌木(株)", "Shrubs"),
    "planting_m2": ("种植面积(m²)", "Planting area (m²)"),
    "fire_lanes": ("消防通道(条)", "Fire lanes"),
    "measure": ("指标", "Measure"),
    "quantity": ("数量", "Quantity"),
    "unit": ("单位", "Unit"),
    "theme": ("专题", "Theme"),
}
SCOPE_LABELS = {"area": ("片区", "area"), "total": ("合计", "total"), "outside": ("片区外", "outside areas")}
SUMMARY_AREA_FIELDS = ["community", "neighbourhood", "year", "batch", "phase"]
UNITS = {"km": ("km", "km"), "pcs": ("个", "pcs"), "m2": ("m²", "m²"), "households": ("户", "households")}
NUMBER_FORMATS = {"km": "#,##0.000", "m2": "#,##0.0", "pcs": "#,##0", "households": "#,##0"}


def _gpd():
    return require("geopandas", minimum="0.14", feature="Quantities")


#: the fields each layer is read with (fewer columns: a faster read)
READ_FIELDS = {
    "renovation_area": ["uid", "status"] + SUMMARY_AREA_FIELDS + ["buildings", "households", "floor_area_m2"],
    "pipe_segment": ["uid", "status", "utility", "subclass", "material", "diameter_mm", "width_mm", "height_mm"],
    "pipe_point": ["uid", "status", "utility", "appurtenance"],
    "parking_stall": ["uid", "status", "stall_type", "community"],
    "tree": ["uid", "status", "kind", "species"],
    "planting_area": ["uid", "status", "planting"],
    "fire_lane": ["uid", "status", "community"],
    "building": ["uid", "status", "community"],
}


def _read(project, name):
    from ..layers import io

    cols = READ_FIELDS[name]
    if name not in io.list_layers(project):
        df = io.empty_frame(name)
    else:
        df = io.read_layer(project, name, columns=cols)
    return df[cols + ["geometry"]].reset_index(drop=True)


def _blank(series):
    """True where a text value is missing or empty."""
    s = series.astype(object)
    return s.isna() | (s.astype(str).str.strip() == "")


def _point_area(points, areas):
    """Index of the area covering each point (first in area order), or -1."""
    import shapely

    out = np.full(len(points), UNASSIGNED, dtype=np.int64)
    if not len(points) or not len(areas):
        return out
    tree = shapely.STRtree(points)
    ai, pi = tree.query(areas, predicate="covers")
    order = np.lexsort((ai, pi))           # by point, then area
    pi, ai = pi[order], ai[order]
    first = np.ones(len(pi), bool)
    first[1:] = pi[1:] != pi[:-1]
    out[pi[first]] = ai[first]
    return out


def _inside_measure(geoms, areas, measure):
    """Pairs (feature index, area index, length or area inside) for every
    feature and area that meet, and per feature the measure inside the union
    of the areas (overlaps and shared edges once).

    Only boundary-crossing pairs are intersected; features meeting two or
    more areas (few: across a shared edge or an overlap) are measured against
    the union of just those areas. A line lying on the edge two areas share
    counts in the first of them only, like a point on it; inside a real
    overlap a feature counts in each area.
    """
    import shapely

    inside_u = np.zeros(len(geoms))
    if not len(geoms) or not len(areas):
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(0), inside_u
    tree = shapely.STRtree(geoms)
    ai, fi = tree.query(areas, predicate="intersects")
    order = np.lexsort((ai, fi))          # by feature, then area
    ai, fi = ai[order], fi[order]
    shapely.prepare(areas)
    whole = shapely.covers(areas[ai], geoms[fi])
    val = np.where(whole, measure(geoms[fi]), 0.0)
    cut = ~whole
    if cut.any():
        val[cut] = measure(shapely.intersection(geoms[fi[cut]], areas[ai[cut]]))
    npairs = np.bincount(fi, minlength=len(geoms))
    # areas that meet another area (share an edge or overlap): only features
    # in two or more of those need the union; elsewhere the pieces just add up
    qa, qb = shapely.STRtree(areas).query(areas, predicate="intersects")
    touchy = np.zeros(len(areas), bool)
    touchy[qa[qa != qb]] = True
    ntouchy = np.bincount(fi, weights=touchy[ai].astype(float), minlength=len(geoms))
    simple = ntouchy[fi] < 2
    np.add.at(inside_u, fi[simple], val[simple])
    multi = np.nonzero((npairs > 1) & (ntouchy >= 2))[0]
    if len(multi):
        starts = np.searchsorted(fi, multi)
        for f, s0 in zip(multi, starts):  # few features: across shared edges or overlaps
            ks = np.arange(s0, s0 + npairs[f])
            inside_u[f] = measure(shapely.intersection(geoms[f], shapely.union_all(areas[ai[ks]])))
            if measure is shapely.length and val[ks].sum() > inside_u[f] + 1e-6:
                for n, k in enumerate(ks[1:], start=1):
                    on_edge = shapely.intersection(geoms[f], shapely.boundary(areas[ai[k]]))
                    dup = shapely.length(shapely.intersection(on_edge, shapely.union_all(areas[ai[ks[:n]]])))
                    val[k] = max(0.0, val[k] - dup)
    keep = val > 1e-9
    return fi[keep], ai[keep], val[keep], inside_u


def _section(df):
    w, h = df["width_mm"].astype(float), df["height_mm"].astype(float)
    box = w.notna() & h.notna() & (w > 0) & (h > 0)
    out = np.full(len(df), None, dtype=object)
    if box.any():
        out[box.to_numpy()] = [f"{a:g}×{b:g}" for a, b in zip(w[box], h[box])]
    return out


def _group(frame, keys, values):
    import pandas as pd

    cols = ["area_uid", "community"] + keys
    if not len(frame):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}
                            | {v: pd.Series([], dtype=float) for v, _ in values})
    g = frame.groupby(cols, dropna=False, sort=False)[[v for v, _ in values]].sum().reset_index()
    # areas in area order, outside last; then the keys
    g["_o"] = frame.groupby(cols, dropna=False, sort=False)["_order"].min().to_numpy()
    g = g.sort_values(["_o"] + keys, na_position="last", kind="stable").drop(columns="_o")
    for c in cols:
        g[c] = g[c].astype(object).where(g[c].notna(), None)
    return g.reset_index(drop=True)


class _Areas:
    def __init__(self, df):
        import shapely

        self.df = df.sort_values("uid", kind="stable").reset_index(drop=True)
        self.geoms = np.asarray(shapely.make_valid(self.df.geometry.values), dtype=object) \
            if len(self.df) else np.zeros(0, dtype=object)
        self.uid = self.df["uid"].astype(object).to_numpy()
        self.community = self.df["community"].astype(object).where(self.df["community"].notna(), None).to_numpy()

    def label(self, idx, own_community=None):
        """area_uid, community and sort order for area indices (-1 = outside)."""
        idx = np.asarray(idx, dtype=np.int64)
        inside = idx >= 0
        uid = np.where(inside, self.uid[np.maximum(idx, 0)] if len(self.uid) else None, None)
        comm = np.where(inside, self.community[np.maximum(idx, 0)] if len(self.uid) else None, None)
        if own_community is not None:
            own = np.asarray(own_community, dtype=object)
            has = ~_blank(_pd().Series(own)).to_numpy()
            comm = np.where(has, own, comm)
        order = np.where(inside, idx, len(self.uid))
        return uid, comm, order


def _pd():
    import pandas as pd

    return pd


def compute_quantities(project: str, area: str = None) -> dict:
    """Quantities of ``project`` (a GeoPackage path) per renovation area and
    community: a dict theme -> DataFrame (``summary`` first, then THEMES).

    ``area``: only this renovation area (uid); InputError when unknown.
    """
    import shapely

    from ..layers.project import is_pg, require_project

    pd = _pd()
    _gpd()
    if is_pg(project):  # a PostGIS project: same layers through layers/io.py
        pass
    elif not isinstance(project, str) or not project.lower().endswith(".gpkg"):
        raise InputError("a project must be a GeoPackage (.gpkg)", file=project)
    else:
        project = os.path.abspath(project)
    require_project(project)

    areas_df = _read(project, "renovation_area")
    if area is not None:
        areas_df = areas_df[areas_df["uid"] == area]
        if not len(areas_df):
            raise InputError(f"no renovation area with uid {area!r}", file=project,
                             layer="renovation_area", field="uid")
    A = _Areas(areas_df)
    only_inside = area is not None
    out = {}
    details = {}

    # -- counted by location (points, representative points) ---------------
    for theme, by_rep in (("points", False), ("trees", False), ("stalls", True),
                          ("fire_lanes", True)):
        layer, keys, values = THEMES[theme]
        df = _read(project, layer)
        geoms = np.asarray(df.geometry.values, dtype=object)
        if by_rep and len(geoms):
            pts = shapely.point_on_surface(shapely.make_valid(geoms))
        else:
            pts = geoms
        idx = _point_area(pts, A.geoms)
        own = df["community"].to_numpy(dtype=object) if "community" in df.columns else None
        uid, comm, order = A.label(idx, own)
        frame = pd.DataFrame({"area_uid": uid, "community": comm, "_order": order})
        for k in keys:
            frame[k] = df[k].astype(object).to_numpy()
        frame["count"] = 1
        if "area_m2" in dict(values):
            frame["area_m2"] = shapely.area(geoms) if len(geoms) else np.zeros(0)
        if theme == "points":  # only real appurtenances (not 'none' or empty)
            frame = frame[~_blank(frame["appurtenance"]) & (frame["appurtenance"] != "none")]
        if only_inside:
            frame = frame[frame["_order"] < len(A.uid)]
        details[theme] = frame
        out[theme] = _group(frame, keys, values)

    # -- measured inside (pipes: length, planting: area) --------------------
    for theme, layer, measure, scale in (("pipes", "pipe_segment", shapely.length, 1e-3),
                                         ("planting", "planting_area", shapely.area, 1.0)):
        _, keys, values = THEMES[theme]
        vcol = values[0][0]
        df = _read(project, layer)
        if theme == "pipes":
            df["section"] = _section(df) if len(df) else pd.Series([], dtype=object)
        geoms = np.asarray(shapely.make_valid(df.geometry.values), dtype=object) if len(df) \
            else np.zeros(0, dtype=object)
        fi, ai, val, inside_u = _inside_measure(geoms, A.geoms, measure)
        parts = [(fi, ai, val)]
        if not only_inside and len(geoms):
            # the part outside every area
            rest = measure(geoms) - inside_u
            rest_idx = np.nonzero(rest > 1e-6)[0]
            parts.append((rest_idx, np.full(len(rest_idx), UNASSIGNED), rest[rest_idx]))
        fi = np.concatenate([p[0] for p in parts]).astype(np.int64)
        ai = np.concatenate([p[1] for p in parts]).astype(np.int64)
        val = np.concatenate([p[2] for p in parts])
        uid, comm, order = A.label(ai)
        frame = pd.DataFrame({"area_uid": uid, "community": comm, "_order": order})
        for k in keys:
            frame[k] = df[k].astype(object).to_numpy()[fi] if len(fi) else np.zeros(0, dtype=object)
        frame[vcol] = val * scale
        details[theme] = frame
        out[theme] = _group(frame, keys, values)
        # for the summary's total row: inside the union, not abandoned
        live = (df["status"].astype(object) != "abandoned").to_numpy() if len(df) else np.zeros(0, bool)
        details[theme + "_total"] = float(inside_u[live].sum() * scale)
        if theme == "pipes":
            util = df["utility"].astype(object).to_numpy() if len(df) else np.zeros(0, dtype=object)
            details["pipes_total_by_utility"] = {
                u: float(inside_u[live & (util == u)].sum() * scale) for u in set(util[live])}

    # -- buildings ---------------------------------------------------------
    bdf = _read(project, "building")
    bgeoms = np.asarray(bdf.geometry.values, dtype=object)
    bidx = _point_area(shapely.point_on_surface(shapely.make_valid(bgeoms)) if len(bgeoms) else bgeoms,
                       A.geoms)
    live = (bdf["status"].astype(object) != "abandoned").to_numpy()
    counted = np.bincount(bidx[(bidx >= 0) & live], minlength=len(A.uid)) if len(A.uid) \
        else np.zeros(0, np.int64)
    ad = A.df
    declared = pd.to_numeric(ad["buildings"], errors="coerce").astype(float).to_numpy()
    b = pd.DataFrame({
        "area_uid": A.uid, "community": A.community,
        "buildings_declared": declared,
        "buildings_counted": counted.astype(float),
        "buildings_difference": counted - declared,
        "households": pd.to_numeric(ad["households"], errors="coerce").astype(float).to_numpy(),
        "floor_area_m2": pd.to_numeric(ad["floor_area_m2"], errors="coerce").astype(float).to_numpy(),
    })
    out["buildings"] = b
    outside_buildings = int(((bidx < 0) & live).sum()) if not only_inside else 0

    out["summary"] = _summary(A, out, details, outside_buildings, only_inside)
    return {k: out[k] for k in THEME_ORDER}


def _summary(A, out, details, outside_buildings, only_inside):
    pd = _pd()
    from ..layers import schema

    utilities = schema.model().domain("utility").values
    n = len(A.uid)
    ad = A.df
    rows = pd.DataFrame({"scope": ["area"] * n, "area_uid": A.uid})
    for f in SUMMARY_AREA_FIELDS:
        rows[f] = ad[f].astype(object).where(ad[f].notna(), None).to_numpy()
    rows["communities"] = 1.0
    b = out["buildings"]
    for c in ("buildings_declared", "buildings_counted", "households", "floor_area_m2"):
        rows[c] = b[c].to_numpy()

    def per_area(frame, value, mask=None):
        """Sum of ``value`` per area index (0..n-1) and outside (n)."""
        f = frame if mask is None else frame[mask]
        f = f[f["status"].astype(object) != "abandoned"] if "status" in f.columns else f
        s = np.bincount(f["_order"].to_numpy(np.int64), weights=f[value].to_numpy(float),
                        minlength=n + 1)
        return s[:n + 1]

    pipes = details["pipes"]
    present = [u for u in utilities if (pipes["utility"] == u).any()] if len(pipes) else []
    figures = {"pipe_km": per_area(pipes, "length_km")}
    for u in present:
        figures[f"pipe_km_{u}"] = per_area(pipes, "length_km", pipes["utility"] == u)
    figures["appurtenances"] = per_area(details["points"], "count")
    figures["stalls"] = per_area(details["stalls"], "count")
    trees = details["trees"]
    figures["trees"] = per_area(trees, "count", trees["kind"] == "tree")
    figures["shrubs"] = per_area(trees, "count", trees["kind"] == "shrub")
    figures["planting_m2"] = per_area(details["planting"], "area_m2")
    figures["fire_lanes"] = per_area(details["fire_lanes"], "count")
    for k, v in figures.items():
        rows[k] = v[:n]

    total = {"scope": "total", "area_uid": None}
    for f in SUMMARY_AREA_FIELDS:
        total[f] = None
    comms = [c for c in A.community if c is not None and str(c).strip()]
    total["communities"] = float(len(set(comms)))
    for c in ("buildings_declared", "buildings_counted", "households", "floor_area_m2"):
        total[c] = float(np.nansum(rows[c].to_numpy(float))) if n else 0.0
    for k, v in figures.items():
        total[k] = float(v[:n].sum())
    # pipes and planting: measured inside the union (overlaps count once)
    total["pipe_km"] = details["pipes_total"]
    for u in present:
        total[f"pipe_km_{u}"] = details.get("pipes_total_by_utility", {}).get(u, 0.0)
    total["planting_m2"] = details["planting_total"]
    result = pd.concat([rows, pd.DataFrame([total])], ignore_index=True)
    if not only_inside:
        outside = {"scope": "outside", "area_uid": None, "communities": 0.0,
                   "buildings_counted": float(outside_buildings)}
        for k, v in figures.items():
            outside[k] = float(v[n])
        if any(outside[k] for k in figures) or outside_buildings:
            result = pd.concat([result, pd.DataFrame([outside])], ignore_index=True)
    return result


# ---------------------------------------------------------------------------
# Writing

def _column_labels():
    """column -> (zh, en): data-model aliases, then the labels above."""
    from ..layers import schema

    m = schema.model()
    labels = {}
    for name in ("renovation_area", "pipe_segment", "pipe_point", "parking_stall", "tree",
                 "planting_area", "fire_lane", "building"):
        for f in m.layer(name).fields:
            labels.setdefault(f.name, (f.zh, f.en))
    labels.update(LABELS)
    for code, zh, en in m.domain("utility").codes:
        labels[f"pipe_km_{code}"] = (f"{zh}管线(km)", f"{en} pipes (km)")
    labels["community"] = ("小区名称", "Community")
    return labels


def _domains():
    """column -> code-list name, from the data model."""
    from ..layers import schema

    m = schema.model()
    out = {}
    for name in ("renovation_area", "pipe_segment", "pipe_point", "parking_stall", "tree",
                 "planting_area"):
        for f in m.layer(name).fields:
            if f.domain and not f.multi:
                out.setdefault(f.name, f.domain)
    return out


def _unit_of(col):
    if col in ("length_km",) or col.startswith("pipe_km"):
        return "km"
    if col.endswith("m2"):
        return "m2"
    if col == "households":
        return "households"
    if col in ("count", "communities", "appurtenances", "stalls", "trees", "shrubs", "fire_lanes") \
            or col.startswith("buildings"):
        return "pcs"
    return None


def write_quantities(result: dict, out_path: str) -> str:
    """Write ``result`` (compute_quantities) to ``out_path`` (.xlsx or .csv)."""
    ext = os.path.splitext(str(out_path))[1].lower()
    if ext not in (".xlsx", ".csv"):
        raise InputError("quantities are written as .xlsx or .csv", file=out_path)
    folder = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(folder):
        raise InputError("the output folder does not exist", file=out_path)
    tmp = out_path + ".part"
    try:
        if ext == ".xlsx":
            _write_xlsx(result, tmp)
        else:
            _write_csv(result, tmp)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_path


def _cell(v):
    if v is None:
        return None
    if isinstance(v, (float, np.floating)):
        return None if v != v else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    try:
        if _pd().isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _write_xlsx(result, path):
    openpyxl = require("openpyxl", feature="Quantities (XLSX)")
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from ..layers import schema

    m = schema.model()
    labels = _column_labels()
    domains = _domains()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for theme in THEME_ORDER:
        df = result.get(theme)
        if df is None:
            continue
        ws = wb.create_sheet(SHEETS[theme])
        cols = list(df.columns)
        for j, c in enumerate(cols, start=1):
            zh, en = labels.get(c, (c, c))
            for i, text in ((1, zh), (2, en)):
                cell = ws.cell(row=i, column=j, value=text)
                cell.font = bold
                cell.fill = fill
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[get_column_letter(j)].width = max(10, min(28, 2 * len(zh) + 4, len(en) + 4))
        for r, rec in enumerate(df.itertuples(index=False), start=3):
            for j, (c, v) in enumerate(zip(cols, rec), start=1):
                v = _cell(v)
                if c == "scope" and v in SCOPE_LABELS:
                    v = " / ".join(SCOPE_LABELS[v])
                elif c in domains and v is not None:
                    try:
                        v = f"{m.domain(domains[c]).label(str(v), 'zh')} / " \
                            f"{m.domain(domains[c]).label(str(v), 'en')}"
                    except KeyError:
                        pass  # a value outside the code list is shown as it is
                cell = ws.cell(row=r, column=j, value=v)
                unit = _unit_of(c)
                if unit and isinstance(v, (int, float)):
                    cell.number_format = NUMBER_FORMATS[unit]
                elif c == "diameter_mm" and isinstance(v, (int, float)):
                    cell.number_format = "0"
        if theme == "summary":
            for r in range(3, 3 + len(df)):
                if ws.cell(row=r, column=1).value != " / ".join(SCOPE_LABELS["area"]):
                    for j in range(1, len(cols) + 1):
                        ws.cell(row=r, column=j).font = bold
        ws.freeze_panes = "A3"
        if len(df):
            ws.auto_filter.ref = f"A2:{get_column_letter(len(cols))}{2 + len(df)}"
    wb.save(path)


CSV_KEYS = ["utility", "subclass", "material", "diameter_mm", "section", "appurtenance", "stall_type",
            "kind", "species", "planting", "status"]
CSV_COLUMNS = ["theme", "area_uid", "community"] + CSV_KEYS + ["measure", "quantity", "unit"]


def csv_rows(result: dict):
    """The long table: one row per theme, area, community, keys and measure."""
    rows = []
    for theme in THEME_ORDER:
        df = result.get(theme)
        if df is None or not len(df):
            continue
        if theme == "summary":
            values = [c for c in df.columns if _unit_of(c)]
        else:
            values = [v for v, _ in THEMES[theme][2]]
        for rec in df.to_dict("records"):
            base = {"theme": theme, "area_uid": _cell(rec.get("area_uid")),
                    "community": _cell(rec.get("community"))}
            if theme == "summary" and rec.get("scope") != "area":
                base["area_uid"] = f"({rec.get('scope')})"
            for k in CSV_KEYS:
                base[k] = _cell(rec.get(k))
            for v in values:
                q = _cell(rec.get(v))
                if q is None:
                    continue
                unit = _unit_of(v)
                rows.append(dict(base, measure=v, quantity=round(q, 6) if isinstance(q, float) else q,
                                 unit=UNITS[unit][1] if unit else ""))
    return rows


def _write_csv(result, path):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in csv_rows(result):
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in CSV_COLUMNS})


def summary_lines(result: dict) -> list:
    """Headline figures, e.g. for the command line (zh / en)."""
    s = result["summary"]
    tot = s[s["scope"] == "total"]
    if not len(tot):
        return []
    t = tot.iloc[0]
    from ..layers import schema

    util = schema.model().domain("utility")

    def num(v, fmt="{:,.0f}"):
        v = _cell(v)
        return fmt.format(v) if v is not None else "-"

    lines = [f"片区 areas: {int((s['scope'] == 'area').sum())}; 小区 communities: {num(t['communities'])}; "
             f"楼栋 buildings: {num(t['buildings_declared'])} declared, {num(t['buildings_counted'])} mapped; "
             f"户数 households: {num(t['households'])}; 建筑面积 floor area: {num(t['floor_area_m2'])} m²"]
    pipe = [f"{util.label(c[8:], 'zh')} {util.label(c[8:], 'en')} {num(t[c], '{:,.2f}')} km"
            for c in s.columns if c.startswith("pipe_km_") and (_cell(t[c]) or 0) > 0]
    lines.append(f"管线 pipes: {num(t['pipe_km'], '{:,.2f}')} km" + (f" ({'; '.join(pipe)})" if pipe else ""))
    lines.append(f"附属物 appurtenances: {num(t['appurtenances'])}; 车位 stalls: {num(t['stalls'])}; "
                 f"乔木 trees: {num(t['trees'])}; 灌木 shrubs: {num(t['shrubs'])}; "
                 f"种植 planting: {num(t['planting_m2'], '{:,.1f}')} m²; 消防通道 fire lanes: {num(t['fire_lanes'])}")
    return lines


def quantities_command(args) -> int:
    """``renewal-planner quantities PROJECT --out FILE.(xlsx|csv) [--area UID]``."""
    out = args.out
    ext = os.path.splitext(str(out))[1].lower()
    if ext not in (".xlsx", ".csv"):
        raise InputError("quantities are written as .xlsx or .csv", file=out)
    result = compute_quantities(args.project, area=getattr(args, "area", None))
    write_quantities(result, out)
    for line in summary_lines(result):
        print(line)
    print(f"quantities: {out}")
    return 0
