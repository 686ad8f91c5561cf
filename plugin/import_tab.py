"""The dock's "Import" tab: a wizard over the importer engine (layers/importer).

Pick files → plan them in a background task (``plan_files``: nothing is
written) → per file see the detected target layers, encoding, CRS and
header → field mapping, correct them, see the accepted records on the map
(temporary memory layers) and the rejected ones in a table → "Re-plan" →
"Import" commits the plan (``commit_plan``: one transaction) in a QgsTask
with progress and cancel, refreshes the project's layers and shows the batch
summary. "Save mapping…" writes the mapping file the command line's
``--mapping`` reads; "Write report…" the engine's HTML/XLSX report.
"""
from __future__ import annotations

import os

from qgis.core import (QgsCoordinateReferenceSystem, QgsFeature, QgsField, QgsGeometry, QgsProject,
                       QgsVectorLayer)
from qgis.gui import QgsFileWidget, QgsProjectionSelectionWidget
from qgis.PyQt.QtCore import QCoreApplication, Qt, QVariant
from qgis.PyQt.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QGroupBox,
                                 QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                                 QListWidgetItem, QPlainTextEdit, QProgressBar, QPushButton, QSplitter,
                                 QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from . import deps
from .tasks import Canceled, FunctionTask

PREVIEW_GROUP_PROP = "renewal_planner/import_preview"
PREVIEW_LAYER_PROP = "renewal_planner/import_preview_layer"
#: Encodings offered besides automatic detection (the box is editable).
ENCODINGS = ("utf-8", "gb18030", "gbk", "big5", "utf-16")
TARGET_LAYERS = ("pipe_point", "pipe_segment")
IGNORE = None
#: Preview colours: accepted points / segments.
PREVIEW_COLOURS = {"pipe_point": "#1f78b4", "pipe_segment": "#33a02c"}


def _same_file(a, b) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (TypeError, ValueError):
        return False


