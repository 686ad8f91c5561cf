"""Map tool: a row of parking stalls (issue 5, item 1). Geometry: tools/stall_row.py."""
from __future__ import annotations

from qgis.core import QgsWkbTypes
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox,
                                 QWidget)

from .base import RowMapTool

LAYOUTS = [("perpendicular", 90), ("parallel", 0), ("angled", 30), ("angled", 45), ("angled", 60)]


class StallRowPanel(QWidget):
    """Options of the stall-row tool: layout, sizes, side, numbering, shares."""

    def __init__(self, tool, parent=None):
        super().__init__(parent, Qt.Tool)
        from ...tools import layouts

        self.tool = tool
        self.setObjectName("RenewalPlannerStallRowPanel")
        self.setWindowTitle(self.tr("Stall row / 车位排布"))
        form = QFormLayout(self)
        self.layout_combo = QComboBox()
        names = {"perpendicular": self.tr("Perpendicular"), "parallel": self.tr("Parallel"),
                 "angled": self.tr("Angled {0}°")}
        for name, angle in LAYOUTS:
            self.layout_combo.addItem(names[name].format(angle) if name == "angled" else names[name], (name, angle))
        self.layout_combo.setCurrentIndex(0)
        self.width_spin = self._spin(0.5, 10.0, 2)
        self.length_spin = self._spin(0.5, 20.0, 2)
        self.side_combo = QComboBox()
        self.side_combo.addItem(self.tr("Left of the drawing direction"), "left")
        self.side_combo.addItem(self.tr("Right of the drawing direction"), "right")
        self.prefix_edit = QLineEdit(str(layouts.preset("stalls", "numbering", "prefix").value))
        self.start_spin = QSpinBox()
        self.start_spin.setRange(0, 999999)
        self.start_spin.setValue(int(layouts.preset("stalls", "numbering", "start_no").value))
        self.accessible_spin = self._spin(0.0, 100.0, 1, suffix=" %")
        self.accessible_spin.setValue(100 * float(layouts.preset("stalls", "accessible", "share").value))
        self.ev_spin = self._spin(0.0, 100.0, 1, suffix=" %")
        self.ev_spin.setValue(100 * float(layouts.preset("stalls", "ev_charging", "share").value))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.source = QLabel()
        self.source.setWordWrap(True)
        form.addRow(self.tr("Layout"), self.layout_combo)
        form.addRow(self.tr("Stall width (m)"), self.width_spin)
        form.addRow(self.tr("Stall length (m)"), self.length_spin)
        form.addRow(self.tr("Side"), self.side_combo)
        form.addRow(self.tr("Number prefix"), self.prefix_edit)
        form.addRow(self.tr("First number"), self.start_spin)
        form.addRow(self.tr("Accessible share"), self.accessible_spin)
        form.addRow(self.tr("EV charging share"), self.ev_spin)
        form.addRow(self.source)
        form.addRow(self.summary)
        help_ = QLabel(self.tr("Click the start and the end of the row (Ctrl+click: follow the kerb edge "
                               "under the cursor, then click to place). Right click or Esc cancels."))
        help_.setWordWrap(True)
        form.addRow(help_)
        self.layout_combo.currentIndexChanged.connect(self._preset)
        self._preset()

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("StallRowPanel", text)

    @staticmethod
    def _spin(lo, hi, decimals, suffix=""):
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setSingleStep(0.1)
        if suffix:
            s.setSuffix(suffix)
        return s

    def _preset(self):
        from ...tools import layouts

        name, _ = self.layout_combo.currentData()
        w = layouts.preset("stalls", name, "width_m")
        l = layouts.preset("stalls", name, "length_m")  # noqa: E741
        self.width_spin.setValue(float(w.value))
        self.length_spin.setValue(float(l.value))
        self.source.setText(self.tr("Preset: {0}").format(w.cite))

    def options(self) -> dict:
        name, angle = self.layout_combo.currentData()
        return dict(layout=name, angle_deg=float(angle), width_m=self.width_spin.value(),
                    length_m=self.length_spin.value(), side=self.side_combo.currentData(),
                    prefix=self.prefix_edit.text(), start_no=self.start_spin.value(),
                    accessible_share=self.accessible_spin.value() / 100.0, ev_share=self.ev_spin.value() / 100.0)

    def show_summary(self, text):
        self.summary.setText(text)


class StallRowTool(RowMapTool):
    """Click a start and an end (or Ctrl+click a kerb edge): a previewed row of stalls."""

    TABLE = "parking_stall"
    OBSTACLES = ("fire_lane", "pipe_point", "tree", "building", "parking_stall", "renovation_area")
    GEOMETRY = QgsWkbTypes.PolygonGeometry

    def make_panel(self):
        parent = self.iface.mainWindow() if self.iface is not None else None
        return StallRowPanel(self, parent)

    def compute(self, points, layer, side_point=None):
        import numpy as np

        from ...tools.stall_row import stall_row

        opts = self.options()
        if side_point is not None:  # the click's side of the picked edge
            (ax, ay), (bx, by) = points[0], points[-1]
            cross = (bx - ax) * (side_point[1] - ay) - (by - ay) * (side_point[0] - ax)
            opts["side"] = "left" if cross >= 0 else "right"
        xy = np.asarray(points, float)
        bounds = (*xy.min(axis=0), *xy.max(axis=0))
        return stall_row(points, obstacles=self.obstacles(layer, bounds), **opts)

    def attributes(self, row) -> dict:
        from ...tools.stall_row import layer_attributes

        return layer_attributes(row)

    def command_text(self) -> str:
        return QCoreApplication.translate("StallRowTool", "Stall row")
