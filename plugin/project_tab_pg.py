"""The PostGIS part of the dock's Project tab: a saved QGIS connection, a
project schema on it, open it (styled layers) or create a new one.

Connections and their credentials are QGIS's own (plugin/pgconn.py): this
panel only lists them; no password is typed, stored or shown here.
"""
from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QToolButton,
                                 QWidget)


class PostgisPanel(QWidget):
    """Connection and schema combos, Open / New schema buttons."""

    def __init__(self, tab):
        super().__init__(tab)
        self.tab = tab
        self.setObjectName("postgisPanel")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)

        row = QHBoxLayout()
        self.connection_combo = QComboBox(self)
        self.connection_combo.setObjectName("pgConnectionCombo")
        self.connection_combo.setToolTip(self.tr(
            "A PostgreSQL connection saved in QGIS (Data Source Manager); its password stays in "
            "QGIS's authentication database"))
        self.refresh_button = QToolButton(self)
        self.refresh_button.setObjectName("pgRefreshButton")
        self.refresh_button.setText(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("Read the saved connections and the project schemas again"))
        row.addWidget(self.connection_combo, 1)
        row.addWidget(self.refresh_button)
        form.addRow(self.tr("Connection"), row)

        self.schema_combo = QComboBox(self)
        self.schema_combo.setObjectName("pgSchemaCombo")
        self.schema_combo.setToolTip(self.tr("Schemas of this database that are Renewal Planner projects"))
        form.addRow(self.tr("Project schema"), self.schema_combo)

        self.open_button = QPushButton(self.tr("Open PostGIS project"), self)
        self.open_button.setObjectName("pgOpenButton")
        self.open_button.setToolTip(self.tr("Add the styled layers of the project schema to the map"))
        form.addRow(self.open_button)

        row = QHBoxLayout()
        self.new_schema_edit = QLineEdit(self)
        self.new_schema_edit.setObjectName("pgNewSchemaEdit")
        self.new_schema_edit.setPlaceholderText(self.tr("new schema name, e.g. district_a"))
        self.create_button = QPushButton(self.tr("Create project schema"), self)
        self.create_button.setObjectName("pgCreateButton")
        self.create_button.setToolTip(self.tr(
            "Create a new project schema (tables, constraints, styles, history) in the background"))
        row.addWidget(self.new_schema_edit, 1)
        row.addWidget(self.create_button)
        form.addRow(row)

        self.refresh_button.clicked.connect(self.refresh)
        self.connection_combo.currentIndexChanged.connect(lambda _i: self.refresh_schemas())
        self.open_button.clicked.connect(self.open_selected)
        self.create_button.clicked.connect(lambda: self.create_schema())
        self.schema_combo.currentIndexChanged.connect(lambda _i: self.update_enabled())
        self.new_schema_edit.textChanged.connect(lambda _t: self.update_enabled())
        self._blocked = False

    def tr(self, text):  # noqa: D102 - context = class name, as pylupdate5 sees it
        return QCoreApplication.translate("PostgisPanel", text)

    # -- state ----------------------------------------------------------------------
    def connection(self):
        return self.connection_combo.currentData()

    def schema(self):
        return self.schema_combo.currentData()

    def set_blocked(self, blocked: bool, message: str = "") -> None:
        """Disable the actions (a package is missing, or a task runs)."""
        self._blocked = blocked
        if blocked and message:
            for w in (self.open_button, self.create_button):
                w.setToolTip(message)
        self.update_enabled()

    def update_enabled(self) -> None:
        busy = self._blocked or self.tab.task is not None
        has_conn = self.connection() is not None
        self.open_button.setEnabled(not busy and has_conn and self.schema() is not None)
        self.create_button.setEnabled(not busy and has_conn and bool(self.new_schema_edit.text().strip()))

    # -- filling the combos --------------------------------------------------------
    def refresh(self) -> None:
        from . import pgconn

        current = self.connection()
        self.connection_combo.blockSignals(True)
        self.connection_combo.clear()
        for name in pgconn.connection_names():
            self.connection_combo.addItem(name, name)
        if self.connection_combo.count() == 0:
            self.connection_combo.addItem(self.tr("(no saved PostgreSQL connection)"), None)
        i = self.connection_combo.findData(current) if current is not None else -1
        self.connection_combo.setCurrentIndex(max(i, 0))
        self.connection_combo.blockSignals(False)
        self.refresh_schemas()

    def refresh_schemas(self, select: str = None) -> list:
        """List the project schemas of the chosen connection; returns them."""
        from ..layers.errors import InputError, MissingDependency
        from . import pgconn

        select = select or self.schema()
        self.schema_combo.clear()
        name = self.connection()
        schemas = []
        if name is not None:
            try:
                schemas = pgconn.list_project_schemas(name)
            except (InputError, MissingDependency, pgconn.ConnectionError_) as exc:
                self.tab.dock.report(self.tr("Could not list the project schemas of {0}: {1}").format(
                    name, exc), "warning")
        for s in schemas:
            self.schema_combo.addItem(s, s)
        if not schemas and name is not None:
            self.schema_combo.addItem(self.tr("(no Renewal Planner project here)"), None)
        if select is not None and self.schema_combo.findData(select) >= 0:
            self.schema_combo.setCurrentIndex(self.schema_combo.findData(select))
        self.update_enabled()
        return schemas

    # -- actions -------------------------------------------------------------------
    def open_selected(self):
        name, schema = self.connection(), self.schema()
        if name is None or schema is None:
            self.tab.dock.report(self.tr("Choose a connection and a project schema first"), "warning")
            return []
        return self.tab.open_pg_project(name, schema)

    def create_schema(self, schema: str = None):
        """Create project schema ``schema`` (default: the name typed) in a task; returns the task."""
        name = self.connection()
        schema = (schema or self.new_schema_edit.text()).strip()
        if name is None or not schema:
            self.tab.dock.report(self.tr("Choose a connection and type a new schema name first"), "warning")
            return None
        return self.tab.create_pg_project(name, schema)
