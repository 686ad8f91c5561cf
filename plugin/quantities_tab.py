"""The dock's "Quantities / 工程量" tab and its "Report…" button.

Quantities: ``tools.quantities.compute_quantities`` (the same function as
``renewal-planner quantities`` and ``renewal_planner:quantities``) runs in a
QgsTask for the whole project or one renovation area; the tab shows the
headline figures (``summary_lines``) as text and every theme (summary, pipes,
appurtenances, ...) as a read-only table, and exports them as XLSX or CSV
(``write_quantities``).

Report: ``tools.report.write_report`` for the project's findings, to .pdf,
.html or .xlsx. The XLSX report needs no QGIS and runs in a QgsTask. PDF and
HTML build a QgsProject, print layouts and fonts: QgsLayout items are
QGraphicsItems and QFont/QFontDatabase are GUI-thread objects, which is why
the Processing algorithm ``renewal_planner:report`` is flagged FlagNoThreading.
Here they run in the main thread too, called directly (not through
``processing.execAlgorithmDialog``: that needs the Processing plugin loaded,
shows a second parameter dialog the user must run by hand, and cannot be
driven or checked from a test), under a window-modal QProgressDialog: the
progress callback moves it and processes events, so QGIS keeps painting and
the dialog's Cancel button is seen through ``is_cancelled``; the modal dialog
keeps the user from starting other work meanwhile (no re-entrance). A
cancelled report writes nothing (write_report's temporary file is removed).
"""
from __future__ import annotations

import os
import traceback

from qgis.PyQt.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, Qt
from qgis.PyQt.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QDialog, QDialogButtonBox,
                                 QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                                 QPlainTextEdit, QProgressDialog, QPushButton, QSpinBox,
                                 QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from . import deps, tab_parts
from .tasks import Canceled, FunctionTask
from .toolbelt import settings
from .toolbelt.log import log

#: Report languages, as write_report takes them.
REPORT_LANGS = ("both", "zh", "en")
REPORT_EXTS = (".pdf", ".html", ".xlsx")
#: The largest atlas page limit the dialog offers (0 = no atlas pages).
MAX_ATLAS_LIMIT = 100_000


# --------------------------------------------------------------------------
# A read-only table model on a pandas DataFrame

class FrameModel(QAbstractTableModel):
    """A DataFrame shown as it is (read-only): headers from ``labels``
    (column -> text), coded values through ``codes`` (column -> (code -> text)),
    numbers formatted per column (``formats``: column -> format string).
    ``Qt.UserRole`` gives the raw value (None for a missing one)."""

    def __init__(self, frame=None, labels=None, codes=None, formats=None, parent=None):
        super().__init__(parent)
        self._frame = None
        self._values = []
        self.labels, self.codes, self.formats = labels or {}, codes or {}, formats or {}
        self.set_frame(frame)

    def set_frame(self, frame) -> None:
        import pandas as pd

        self.beginResetModel()
        if frame is None:
            frame = pd.DataFrame()
        self._frame = frame.reset_index(drop=True)
        self._columns = [str(c) for c in self._frame.columns]
        # plain Python objects, missing values as None: data() is a list lookup
        self._values = [[None if _missing(v) else v for v in col]
                        for col in (self._frame[c].tolist() for c in self._frame.columns)]
        self.endResetModel()

    def frame(self):
        return self._frame

    def columns(self) -> list:
        return list(self._columns)

    def rowCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(self._frame)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(self._columns)

    def value(self, row: int, column) -> object:
        """The raw value at ``row`` of ``column`` (a name or an index)."""
        c = self._columns.index(column) if isinstance(column, str) else int(column)
        return self._values[c][row]

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        v = self._values[index.column()][index.row()]
        col = self._columns[index.column()]
        if role == Qt.DisplayRole:
            return self.text(col, v)
        if role == Qt.UserRole:
            return v
        if role == Qt.TextAlignmentRole and isinstance(v, (int, float)) and not isinstance(v, bool):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ToolTipRole and col in self.codes and v is not None:
            return str(v)
        return None

    def text(self, col: str, v) -> str:
        if v is None:
            return ""
        if col in self.codes:
            return self.codes[col].get(str(v), str(v))
        if isinstance(v, float):
            fmt = self.formats.get(col)
            if fmt is None:
                fmt = "{:,.0f}" if v == int(v) else "{:,.2f}"
            return fmt.format(v)
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            if 0 <= section < len(self._columns):
                col = self._columns[section]
                return self.labels.get(col, col)
            return None
        return str(section + 1)

    def flags(self, index):
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable

    def sort(self, column, order=Qt.AscendingOrder):
        if not 0 <= column < len(self._columns):
            return
        self.layoutAboutToBeChanged.emit()
        col = self._columns[column]
        keys = self._values[column]
        # missing values last; numbers before texts; texts by their shown label
        def key(i):
            v = keys[i]
            if v is None:
                return (2, 0, "")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return (0, v, "")
            return (1, 0, self.text(col, v))
        rows = sorted(range(len(self._frame)), key=key, reverse=(order == Qt.DescendingOrder))
        self._frame = self._frame.iloc[rows].reset_index(drop=True)
        self._values = [[c[i] for i in rows] for c in self._values]
        self.layoutChanged.emit()


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, NA
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------
# The report's options

