"""The findings of the project's ``conflict`` table as a Qt table model, and a
filter proxy (rule, severity, certainty, review, free text).

The rows are read once per refresh into a pandas frame; the proxy computes the
rows it accepts with vectorised pandas operations when a filter changes, so
``filterAcceptsRow`` is a list lookup even for tens of thousands of findings.
Headers and coded values come from the data model (layers/model.yaml), in the
language of the QGIS UI.
"""
from __future__ import annotations

import sqlite3

from qgis.PyQt.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from qgis.PyQt.QtGui import QBrush, QColor

#: Columns shown, in order (fields of the conflict table; "message" is the
#: message in the UI language).
COLUMNS = ["rule_id", "severity", "certainty", "review", "layer_a", "uid_a", "layer_b", "uid_b",
           "measured", "required", "unit", "message", "rule_source", "reviewer", "review_note",
           "last_seen", "conflict_id"]
CODED = {"rule_id": "rule", "severity": "severity", "certainty": "certainty", "review": "review"}
#: Columns the text filter searches.
TEXT_COLUMNS = ["conflict_id", "rule_id", "layer_a", "uid_a", "layer_b", "uid_b", "message_zh",
                "message_en", "rule_source", "reviewer", "review_note"]
#: Fields the filter combos act on.
FILTER_FIELDS = ("rule_id", "severity", "certainty", "review")

CODE_ROLE = Qt.UserRole + 1     # the raw value of a cell (code, number)
ROW_ROLE = Qt.UserRole + 2      # the source row number

SEVERITY_COLOURS = {"error": QColor(230, 0, 0), "warning": QColor(200, 110, 0),
                    "info": QColor(0, 90, 200)}
FADED = QColor(140, 140, 140)


def read_findings(project: str):
    """The conflict table as a DataFrame with its ``fid`` and the geometry as
    GeoPackage blobs (column ``geom``), sorted by severity, rule and features."""
    import pandas as pd

    from ..layers.project import is_pg

    if is_pg(project):
        frame = _read_pg_findings(project)
    else:
        con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
        try:
            frame = pd.read_sql_query("SELECT * FROM conflict", con)
        finally:
            con.close()
    rank = {"error": 0, "warning": 1, "info": 2}
    if len(frame):
        order = frame["severity"].map(rank).fillna(3)
        frame = frame.assign(_rank=order).sort_values(["_rank", "rule_id", "uid_a", "uid_b"],
                                                      kind="stable").drop(columns="_rank")
    return frame.reset_index(drop=True)


def _read_pg_findings(project: str):
    """read_findings of a PostGIS project: the same columns, geometry as GeoPackage blobs."""
    import numpy as np
    import pandas as pd
    import shapely

    from ..layers import gpkgblob, pg

    p = pg.PgProject(project)
    sql = pg._sql()
    srid = pg.parse_srid(pg.project_crs(project))
    with pg._connection(p) as con:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position", (p.schema, "conflict")).fetchall()]
        sel = [sql.SQL("ST_AsBinary({})").format(sql.Identifier(c)) if c == pg.GEOM_COLUMN else sql.Identifier(c)
               for c in cols]
        rows = con.execute(sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(sel), sql.Identifier(p.schema, "conflict"), sql.Identifier(pg.FID))).fetchall()
    frame = pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame({c: [] for c in cols})
    if pg.GEOM_COLUMN in frame.columns:
        wkb = [bytes(b) if b is not None else None for b in frame[pg.GEOM_COLUMN]]
        geoms = shapely.from_wkb(np.array(wkb, dtype=object))
        frame[pg.GEOM_COLUMN] = gpkgblob.to_blobs(geoms, srid)
    return frame


def geometry_of(blob):
    """QgsGeometry of a GeoPackage geometry blob (None when empty)."""
    from qgis.core import QgsGeometry

    from ..layers import gpkgblob

    g = gpkgblob.from_blob(blob) if blob is not None else None
    if g is None or g.is_empty:
        return None
    geom = QgsGeometry()
    geom.fromWkb(bytes(g.wkb))
    return None if geom.isNull() else geom


