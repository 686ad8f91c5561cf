"""The dock's "Checks" tab: run the conflict checks in a background task, then
browse, filter, zoom to and review the findings.

The checks themselves are ``tools.check.check_project`` (the same function as
``renewal-planner check`` and ``renewal_planner:check``); this module only
gathers the options, runs it in a QgsTask and shows the project's ``conflict``
table (plugin/results_model.py) and its styled layers on the map.
"""
from __future__ import annotations

import getpass
import os
import sqlite3

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject,
                       QgsRectangle, QgsVectorLayer)
from qgis.gui import QgsFileWidget, QgsFilterLineEdit
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFormLayout, QGroupBox,
                                 QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                                 QListWidgetItem, QPushButton, QSplitter, QTableView,
                                 QVBoxLayout, QWidget)

from . import deps, tab_parts
from .results_model import ResultsModel, geometry_of, read_findings
from .review_panel import GroupedFilterProxy, ReviewPanel
from .tasks import Canceled, FunctionTask

RULE_ROLE = Qt.UserRole + 1
#: Reviews a reviewer sets from the tab ('resolved' is the checks' own verdict).
REVIEW_CHOICES = ("accepted", "waived", "open")
#: Smallest side of the extent shown around a finding (map units, metres).
MIN_ZOOM_SIZE = 20.0
RESULTS_THEME = "results"


def user_name() -> str:
    """Who reviews: QGIS's idea of the user, else the OS login."""
    for getter in (QgsApplication.userFullName, QgsApplication.userLoginName):
        try:
            name = getter()
        except Exception:  # pragma: no cover - very old QGIS
            name = ""
        if name:
            return name
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover
        return ""


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (TypeError, ValueError):
        return False


def conflict_layers(project_path: str, qproject: QgsProject = None) -> list:
    """The map layers of the ``conflict`` table of ``project_path`` in ``qproject``."""
    qproject = qproject or QgsProject.instance()
    out = []
    for layer in qproject.mapLayers().values():
        if (isinstance(layer, QgsVectorLayer) and layer.customProperty("renewal_planner/layer") == "conflict"
                and layer.customProperty("renewal_planner/project") == project_path):
            out.append(layer)  # a PostGIS project's (plugin/pgconn.py)
            continue
        if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
            continue
        source = layer.source()
        parts = source.split("|")
        is_conflict = layer.customProperty("renewal_planner/layer") == "conflict" or \
            any(p.strip() == "layername=conflict" for p in parts[1:])
        if is_conflict and _same_file(parts[0], project_path):
            out.append(layer)
    return out