class ReportOptionsDialog(QDialog):
    """Output file (.pdf/.html/.xlsx), language and atlas page limit."""

    def __init__(self, parent=None, path: str = "", lang: str = "both", max_pages: int = None):
        super().__init__(parent)
        from ..tools.report import DEFAULT_MAX_PAGES

        self.setObjectName("ReportOptionsDialog")
        self.setWindowTitle(self.tr("Findings report"))
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.path_label = QLabel(path or "", self)
        self.path_label.setObjectName("reportPathLabel")
        self.path_label.setWordWrap(True)
        self.browse_button = QPushButton(self.tr("Browse…"), self)
        self.browse_button.setObjectName("reportBrowseButton")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.path_label, 1)
        row.addWidget(self.browse_button)
        form.addRow(self.tr("Report file"), row)
        self.lang_combo = QComboBox(self)
        self.lang_combo.setObjectName("reportLanguageCombo")
        for code, text in zip(REPORT_LANGS, (self.tr("Chinese and English"), self.tr("Chinese"),
                                             self.tr("English"))):
            self.lang_combo.addItem(text, code)
        self.lang_combo.setCurrentIndex(max(0, self.lang_combo.findData(lang)))
        form.addRow(self.tr("Language"), self.lang_combo)
        self.pages_spin = QSpinBox(self)
        self.pages_spin.setObjectName("reportMaxPagesSpin")
        self.pages_spin.setRange(0, MAX_ATLAS_LIMIT)
        self.pages_spin.setValue(DEFAULT_MAX_PAGES if max_pages is None else int(max_pages))
        self.pages_spin.setToolTip(self.tr("One map page per open finding, by severity, at most this many "
                                           "(PDF and HTML); the list always holds every finding"))
        form.addRow(self.tr("Atlas pages at most"), self.pages_spin)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._update_ok()

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("ReportOptionsDialog", text)

    def path(self) -> str:
        return self.path_label.text().strip()

    def set_path(self, path: str) -> None:
        self.path_label.setText(path or "")
        self._update_ok()

    def browse(self, start: str = None) -> None:
        start = start or self.path() or os.path.join(settings.LAST_DIRECTORY.value() or os.path.expanduser("~"),
                                            "report.pdf")
        filters = [self.tr("PDF (*.pdf)"), self.tr("HTML (*.html)"), self.tr("Excel workbook (*.xlsx)")]
        ext = os.path.splitext(start)[1].lower()
        chosen = filters[REPORT_EXTS.index(ext)] if ext in REPORT_EXTS else filters[0]
        path, used = QFileDialog.getSaveFileName(self, self.tr("Save the report"), start, ";;".join(filters),
                                                 chosen)
        if not path:
            return
        if os.path.splitext(path)[1].lower() not in REPORT_EXTS:
            path += REPORT_EXTS[filters.index(used)] if used in filters else ".pdf"
        self.set_path(path)

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.Ok)
        ok.setEnabled(os.path.splitext(self.path())[1].lower() in REPORT_EXTS)

    def options(self) -> dict:
        return {"path": self.path(), "lang": self.lang_combo.currentData(),
                "max_pages": self.pages_spin.value()}