class ResultsModel(QAbstractTableModel):
    """Read-only table of findings (one row per row of the conflict table)."""

    def __init__(self, lang: str = "zh", parent=None):
        super().__init__(parent)
        import pandas as pd

        from ..layers import schema

        self.lang = lang
        self._model = schema.model()
        self._fields = self._model.layer("conflict")
        self.frame = pd.DataFrame(columns=[c for c in COLUMNS if c != "message"])  # conflict_id included
        self._values = []

    # -- data ---------------------------------------------------------------------
    def set_frame(self, frame) -> None:
        """Replace the rows (a frame from ``read_findings``)."""
        self.beginResetModel()
        self.frame = frame.reset_index(drop=True)
        message = "message_zh" if self.lang.startswith("zh") else "message_en"
        cols = [message if c == "message" else c for c in COLUMNS]
        present = [c if c in self.frame.columns else None for c in cols]
        n = len(self.frame)
        columns = [self.frame[c].tolist() if c else [None] * n for c in present]
        self._values = [list(row) for row in zip(*columns)] if n else []
        self.endResetModel()

    def load(self, project: str) -> None:
        self.set_frame(read_findings(project))

    def clear(self) -> None:
        import pandas as pd

        self.set_frame(pd.DataFrame(columns=self.frame.columns))

    def record(self, row: int) -> dict:
        """Every column of source row ``row`` (geometry blob included)."""
        return self.frame.iloc[row].to_dict()

    def conflict_id(self, row: int) -> str:
        return self.frame["conflict_id"].iat[row]

    def row_of(self, conflict_id: str) -> int:
        hits = (self.frame["conflict_id"] == conflict_id).to_numpy().nonzero()[0]
        return int(hits[0]) if len(hits) else -1

    def label(self, column: str, code) -> str:
        if code is None or (isinstance(code, float) and code != code):
            return ""
        domain = CODED.get(column)
        if domain:
            try:
                return self._model.domain(domain).label(code, self.lang)
            except (KeyError, ValueError):
                return str(code)
        return str(code)

    # -- Qt -----------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(self._values)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation != Qt.Horizontal or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return super().headerData(section, orientation, role)
        name = COLUMNS[section]
        if name == "message":
            name = "message_zh" if self.lang.startswith("zh") else "message_en"
            return self._fields.field(name).alias(self.lang).split("(")[0].strip() \
                if role == Qt.DisplayRole else self._fields.field(name).alias(self.lang)
        return self._fields.field(name).alias(self.lang)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        name = COLUMNS[col]
        value = self._values[row][col]
        if isinstance(value, float) and value != value:
            value = None
        if role == Qt.DisplayRole:
            if name in CODED:
                return self.label(name, value)
            if isinstance(value, float):
                return f"{value:.2f}"
            return "" if value is None else str(value)
        if role == Qt.ToolTipRole:
            if name in ("message", "rule_source", "review_note", "conflict_id"):
                return "" if value is None else str(value)
            return None
        if role == CODE_ROLE:
            return value
        if role == ROW_ROLE:
            return row
        if role == Qt.ForegroundRole:
            review = self._values[row][COLUMNS.index("review")]
            if review in ("waived", "resolved"):
                return QBrush(FADED)
            if name == "severity" and value in SEVERITY_COLOURS:
                return QBrush(SEVERITY_COLOURS[value])
            return None
        if role == Qt.TextAlignmentRole and name in ("measured", "required"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


class ResultsFilterProxy(QSortFilterProxyModel):
    """Filters by rule, severity, certainty, review (exact codes, None = any)
    and a case-insensitive text found in ids, uids, messages or notes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.filters = {f: None for f in FILTER_FIELDS}
        self.text = ""
        self._accept = []
        self.setSortRole(CODE_ROLE)

    def setSourceModel(self, model):  # noqa: N802
        super().setSourceModel(model)
        model.modelReset.connect(self._recompute)
        self._recompute()

    def set_filter(self, field: str, code=None) -> None:
        if field not in self.filters:
            raise KeyError(field)
        self.filters[field] = code or None
        self._recompute()

    def set_text(self, text: str) -> None:
        self.text = (text or "").strip()
        self._recompute()

    def set_filters(self, text: str = None, **codes) -> None:
        for field, code in codes.items():
            if field not in self.filters:
                raise KeyError(field)
            self.filters[field] = code or None
        if text is not None:
            self.text = text.strip()
        self._recompute()

    def accepted_mask(self):
        """Boolean numpy array over the source rows: which rows pass the filters."""
        import numpy as np

        model = self.sourceModel()
        frame = model.frame if model is not None else None
        if frame is None or not len(frame):
            return np.zeros(0, dtype=bool)
        keep = np.ones(len(frame), dtype=bool)
        for field, code in self.filters.items():
            if code is not None and field in frame.columns:
                keep &= (frame[field] == code).to_numpy()
        if self.text:
            cols = [c for c in TEXT_COLUMNS if c in frame.columns]
            hit = np.zeros(len(frame), dtype=bool)
            for c in cols:
                hit |= frame[c].fillna("").astype(str).str.contains(
                    self.text, case=False, regex=False).to_numpy()
            keep &= hit
        return keep

    def _recompute(self, *args) -> None:
        self._accept = self.accepted_mask().tolist()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row, source_parent):  # noqa: N802
        return 0 <= source_row < len(self._accept) and self._accept[source_row]

    def lessThan(self, left, right):  # noqa: N802 - numbers as numbers, None last
        a, b = left.data(CODE_ROLE), right.data(CODE_ROLE)
        if a is None or (isinstance(a, float) and a != a):
            return False
        if b is None or (isinstance(b, float) and b != b):
            return True
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
