"""The drawing tools' toolbar: 'Stall row / 车位排布' and 'Tree row / 行道树排布'.

``RowTools(iface, project_path).init_gui()`` adds a toolbar of its own (its
actions are children of the toolbar, so the plugin's single dock toggle
stays the only action on the main window); ``unload()`` removes everything.
"""
from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

from .toolbar import ToolBar

TOOLBAR_OBJECT_NAME = "RenewalPlannerDrawingTools"


class RowTools(ToolBar):
    OBJECT_NAME = TOOLBAR_OBJECT_NAME

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RowTools", text)

    def title(self) -> str:
        return self.tr("Renewal Planner drawing tools")

    def specs(self):
        from .stall_row_tool import StallRowTool
        from .tree_row_tool import TreeRowTool

        specs = [("stall_row", StallRowTool, self.tr("Stall row / 车位排布"), "/mActionAddPolygon.svg",
                  self.tr("Draw a row of parking stalls; positions on fire lanes, covers, hydrants, trees or "
                          "buildings are skipped")),
                 ("tree_row", TreeRowTool, self.tr("Tree row / 行道树排布"), "/mActionCapturePoint.svg",
                  self.tr("Draw a row of trees at a spacing; positions too close to a pipe or in a fire lane "
                          "are skipped"))]
        return specs
