"""The Renewal Planner dock: one tab per job ("Project", "Checks").

Later issues add tabs for checks, imports and quantities; each tab is a
QWidget built by its own method and added in ``_build``.
"""
from __future__ import annotations

import importlib
import inspect
import os
import tempfile

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsProject,
                       QgsRectangle, QgsVectorLayer)
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QCoreApplication, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QProgressBar,
                                 QPushButton, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from . import deps
from .tasks import FunctionTask, TaskRunner
from .toolbelt import settings
from .toolbelt.log import log

DOCK_OBJECT_NAME = "RenewalPlannerDock"


def add_project_layers(gpkg_path: str, project: QgsProject):
    """Add the project's layers styled, grouped by theme (layers/styles.py).

    Falls back to adding the plain layers when the styling module is not
    there (yet); returns the list of layers added.
    """
    try:
        from ..layers import styles
        adder = getattr(styles, "add_project_layers")
    except (ImportError, AttributeError):
        adder = None
    if adder is not None:
        kwargs = {}
        try:
            if "lang" in inspect.signature(adder).parameters:
                kwargs["lang"] = ui_language()
        except (TypeError, ValueError):
            pass
        result = adder(gpkg_path, project, **kwargs)
        if isinstance(result, dict):
            return list(result.values())
        if isinstance(result, (list, tuple)):
            return list(result)
        return [lyr for lyr in project.mapLayers().values()
                if lyr.source().split("|")[0] == gpkg_path]
    return _add_plain_layers(gpkg_path, project)


def ui_language() -> str:
    """'zh' when QGIS runs in Chinese, else 'en' (layer names, code-list labels)."""
    from .main import qgis_locale

    return "zh" if qgis_locale().lower().startswith("zh") else "en"


def _add_plain_layers(gpkg_path: str, project: QgsProject):
    from osgeo import ogr

    ds = ogr.Open(gpkg_path)
    names = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())
             if ds.GetLayer(i).GetGeomType() != ogr.wkbNone]
    ds = None
    group = project.layerTreeRoot().insertGroup(0, os.path.splitext(os.path.basename(gpkg_path))[0])
    added = []
    for name in names:
        lyr = QgsVectorLayer(f"{gpkg_path}|layername={name}", name, "ogr")
        if lyr.isValid():
            project.addMapLayer(lyr, False)
            group.addLayer(lyr)
            added.append(lyr)
    return added