# --------------------------------------------------------------------------
# The tab

class QuantitiesTab(tab_parts.RunRowTask, QWidget):
    """Compute, browse and export the quantities; write the findings report."""

    def __init__(self, dock):
        super().__init__(dock)
        self.dock = dock
        self.setObjectName("RenewalPlannerQuantitiesTab")
        self.project_path = None
        self.task = None           # quantities
        self.report_task = None    # XLSX report
        self.report_running = False
        self.result = None         # compute_quantities' dict
        self.result_area = None
        self.last_report = None    # write_report's dict
        self.report_progress_dialog = None
        self._blocked = False
        self._report_blocked = False
        from .dock import ui_language

        self.lang = ui_language()

        outer = QVBoxLayout(self)
        splitter = QSplitter(Qt.Vertical, self)
        splitter.setObjectName("quantitiesSplitter")
        outer.addWidget(splitter)

        top = QWidget(splitter)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox(self.tr("Quantities"), top)
        form = QVBoxLayout(box)
        fields = QFormLayout()
        self.area_combo = QComboBox(box)
        self.area_combo.setObjectName("quantitiesAreaCombo")
        self.area_combo.addItem(self.tr("Whole project"), None)
        fields.addRow(self.tr("Renovation area"), self.area_combo)
        form.addLayout(fields)
        run_row, self.compute_button, self.progress, self.cancel_button = tab_parts.run_row(
            box, self.tr("Compute"), "computeQuantitiesButton", self.compute,
            self.tr("Cancel"), "cancelQuantitiesButton", self.cancel, "quantitiesProgress")
        self.compute_button.setToolTip(self.tr("Measure the quantities per renovation area and community"))
        form.addLayout(run_row)
        self.summary_text = QPlainTextEdit(box)
        self.summary_text.setObjectName("quantitiesSummary")
        self.summary_text.setReadOnly(True)
        self.summary_text.setMaximumHeight(110)
        self.summary_text.setPlaceholderText(self.tr("Compute the quantities to see them here"))
        form.addWidget(self.summary_text)
        export_row = QHBoxLayout()
        self.export_xlsx_button = QPushButton(self.tr("Export XLSX…"), box)
        self.export_xlsx_button.setObjectName("exportQuantitiesXlsxButton")
        self.export_xlsx_button.clicked.connect(lambda: self.export(".xlsx"))
        self.export_csv_button = QPushButton(self.tr("Export CSV…"), box)
        self.export_csv_button.setObjectName("exportQuantitiesCsvButton")
        self.export_csv_button.clicked.connect(lambda: self.export(".csv"))
        export_row.addStretch(1)
        export_row.addWidget(self.export_xlsx_button)
        export_row.addWidget(self.export_csv_button)
        form.addLayout(export_row)
        top_layout.addWidget(box)

        report_box = QGroupBox(self.tr("Findings report"), top)
        report_row = QHBoxLayout(report_box)
        self.report_button = QPushButton(self.tr("Report…"), report_box)
        self.report_button.setObjectName("reportButton")
        self.report_button.setToolTip(self.tr("Write the report of the project's findings as PDF, HTML or XLSX"))
        self.report_button.clicked.connect(self.report_dialog)
        self.report_label = QLabel(report_box)
        self.report_label.setObjectName("reportStatusLabel")
        self.report_label.setWordWrap(True)
        self.report_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        report_row.addWidget(self.report_button)
        report_row.addWidget(self.report_label, 1)
        top_layout.addWidget(report_box)

        self.theme_tabs = QTabWidget(splitter)
        self.theme_tabs.setObjectName("quantitiesThemes")
        self.models, self.views = {}, {}
        labels, codes, formats = self._presentation()
        from ..tools.quantities import SHEETS, THEME_ORDER

        for theme in THEME_ORDER:
            model = FrameModel(labels=labels, codes=codes, formats=formats, parent=self)
            view = QTableView(self.theme_tabs)
            view.setObjectName(f"quantities_{theme}_view")
            view.setModel(model)
            view.setSelectionBehavior(QAbstractItemView.SelectRows)
            view.setEditTriggers(QAbstractItemView.NoEditTriggers)
            view.setSortingEnabled(True)
            view.sortByColumn(-1, Qt.AscendingOrder)
            view.setAlternatingRowColors(True)
            view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
            view.horizontalHeader().setStretchLastSection(True)
            self.models[theme], self.views[theme] = model, view
            zh, _, en = SHEETS[theme].partition(" ")
            self.theme_tabs.addTab(view, zh if self.lang == "zh" else (en or zh))
        splitter.addWidget(top)
        splitter.addWidget(self.theme_tabs)
        splitter.setStretchFactor(1, 1)
        self._update_enabled()

    def tr(self, text):  # noqa: D102 - context = class name, as pylupdate5 sees it
        return QCoreApplication.translate("QuantitiesTab", text)

    # -- presentation --------------------------------------------------------------
    def _presentation(self):
        """Column labels, code labels and number formats in the UI language."""
        from ..layers import schema
        from ..tools import quantities as q

        lang = "zh" if self.lang == "zh" else "en"
        i = 0 if lang == "zh" else 1
        labels = {col: pair[i] for col, pair in q._column_labels().items()}
        m = schema.model()
        codes = {}
        for col, domain in q._domains().items():
            try:
                d = m.domain(domain)
                codes[col] = {str(code): d.label(code, lang) for code in d.values}
            except Exception:  # a field whose code list is not there: raw codes
                continue
        codes["scope"] = {k: v[i] for k, v in q.SCOPE_LABELS.items()}
        formats = {}
        for col in set(labels) | {"length_km", "area_m2"}:
            unit = q._unit_of(col)
            formats[col] = {"km": "{:,.3f}", "m2": "{:,.1f}"}.get(unit, "{:,.0f}" if unit else None)
        return labels, codes, {k: v for k, v in formats.items() if v}

    # -- state ----------------------------------------------------------------------
    def apply_dependencies(self, problems, message: str) -> None:
        self._blocked = bool(deps.missing_for("check", problems))
        self._report_blocked = self._blocked
        if self._blocked:
            self.compute_button.setToolTip(message)
            self.report_button.setToolTip(message)
        self._update_enabled()

    def _update_enabled(self) -> None:
        has_project = self.project_path is not None
        busy = self.task is not None
        self.compute_button.setEnabled(has_project and not busy and not self._blocked)
        self.area_combo.setEnabled(not busy)
        has_result = self.result is not None
        self.export_xlsx_button.setEnabled(has_result and not busy)
        self.export_csv_button.setEnabled(has_result and not busy)
        reporting = self.report_task is not None or self.report_running
        self.report_button.setEnabled(has_project and not reporting and not self._report_blocked)

    def set_project(self, path: str) -> None:
        """The project opened in the Project tab: list its areas, forget old figures."""
        self.cancel()
        from .pgconn import normalize_project

        self.project_path = normalize_project(path)
        self.load_areas()
        self.show_result(None)
        self._update_enabled()

    def load_areas(self) -> None:
        tab_parts.fill_area_combo(self.area_combo, self.project_path)

    def select_area(self, uid) -> None:
        i = self.area_combo.findData(uid)
        self.area_combo.setCurrentIndex(i if i >= 0 else 0)

    # -- computing ------------------------------------------------------------------
    def compute(self):
        """Compute the quantities in a QgsTask; returns the task (None when refused)."""
        if not self.project_path:
            self.dock.report(self.tr("Open a project first"), "warning")
            return None
        if self.task is not None:
            self.dock.report(self.tr("The quantities are already being computed"), "warning")
            return None
        project, area = self.project_path, self.area_combo.currentData()
        task = FunctionTask(self.tr("Computing quantities"), lambda fb: self.compute_work(project, area, fb),
                            on_success=lambda result: self._computed(result, area),
                            on_error=self._failed, on_canceled=self._canceled)
        self._start_task(task, lambda v: self.progress.setValue(int(v)))
        return task

    @staticmethod
    def compute_work(project: str, area, feedback):
        """What the task runs (worker thread: no widgets). compute_quantities has
        no progress of its own: 5 % when it starts, 100 % when it is done; a
        cancel during it drops the result."""
        from ..tools.quantities import compute_quantities, summary_lines

        feedback.set_progress(5)
        feedback.check_canceled()
        result = compute_quantities(project, area=area)
        feedback.check_canceled()
        lines = summary_lines(result)
        feedback.set_progress(100)
        return {"result": result, "lines": lines}

    def cancel(self) -> None:
        self._cancel_task()

    def _computed(self, out, area) -> None:
        self._finish()
        self.show_result(out["result"], out["lines"], area)
        self.dock.report(self.tr("Quantities computed"), "success")

    def _failed(self, exc) -> None:
        self._finish()
        self.summary_text.setPlainText(self.tr("The quantities failed: {0}").format(exc))
        self.dock.report(self.tr("The quantities failed: {0}").format(exc), "critical")

    def _canceled(self) -> None:
        self._finish()
        self.dock.report(self.tr("Quantities canceled"), "info")

    def show_result(self, result, lines=None, area=None) -> None:
        """Show ``result`` (compute_quantities' dict; None clears)."""
        self.result, self.result_area = result, area
        if result is None:
            self.summary_text.clear()
            for model in self.models.values():
                model.set_frame(None)
        else:
            if lines is None:
                from ..tools.quantities import summary_lines

                lines = summary_lines(result)
            self.summary_text.setPlainText("\n".join(lines))
            for theme, model in self.models.items():
                model.set_frame(result.get(theme))
                self.views[theme].resizeColumnsToContents()
        self._update_enabled()

    def summary(self) -> str:
        return self.summary_text.toPlainText()

    # -- export ---------------------------------------------------------------------
    def _start_dir(self) -> str:
        from ..layers.project import is_pg

        if self.project_path and not is_pg(self.project_path):
            return os.path.dirname(self.project_path)
        return settings.LAST_DIRECTORY.value() or os.path.expanduser("~")

    def export(self, ext: str, path: str = None):
        """Write the quantities shown to ``path`` (asked when None); returns the path written."""
        if self.result is None:
            self.dock.report(self.tr("Compute the quantities first"), "warning")
            return None
        if not path:
            base = os.path.splitext(os.path.basename(self.project_path or "project"))[0]
            suffix = f"_{self.result_area}" if self.result_area else ""
            start = os.path.join(self._start_dir(), f"{base}_quantities{suffix}{ext}")
            flt = self.tr("Excel workbook (*.xlsx)") if ext == ".xlsx" else self.tr("CSV (*.csv)")
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the quantities"), start, flt)
            if not path:
                return None
        if not path.lower().endswith(ext):
            path += ext
        from ..layers.errors import InputError, MissingDependency
        from ..tools.quantities import write_quantities

        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            write_quantities(self.result, path)
        except (InputError, MissingDependency, OSError) as exc:
            self.dock.report(self.tr("Could not export the quantities: {0}").format(exc), "critical")
            return None
        finally:
            QApplication.restoreOverrideCursor()
        settings.LAST_DIRECTORY.set(os.path.dirname(os.path.abspath(path)))
        self.dock.report(self.tr("Quantities written to {0}").format(path), "success")
        return path

    # -- report ---------------------------------------------------------------------
    def report_dialog(self):
        """Ask for the file, language and atlas pages, then write the report."""
        if not self.project_path:
            self.dock.report(self.tr("Open a project first"), "warning")
            return None
        base = os.path.splitext(os.path.basename(self.project_path))[0]
        start = os.path.join(self._start_dir(), f"{base}_report.pdf")
        dialog = ReportOptionsDialog(self, "", lang="both")
        try:
            # the file first (the usual save dialog), then the other options with it
            dialog.browse(start)
            if not dialog.path() or dialog.exec_() != QDialog.Accepted:
                return None
            opts = dialog.options()
        finally:
            dialog.deleteLater()
        return self.run_report(opts["path"], lang=opts["lang"], max_pages=opts["max_pages"])

    def run_report(self, path: str, lang: str = "both", max_pages: int = None):
        """Write the report to ``path``: XLSX in a QgsTask (returns the task),
        PDF/HTML in the main thread under a progress dialog (returns write_report's
        dict, or None when cancelled or failed)."""
        from ..tools.report import DEFAULT_MAX_PAGES

        if not self.project_path:
            self.dock.report(self.tr("Open a project first"), "warning")
            return None
        if self.report_task is not None or self.report_running:
            self.dock.report(self.tr("A report is already being written"), "warning")
            return None
        ext = os.path.splitext(path)[1].lower()
        if ext not in REPORT_EXTS:
            self.dock.report(self.tr("A report is written as .pdf, .html or .xlsx"), "warning")
            return None
        max_pages = DEFAULT_MAX_PAGES if max_pages is None else int(max_pages)
        project = self.project_path
        settings.LAST_DIRECTORY.set(os.path.dirname(os.path.abspath(path)))
        if ext == ".xlsx":
            return self._report_task(project, path, lang, max_pages)
        return self._report_main_thread(project, path, lang, max_pages)

    def _report_task(self, project, path, lang, max_pages):
        def work(feedback):
            from ..tools.engine.context import Cancelled
            from ..tools.report import write_report

            try:
                return write_report(project, path, lang=lang, max_pages=max_pages,
                                    progress=lambda f, m="": feedback.set_progress(99.0 * float(f)),
                                    is_cancelled=feedback.is_canceled)
            except Cancelled:
                raise Canceled() from None

        def done():
            self.report_task = None
            self._update_enabled()

        def success(r):
            done()
            self._report_written(r)

        def error(exc):
            done()
            self._report_failed(exc)

        def canceled():
            done()
            self._report_canceled()

        task = FunctionTask(self.tr("Writing the report"), work, on_success=success, on_error=error,
                            on_canceled=canceled)
        self.report_task = task
        self.report_label.setText(self.tr("Writing {0}…").format(path))
        self._update_enabled()
        self.dock.runner.start(task)
        return task

    def _report_main_thread(self, project, path, lang, max_pages):
        from ..layers.errors import InputError, MissingDependency
        from ..tools.engine.context import Cancelled
        from ..tools.report import write_report

        dialog = QProgressDialog(self.tr("Writing the report…"), self.tr("Cancel"), 0, 1000, self)
        dialog.setObjectName("reportProgressDialog")
        dialog.setWindowTitle(self.tr("Findings report"))
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        self.report_progress_dialog = dialog
        stages = {"cover": self.tr("Cover page"), "atlas": self.tr("Atlas pages"),
                  "list": self.tr("List of findings"), "done": self.tr("Done")}

        def progress(fraction, message=""):
            dialog.setValue(int(round(1000 * max(0.0, min(1.0, float(fraction))))))
            if message in stages:
                dialog.setLabelText(stages[message])
            QCoreApplication.processEvents()

        self.report_running = True
        self._update_enabled()
        self.report_label.setText(self.tr("Writing {0}…").format(path))
        QCoreApplication.processEvents()
        try:
            r = write_report(project, path, lang=lang, max_pages=max_pages, progress=progress,
                             is_cancelled=dialog.wasCanceled)
        except Cancelled:
            self._report_canceled()
            return None
        except (InputError, MissingDependency, OSError) as exc:
            self._report_failed(exc)
            return None
        except Exception as exc:  # a failing report must not take QGIS down: logged, reported
            log(f"report: {traceback.format_exc()}", "critical")
            self._report_failed(exc)
            return None
        finally:
            self.report_running = False
            dialog.close()
            dialog.deleteLater()
            self.report_progress_dialog = None
            self._update_enabled()
        self._report_written(r)
        return r

    def _report_written(self, r) -> None:
        self.last_report = r
        if r.get("pages"):
            text = self.tr("Report written: {0} ({1} findings, {2} pages)").format(
                r["path"], r["findings"], r["pages"])
        else:
            text = self.tr("Report written: {0} ({1} findings)").format(r["path"], r["findings"])
        self.report_label.setText(text)
        self.dock.report(text, "success")

    def _report_failed(self, exc) -> None:
        text = self.tr("The report failed: {0}").format(exc)
        self.report_label.setText(text)
        self.dock.report(text, "critical")

    def _report_canceled(self) -> None:
        text = self.tr("Report canceled: nothing was written")
        self.report_label.setText(text)
        self.dock.report(text, "info")

    def shutdown(self) -> None:
        self.cancel()
        if self.report_task is not None:
            self.report_task.cancel()