class ChecksTab(tab_parts.RunRowTask, QWidget):
    """Run the checks and review their findings."""

    def __init__(self, dock):
        super().__init__(dock)
        self.dock = dock
        self.setObjectName("RenewalPlannerChecksTab")
        self.project_path = None
        self.task = None
        self.last_result = None
        self._stage = ""
        self._last_zoom_row = None
        from .dock import ui_language

        self.lang = ui_language()
        from ..layers import schema

        self._domains = schema.model()

        outer = QVBoxLayout(self)
        splitter = QSplitter(Qt.Vertical, self)
        splitter.setObjectName("checksSplitter")
        outer.addWidget(splitter)

        # -- options ------------------------------------------------------------------
        options = QGroupBox(self.tr("Check options"), splitter)
        form = QVBoxLayout(options)
        self.rules_list = QListWidget(options)
        self.rules_list.setObjectName("rulesList")
        self.rules_list.setToolTip(self.tr("Rules to run (all by default)"))
        self.rules_list.setMaximumHeight(150)
        for rule_id in self._rule_ids():
            item = QListWidgetItem(f"{self._label('rule', rule_id)}  ({rule_id})", self.rules_list)
            item.setData(RULE_ROLE, rule_id)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
        form.addWidget(QLabel(self.tr("Rules"), options))
        form.addWidget(self.rules_list)
        row = QHBoxLayout()
        self.all_rules_button = QPushButton(self.tr("All"), options)
        self.all_rules_button.setObjectName("allRulesButton")
        self.all_rules_button.clicked.connect(lambda: self.set_rules(None))
        self.no_rules_button = QPushButton(self.tr("None"), options)
        self.no_rules_button.setObjectName("noRulesButton")
        self.no_rules_button.clicked.connect(lambda: self.set_rules([]))
        row.addWidget(self.all_rules_button)
        row.addWidget(self.no_rules_button)
        row.addStretch(1)
        form.addLayout(row)

        fields = QFormLayout()
        self.profile_widget = QgsFileWidget(options)
        self.profile_widget.setObjectName("rulesProfileWidget")
        self.profile_widget.setFilter(self.tr("Rules profile (*.yaml *.yml)"))
        self.profile_widget.setToolTip(self.tr("Optional local rules profile; empty: the national defaults"))
        fields.addRow(self.tr("Rules profile"), self.profile_widget)
        self.dem_widget = QgsFileWidget(options)
        self.dem_widget.setObjectName("demWidget")
        self.dem_widget.setFilter(self.tr("GeoTIFF (*.tif *.tiff)"))
        self.dem_widget.setToolTip(self.tr("Optional DEM; empty: PROJECT_dem.tif beside the project if there is one"))
        fields.addRow(self.tr("DEM"), self.dem_widget)
        self.area_combo = QComboBox(options)
        self.area_combo.setObjectName("areaCombo")
        self.area_combo.addItem(self.tr("Whole project"), None)
        fields.addRow(self.tr("Renovation area"), self.area_combo)
        self.certain_only = QCheckBox(self.tr("Show certain findings only"), options)
        self.certain_only.setObjectName("certainOnlyCheck")
        self.certain_only.toggled.connect(self._certain_only_toggled)
        fields.addRow(self.certain_only)
        form.addLayout(fields)

        run_row, self.run_button, self.progress, self.cancel_button = tab_parts.run_row(
            options, self.tr("Run checks"), "runChecksButton", self.run_check,
            self.tr("Cancel"), "cancelCheckButton", self.cancel_check, "checkProgress")
        form.addLayout(run_row)
        self.status_label = QLabel(options)
        self.status_label.setObjectName("checkStatusLabel")
        self.status_label.setWordWrap(True)
        form.addWidget(self.status_label)

        # -- results ------------------------------------------------------------------
        results = QGroupBox(self.tr("Findings"), splitter)
        res = QVBoxLayout(results)
        filters = QHBoxLayout()
        self.rule_filter = self._filter_combo("rule", self._rule_ids(), "ruleFilter")
        self.severity_filter = self._filter_combo("severity", None, "severityFilter")
        self.certainty_filter = self._filter_combo("certainty", None, "certaintyFilter")
        self.review_filter = self._filter_combo("review", None, "reviewFilter")
        for combo in (self.rule_filter, self.severity_filter, self.certainty_filter, self.review_filter):
            combo.currentIndexChanged.connect(self.apply_filters)
            filters.addWidget(combo, 1)
        res.addLayout(filters)
        text_row = QHBoxLayout()
        self.text_filter = QgsFilterLineEdit(results)
        self.text_filter.setObjectName("textFilter")
        self.text_filter.setShowSearchIcon(True)
        self.text_filter.setPlaceholderText(self.tr("Search ids, features, messages, notes…"))
        self.text_filter.textChanged.connect(self.apply_filters)
        self.count_label = QLabel(results)
        self.count_label.setObjectName("findingsCount")
        text_row.addWidget(self.text_filter, 1)
        text_row.addWidget(self.count_label)
        res.addLayout(text_row)

        self.model = ResultsModel(self.lang, self)
        self.proxy = GroupedFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(results)
        self.view.setObjectName("findingsView")
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.AscendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.clicked.connect(self._clicked)
        # findings grouped by area / rule / owner / review beside the table (plugin/review_panel.py)
        self.review_panel = ReviewPanel(self, results)
        table_split = QSplitter(Qt.Horizontal, results)
        table_split.setObjectName("findingsSplitter")
        table_split.addWidget(self.review_panel)
        table_split.addWidget(self.view)
        table_split.setStretchFactor(1, 1)
        table_split.setSizes([320, 780])
        res.addWidget(table_split, 1)

        review_row = QHBoxLayout()
        self.review_combo = QComboBox(results)
        self.review_combo.setObjectName("reviewCombo")
        for code in REVIEW_CHOICES:
            self.review_combo.addItem(self._label("review", code), code)
        self.note_edit = QLineEdit(results)
        self.note_edit.setObjectName("reviewNote")
        self.note_edit.setPlaceholderText(self.tr("Review note (optional)"))
        self.apply_review_button = QPushButton(self.tr("Apply"), results)
        self.apply_review_button.setObjectName("applyReviewButton")
        self.apply_review_button.setToolTip(self.tr("Set the review of the selected findings"))
        self.apply_review_button.clicked.connect(self.apply_review)
        review_row.addWidget(QLabel(self.tr("Review"), results))
        review_row.addWidget(self.review_combo)
        review_row.addWidget(self.note_edit, 1)
        review_row.addWidget(self.apply_review_button)
        res.addLayout(review_row)
        sheets_row = QHBoxLayout()
        sheets_row.addStretch(1)
        sheets_row.addWidget(self.review_panel.export_button)
        sheets_row.addWidget(self.review_panel.import_button)
        res.addLayout(sheets_row)
        splitter.addWidget(options)
        splitter.addWidget(results)
        splitter.setStretchFactor(1, 1)
        self._update_count()
        self._update_enabled()

    def tr(self, text):  # noqa: D102 - context = class name, as pylupdate5 sees it
        return QCoreApplication.translate("ChecksTab", text)

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _rule_ids() -> list:
        from ..tools.engine.registry import RULES

        return list(RULES)

    def _label(self, domain: str, code: str) -> str:
        try:
            return self._domains.domain(domain).label(code, self.lang)
        except (KeyError, ValueError):
            return code

    def _filter_combo(self, domain: str, codes, name: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        titles = {"rule": self.tr("All rules"), "severity": self.tr("All severities"),
                  "certainty": self.tr("All certainties"), "review": self.tr("All reviews")}
        combo.addItem(titles[domain], None)
        for code in (codes if codes is not None else self._domains.domain(domain).values):
            combo.addItem(self._label(domain, code), code)
        return combo

    @staticmethod
    def select_code(combo: QComboBox, code) -> None:
        """Select the entry of ``combo`` whose data is ``code`` (None: 'all')."""
        i = combo.findData(code)
        combo.setCurrentIndex(i if i >= 0 else 0)

    def apply_dependencies(self, problems, message: str) -> None:
        blocked = bool(deps.missing_for("check", problems))
        self.run_button.setEnabled(not blocked and self.project_path is not None)
        if blocked:
            self.run_button.setToolTip(message)
        self._blocked = blocked

    def _update_enabled(self) -> None:
        has_project = self.project_path is not None
        running = self.task is not None
        self.run_button.setEnabled(has_project and not running and not getattr(self, "_blocked", False))
        self.apply_review_button.setEnabled(has_project and not running)
        self.review_panel.export_button.setEnabled(has_project and not running)
        self.review_panel.import_button.setEnabled(has_project and not running)

    # -- project -------------------------------------------------------------------
    def set_project(self, path: str) -> None:
        """The project opened in the Project tab: list its areas, show its findings."""
        from .pgconn import normalize_project

        self.project_path = normalize_project(path)
        self.load_areas()
        self.reload_results()
        self._update_enabled()

    def load_areas(self) -> None:
        tab_parts.fill_area_combo(self.area_combo, self.project_path)

    def project_crs(self) -> QgsCoordinateReferenceSystem:
        try:
            from ..layers.gpkg import project_info

            crs = QgsCoordinateReferenceSystem(project_info(self.project_path).get("crs") or "")
            if crs.isValid():
                return crs
        except Exception:
            pass
        for layer in conflict_layers(self.project_path):
            return layer.crs()
        return QgsCoordinateReferenceSystem()

    # -- options -------------------------------------------------------------------
    def set_rules(self, rule_ids=None) -> None:
        """Check exactly ``rule_ids`` (None: all)."""
        for i in range(self.rules_list.count()):
            item = self.rules_list.item(i)
            on = rule_ids is None or item.data(RULE_ROLE) in rule_ids
            item.setCheckState(Qt.Checked if on else Qt.Unchecked)

    def selected_rules(self) -> list:
        return [self.rules_list.item(i).data(RULE_ROLE) for i in range(self.rules_list.count())
                if self.rules_list.item(i).checkState() == Qt.Checked]

    def check_options(self) -> dict:
        """Keyword arguments of ``check_project`` from the widgets."""
        rules = self.selected_rules()
        return {
            "rules": self.profile_widget.filePath().strip() or None,
            "only": None if len(rules) == self.rules_list.count() else rules,
            "dem": self.dem_widget.filePath().strip() or None,
            "area": self.area_combo.currentData(),
        }

    def _certain_only_toggled(self, on: bool) -> None:
        self.select_code(self.certainty_filter, "certain" if on else None)
        self.certainty_filter.setEnabled(not on)

    # -- running -------------------------------------------------------------------
    def run_check(self):
        """Start the checks in a QgsTask; returns the task (None when refused)."""
        if not self.project_path:
            self.dock.report(self.tr("Open a project first"), "warning")
            return None
        if self.task is not None:
            self.dock.report(self.tr("The checks are already running"), "warning")
            return None
        options = self.check_options()
        if options["only"] == []:
            self.dock.report(self.tr("Choose at least one rule"), "warning")
            return None
        project = self.project_path
        task = FunctionTask(self.tr("Checking conflicts"), lambda fb: self.check_work(project, options, fb),
                            on_success=self._check_done, on_error=self._check_failed,
                            on_canceled=self._check_canceled)
        self._stage = ""
        self.progress.setFormat("%p%")
        self.status_label.setText(self.tr("Checking…"))
        self._start_task(task, self._progress_changed)
        return task

    def check_work(self, project: str, options: dict, feedback):
        """What the task runs (worker thread: no widgets here)."""
        from ..tools.check import check_project
        from ..tools.engine.context import Cancelled

        def progress(fraction, message=""):
            self._stage = str(message or "")
            feedback.set_progress(99.0 * float(fraction))

        try:
            run, rows, counts = check_project(project, progress=progress,
                                              is_cancelled=feedback.is_canceled, **options)
        except Cancelled:
            raise Canceled() from None
        frame = read_findings(project)
        return {"run": run, "rows": rows, "counts": counts, "frame": frame}

    def _progress_changed(self, value) -> None:
        self.progress.setValue(int(value))
        if self._stage:
            self.progress.setFormat(f"%p%  {self._stage}")

    def cancel_check(self) -> None:
        self._cancel_task()

    def _check_done(self, result) -> None:
        self._finish()
        self.last_result = result
        rows, counts = result["rows"], result["counts"]
        certain = sum(1 for r in rows if r["certainty"] == "certain")
        text = self.tr("{0} findings ({1} certain): {2} new, {3} resolved").format(
            len(rows), certain, counts.get("new", 0), counts.get("resolved", 0))
        self.status_label.setText(text)
        self.dock.report(text, "success")
        self.show_frame(result["frame"])
        self.refresh_results_layer()

    def _check_failed(self, exc) -> None:
        self._finish()
        self.status_label.setText(self.tr("The checks failed: {0}").format(exc))
        self.dock.report(self.tr("The checks failed: {0}").format(exc), "critical")

    def _check_canceled(self) -> None:
        self._finish()
        self.status_label.setText(self.tr("Checks canceled: nothing was written"))
        self.dock.report(self.tr("Checks canceled: nothing was written"), "info")

    # -- results table ---------------------------------------------------------------
    def reload_results(self) -> None:
        if not self.project_path:
            self.model.clear()
            self.review_panel.refresh()
        else:
            try:
                self.show_frame(read_findings(self.project_path))
            except Exception as exc:  # e.g. not a project: an empty table, one message
                self.model.clear()
                self.review_panel.refresh()
                self.dock.report(self.tr("Could not read the findings: {0}").format(exc), "warning")
        self._update_count()

    def show_frame(self, frame) -> None:
        selected = set(self.selected_conflict_ids())
        self.model.set_frame(frame)
        self.review_panel.refresh()
        self._update_count()
        if selected:
            self.select_conflicts(selected)

    def apply_filters(self, *args) -> None:
        self.proxy.set_filters(text=self.text_filter.text(),
                               rule_id=self.rule_filter.currentData(),
                               severity=self.severity_filter.currentData(),
                               certainty=self.certainty_filter.currentData(),
                               review=self.review_filter.currentData())
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(self.tr("{0} of {1} findings").format(
            self.proxy.rowCount(), self.model.rowCount()))

    def visible_conflict_ids(self) -> list:
        return [self.model.conflict_id(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
                for r in range(self.proxy.rowCount())]

    def selected_conflict_ids(self) -> list:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.conflict_id(r) for r in rows]

    def select_conflicts(self, conflict_ids) -> None:
        from qgis.PyQt.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for cid in conflict_ids:
            row = self.model.row_of(cid)
            if row < 0:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                selection.select(index, index)
        self.view.selectionModel().select(
            selection, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)

    # -- zoom ------------------------------------------------------------------------
    def _current_changed(self, current, previous) -> None:
        if current.isValid():
            self.zoom_to_index(current)

    def _clicked(self, index) -> None:
        if index.isValid() and index.row() == self._last_zoom_row:
            self.zoom_to_index(index)  # clicking the current row again flashes it again

    def zoom_to_index(self, proxy_index) -> bool:
        """Zoom the map canvas to the finding of ``proxy_index`` and flash it."""
        self._last_zoom_row = proxy_index.row()
        source = self.proxy.mapToSource(proxy_index)
        return self.zoom_to_finding(self.model.record(source.row()))

    def zoom_to_finding(self, record: dict) -> bool:
        iface = self.dock.iface
        if iface is None:
            return False
        geom = geometry_of(record.get("geom"))
        if geom is None:
            return False
        canvas = iface.mapCanvas()
        crs = self.project_crs()
        dest = canvas.mapSettings().destinationCrs()
        shown = type(geom)(geom)
        if crs.isValid() and dest.isValid() and crs != dest:
            shown.transform(QgsCoordinateTransform(crs, dest, QgsProject.instance()))
        box = shown.boundingBox()
        centre = box.center()
        w = max(box.width(), MIN_ZOOM_SIZE)
        h = max(box.height(), MIN_ZOOM_SIZE)
        extent = QgsRectangle(centre.x() - w / 2, centre.y() - h / 2, centre.x() + w / 2, centre.y() + h / 2)
        extent.scale(1.3)
        canvas.setExtent(extent)
        canvas.refresh()
        try:
            canvas.flashGeometries([geom], crs if crs.isValid() else dest)
        except (AttributeError, TypeError):  # pragma: no cover - very old QGIS
            pass
        return True

    # -- review ----------------------------------------------------------------------
    def apply_review(self):
        """Set the review (and note) of the selected findings; returns rows changed."""
        from ..layers.errors import InputError
        from ..tools.results import set_review

        ids = self.selected_conflict_ids()
        if not ids:
            self.dock.report(self.tr("Select one or more findings first"), "warning")
            return 0
        review = self.review_combo.currentData()
        note = self.note_edit.text().strip() or None
        try:
            changed = set_review(self.project_path, ids, review, reviewer=user_name(), note=note)
        except (InputError, sqlite3.Error) as exc:
            self.dock.report(self.tr("Could not save the review: {0}").format(exc), "critical")
            return 0
        self.note_edit.clear()
        self.reload_results()
        self.select_conflicts(ids)
        self.refresh_results_layer(add=False)
        self.dock.report(self.tr("{0} findings set to {1}").format(changed, self._label("review", review)),
                         "success")
        return changed

    # -- results layer ---------------------------------------------------------------
    def refresh_results_layer(self, add: bool = True) -> list:
        """Reload the conflict layers of the project on the map; add them (styled, in
        the results group) when ``add`` and they are not there. Returns them."""
        if not self.project_path:
            return []
        layers = conflict_layers(self.project_path)
        if not layers and add:
            layers = self.add_results_layers()
        for layer in layers:
            provider = layer.dataProvider()
            if provider is not None:
                provider.reloadData()
            layer.updateExtents()
            layer.triggerRepaint()
        return layers

    def add_results_layers(self) -> list:
        """Add the conflict table as point, line and polygon sublayers, styled, in
        the results group of the layer tree (created at the top if missing)."""
        qproject = QgsProject.instance()
        try:
            from ..layers import schema, styles

            kinds = list(styles.GEOMETRY_LABELS)
            zh, en = styles.THEMES.get(RESULTS_THEME, ("检查结果", "Check results"))
            prop_theme, prop_layer = styles.PROP_THEME, styles.PROP_LAYER
        except (ImportError, AttributeError):
            styles = None
            kinds, (zh, en) = ["Point", "LineString", "Polygon"], ("检查结果", "Check results")
            prop_theme, prop_layer = "renewal_planner/theme", "renewal_planner/layer"
        root = qproject.layerTreeRoot()
        group = next((g for g in root.findGroups(True) if g.customProperty(prop_theme) == RESULTS_THEME),
                     None)
        if group is None:
            group = root.insertGroup(0, f"{zh} {en}")
            group.setCustomProperty(prop_theme, RESULTS_THEME)
        added = []
        for kind in kinds:
            uri = f"{self.project_path}|layername=conflict|geometrytype={kind}"
            layer = QgsVectorLayer(uri, f"conflict {kind}", "ogr")
            if not layer.isValid():
                continue
            if styles is not None:
                styles.build_layer_style(layer, "conflict", self.lang)
                layer.setName(styles.display_name(schema.model().layer("conflict"), kind))
            layer.setCustomProperty(prop_layer, "conflict")
            qproject.addMapLayer(layer, False)
            group.addLayer(layer)
            added.append(layer)
        return added