class ProjectTab(QWidget):
    """Create, open and demo a project: a GeoPackage file or a PostGIS schema
    reached through a connection saved in QGIS (plugin/project_tab_pg.py)."""

    SOURCE_GPKG, SOURCE_PG = 0, 1

    project_opened = pyqtSignal(str)

    def __init__(self, dock: "RenewalPlannerDock"):
        super().__init__(dock)
        self.dock = dock
        self.setObjectName("RenewalPlannerProjectTab")
        layout = QVBoxLayout(self)

        box = QGroupBox(self.tr("Current project"), self)
        box_layout = QVBoxLayout(box)
        self.project_label = QLabel(self.tr("No project open"), box)
        self.project_label.setObjectName("projectLabel")
        self.project_label.setWordWrap(True)
        self.project_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        box_layout.addWidget(self.project_label)
        layout.addWidget(box)

        source_row = QHBoxLayout()
        source_row.addWidget(QLabel(self.tr("Project in"), self))
        self.source_combo = QComboBox(self)
        self.source_combo.setObjectName("projectSourceCombo")
        self.source_combo.addItem(self.tr("GeoPackage file"), "gpkg")
        self.source_combo.addItem(self.tr("PostGIS database"), "postgis")
        source_row.addWidget(self.source_combo, 1)
        layout.addLayout(source_row)
        self.source_stack = QStackedWidget(self)
        self.source_stack.setObjectName("projectSourceStack")
        gpkg_page = QWidget(self.source_stack)
        gpkg_layout = QVBoxLayout(gpkg_page)
        gpkg_layout.setContentsMargins(0, 0, 0, 0)
        self.source_stack.addWidget(gpkg_page)
        from .project_tab_pg import PostgisPanel

        self.pg_panel = PostgisPanel(self)
        self.source_stack.addWidget(self.pg_panel)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        layout.addWidget(self.source_stack)

        self.new_button = QPushButton(self.tr("New project…"), self)
        self.new_button.setObjectName("newProjectButton")
        self.new_button.setToolTip(self.tr("Create an empty project GeoPackage with every layer"))
        self.new_button.clicked.connect(self.new_project)
        self.open_button = QPushButton(self.tr("Open project…"), self)
        self.open_button.setObjectName("openProjectButton")
        self.open_button.setToolTip(self.tr("Add the styled layers of a project GeoPackage to the map"))
        self.open_button.clicked.connect(self.open_project_dialog)
        self.demo_button = QPushButton(self.tr("Open demo"), self)
        self.demo_button.setObjectName("openDemoButton")
        self.demo_button.setToolTip(self.tr("Build the demo district (with DEM) and open it"))
        self.demo_button.clicked.connect(self.open_demo)
        for button in (self.new_button, self.open_button, self.demo_button):
            gpkg_layout.addWidget(button)

        row = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setObjectName("taskProgress")
        self.progress.setRange(0, 100)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setObjectName("cancelTaskButton")
        self.cancel_button.clicked.connect(self.cancel_task)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress.hide()
        self.cancel_button.hide()

        self.deps_label = QLabel(self)
        self.deps_label.setObjectName("dependencyLabel")
        self.deps_label.setWordWrap(True)
        self.deps_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.deps_label.setStyleSheet("QLabel { color: #b35900; }")
        self.deps_label.hide()
        layout.addWidget(self.deps_label)
        layout.addStretch(1)
        self.task = None
        self.current_path = None  # the project opened last (a path or a postgresql:// string)
        self.current_connection = None  # the saved QGIS connection of a PostGIS project
        self.pg_panel.update_enabled()

    def tr(self, text):  # noqa: D102 - context = class name, as pylupdate5 sees it
        return QCoreApplication.translate("ProjectTab", text)

    # -- dependencies -------------------------------------------------------------
    def apply_dependencies(self, problems, message: str) -> None:
        """Disable the buttons whose feature lacks a package, with ``message`` as the reason."""
        blocked_project = bool(deps.missing_for("project", problems))
        blocked_demo = bool(deps.missing_for("demo", problems))
        for button, blocked in ((self.new_button, blocked_project), (self.open_button, blocked_project),
                                (self.demo_button, blocked_demo)):
            button.setEnabled(not blocked)
            if blocked:
                button.setToolTip(message)
        self.pg_panel.set_blocked(blocked_project, message)
        self.deps_label.setText(message)
        self.deps_label.setVisible(bool(problems))

    # -- source -------------------------------------------------------------------
    def _source_changed(self, index: int) -> None:
        self.source_stack.setCurrentIndex(index)
        if index == self.SOURCE_PG:
            self.pg_panel.refresh()

    def show_postgis(self) -> None:
        """Switch the tab to PostGIS (and read the saved connections)."""
        if self.source_combo.currentIndex() != self.SOURCE_PG:
            self.source_combo.setCurrentIndex(self.SOURCE_PG)
        else:
            self.pg_panel.refresh()

    # -- actions ------------------------------------------------------------------
    def _start_dir(self) -> str:
        return settings.LAST_DIRECTORY.value() or os.path.expanduser("~")

    def new_project(self, path: str = None):
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("New Renewal Planner project"),
                os.path.join(self._start_dir(), "project.gpkg"), self.tr("GeoPackage (*.gpkg)"),
                options=QFileDialog.DontConfirmOverwrite)
            if not path:
                return None
            if not path.lower().endswith(".gpkg"):
                path += ".gpkg"
        from ..layers.errors import InputError, MissingDependency
        from ..layers.project import init_project

        try:
            path = init_project(path)
        except (InputError, MissingDependency) as exc:
            self.dock.report(self.tr("Could not create the project: {0}").format(exc), "critical")
            return None
        settings.LAST_DIRECTORY.set(os.path.dirname(path))
        self.dock.report(self.tr("Created project {0}").format(path), "success")
        self.open_project(path)
        return path

    def open_project_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open Renewal Planner project"),
                                              self._start_dir(), self.tr("GeoPackage (*.gpkg)"))
        if path:
            self.open_project(path)

    def open_project(self, path: str):
        """Add the project's styled layers to the current QGIS project; returns the layers."""
        from ..layers.errors import InputError, MissingDependency
        from ..layers.project import is_pg, require_project

        if is_pg(path):
            from . import pgconn

            name = pgconn.connection_of(path)
            if name is None:
                self.dock.report(self.tr("Open a PostGIS project through a saved QGIS connection "
                                         "(Project in: PostGIS database)"), "warning")
                return []
            from ..layers import pg

            return self.open_pg_project(name, pg.PgProject(path).schema)

        try:
            require_project(path)
            project = QgsProject.instance()
            first = not project.mapLayers()
            layers = add_project_layers(path, project)
        except (InputError, MissingDependency) as exc:
            self.dock.report(self.tr("Could not open the project: {0}").format(exc), "critical")
            return []
        if first and layers:
            crs = layers[0].crs()
            if isinstance(crs, QgsCoordinateReferenceSystem) and crs.isValid():
                project.setCrs(crs)
        self.dock.zoom_to(layers)
        settings.LAST_PROJECT.set(path)
        settings.LAST_DIRECTORY.set(os.path.dirname(path))
        self.current_path = path
        self.project_label.setText(path)
        self.project_opened.emit(path)
        return layers

    def open_pg_project(self, connection: str, schema: str):
        """Add the styled layers of PostGIS project ``schema`` on the saved QGIS
        connection ``connection``; the tabs get its project string (no password)."""
        from ..layers.errors import InputError, MissingDependency
        from ..layers.project import require_project
        from . import pgconn

        project = QgsProject.instance()
        first = not project.mapLayers()
        try:
            pstring = pgconn.project_string(connection, schema)
            require_project(pstring)
            layers = list(pgconn.add_project_layers(connection, schema, project, lang=ui_language()).values())
        except (InputError, MissingDependency, pgconn.ConnectionError_) as exc:
            self.dock.report(self.tr("Could not open the project: {0}").format(exc), "critical")
            return []
        if first and layers:
            crs = layers[0].crs()
            if isinstance(crs, QgsCoordinateReferenceSystem) and crs.isValid():
                project.setCrs(crs)
        self.dock.zoom_to(layers)
        settings.LAST_PROJECT.set(pstring)
        self.current_path = pstring
        self.current_connection = connection
        self.project_label.setText(self.tr("{0} (connection {1})").format(pstring, connection))
        self.project_opened.emit(pstring)
        return layers

    def create_pg_project(self, connection: str, schema: str):
        """Create project schema ``schema`` on saved connection ``connection`` in a
        background task, then open it; returns the task (None when refused)."""
        from ..layers.errors import InputError, MissingDependency
        from . import pgconn

        try:
            pstring = pgconn.project_string(connection, schema)
        except (InputError, MissingDependency, pgconn.ConnectionError_) as exc:
            self.dock.report(self.tr("Could not create the project: {0}").format(exc), "critical")
            return None

        def work(feedback):
            from ..layers.project import init_project

            feedback.set_progress(5)
            init_project(pstring)
            feedback.set_progress(100)
            return {"connection": connection, "schema": schema}

        def created(result):
            self.dock.report(self.tr("Created project schema {0} (connection {1})").format(schema, connection),
                             "success")
            self.pg_panel.new_schema_edit.clear()
            self.pg_panel.refresh_schemas(select=schema)
            self.open_pg_project(connection, schema)

        return self.run_task(self.tr("Creating the PostGIS project {0}").format(schema), work, created)

    def open_demo(self):
        base = os.path.join(QgsApplication.qgisSettingsDirPath(), "renewal_planner")
        os.makedirs(base, exist_ok=True)
        out_dir = os.path.join(tempfile.mkdtemp(prefix="demo-", dir=base), "demo")
        seed = settings.DEMO_SEED.value()
        return self.run_task(self.tr("Building the Renewal Planner demo district"),
                             lambda feedback: build_demo_with_feedback(out_dir, seed, feedback),
                             self._demo_built)

    def _demo_built(self, result):
        path = result.get("project") if isinstance(result, dict) else None
        if not path:
            self.dock.report(self.tr("The demo did not return a project"), "critical")
            return
        self.dock.report(self.tr("Demo district built in {0}").format(os.path.dirname(path)), "success")
        self.open_project(path)

    # -- background tasks ---------------------------------------------------------
    def run_task(self, description: str, fn, on_success):
        if self.task is not None:
            self.dock.report(self.tr("Another task is still running"), "warning")
            return None
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.demo_button.setEnabled(False)

        def done():
            self.task = None
            self.progress.hide()
            self.cancel_button.hide()
            self.demo_button.setEnabled(not deps.missing_for("demo", self.dock.problems))
            self.pg_panel.update_enabled()

        def success(result):
            done()
            on_success(result)

        def error(exc):
            done()
            self.dock.report(self.tr("{0} failed: {1}").format(description, exc), "critical")

        def canceled():
            done()
            self.dock.report(self.tr("{0}: canceled").format(description), "info")

        task = FunctionTask(description, fn, on_success=success, on_error=error, on_canceled=canceled)
        task.progressChanged.connect(lambda p: self.progress.setValue(int(p)))
        self.task = task
        self.pg_panel.update_enabled()
        self.dock.runner.start(task)
        return task

    def cancel_task(self):
        if self.task is not None:
            self.task.cancel()


