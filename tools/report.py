"""``renewal-planner report``: the findings of a project as PDF, HTML or XLSX.

- PDF: a QGIS print layout. A cover page (title, project, date, CRS, an
  overview map of the styled layers and the summary table: findings by rule,
  severity, certainty and review status), then one atlas page per open
  finding (``QgsLayoutAtlas`` over a memory layer of the open findings: a map
  extract around the finding, highlighted, its details, the rule's source and
  its review status), then the list of all findings. Every page carries the
  project name, date, CRS and page number.
- HTML: one self-contained file with the same content; the maps are rendered
  from the same layouts and embedded as base64 PNG.
- XLSX: the summary and every finding (openpyxl).

Atlas pages are limited to the first ``max_pages`` open findings in order of
severity, certainty and rule (default ``DEFAULT_MAX_PAGES``): a report of
10,000 findings stays quick and readable. The report says so on its cover,
and the list (PDF, HTML) and the XLSX always hold every finding.

The pages are rendered by ``QgsLayoutExporter.renderPage`` into one
``QPdfWriter``, so the cover, the atlas and the list (three layouts) make one
PDF; text stays text (searchable, extractable), Chinese in a CJK font.
Everything is written to a temporary file first and moved into place at the
end: a failed or cancelled report leaves nothing behind.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html as _html
import math
import os
import tempfile

import numpy as np

from ..layers import schema
from ..layers.errors import InputError

# --------------------------------------------------------------------------
# Choices of presentation (not rules)

DEFAULT_MAX_PAGES = 200            # atlas pages: the first N open findings by severity
LIST_ROWS_PER_PAGE = 30            # rows of the findings list per PDF page
PAGE_W, PAGE_H = 297.0, 210.0      # A4 landscape, mm
PDF_DPI = 300
HTML_DPI = 96
CELL_MARGIN = 0.8                  # mm, inside table cells
MIN_EXTENT_M = 60.0                # smallest map extract around a finding (m)
EXTENT_PADDING = 0.5               # extra room around a finding, as a fraction of its size
HIGHLIGHT = (255, 255, 0, 255)     # the finding on its atlas page (no layer uses pure yellow)
HIGHLIGHT_EDGE = (20, 20, 20, 255)
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
             "PingFang SC", "Noto Serif CJK SC", "AR PL UMing CN")
FORMATS = (".pdf", ".html", ".htm", ".xlsx")

# Frames of the layouts (mm): x, y, width, height
COVER_MAP = (10, 40, 150, 150)
COVER_TABLE = (166, 40, 121, 150)
ATLAS_MAP = (10, 22, 170, 168)
ATLAS_TABLE = (186, 22, 101, 168)
LIST_TABLE = (10, 22, 277, 172)
LIST_WIDTHS = (9, 30, 38, 16, 16, 34, 34, 15, 15, 9, 18, 33)   # relative column widths
LIST_HEADER_H, LIST_ROW_H = 8.0, 5.2                            # mm
FOOTER = (10, 196, 277, 8)
TITLE = (10, 8, 277, 12)

SEVERITY_ORDER = ("error", "warning", "info")
CERTAINTY_ORDER = ("certain", "possible")
REVIEW_ORDER = ("open", "accepted", "waived", "resolved")


# --------------------------------------------------------------------------
# Text in one language or both


def _both(lang: str, zh: str, en: str, sep: str = " / ") -> str:
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return zh if zh == en else f"{zh}{sep}{en}"


def _code(lang: str, domain: str, code, sep: str = " / ") -> str:
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return ""
    for c, zh, en in schema.model().domain(domain).codes:
        if c == code:
            return _both(lang, zh, en, sep)
    return str(code)


def _field(lang: str, name: str, sep: str = " / ") -> str:
    f = schema.model().layer("conflict").field(name)
    return _both(lang, f.zh, f.en, sep)


def _layer_name(lang: str, name) -> str:
    if not name or not isinstance(name, str):
        return ""
    try:
        lyr = schema.model().layer(name)
    except KeyError:
        return name
    return _both(lang, lyr.zh, lyr.en)


def _num(v) -> str:
    if v is None:
        return ""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return ""
    return f"{x:.2f}"


def _s(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover
        pass
    return str(v)


T = {  # fixed texts: (zh, en)
    "title": ("城市更新规划 冲突检查报告", "Renewal Planner conflict report"),
    "project": ("项目", "Project"),
    "date": ("日期", "Date"),
    "crs": ("坐标系", "CRS"),
    "page": ("第 {p} / {n} 页", "Page {p} of {n}"),
    "total": ("合计", "Total"),
    "findings": ("冲突总数", "Findings"),
    "open": ("待审核", "open"),
    "overview": ("总图", "Overview"),
    "summary": ("按规则、严重程度、确定性和审核状态统计", "By rule, severity, certainty and review status"),
    "atlas_all": ("以下为全部 {k} 个待审核问题的分页图。", "One page per open finding follows ({k})."),
    "atlas_some": ("分页图仅列出按严重程度排序的前 {n} 个待审核问题(共 {k} 个);全部问题见列表与 XLSX。",
                   "Atlas pages cover the first {n} of {k} open findings by severity; "
                   "every finding is in the list and the XLSX."),
    "no_findings": ("本项目没有冲突检查结果。", "The project has no findings."),
    "atlas_title": ("待审核问题 {i} / {k}", "Open finding {i} of {k}"),
    "list_title": ("全部冲突列表 ({m} 条)", "All findings ({m})"),
    "feature_a": ("要素A", "Feature A"),
    "feature_b": ("要素B", "Feature B"),
    "measured_required": ("实测值 / 要求值", "Measured / required"),
    "message": ("说明", "Message"),
    "review_by": ("审核", "Review"),
    "seen": ("首次 / 最近发现", "First / last seen"),
    "rule": ("规则", "Rule"),
    "no": ("序号", "No."),
}


def _t(lang: str, key: str, sep: str = " / ", **kw) -> str:
    zh, en = T[key]
    return _both(lang, zh.format(**kw), en.format(**kw), sep)


# --------------------------------------------------------------------------
# Data (no QGIS)


def _check_args(project: str, out_path: str, lang: str, max_pages) -> str:
    if lang not in ("zh", "en", "both"):
        raise InputError("lang must be zh, en or both", field="lang")
    if max_pages is not None and (not isinstance(max_pages, (int, np.integer)) or max_pages < 0):
        raise InputError("the number of atlas pages must be a whole number >= 0", field="max_pages")
    ext = os.path.splitext(str(out_path))[1].lower()
    if ext not in FORMATS:
        raise InputError("report file must end in .pdf, .html or .xlsx", file=out_path)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(out_dir):
        raise InputError("folder of the report does not exist", file=out_path)
    if os.path.isdir(out_path):
        raise InputError("is a folder, not a report file", file=out_path)
    if str(project).startswith("PG:"):
        raise InputError("a PostGIS project is named postgresql://user@host/db?schema=NAME", file=project)
    return ext


def load_findings(project: str):
    """The conflict table with geometry, in report order: open first, then by
    severity, certainty, rule (in the code-list order) and conflict id."""
    import geopandas as gpd
    import pandas as pd

    from ..layers.project import is_pg

    if is_pg(project):
        df = _pg_conflicts(project)
    else:
        df = _gpkg_conflicts(project)
    for f in schema.model().layer("conflict").fields:
        if f.name not in df.columns:
            df[f.name] = None
    rules = [c for c, _, _ in schema.model().domain("rule").codes]

    def rank(col, order):
        return df[col].map({c: i for i, c in enumerate(order)}).fillna(len(order)).astype(int)

    df["_open"] = (df["review"] != "open").astype(int)
    df["_sev"] = rank("severity", SEVERITY_ORDER)
    df["_cert"] = rank("certainty", CERTAINTY_ORDER)
    df["_rule"] = rank("rule_id", rules)
    df = df.sort_values(["_open", "_sev", "_cert", "_rule", "conflict_id"], kind="stable")
    df = df.drop(columns=["_open", "_sev", "_cert", "_rule"]).reset_index(drop=True)
    return gpd.GeoDataFrame(pd.DataFrame(df), geometry=df.geometry.name, crs=df.crs)


def _pg_conflicts(project: str):
    """The conflict table of a PostGIS project (layers/io.py), as pyogrio reads it from a GeoPackage."""
    from ..layers import io
    from ..layers.project import require_project

    require_project(project)
    df = io.read_layer(project, "conflict")
    for f in schema.model().layer("conflict").fields:  # as pyogrio reads a GeoPackage: UTC datetimes
        if f.type == "datetime" and f.name in df.columns and df[f.name].dt.tz is not None:
            df[f.name] = df[f.name].dt.tz_convert("UTC")  # all-NULL columns read naive, as from a GeoPackage
    return df


def _gpkg_conflicts(project: str):
    import geopandas as gpd
    import pyogrio

    from ..layers.project import require_project

    if not os.path.isfile(project):
        raise InputError("no such project file", file=project)
    try:
        require_project(project)
    except InputError:
        raise
    except Exception as exc:  # not a GeoPackage at all
        raise InputError(f"is not a Renewal Planner project ({exc})", file=project) from None
    layers = {name for name, _ in pyogrio.list_layers(project)}
    if "conflict" not in layers:
        raise InputError("layer is missing from the project", file=project, layer="conflict")
    df = pyogrio.read_dataframe(project, layer="conflict")
    if not isinstance(df, gpd.GeoDataFrame):  # pragma: no cover
        df = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df)))
    return df


def summary_table(findings, lang: str = "both", sep: str = " / "):
    """Findings by rule, severity, certainty and review status.

    Returns (header, rows): header = labels; rows = [rule label, total,
    counts per severity, per certainty, per review]; the last row is the
    total. Only rules with findings get a row.
    """
    rules = [c for c, _, _ in schema.model().domain("rule").codes]
    present = list(findings["rule_id"].dropna().unique()) if len(findings) else []
    order = [r for r in rules if r in present] + sorted(r for r in present if r not in rules)
    groups = [("severity", SEVERITY_ORDER), ("certainty", CERTAINTY_ORDER), ("review", REVIEW_ORDER)]
    header = [_t(lang, "rule", sep), _t(lang, "total", sep)]
    for domain, codes in groups:
        header += [_code(lang, domain, c, sep) for c in codes]
    rows = []

    def counts(frame):
        out = [len(frame)]
        for col, codes in groups:
            vc = frame[col].value_counts()
            out += [int(vc.get(c, 0)) for c in codes]
        return out

    for rule in order:
        rows.append([_code(lang, "rule", rule, sep)] + counts(findings[findings["rule_id"] == rule]))
    rows.append([_t(lang, "total", sep)] + counts(findings))
    return header, rows


def finding_details(rec: dict, lang: str, sep: str = " / ") -> list:
    """(label, value) pairs of one finding, for its atlas page."""
    def layer_uid(layer, uid):
        if not _s(uid):
            return ""
        return f"{_layer_name(lang, layer)}: {uid}"

    unit = _s(rec.get("unit"))
    mr = f"{_num(rec.get('measured'))} / {_num(rec.get('required'))} {unit}".strip()
    if lang == "zh":
        msg = _s(rec.get("message_zh"))
    elif lang == "en":
        msg = _s(rec.get("message_en"))
    else:
        msg = "\n".join(m for m in (_s(rec.get("message_zh")), _s(rec.get("message_en"))) if m)
    review = _code(lang, "review", rec.get("review"), sep)
    who = "; ".join(x for x in (_s(rec.get("reviewer")), _s(rec.get("review_note"))) if x)
    if who:
        review = f"{review} ({who})"
    return [
        (_field(lang, "conflict_id", sep), _s(rec.get("conflict_id"))),
        (_t(lang, "rule", sep), f"{_code(lang, 'rule', rec.get('rule_id'), sep)} "
                               f"[{_s(rec.get('rule_id'))}]"),
        (_field(lang, "severity", sep), _code(lang, "severity", rec.get("severity"), sep)),
        (_field(lang, "certainty", sep), _code(lang, "certainty", rec.get("certainty"), sep)),
        (_t(lang, "feature_a", sep), layer_uid(rec.get("layer_a"), rec.get("uid_a"))),
        (_t(lang, "feature_b", sep), layer_uid(rec.get("layer_b"), rec.get("uid_b"))),
        (_t(lang, "measured_required", sep), mr),
        (_t(lang, "message", sep), msg),
        (_field(lang, "rule_source", sep), _s(rec.get("rule_source"))),
        (_field(lang, "review", sep), review),
        (_t(lang, "seen", sep), f"{_s(rec.get('first_seen'))[:19]} / {_s(rec.get('last_seen'))[:19]}"),
    ]


LIST_COLUMNS = ("no", "conflict_id", "rule_id", "severity", "certainty", "feature_a", "feature_b",
                "measured", "required", "unit", "review", "rule_source")


def list_header(lang: str, sep: str = " / ") -> list:
    out = []
    for c in LIST_COLUMNS:
        if c in T:
            out.append(_t(lang, c, sep))
        else:
            out.append(_field(lang, c, sep))
    return out


def list_rows(findings, lang: str, start: int = 0, stop: int = None, sep: str = " / ") -> list:
    """Rows of the findings list (all findings, report order)."""
    part = findings.iloc[start:stop]
    rows = []
    for i, rec in enumerate(part.drop(columns=part.geometry.name).to_dict("records"), start + 1):
        rows.append([
            str(i), _s(rec["conflict_id"]), _code(lang, "rule", rec["rule_id"], sep),
            _code(lang, "severity", rec["severity"], sep), _code(lang, "certainty", rec["certainty"], sep),
            f"{_s(rec['layer_a'])}:{_s(rec['uid_a'])}",
            f"{_s(rec['layer_b'])}:{_s(rec['uid_b'])}" if _s(rec["uid_b"]) else "",
            _num(rec["measured"]), _num(rec["required"]), _s(rec["unit"]),
            _code(lang, "review", rec["review"], sep), _s(rec["rule_source"]),
        ])
    return rows


def atlas_extents(geoms, aspect: float, fallback=None) -> np.ndarray:
    """Map extents (xmin, ymin, xmax, ymax) around each geometry: its bounds
    padded by EXTENT_PADDING, at least MIN_EXTENT_M, with the aspect
    (width / height) of the map frame. Vectorised."""
    import shapely

    b = shapely.bounds(np.asarray(geoms, dtype=object)).reshape(-1, 4)
    bad = ~np.isfinite(b).all(axis=1)
    if bad.any():
        fb = np.asarray(fallback if fallback is not None else (0, 0, MIN_EXTENT_M, MIN_EXTENT_M), float)
        b[bad] = fb
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    w = np.maximum((b[:, 2] - b[:, 0]) * (1 + EXTENT_PADDING), MIN_EXTENT_M)
    h = np.maximum((b[:, 3] - b[:, 1]) * (1 + EXTENT_PADDING), MIN_EXTENT_M)
    w = np.maximum(w, h * aspect)
    h = np.maximum(h, w / aspect)
    return np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _meta(project: str) -> dict:
    from ..layers import gpkg
    from ..layers.project import is_pg

    if is_pg(project):
        from ..layers import pg

        p = pg.PgProject(project)
        return {"name": p.schema, "path": p.display, "crs": pg.project_info(project).get("crs") or "",
                "date": _dt.date.today().isoformat()}
    info = gpkg.project_info(project)
    crs = info.get("crs") or ""
    return {"name": os.path.splitext(os.path.basename(project))[0], "path": os.path.abspath(project),
            "crs": crs, "date": _dt.date.today().isoformat()}


def _crs_text(meta: dict) -> str:
    crs = meta["crs"]
    try:
        from qgis.core import QgsCoordinateReferenceSystem

        desc = QgsCoordinateReferenceSystem(crs).description()
        return f"{crs} {desc}".strip() if desc else crs
    except ImportError:
        return crs


# --------------------------------------------------------------------------
# Entry point


def write_report(project: str, out_path: str, lang: str = "both", progress=None, is_cancelled=None,
                 max_pages: int = DEFAULT_MAX_PAGES) -> dict:
    """Write the report of ``project`` to ``out_path`` (.pdf, .html or .xlsx).

    ``lang``: 'zh', 'en' or 'both'. ``max_pages``: atlas pages for at most
    this many open findings (None = all). ``progress(fraction, message)`` and
    ``is_cancelled()`` as for the checks; a cancel raises
    ``tools.engine.context.Cancelled`` and writes nothing.
    Returns {'path', 'findings', 'open', 'atlas_pages', 'pages' (PDF)}.
    """
    from ..layers.project import is_pg

    ext = _check_args(project, out_path, lang, max_pages)
    project = project if is_pg(project) else os.path.abspath(project)
    out_path = os.path.abspath(out_path)
    findings = load_findings(project)
    meta = _meta(project)
    n_open = int((findings["review"] == "open").sum())
    n_atlas = n_open if max_pages is None else min(n_open, int(max_pages))
    ctx = _Progress(progress, is_cancelled)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=ext, dir=os.path.dirname(out_path))
    os.close(fd)
    result = {"path": out_path, "findings": len(findings), "open": n_open, "atlas_pages": n_atlas}
    try:
        if ext == ".xlsx":
            write_xlsx(tmp, findings, meta, lang, ctx)
        else:
            with _map_source(project) as source, _Maps(source, findings, n_atlas, lang) as maps:
                if ext == ".pdf":
                    result["pages"] = maps.write_pdf(tmp, meta, ctx)
                else:
                    maps.write_html(tmp, meta, ctx)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp made it private
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    ctx(1.0, "done")
    return result


@contextlib.contextmanager
def _map_source(project: str):
    """The GeoPackage the maps draw: the project itself, or for a PostGIS
    project a temporary snapshot of its layers (read in one transaction), so
    the maps of both stores come from the same styled GeoPackage layers."""
    from ..layers.project import is_pg

    if not is_pg(project):
        yield project
        return
    from ..layers import gpkg, io, pg

    with tempfile.TemporaryDirectory(prefix="rp-report-") as d:
        path = os.path.join(d, pg.PgProject(project).schema + ".gpkg")
        gpkg.create_project(path, crs=pg.project_crs(project))
        present = set(pg.list_layers(project))
        with pg.session(project):
            for lyr in schema.model().layers.values():
                if lyr.geometry is not None and lyr.name in present:
                    frame = io.read_layer(project, lyr.name)
                    if len(frame):
                        io.write_layer(path, lyr.name, frame, fill_defaults=False)
        yield path


class _Progress:
    def __init__(self, progress, is_cancelled):
        self.progress, self.is_cancelled = progress, is_cancelled

    def __call__(self, fraction: float, message: str = ""):
        if self.is_cancelled is not None and self.is_cancelled():
            from .engine.context import Cancelled

            raise Cancelled()
        if self.progress is not None:
            self.progress(float(fraction), message)


# --------------------------------------------------------------------------
# XLSX (no QGIS)


def write_xlsx(path: str, findings, meta: dict, lang: str, ctx=None) -> str:
    from ..layers.errors import require

    openpyxl = require("openpyxl", feature="The XLSX report")
    import shapely

    ctx = ctx or _Progress(None, None)
    wb = openpyxl.Workbook(write_only=True)
    bold = openpyxl.styles.Font(bold=True)

    def header_cells(ws, values):
        cells = []
        for v in values:
            c = openpyxl.cell.WriteOnlyCell(ws, value=v)
            c.font = bold
            cells.append(c)
        return cells

    ws = wb.create_sheet(_both(lang, "汇总", "Summary", " "))
    ws.append([_t(lang, "title")])
    ws.append([_t(lang, "project"), meta["name"]])
    ws.append([_t(lang, "date"), meta["date"]])
    ws.append([_t(lang, "crs"), _crs_text(meta)])
    ws.append([_t(lang, "findings"), len(findings)])
    ws.append([])
    header, rows = summary_table(findings, lang)
    ws.append(header_cells(ws, header))
    for r in rows:
        ws.append(r)
    ctx(0.2, "summary")

    ws = wb.create_sheet(_both(lang, "冲突", "Findings", " "))
    fields = [f for f in schema.model().layer("conflict").fields]
    coded = [f.name for f in fields if f.domain]
    cols = [f.name for f in fields]
    head = [_both(lang, f.zh, f.en) for f in fields]
    for name in coded:  # readable labels beside the codes
        f = schema.model().layer("conflict").field(name)
        head.append(_both(lang, f.zh, f.en) + _both(lang, "(名称)", " (label)", ""))
    head += ["X", "Y"]
    ws.append(header_cells(ws, head))
    geoms = findings.geometry.to_numpy() if len(findings) else np.array([], dtype=object)
    pts = shapely.point_on_surface(geoms) if len(geoms) else geoms
    xs, ys = (shapely.get_x(pts), shapely.get_y(pts)) if len(geoms) else ([], [])
    data = findings.drop(columns=findings.geometry.name)
    values = {c: data[c].to_numpy(dtype=object) for c in cols}
    labels = {}
    for name in coded:
        domain = schema.model().domain(fields[cols.index(name)].domain)
        m = {c: _both(lang, zh, en) for c, zh, en in domain.codes}
        labels[name] = [m.get(v, "") for v in values[name]]
    n = len(findings)
    for i in range(n):
        row = [_xl(values[c][i]) for c in cols] + [labels[c][i] for c in coded]
        row += [_xl(xs[i]), _xl(ys[i])]
        ws.append(row)
        if i % 2000 == 1999:
            ctx(0.2 + 0.7 * i / n, "findings")
    wb.save(path)
    return path


def _xl(v):
    if v is None:
        return None
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else round(float(v), 4)
    if isinstance(v, np.integer):
        return int(v)
    if hasattr(v, "isoformat"):
        try:
            return v.isoformat()
        except Exception:
            return str(v)
    s = _s(v)
    return s if s != "" else None


# --------------------------------------------------------------------------
# Maps and layouts (QGIS core, headless)


def _enum(owner, scoped: str, member: str, legacy: str = None):
    if hasattr(owner, scoped):
        return getattr(getattr(owner, scoped), member)
    return getattr(owner, legacy or member)


def cjk_font_family() -> str:
    """A font family on this system that has Chinese glyphs ('' if none)."""
    from qgis.PyQt.QtGui import QFontDatabase

    db = QFontDatabase()
    families = set(db.families())
    for fam in CJK_FONTS:
        if fam in families:
            return fam
    for fam in sorted(families):
        if QFontDatabase.SimplifiedChinese in db.writingSystems(fam):
            return fam
    return ""


class _Maps:
    """The QGIS side of the PDF and HTML reports: a private QgsProject with
    the styled layers, the highlight layers and three layouts."""

    def __init__(self, project: str, findings, n_atlas: int, lang: str):
        self.project_path, self.findings, self.n_atlas, self.lang = project, findings, n_atlas, lang

    def __enter__(self):
        from ..layers.qgis_env import qgis_app

        qgis_app()
        from qgis.core import QgsProject

        from ..layers import styles

        self.prj = QgsProject()
        self.layers = styles.add_project_layers(self.project_path, self.prj,
                                                lang="en" if self.lang == "en" else "zh")
        self.crs = self.prj.crs()
        self.family = cjk_font_family()
        self.map_layers = [lyr for lyr in self.prj.layerTreeRoot().layerOrder()
                           if lyr.isSpatial()]
        self.atlas_frame = self.findings.iloc[:self.n_atlas]
        self._build_highlight()
        return self

    def __exit__(self, *exc):
        self.prj.clear()
        self.prj = None
        return False

    # -- highlight and coverage -------------------------------------------
    def _build_highlight(self):
        import shapely
        from qgis.core import (QgsFeature, QgsField, QgsGeometry, QgsPointXY, QgsVectorLayer)
        from qgis.PyQt.QtCore import QVariant

        crs = self.crs.authid() or self.crs.toWkt()
        aspect = ATLAS_MAP[2] / ATLAS_MAP[3]
        frame = self.atlas_frame
        geoms = frame.geometry.to_numpy() if len(frame) else np.array([], dtype=object)
        overview = self._data_extent()
        fb = (overview.xMinimum(), overview.yMinimum(), overview.xMaximum(), overview.yMaximum())
        self.extents = atlas_extents(geoms, aspect, fallback=fb) if len(geoms) else np.zeros((0, 4))

        cov = QgsVectorLayer(f"Point?crs={crs}", "atlas", "memory")
        prov = cov.dataProvider()
        prov.addAttributes([QgsField("seq", QVariant.Int), QgsField("conflict_id", QVariant.String)])
        cov.updateFields()
        feats = []
        cx = (self.extents[:, 0] + self.extents[:, 2]) / 2
        cy = (self.extents[:, 1] + self.extents[:, 3]) / 2
        ids = frame["conflict_id"].astype(str).to_numpy() if len(frame) else []
        for i in range(len(frame)):
            f = QgsFeature(cov.fields())
            f.setAttributes([i, ids[i]])
            f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(cx[i]), float(cy[i]))))
            feats.append(f)
        prov.addFeatures(feats)
        self.coverage = cov

        # the findings' real geometries, by type, drawn on top of their own page only
        self.highlight = []
        if len(frame):
            parts = shapely.get_parts(geoms, return_index=True)
            pg, pidx = parts
            kinds = shapely.get_type_id(pg)
            for kind, type_ids in (("Polygon", (3,)), ("LineString", (1, 2)), ("Point", (0,))):
                sel = np.isin(kinds, type_ids) & ~shapely.is_empty(pg)
                if not sel.any():
                    continue
                lyr = QgsVectorLayer(f"Multi{kind}?crs={crs}", f"highlight {kind}", "memory")
                lyr.dataProvider().addAttributes([QgsField("conflict_id", QVariant.String)])
                lyr.updateFields()
                wkbs = shapely.to_wkb(pg[sel])
                feats = []
                for wkb, j in zip(wkbs, pidx[sel]):
                    f = QgsFeature(lyr.fields())
                    f.setAttributes([str(ids[j])])
                    g = QgsGeometry()
                    g.fromWkb(bytes(wkb))
                    f.setGeometry(g)
                    feats.append(f)
                lyr.dataProvider().addFeatures(feats)
                lyr.setRenderer(_highlight_renderer(kind))
                self.prj.addMapLayer(lyr, False)
                self.highlight.append(lyr)
        self.prj.addMapLayer(cov, False)

    def _data_extent(self):
        """The extent of every feature of the project (a 1 km square when there is none)."""
        from qgis.core import QgsRectangle

        ext = QgsRectangle()
        ext.setMinimal()
        for lyr in self.map_layers:
            e = lyr.extent()
            if lyr.featureCount() and not e.isNull() and e.isFinite():
                ext.combineExtentWith(e)
        if ext.xMinimum() > ext.xMaximum() or not ext.isFinite():
            return QgsRectangle(0, 0, 1000, 1000)
        return ext

    # -- layout pieces -----------------------------------------------------
    def _layout(self, name: str):
        from qgis.core import QgsLayoutSize, QgsPrintLayout, QgsRenderContext, QgsUnitTypes

        layout = QgsPrintLayout(self.prj)
        layout.initializeDefaults()
        layout.setName(name)
        page = layout.pageCollection().page(0)
        page.setPageSize(QgsLayoutSize(PAGE_W, PAGE_H, QgsUnitTypes.LayoutMillimeters))
        rc = layout.renderContext()
        rc.setDpi(PDF_DPI)
        try:
            from qgis.core import Qgis

            rc.setTextRenderFormat(_enum(Qgis, "TextRenderFormat", "AlwaysText"))
        except AttributeError:
            rc.setTextRenderFormat(QgsRenderContext.TextFormatAlwaysText)
        self.prj.layoutManager().addLayout(layout)
        return layout

    def _font(self, size: float, bold: bool = False):
        from qgis.PyQt.QtGui import QFont

        f = QFont(self.family) if self.family else QFont()
        f.setPointSizeF(size)
        f.setBold(bold)
        # Without shaping Qt keeps the plain digit glyphs of CJK fonts, whose
        # PDF text then extracts (shaped ones lose their Unicode mapping).
        f.setStyleStrategy(QFont.PreferNoShaping)
        return f

    def _text_format(self, size: float, bold: bool = False):
        from qgis.core import QgsTextFormat

        fmt = QgsTextFormat.fromQFont(self._font(size, bold))
        fmt.setSize(size)
        return fmt

    def _place(self, item, rect):
        from qgis.core import QgsLayoutPoint, QgsLayoutSize, QgsUnitTypes

        mm = QgsUnitTypes.LayoutMillimeters
        item.attemptMove(QgsLayoutPoint(rect[0], rect[1], mm))
        item.attemptResize(QgsLayoutSize(rect[2], rect[3], mm))

    def _label(self, layout, text: str, rect, size: float, bold=False):
        from qgis.core import QgsLayoutItemLabel

        it = QgsLayoutItemLabel(layout)
        it.setText(text)
        if hasattr(it, "setTextFormat"):
            it.setTextFormat(self._text_format(size, bold))
        else:
            it.setFont(self._font(size, bold))
        layout.addLayoutItem(it)
        self._place(it, rect)
        return it

    def _map(self, layout, rect, layers, extent):
        from qgis.core import QgsLayoutItemMap

        m = QgsLayoutItemMap(layout)
        layout.addLayoutItem(m)
        self._place(m, rect)
        m.setCrs(self.crs)
        m.setLayers(layers)
        m.setKeepLayerSet(True)
        m.setFrameEnabled(True)
        m.setExtent(_fit(extent, rect[2] / rect[3]))
        return m

    def _scalebar(self, layout, m, x, y):
        from qgis.core import QgsLayoutItemScaleBar, QgsLayoutPoint, QgsScaleBarSettings, QgsUnitTypes

        sb = QgsLayoutItemScaleBar(layout)
        layout.addLayoutItem(sb)
        sb.setLinkedMap(m)
        sb.applyDefaultSettings()
        sb.setStyle("Single Box")
        sb.setUnits(QgsUnitTypes.DistanceMeters)
        sb.setUnitLabel("m")
        sb.setNumberOfSegmentsLeft(0)
        sb.setNumberOfSegments(2)
        sb.setUnitsPerSegment(10)
        # nice round segments that fit 15-30 mm whatever the map's scale
        sb.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)
        sb.setMinimumBarWidth(15)
        sb.setMaximumBarWidth(30)
        sb.setBackgroundEnabled(True)
        sb.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutMillimeters))
        return sb

    def _table(self, layout, rect, header, rows, widths=None, size=6.5, wrap=True):
        from qgis.core import (QgsLayoutFrame, QgsLayoutItemTextTable, QgsLayoutMultiFrame,
                               QgsLayoutTable, QgsLayoutTableColumn)

        t = QgsLayoutItemTextTable(layout)
        layout.addMultiFrame(t)
        cols = []
        for i, h in enumerate(header):
            c = QgsLayoutTableColumn(h)
            if widths:
                c.setWidth(widths[i])
            cols.append(c)
        t.setColumns(cols)
        t.setContentTextFormat(self._text_format(size))
        t.setHeaderTextFormat(self._text_format(size, bold=True))
        t.setCellMargin(CELL_MARGIN)
        t.setGridStrokeWidth(0.15)
        if wrap:
            t.setWrapBehavior(QgsLayoutTable.WrapText)
        t.setResizeMode(QgsLayoutMultiFrame.UseExistingFrames)
        t.setContents(rows)
        fr = QgsLayoutFrame(layout, t)
        self._place(fr, rect)
        t.addFrame(fr)
        return t

    def _footer(self, layout, meta):
        return self._label(layout, "", FOOTER, 7)

    def _footer_text(self, meta, p, n) -> str:
        lang = self.lang
        return (f"{_t(lang, 'project')}: {meta['name']}    {_t(lang, 'date')}: {meta['date']}    "
                f"{_t(lang, 'crs')}: {meta['crs_text']}    {_t(lang, 'page', p=p, n=n)}")

    # -- the three layouts ---------------------------------------------------
    def cover(self, meta):
        lang = self.lang
        layout = self._layout("cover")
        self._label(layout, _t(lang, "title"), TITLE, 16, bold=True)
        f = self.findings
        n_open = int((f["review"] == "open").sum())
        lines = [f"{_t(lang, 'project')}: {meta['name']}    {_t(lang, 'date')}: {meta['date']}    "
                 f"{_t(lang, 'crs')}: {meta['crs_text']}",
                 f"{_t(lang, 'findings')}: {len(f)}    {_t(lang, 'open')}: {n_open}"]
        if not len(f):
            lines.append(_t(lang, "no_findings"))
        elif self.n_atlas < n_open:
            lines.append(_t(lang, "atlas_some", n=self.n_atlas, k=n_open))
        else:
            lines.append(_t(lang, "atlas_all", k=n_open))
        self._label(layout, "\n".join(lines), (10, 21, 277, 17), 8)
        overview = self._data_extent()
        overview.scale(1.05)
        m = self._map(layout, COVER_MAP, self.map_layers, overview)
        self._scalebar(layout, m, COVER_MAP[0] + 2, COVER_MAP[1] + COVER_MAP[3] - 10)
        header, rows = summary_table(f, lang, sep="\n")
        rows = [[str(v) for v in r] for r in rows]
        w_rule = 27
        w_num = (COVER_TABLE[2] - 1 - w_rule - 2 * CELL_MARGIN * len(header)) / (len(header) - 1)
        x, y, w, h = COVER_TABLE
        self._label(layout, _t(lang, "summary"), (x, y, w, 6), 8, bold=True)
        self._table(layout, (x, y + 7, w, h - 7), header, rows, [w_rule] + [w_num] * (len(header) - 1),
                    size=6)
        footer = self._footer(layout, meta)
        self.cover_map = m
        return layout, footer

    def atlas(self, meta):
        layout = self._layout("atlas")
        atlas = layout.atlas()
        atlas.setCoverageLayer(self.coverage)
        atlas.setEnabled(True)
        atlas.setHideCoverage(True)
        atlas.setSortFeatures(True)
        atlas.setSortExpression('"seq"')
        atlas.setPageNameExpression('"conflict_id"')
        title = self._label(layout, "", TITLE, 12, bold=True)
        layers = list(self.highlight) + self.map_layers
        m = self._map(layout, ATLAS_MAP, layers, self._data_extent())
        self._scalebar(layout, m, ATLAS_MAP[0] + 2, ATLAS_MAP[1] + ATLAS_MAP[3] - 10)
        details = self._table(layout, ATLAS_TABLE, ["", ""], [["", ""]],
                              [26, ATLAS_TABLE[2] - 26 - 4 * CELL_MARGIN - 1],
                              size=7)
        footer = self._footer(layout, meta)
        return layout, {"title": title, "map": m, "details": details, "footer": footer}

    def set_atlas_page(self, parts, i: int, meta):
        """Move the atlas to finding ``i`` (0-based) and fill its texts."""
        from qgis.core import QgsRectangle

        layout = parts["map"].layout()
        atlas = layout.atlas()
        atlas.seekTo(i)
        e = self.extents[i]
        parts["map"].setExtent(QgsRectangle(*map(float, e)))
        rec = self.atlas_frame.iloc[i].to_dict()
        n_open = int((self.findings["review"] == "open").sum())
        parts["title"].setText(f"{_t(self.lang, 'atlas_title', i=i + 1, k=n_open)}: "
                               f"{_code(self.lang, 'rule', rec.get('rule_id'))}")
        rows = [[a, b] for a, b in finding_details(rec, self.lang)]
        parts["details"].setContents(rows)
        parts["map"].refresh()

    def list_layout(self, meta):
        """The page of the findings list: title and footer from the layout;
        the table itself is drawn by ``draw_list`` (a layout table costs about
        0.1 s a page, too slow for 10,000 findings)."""
        layout = self._layout("list")
        title = self._label(layout, _t(self.lang, "list_title", m=len(self.findings)), TITLE, 12,
                            bold=True)
        footer = self._footer(layout, meta)
        return layout, {"title": title, "footer": footer}

    def draw_list(self, painter, dpi: float, header, rows):
        """Draw one page of the findings list into LIST_TABLE with ``painter``
        (device units: pixels at ``dpi``)."""
        from qgis.PyQt.QtCore import QRectF, Qt
        from qgis.PyQt.QtGui import QColor, QFontMetricsF, QPen

        s = dpi / 25.4  # px per mm
        x0, y0, w, _ = LIST_TABLE
        widths = np.asarray(LIST_WIDTHS, float)
        widths = widths * w / widths.sum()
        xs = x0 + np.concatenate([[0], np.cumsum(widths)])
        painter.save()
        try:
            pen = QPen(QColor(120, 120, 120))
            pen.setWidthF(0.15 * s)
            font_b, font = self._font(6, bold=True), self._font(6)
            y = y0
            painter.fillRect(QRectF(x0 * s, y * s, w * s, LIST_HEADER_H * s), QColor(235, 235, 235))
            for rowvals, h, f in [(header, LIST_HEADER_H, font_b)] + [(r, LIST_ROW_H, font) for r in rows]:
                painter.setFont(f)
                fm = QFontMetricsF(f, painter.device())
                painter.setPen(QColor(20, 20, 20))
                for j, text in enumerate(rowvals):
                    cell = QRectF((xs[j] + CELL_MARGIN) * s, y * s, (widths[j] - 2 * CELL_MARGIN) * s, h * s)
                    lines = [fm.elidedText(t, Qt.ElideRight, cell.width()) for t in str(text).split("\n")]
                    painter.drawText(cell, int(Qt.AlignLeft | Qt.AlignVCenter), "\n".join(lines))
                painter.setPen(pen)
                painter.drawLine(int(x0 * s), int(y * s), int((x0 + w) * s), int(y * s))
                y += h
            painter.drawLine(int(x0 * s), int(y * s), int((x0 + w) * s), int(y * s))
            for x in xs:
                painter.drawLine(int(x * s), int(y0 * s), int(x * s), int(y * s))
        finally:
            painter.restore()

    # -- PDF ---------------------------------------------------------------------
    def write_pdf(self, path: str, meta: dict, ctx) -> int:
        from qgis.core import QgsLayoutExporter
        from qgis.PyQt.QtCore import QMarginsF
        from qgis.PyQt.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

        meta = dict(meta, crs_text=_crs_text(meta))
        n_list = max(1, math.ceil(len(self.findings) / LIST_ROWS_PER_PAGE)) if len(self.findings) else 0
        total = 1 + self.n_atlas + n_list
        writer = QPdfWriter(path)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Landscape,
                                         QMarginsF(0, 0, 0, 0)))
        writer.setResolution(PDF_DPI)
        writer.setTitle(f"{_t(self.lang, 'title')} - {meta['name']}")
        writer.setCreator("Renewal Planner")
        painter = QPainter()
        state = {"page": 0}

        def emit(exporter):
            if state["page"] == 0:
                if not painter.begin(writer):
                    raise InputError("cannot write the PDF", file=path)
            else:
                writer.newPage()
            state["page"] += 1
            exporter.renderPage(painter, 0)

        try:
            ctx(0.02, "cover")
            cover, footer = self.cover(meta)
            footer.setText(self._footer_text(meta, 1, total))
            emit(QgsLayoutExporter(cover))
            if self.n_atlas:
                layout, parts = self.atlas(meta)
                atlas = layout.atlas()
                atlas.beginRender()
                exporter = QgsLayoutExporter(layout)
                for i in range(self.n_atlas):
                    ctx(0.05 + 0.75 * i / self.n_atlas, "atlas")
                    self.set_atlas_page(parts, i, meta)
                    parts["footer"].setText(self._footer_text(meta, state["page"] + 1, total))
                    emit(exporter)
                atlas.endRender()
            if n_list:
                layout, parts = self.list_layout(meta)
                exporter = QgsLayoutExporter(layout)
                header = list_header(self.lang, sep="\n")
                rows = list_rows(self.findings, self.lang, sep=" ")
                for k in range(n_list):
                    ctx(0.8 + 0.19 * k / n_list, "list")
                    start = k * LIST_ROWS_PER_PAGE
                    parts["footer"].setText(self._footer_text(meta, state["page"] + 1, total))
                    emit(exporter)
                    self.draw_list(painter, writer.resolution(), header,
                                   rows[start:start + LIST_ROWS_PER_PAGE])
        finally:
            if painter.isActive():
                painter.end()
        return state["page"]

    # -- HTML --------------------------------------------------------------------
    def _png(self, layout, item, dpi=HTML_DPI) -> str:
        from qgis.core import QgsLayoutExporter
        from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice, QSize

        rect = item.sceneBoundingRect()
        size = QSize(int(rect.width() / 25.4 * dpi), int(rect.height() / 25.4 * dpi))
        img = QgsLayoutExporter(layout).renderRegionToImage(rect, size, dpi)
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.WriteOnly)
        img.save(buf, "PNG")
        buf.close()
        return base64.b64encode(bytes(data)).decode("ascii")

    def write_html(self, path: str, meta: dict, ctx) -> str:
        lang = self.lang
        e = _html.escape
        meta = dict(meta, crs_text=_crs_text(meta))
        f = self.findings
        n_open = int((f["review"] == "open").sum())
        out = [f"<!DOCTYPE html><html lang='{'en' if lang == 'en' else 'zh'}'><head><meta charset='utf-8'>",
               f"<title>{e(_t(lang, 'title'))} - {e(meta['name'])}</title><style>{CSS}</style></head><body>",
               f"<h1>{e(_t(lang, 'title'))}</h1>",
               f"<p class='meta'>{e(_t(lang, 'project'))}: {e(meta['name'])} &nbsp; "
               f"{e(_t(lang, 'date'))}: {e(meta['date'])} &nbsp; "
               f"{e(_t(lang, 'crs'))}: {e(meta['crs_text'])}</p>",
               f"<p>{e(_t(lang, 'findings'))}: {len(f)} &nbsp; {e(_t(lang, 'open'))}: {n_open}</p>"]
        if not len(f):
            out.append(f"<p>{e(_t(lang, 'no_findings'))}</p>")
        elif self.n_atlas < n_open:
            out.append(f"<p class='note'>{e(_t(lang, 'atlas_some', n=self.n_atlas, k=n_open))}</p>")
        ctx(0.02, "cover")
        cover, _ = self.cover(meta)
        out.append(f"<h2>{e(_t(lang, 'overview'))}</h2>")
        out.append(f"<img class='map' alt='overview' "
                   f"src='data:image/png;base64,{self._png(cover, self.cover_map)}'>")
        out.append(f"<h2>{e(_t(lang, 'summary'))}</h2>")
        header, rows = summary_table(f, lang)
        out.append(_html_table(header, rows, cls="summary"))
        if self.n_atlas:
            layout, parts = self.atlas(meta)
            layout.atlas().beginRender()
            for i in range(self.n_atlas):
                ctx(0.05 + 0.8 * i / self.n_atlas, "atlas")
                self.set_atlas_page(parts, i, meta)
                rec = self.atlas_frame.iloc[i].to_dict()
                out.append(f"<section class='finding' id='f{i + 1}'><h3>{e(parts['title'].text())}</h3>")
                out.append(f"<img class='map' alt='{e(_s(rec.get('conflict_id')))}' "
                           f"src='data:image/png;base64,{self._png(layout, parts['map'])}'>")
                out.append("<table class='details'>" + "".join(
                    f"<tr><th>{e(a)}</th><td>{e(b).replace(chr(10), '<br>')}</td></tr>"
                    for a, b in finding_details(rec, lang)) + "</table></section>")
            layout.atlas().endRender()
        ctx(0.9, "list")
        out.append(f"<h2>{e(_t(lang, 'list_title', m=len(f)))}</h2>")
        out.append(_html_table(list_header(lang), list_rows(f, lang), cls="list"))
        out.append("</body></html>")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out))
        return path


CSS = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
       "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
       "th,td{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}"
       "th{background:#eee}.summary td:not(:first-child){text-align:right}"
       "img.map{max-width:100%;border:1px solid #888}.finding{page-break-inside:avoid;margin-top:2em}"
       ".finding img{float:left;margin-right:1em;width:60%}"
       ".finding::after{content:'';display:block;clear:both}"
       ".note{color:#a50}.meta{color:#555}")


def _fit(extent, aspect: float):
    """``extent`` grown about its centre to the aspect (width / height) of a map frame."""
    from qgis.core import QgsRectangle

    w, h = max(extent.width(), 1e-6), max(extent.height(), 1e-6)
    w, h = max(w, h * aspect), max(h, w / aspect)
    c = extent.center()
    return QgsRectangle(c.x() - w / 2, c.y() - h / 2, c.x() + w / 2, c.y() + h / 2)


def _html_table(header, rows, cls="") -> str:
    e = _html.escape
    out = [f"<table class='{cls}'><thead><tr>"]
    out += [f"<th>{e(str(h))}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _highlight_renderer(kind: str):
    """Draw a finding in pure yellow with a dark core, on its own atlas page only."""
    from qgis.core import (QgsFillSymbol, QgsLineSymbol, QgsMarkerSymbol, QgsRuleBasedRenderer,
                           QgsSimpleFillSymbolLayer, QgsSimpleLineSymbolLayer, QgsSimpleMarkerSymbolLayer)
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtGui import QColor

    yellow, dark = QColor(*HIGHLIGHT), QColor(*HIGHLIGHT_EDGE)
    if kind == "Point":
        sym = QgsMarkerSymbol.createSimple({"name": "circle", "size": "7", "color": "0,0,0,0",
                                            "outline_color": "20,20,20,255", "outline_width": "1.9"})
        ring = QgsSimpleMarkerSymbolLayer()  # a circle
        ring.setSize(7)
        ring.setColor(QColor(0, 0, 0, 0))
        ring.setStrokeColor(yellow)
        ring.setStrokeWidth(1.5)
        sym.appendSymbolLayer(ring)
    elif kind == "LineString":
        sym = QgsLineSymbol.createSimple({"line_color": "20,20,20,255", "line_width": "3.4"})
        core = QgsSimpleLineSymbolLayer(yellow, 2.8)
        sym.appendSymbolLayer(core)
        core2 = QgsSimpleLineSymbolLayer(dark, 0.3)
        sym.appendSymbolLayer(core2)
    else:
        sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "20,20,20,255",
                                          "outline_width": "2.4"})
        sym.appendSymbolLayer(QgsSimpleFillSymbolLayer(QColor(0, 0, 0, 0), Qt.NoBrush, yellow,
                                                       Qt.SolidLine, 1.8))
    root = QgsRuleBasedRenderer.Rule(None)
    rule = QgsRuleBasedRenderer.Rule(sym, 0, 0, "\"conflict_id\" = attribute(@atlas_feature, 'conflict_id')")
    root.appendChild(rule)
    return QgsRuleBasedRenderer(root)



# --------------------------------------------------------------------------
# Command line


def add_arguments(s) -> None:
    """The options of ``renewal-planner report`` (added to its sub-parser)."""
    s.add_argument("project")
    s.add_argument("--out", required=True, help="FILE.pdf, FILE.html or FILE.xlsx")
    s.add_argument("--lang", choices=["zh", "en", "both"], default="both",
                   help="language of the report (default: both)")
    s.add_argument("--max-pages", type=int, default=DEFAULT_MAX_PAGES,
                   help=f"atlas pages for at most this many open findings, by severity "
                        f"(default {DEFAULT_MAX_PAGES}; the list always holds every finding)")


def report_command(args) -> int:
    r = write_report(args.project, args.out, lang=args.lang, max_pages=args.max_pages)
    extra = f", {r['pages']} pages" if "pages" in r else ""
    print(f"report: {r['path']} ({r['findings']} findings, {r['open']} open, "
          f"{r['atlas_pages']} atlas pages{extra})")
    return 0