class ImportTab(QWidget):
    """Plan, preview, correct and commit survey uploads."""

    def __init__(self, dock):
        super().__init__(dock)
        self.dock = dock
        self.setObjectName("RenewalPlannerImportTab")
        self.project_path = None
        self.task = None
        self.task_kind = None       # 'plan' / 'commit'
        self.plan = None            # importer.ImportPlan not written yet
        self.committed = None       # (ImportPlan, summaries) of the last import
        self.overrides = {}         # file path -> {"columns": {col: target}, "crs": authid, "encoding": str}
        self.dirty = False          # edits made since the last plan
        self.preview_layers = []    # ids of the memory layers on the map
        self._loading = False
        self._blocked = False
        self._stage = ""
        from .dock import ui_language
        from ..layers import schema

        self.lang = ui_language()
        self._model = schema.model()

        outer = QVBoxLayout(self)
        splitter = QSplitter(Qt.Vertical, self)
        splitter.setObjectName("importSplitter")
        outer.addWidget(splitter)

        # -- files and options -------------------------------------------------------
        top = QGroupBox(self.tr("Files to import"), splitter)
        top_layout = QVBoxLayout(top)
        form = QFormLayout()
        self.files_widget = QgsFileWidget(top)
        self.files_widget.setObjectName("importFilesWidget")
        self.files_widget.setStorageMode(QgsFileWidget.GetMultipleFiles)
        self.files_widget.setFilter(self.tr(
            "Survey files (*.csv *.txt *.xlsx *.xlsm *.shp *.gpkg *.geojson *.json *.dxf *.inp)"))
        self.files_widget.setToolTip(self.tr("Point and line tables, shapefiles, GeoPackages, DXF, GeoJSON"))
        form.addRow(self.tr("Files"), self.files_widget)
        self.mapping_widget = QgsFileWidget(top)
        self.mapping_widget.setObjectName("importMappingWidget")
        self.mapping_widget.setFilter(self.tr("Mapping file (*.yaml *.yml *.json)"))
        self.mapping_widget.setToolTip(self.tr("Optional mapping file, as the command line's --mapping"))
        form.addRow(self.tr("Mapping file"), self.mapping_widget)
        self.layer_combo = QComboBox(top)
        self.layer_combo.setObjectName("importLayerCombo")
        self.layer_combo.addItem(self.tr("Automatic"), "auto")
        for name in TARGET_LAYERS:
            self.layer_combo.addItem(self._layer_label(name), name)
        form.addRow(self.tr("Target layer"), self.layer_combo)
        self.batch_edit = QLineEdit(top)
        self.batch_edit.setObjectName("importBatchEdit")
        self.batch_edit.setPlaceholderText(self.tr("automatic (time and file checksum)"))
        form.addRow(self.tr("Batch name"), self.batch_edit)
        top_layout.addLayout(form)
        run_row = QHBoxLayout()
        self.plan_button = QPushButton(self.tr("Plan"), top)
        self.plan_button.setObjectName("planImportButton")
        self.plan_button.setToolTip(self.tr("Read and check the files without writing anything"))
        self.plan_button.clicked.connect(self.start_plan)
        self.progress = QProgressBar(top)
        self.progress.setObjectName("importProgress")
        self.progress.setRange(0, 100)
        self.cancel_button = QPushButton(self.tr("Cancel"), top)
        self.cancel_button.setObjectName("cancelImportButton")
        self.cancel_button.clicked.connect(self.cancel_task)
        run_row.addWidget(self.plan_button)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)
        top_layout.addLayout(run_row)
        self.progress.hide()
        self.cancel_button.hide()
        self.status_label = QLabel(top)
        self.status_label.setObjectName("importStatusLabel")
        self.status_label.setWordWrap(True)
        top_layout.addWidget(self.status_label)

        # -- per file: detected settings and mapping ---------------------------------------
        detail = QGroupBox(self.tr("Detected settings"), splitter)
        dl = QVBoxLayout(detail)
        self.file_list = QListWidget(detail)
        self.file_list.setObjectName("importFileList")
        self.file_list.setMaximumHeight(90)
        self.file_list.currentRowChanged.connect(self.show_file)
        dl.addWidget(self.file_list)
        dform = QFormLayout()
        self.target_label = QLabel(detail)
        self.target_label.setObjectName("importTargetLabel")
        dform.addRow(self.tr("Layers"), self.target_label)
        self.encoding_combo = QComboBox(detail)
        self.encoding_combo.setObjectName("importEncodingCombo")
        self.encoding_combo.setEditable(True)
        self.encoding_combo.addItems(list(ENCODINGS))
        self.encoding_combo.currentTextChanged.connect(self._encoding_edited)
        dform.addRow(self.tr("Encoding"), self.encoding_combo)
        self.crs_widget = QgsProjectionSelectionWidget(detail)
        self.crs_widget.setObjectName("importCrsWidget")
        self.crs_widget.crsChanged.connect(self._crs_edited)
        dform.addRow(self.tr("CRS"), self.crs_widget)
        self.counts_label = QLabel(detail)
        self.counts_label.setObjectName("importCountsLabel")
        self.counts_label.setWordWrap(True)
        dform.addRow(self.tr("Records"), self.counts_label)
        dl.addLayout(dform)
        self.mapping_table = QTableWidget(0, 3, detail)
        self.mapping_table.setObjectName("importMappingTable")
        self.mapping_table.setHorizontalHeaderLabels(
            [self.tr("Source column"), self.tr("Example"), self.tr("Model field")])
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.mapping_table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.mapping_table.horizontalHeader().setStretchLastSection(True)
        dl.addWidget(self.mapping_table, 1)
        edit_row = QHBoxLayout()
        self.replan_button = QPushButton(self.tr("Re-plan"), detail)
        self.replan_button.setObjectName("replanImportButton")
        self.replan_button.setToolTip(self.tr("Plan again with the corrected mapping, encoding and CRS"))
        self.replan_button.clicked.connect(self.start_plan)
        self.save_mapping_button = QPushButton(self.tr("Save mapping…"), detail)
        self.save_mapping_button.setObjectName("saveMappingButton")
        self.save_mapping_button.setToolTip(self.tr("Save this file's mapping for the command line's --mapping"))
        self.save_mapping_button.clicked.connect(lambda: self.save_mapping())
        edit_row.addWidget(self.replan_button)
        edit_row.addWidget(self.save_mapping_button)
        edit_row.addStretch(1)
        dl.addLayout(edit_row)

        # -- rejects, commit -------------------------------------------------------------
        bottom = QGroupBox(self.tr("Rejected records"), splitter)
        bl = QVBoxLayout(bottom)
        self.rejects_table = QTableWidget(0, 5, bottom)
        self.rejects_table.setObjectName("importRejectsTable")
        self.rejects_table.setHorizontalHeaderLabels(
            [self.tr("Record"), self.tr("Layer"), self.tr("Field"), self.tr("Value"), self.tr("Reason")])
        self.rejects_table.verticalHeader().setVisible(False)
        self.rejects_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.rejects_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.rejects_table.setSortingEnabled(True)
        self.rejects_table.horizontalHeader().setStretchLastSection(True)
        bl.addWidget(self.rejects_table, 1)
        commit_row = QHBoxLayout()
        self.import_button = QPushButton(self.tr("Import"), bottom)
        self.import_button.setObjectName("commitImportButton")
        self.import_button.setToolTip(self.tr("Write the accepted records and the rejects in one transaction"))
        self.import_button.clicked.connect(self.start_commit)
        self.report_button = QPushButton(self.tr("Write report…"), bottom)
        self.report_button.setObjectName("importReportButton")
        self.report_button.setToolTip(self.tr("HTML report and XLSX of the rejects of the last import"))
        self.report_button.clicked.connect(lambda: self.write_report())
        self.discard_button = QPushButton(self.tr("Discard"), bottom)
        self.discard_button.setObjectName("discardImportButton")
        self.discard_button.setToolTip(self.tr("Forget the plan and remove the preview layers"))
        self.discard_button.clicked.connect(self.discard)
        commit_row.addWidget(self.import_button)
        commit_row.addWidget(self.report_button)
        commit_row.addStretch(1)
        commit_row.addWidget(self.discard_button)
        bl.addLayout(commit_row)
        self.summary_text = QPlainTextEdit(bottom)
        self.summary_text.setObjectName("importSummary")
        self.summary_text.setReadOnly(True)
        self.summary_text.setMaximumHeight(110)
        self.summary_text.hide()
        bl.addWidget(self.summary_text)
        for w in (top, detail, bottom):
            splitter.addWidget(w)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 1)
        self._update_enabled()

    def tr(self, text):  # noqa: D102 - context = class name, as pylupdate5 sees it
        return QCoreApplication.translate("ImportTab", text)

    # -- labels -----------------------------------------------------------------------
    def _layer_label(self, name: str) -> str:
        try:
            lyr = self._model.layer(name)
            return f"{lyr.zh if self.lang == 'zh' else lyr.en} ({name})"
        except (KeyError, ValueError, AttributeError):
            return name

    def _role_labels(self) -> dict:
        return {"north": self.tr("X (north coordinate)"), "east": self.tr("Y (east coordinate)"),
                "connect": self.tr("connected point numbers"), "size": self.tr("size (DN, width×height)"),
                "top_elev": self.tr("pipe top elevation"), "invert_elev": self.tr("pipe invert elevation"),
                "cover": self.tr("cover size")}

    def target_choices(self, layers) -> list:
        """[(label, target)] offered for a source column: ignore, importer roles, the
        fields of ``layers`` (both pipe layers when none)."""
        out = [(self.tr("(ignore)"), IGNORE)]
        out += [(f"{label} [{role}]", role) for role, label in self._role_labels().items()]
        seen = set()
        for name in (layers or TARGET_LAYERS):
            if name not in TARGET_LAYERS:
                continue
            for f in self._model.layer(name).fields:
                if f.name in seen or f.name in ("source", "updated_at"):
                    continue
                seen.add(f.name)
                out.append((f"{f.zh if self.lang == 'zh' else f.en} [{f.name}]", f.name))
        return out

    # -- state ------------------------------------------------------------------------
    def apply_dependencies(self, problems, message: str) -> None:
        self._blocked = bool(deps.missing_for("check", problems))
        if self._blocked:
            self.plan_button.setToolTip(message)
        self._update_enabled()

    def _update_enabled(self) -> None:
        running = self.task is not None
        has_project = self.project_path is not None
        self.plan_button.setEnabled(has_project and not running and not self._blocked)
        self.replan_button.setEnabled(self.plan is not None and not running)
        self.save_mapping_button.setEnabled(self.plan is not None and not running)
        self.import_button.setEnabled(self.plan is not None and not running and not self.dirty)
        self.report_button.setEnabled(self.committed is not None and not running)
        self.discard_button.setEnabled(self.plan is not None and not running)
        for w in (self.files_widget, self.mapping_widget, self.layer_combo, self.batch_edit,
                  self.mapping_table, self.encoding_combo, self.crs_widget):
            w.setEnabled(not running)

    def set_project(self, path: str) -> None:
        """The project opened in the Project tab."""
        from .pgconn import normalize_project

        new = normalize_project(path)
        if self.project_path and new != self.project_path:
            self.discard()
        self.project_path = new
        self._update_enabled()

    def set_files(self, paths) -> None:
        """Choose the files (as the file widget does)."""
        paths = [os.fspath(p) for p in paths]
        self.files_widget.setFilePath(" ".join(f'"{p}"' for p in paths) if len(paths) > 1
                                      else (paths[0] if paths else ""))

    def files(self) -> list:
        text = self.files_widget.filePath().strip()
        if not text:
            return []
        return [p for p in QgsFileWidget.splitFilePaths(text) if p]

    def project_crs(self) -> str:
        try:
            from ..layers.gpkg import project_info

            return project_info(self.project_path).get("crs") or "EPSG:4547"
        except Exception:  # noqa: BLE001 - shown as the default CRS
            return "EPSG:4547"

    # -- planning --------------------------------------------------------------------
    def plan_arguments(self) -> dict:
        """Keyword arguments of ``plan_files`` from the widgets and the edits."""
        from ..layers.importer import mapping as mappingmod

        files = self.files()
        shared = self.mapping_widget.filePath().strip() or None
        shared_doc = mappingmod.load_mapping(shared) if shared else {}
        for path in [p for p in self.overrides if p not in files]:
            del self.overrides[path]
        per_file = {}
        for path, over in self.overrides.items():
            own = {}
            if over.get("columns"):
                doc = {k: v for k, v in shared_doc.items() if k != "columns"}
                doc["columns"] = {**(shared_doc.get("columns") or {}), **over["columns"]}
                own["mapping"] = doc
            if over.get("crs"):
                own["crs"] = over["crs"]
            if over.get("encoding"):
                own["encoding"] = over["encoding"]
            if own:
                per_file[path] = own
        return {"files": files, "layer": self.layer_combo.currentData() or "auto",
                "mapping": shared_doc or None, "batch": self.batch_edit.text().strip() or None,
                "per_file": per_file}

    def start_plan(self):
        """Plan the chosen files in a QgsTask; returns the task (None when refused)."""
        from ..layers.errors import InputError

        if not self.project_path:
            self.dock.report(self.tr("Open a project first"), "warning")
            return None
        if self.task is not None:
            self.dock.report(self.tr("An import task is still running"), "warning")
            return None
        try:
            args = self.plan_arguments()
        except InputError as exc:
            self.dock.report(self.tr("Could not read the mapping file: {0}").format(exc), "critical")
            return None
        if not args["files"]:
            self.dock.report(self.tr("Choose the files to import first"), "warning")
            return None
        project = self.project_path
        return self._start(self.tr("Planning the import"), "plan",
                           lambda fb: self.plan_work(project, args, fb), self._planned,
                           self.tr("Reading and checking…"))

    @staticmethod
    def plan_work(project, args, feedback):
        """What the planning task runs (worker thread: no widgets here)."""
        from ..layers.importer import Cancelled, plan_files

        def progress(fraction, message=""):
            ImportTab._stage_text = str(message or "")
            feedback.set_progress(99.0 * float(fraction))

        try:
            return plan_files(project, args["files"], layer=args["layer"], mapping=args["mapping"],
                              batch=args["batch"], per_file=args["per_file"], progress=progress,
                              is_cancelled=feedback.is_canceled)
        except Cancelled:
            raise Canceled() from None

    def _planned(self, plan) -> None:
        self.remove_previews()
        self.plan = plan
        self.dirty = False
        self.committed = None
        self.summary_text.hide()
        acc = sum(p.accepted for p, _ in plan.plans)
        rej = sum(p.rejected for p, _ in plan.plans)
        dup = sum(1 for _, m in plan.plans if m["duplicate_of"])
        text = self.tr("Planned {0} files: {1} records accepted, {2} rejected. Nothing written yet.").format(
            len(plan.plans), acc, rej)
        if dup:
            text += " " + self.tr("{0} files were imported before with the same mapping.").format(dup)
        self.status_label.setText(text)
        current = max(0, self.file_list.currentRow())
        self.file_list.blockSignals(True)
        self.file_list.clear()
        for p, m in plan.plans:
            QListWidgetItem(self.tr("{0}: {1} accepted, {2} rejected").format(
                m["file_name"], p.accepted, p.rejected), self.file_list)
        self.file_list.blockSignals(False)
        self.file_list.setCurrentRow(min(current, len(plan.plans) - 1))
        self.show_file(self.file_list.currentRow())
        self.add_previews()

    def show_file(self, row: int) -> None:
        """Show the detected settings, mapping and rejects of the plan's file ``row``."""
        if self.plan is None or row is None or not (0 <= row < len(self.plan.plans)):
            return
        plan, meta = self.plan.plans[row]
        source = self.plan.sources[row]
        over = self.overrides.get(plan.file, {})
        self._loading = True
        try:
            self.target_label.setText(", ".join(self._layer_label(n) for n in plan.target_layers) or "—")
            enc = over.get("encoding") or plan.encoding or ""
            self.encoding_combo.setCurrentText(enc)
            self.encoding_combo.setEnabled(plan.encoding is not None or bool(over.get("encoding")))
            self.crs_widget.setCrs(QgsCoordinateReferenceSystem(over.get("crs") or plan.crs_in))
            counts = self.tr("{0} records: {1} accepted (new {2}, updated {3}, unchanged {4}), {5} rejected").format(
                plan.records_in, plan.accepted, plan.count("insert"), plan.count("update"),
                plan.count("unchanged"), plan.rejected)
            if plan.notes:
                counts += "\n" + "\n".join(plan.notes)
            self.counts_label.setText(counts)
            self._fill_mapping(plan, source, over)
            self._fill_rejects(plan)
        finally:
            self._loading = False

    def _fill_mapping(self, plan, source, over) -> None:
        columns = source["columns"]
        current = dict(plan.mapping.get("columns") or {})
        current.update(over.get("columns") or {})
        choices = self.target_choices(plan.target_layers)
        self.mapping_table.setRowCount(len(columns))
        for i, col in enumerate(columns):
            item = QTableWidgetItem(str(col))
            self.mapping_table.setItem(i, 0, item)
            self.mapping_table.setItem(i, 1, QTableWidgetItem(source["samples"].get(col, "")))
            combo = QComboBox(self.mapping_table)
            combo.setObjectName(f"mappingCombo{i}")
            target = current.get(col)
            targets = [t for _, t in choices]
            for label, t in choices:
                combo.addItem(label, t)
            if target is not None and target not in targets:
                combo.addItem(str(target), target)
            combo.setCurrentIndex(max(0, combo.findData(target)) if target is not None else 0)
            if target is not None and combo.currentData() != target:
                combo.setCurrentIndex(combo.count() - 1)
            combo.currentIndexChanged.connect(lambda _i, c=col, w=combo: self.set_column_target(c, w.currentData()))
            self.mapping_table.setCellWidget(i, 2, combo)
        self.mapping_table.resizeColumnsToContents()

    def _fill_rejects(self, plan) -> None:
        self.rejects_table.setSortingEnabled(False)
        self.rejects_table.setRowCount(len(plan.rejects))
        for i, r in enumerate(plan.rejects):
            reason = r["reason_zh"] if self.lang == "zh" else r["reason_en"]
            no = QTableWidgetItem()
            no.setData(Qt.DisplayRole, int(r["record_no"]))
            no.setToolTip(r.get("raw") or "")
            cells = [no, QTableWidgetItem(self._layer_label(r["target_layer"])),
                     QTableWidgetItem(r["field"] or ""), QTableWidgetItem(r["value"] or ""),
                     QTableWidgetItem(reason)]
            cells[4].setToolTip(f"{r['reason_zh']}\n{r['reason_en']}")
            for j, cell in enumerate(cells):
                self.rejects_table.setItem(i, j, cell)
        self.rejects_table.setSortingEnabled(True)
        self.rejects_table.resizeColumnsToContents()

    def current_file(self):
        row = self.file_list.currentRow()
        if self.plan is None or not (0 <= row < len(self.plan.plans)):
            return None
        return self.plan.plans[row][0].file

    # -- edits -------------------------------------------------------------------------
    def _edited(self) -> None:
        self.dirty = True
        self.status_label.setText(self.tr("Edited: Re-plan to see the effect before importing."))
        self._update_enabled()

    def set_column_target(self, column: str, target) -> None:
        """Map ``column`` of the current file to ``target`` (None: ignore it)."""
        path = self.current_file()
        if path is None or self._loading:
            return
        self.overrides.setdefault(path, {}).setdefault("columns", {})[column] = target
        self._edited()

    def _encoding_edited(self, text: str) -> None:
        path = self.current_file()
        if path is None or self._loading:
            return
        self.overrides.setdefault(path, {})["encoding"] = text.strip() or None
        self._edited()

    def _crs_edited(self, crs) -> None:
        path = self.current_file()
        if path is None or self._loading:
            return
        self.overrides.setdefault(path, {})["crs"] = crs.authid() if crs.isValid() else None
        self._edited()

    def mapping_document(self, row: int = None) -> dict:
        """The mapping file of the plan's file ``row`` (default: the current one), edits included."""
        from ..layers.importer import mapping_document

        row = self.file_list.currentRow() if row is None else row
        plan, _ = self.plan.plans[row]
        over = self.overrides.get(plan.file, {})
        doc = mapping_document(plan, self.plan.sources[row]["columns"], crs=over.get("crs"),
                               encoding=over.get("encoding"))
        for col, target in (over.get("columns") or {}).items():
            if target is not None:  # a target is taken by one column only (as the engine does)
                for other, t in doc["columns"].items():
                    if t == target and other != col:
                        doc["columns"][other] = None
            doc["columns"][col] = target
        return doc

    def save_mapping(self, path: str = None):
        """Write the current file's mapping as YAML; returns the path (None when not saved)."""
        from ..layers.importer import save_mapping

        if self.plan is None:
            return None
        if not path:
            base = os.path.splitext(self.current_file() or "mapping")[0]
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Save mapping"), base + "_mapping.yaml",
                                                  self.tr("Mapping file (*.yaml *.yml *.json)"))
            if not path:
                return None
        try:
            save_mapping(path, self.mapping_document())
        except OSError as exc:
            self.dock.report(self.tr("Could not save the mapping: {0}").format(exc), "critical")
            return None
        self.dock.report(self.tr("Mapping saved to {0}").format(path), "success")
        return path

    # -- preview layers ------------------------------------------------------------------
    def _preview_group(self, create=True):
        root = QgsProject.instance().layerTreeRoot()
        for g in root.findGroups(True):
            if g.customProperty(PREVIEW_GROUP_PROP):
                return g
        if not create:
            return None
        group = root.insertGroup(0, self.tr("Import preview"))
        group.setCustomProperty(PREVIEW_GROUP_PROP, True)
        return group

    def add_previews(self) -> list:
        """Memory layers of the accepted records of the plan (per file and layer); returns them."""
        import shapely

        if self.plan is None:
            return []
        crs = QgsCoordinateReferenceSystem(self.project_crs())
        qproject = QgsProject.instance()
        added = []
        for plan, meta in self.plan.plans:
            for name in TARGET_LAYERS:
                rows = [r for r in plan.rows if r.layer == name and r.geometry is not None]
                if not rows:
                    continue
                kind = "Point" if name == "pipe_point" else "LineString"
                layer = QgsVectorLayer(f"{kind}?crs={crs.authid()}", self.tr("Preview {0}: {1} ({2})").format(
                    meta["file_name"], self._layer_label(name), len(rows)), "memory")
                provider = layer.dataProvider()
                provider.addAttributes([QgsField("uid", QVariant.String), QgsField("action", QVariant.String),
                                        QgsField("record_no", QVariant.Int), QgsField("utility", QVariant.String)])
                layer.updateFields()
                wkbs = shapely.to_wkb(shapely.force_2d([r.geometry for r in rows]))
                feats = []
                for r, wkb in zip(rows, wkbs):
                    f = QgsFeature(layer.fields())
                    g = QgsGeometry()
                    g.fromWkb(bytes(wkb))
                    f.setGeometry(g)
                    f.setAttributes([str(r.values.get("uid")), r.action, int(r.record_no),
                                     r.values.get("utility")])
                    feats.append(f)
                provider.addFeatures(feats)
                layer.updateExtents()
                self._style_preview(layer, name)
                layer.setCustomProperty(PREVIEW_LAYER_PROP, name)
                qproject.addMapLayer(layer, False)
                self._preview_group().addLayer(layer)
                self.preview_layers.append(layer.id())
                added.append(layer)
        if added:
            self.dock.zoom_to(added)
        return added

    @staticmethod
    def _style_preview(layer, name) -> None:
        from qgis.PyQt.QtGui import QColor

        try:
            symbol = layer.renderer().symbol()
            symbol.setColor(QColor(PREVIEW_COLOURS[name]))
            if name == "pipe_segment":
                symbol.setWidth(0.8)
            else:
                symbol.setSize(2.6)
        except AttributeError:  # pragma: no cover - another renderer
            pass

    def previews(self) -> list:
        qproject = QgsProject.instance()
        return [lyr for lyr in (qproject.mapLayer(i) for i in self.preview_layers) if lyr is not None]

    def remove_previews(self) -> None:
        qproject = QgsProject.instance()
        ids = [i for i in self.preview_layers if qproject.mapLayer(i) is not None]
        if ids:
            qproject.removeMapLayers(ids)
        self.preview_layers = []
        group = self._preview_group(create=False)
        if group is not None and not group.children():
            group.parent().removeChildNode(group)

    # -- commit ----------------------------------------------------------------------------
    def start_commit(self):
        """Write the plan in a QgsTask; returns the task (None when refused)."""
        if self.plan is None:
            self.dock.report(self.tr("Plan the import first"), "warning")
            return None
        if self.dirty:
            self.dock.report(self.tr("Edited: Re-plan to see the effect before importing."), "warning")
            return None
        if self.task is not None:
            self.dock.report(self.tr("An import task is still running"), "warning")
            return None
        plan = self.plan
        return self._start(self.tr("Importing"), "commit", lambda fb: self.commit_work(plan, fb),
                           self._committed, self.tr("Writing…"))

    @staticmethod
    def commit_work(plan, feedback):
        """What the import task runs (worker thread: no widgets here)."""
        from ..layers.importer import Cancelled, commit_plan

        try:
            summaries = commit_plan(plan, progress=lambda f, m="": feedback.set_progress(99.0 * float(f)),
                                    is_cancelled=feedback.is_canceled)
        except Cancelled:
            raise Canceled() from None
        return plan, summaries

    def _committed(self, result) -> None:
        from ..layers.importer import summary_lines

        plan, summaries = result
        self.committed = (plan, summaries)
        self.plan = None
        self.overrides = {}
        self.remove_previews()
        layers = self.refresh_project_layers()
        lines = [line for s in summaries for line in summary_lines(s)]
        written = [s["batch_id"] for s in summaries if s["written"]]
        text = self.tr("Imported {0} batches: {1}").format(len(written), ", ".join(written) or "—")
        self.status_label.setText(text)
        self.summary_text.setPlainText("\n".join(lines))
        self.summary_text.show()
        self.dock.report(text, "success")
        self.dock.zoom_to(layers)

    def refresh_project_layers(self) -> list:
        """Reload the map layers of the project (GeoPackage or PostGIS); returns the pipe layers."""
        from ..layers.project import is_pg

        out = []
        if is_pg(self.project_path):
            from . import pgconn
            from ..layers import styles

            for layer in pgconn.project_layers(self.project_path):
                if layer.dataProvider() is not None:
                    layer.dataProvider().reloadData()
                layer.updateExtents()
                layer.triggerRepaint()
                if layer.customProperty(styles.PROP_LAYER) in ("pipe_point", "pipe_segment"):
                    out.append(layer)
            return out
        for layer in QgsProject.instance().mapLayers().values():
            if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
                continue
            parts = layer.source().split("|")
            if not _same_file(parts[0], self.project_path):
                continue
            provider = layer.dataProvider()
            if provider is not None:
                provider.reloadData()
            layer.updateExtents()
            layer.triggerRepaint()
            if any(p.strip() in ("layername=pipe_point", "layername=pipe_segment") for p in parts[1:]):
                out.append(layer)
        return out

    def write_report(self, path: str = None) -> list:
        """HTML + XLSX report of the last import; returns the files written."""
        from ..layers.importer import write_reports

        if self.committed is None:
            self.dock.report(self.tr("Import something first"), "warning")
            return []
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Write report"), "import_report.html",
                                                  self.tr("Report (*.html *.xlsx)"))
            if not path:
                return []
        try:
            files = write_reports(self.committed[0], self.committed[1], path)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into QGIS
            self.dock.report(self.tr("Could not write the report: {0}").format(exc), "critical")
            return []
        self.dock.report(self.tr("Report written: {0}").format(", ".join(files)), "success")
        return files

    def discard(self) -> None:
        """Forget the plan and the edits, remove the preview layers."""
        if self.task is not None:
            self.task.cancel()
        self.remove_previews()
        self.plan = None
        self.dirty = False
        self.overrides = {}
        self.file_list.clear()
        self.mapping_table.setRowCount(0)
        self.rejects_table.setRowCount(0)
        self.target_label.clear()
        self.counts_label.clear()
        self.status_label.clear()
        self._update_enabled()

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.remove_previews()

    # -- tasks ------------------------------------------------------------------------------
    def _start(self, description, kind, fn, on_success, status):
        task = FunctionTask(description, fn, on_success=lambda r: self._done(on_success, r),
                            on_error=lambda exc: self._failed(description, exc),
                            on_canceled=self._canceled)
        task.progressChanged.connect(self._progress_changed)
        self.task, self.task_kind = task, kind
        ImportTab._stage_text = ""
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.show()
        self.cancel_button.show()
        self.status_label.setText(status)
        self._update_enabled()
        self.dock.runner.start(task)
        return task

    _stage_text = ""

    def _progress_changed(self, value) -> None:
        self.progress.setValue(int(value))
        if ImportTab._stage_text:
            self.progress.setFormat(f"%p%  {ImportTab._stage_text}")

    def cancel_task(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _finish(self) -> None:
        self.task = None
        self.task_kind = None
        self.progress.hide()
        self.cancel_button.hide()
        self._update_enabled()

    def _done(self, on_success, result) -> None:
        self._finish()
        on_success(result)
        self._update_enabled()

    def _failed(self, description, exc) -> None:
        self._finish()
        text = self.tr("{0} failed: {1}").format(description, exc)
        self.status_label.setText(text)
        self.dock.report(text, "critical")

    def _canceled(self) -> None:
        self._finish()
        text = self.tr("Canceled: nothing was written")
        self.status_label.setText(text)
        self.dock.report(text, "info")
