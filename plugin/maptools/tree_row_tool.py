"""Map tool: a row of trees (issue 5, item 2). Geometry: tools/tree_row.py."""
from __future__ import annotations

from qgis.core import QgsWkbTypes
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QWidget

from .base import RowMapTool


class TreeRowPanel(QWidget):
    """Options of the tree-row tool: spacing, species, kind."""

    def __init__(self, tool, parent=None):
        super().__init__(parent, Qt.Tool)
        from ...tools import layouts

        self.tool = tool
        self.setObjectName("RenewalPlannerTreeRowPanel")
        self.setWindowTitle(self.tr("Tree row / 行道树排布"))
        form = QFormLayout(self)
        self.spacing_spin = QDoubleSpinBox()
        self.spacing_spin.setRange(0.5, 100.0)
        self.spacing_spin.setDecimals(2)
        spacing = layouts.preset("trees", "spacing_m")
        self.spacing_spin.setValue(float(spacing.value))
        self.species_edit = QLineEdit()
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(self.tr("Tree (乔木)"), "tree")
        self.kind_combo.addItem(self.tr("Shrub (灌木)"), "shrub")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        form.addRow(self.tr("Spacing (m)"), self.spacing_spin)
        form.addRow(self.tr("Species"), self.species_edit)
        form.addRow(self.tr("Kind"), self.kind_combo)
        src = QLabel(self.tr("Preset: {0}").format(spacing.cite))
        src.setWordWrap(True)
        form.addRow(src)
        form.addRow(self.summary)
        help_ = QLabel(self.tr("Click the start and the end of the row (Ctrl+click: follow the edge under "
                               "the cursor, then click to place). Right click or Esc cancels."))
        help_.setWordWrap(True)
        form.addRow(help_)

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("TreeRowPanel", text)

    def options(self) -> dict:
        return dict(spacing_m=self.spacing_spin.value(), species=self.species_edit.text().strip() or None,
                    kind=self.kind_combo.currentData())

    def show_summary(self, text):
        self.summary.setText(text)


class TreeRowTool(RowMapTool):
    """Click a start and an end: trees at a spacing, those too close to a pipe or in a fire lane skipped."""

    TABLE = "tree"
    OBSTACLES = ("pipe_segment", "fire_lane", "renovation_area")
    GEOMETRY = QgsWkbTypes.PointGeometry

    def make_panel(self):
        parent = self.iface.mainWindow() if self.iface is not None else None
        return TreeRowPanel(self, parent)

    def compute(self, points, layer, side_point=None):
        import numpy as np

        from ...tools.tree_row import tree_row

        opts = self.options()
        xy = np.asarray(points, float)
        bounds = (*xy.min(axis=0), *xy.max(axis=0))
        return tree_row(points, obstacles=self.obstacles(layer, bounds), **opts)

    def attributes(self, row) -> dict:
        from ...tools.tree_row import layer_attributes

        return layer_attributes(row)

    def command_text(self) -> str:
        return QCoreApplication.translate("TreeRowTool", "Tree row")