def build_demo_with_feedback(out_dir: str, seed: int, feedback):
    """Call tools.demo.build_demo, passing progress/cancel when it accepts them."""
    from ..tools import demo
    from .tasks import Canceled

    kwargs = {}
    try:
        params = inspect.signature(demo.build_demo).parameters
    except (TypeError, ValueError):
        params = {}
    if "seed" in params:
        kwargs["seed"] = seed
    if "progress" in params:
        kwargs["progress"] = feedback.set_progress
    if "feedback" in params:
        kwargs["feedback"] = feedback
    if "is_canceled" in params:
        kwargs["is_canceled"] = feedback.is_canceled
    feedback.set_progress(1)
    result = demo.build_demo(out_dir, **kwargs)
    if feedback.is_canceled():
        raise Canceled()
    feedback.set_progress(100)
    return result


class RenewalPlannerDock(QgsDockWidget):
    """Dock "Renewal Planner / 城市更新规划助手" with a tab per job."""

    def __init__(self, iface, problems=(), dependency_message: str = "", parent=None):
        super().__init__(parent)
        self.iface = iface
        self.problems = list(problems)
        self.runner = TaskRunner()
        self.setObjectName(DOCK_OBJECT_NAME)
        self.setWindowTitle(self.tr("Renewal Planner / 城市更新规划助手"))
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("RenewalPlannerTabs")
        self.project_tab = ProjectTab(self)
        self.tabs.addTab(self.project_tab, self.tr("Project"))
        self.checks_tab = None
        try:
            from .checks_tab import ChecksTab

            self.checks_tab = ChecksTab(self)
        except ImportError as exc:  # a missing package: the Project tab says which
            log(f"Checks tab disabled: {exc}", "warning")
        if self.checks_tab is not None:
            self.tabs.addTab(self.checks_tab, self.tr("Checks"))
            self.project_tab.project_opened.connect(self.checks_tab.set_project)
        self.import_tab = self._optional_tab("import_tab", "ImportTab", self.tr("Import"), "Import",
                                             dependency_message)
        self.quantities_tab = self._optional_tab("quantities_tab", "QuantitiesTab", self.tr("Quantities"),
                                                 "Quantities", dependency_message)
        self.setWidget(self.tabs)
        self.project_tab.apply_dependencies(self.problems, dependency_message)
        if self.checks_tab is not None:
            self.checks_tab.apply_dependencies(self.problems, dependency_message)

    def _optional_tab(self, module: str, class_name: str, title: str, log_name: str, dependency_message: str):
        """The tab ``class_name`` of plugin/<module>.py, added as ``title`` and
        tied to the opened project; None when its module cannot be imported (a
        missing package: logged, the Project tab says which)."""
        tab = None
        try:
            tab = getattr(importlib.import_module(f".{module}", __package__), class_name)(self)
            self.tabs.addTab(tab, title)
            self.project_tab.project_opened.connect(tab.set_project)
            tab.apply_dependencies(self.problems, dependency_message)
        except ImportError as exc:
            log(f"{log_name} tab disabled: {exc}", "warning")
        return tab

    def current_project(self):
        """The project opened in the Project tab, or None: a GeoPackage path or a
        PostGIS project string (postgresql://user@host:port/db?schema=NAME, no
        password; plugin/pgconn.py hands the credentials to the engine)."""
        return self.project_tab.current_path

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RenewalPlannerDock", text)

    def report(self, message: str, lvl: str = "info") -> None:
        bar = self.iface.messageBar() if self.iface is not None else None
        log(message, lvl, bar=bar)

    def zoom_to(self, layers) -> None:
        if self.iface is None or not layers:
            return
        canvas = self.iface.mapCanvas()
        extent = QgsRectangle()
        extent.setMinimal()
        for lyr in layers:
            try:
                lyr.updateExtents()
                ext = canvas.mapSettings().layerExtentToOutputExtent(lyr, lyr.extent())
            except Exception:
                continue
            if not ext.isEmpty():
                extent.combineExtentWith(ext)
        if not extent.isEmpty() and extent.isFinite():
            extent.scale(1.05)
            canvas.setExtent(extent)
            canvas.refresh()

    def shutdown(self) -> None:
        if getattr(self, "import_tab", None) is not None:
            self.import_tab.shutdown()
        if getattr(self, "quantities_tab", None) is not None:
            self.quantities_tab.shutdown()
        self.runner.cancel_all()
        try:
            from . import pgconn

            pgconn.uninstall()
        except ImportError:  # pragma: no cover
            pass
