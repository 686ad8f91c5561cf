"""The drawing tools' toolbar: 'Stall row / 车位排布' and 'Tree row / 行道树排布'.

``RowTools(iface, project_path).init_gui()`` adds a toolbar of its own (its
actions are children of the toolbar, so the plugin's single dock toggle
stays the only action on the main window); ``unload()`` removes everything.
"""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QAction

TOOLBAR_OBJECT_NAME = "RenewalPlannerDrawingTools"


class RowTools:
    def __init__(self, iface, project_path=None):
        self.iface = iface
        self.project_path = project_path or (lambda: None)
        self.toolbar = None
        self.actions = {}
        self.tools = {}

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RowTools", text)

    def init_gui(self):
        from .stall_row_tool import StallRowTool
        from .tree_row_tool import TreeRowTool

        canvas = self.iface.mapCanvas()
        self.toolbar = self.iface.addToolBar(self.tr("Renewal Planner drawing tools"))
        self.toolbar.setObjectName(TOOLBAR_OBJECT_NAME)
        specs = [("stall_row", StallRowTool, self.tr("Stall row / 车位排布"), "/mActionAddPolygon.svg",
                  self.tr("Draw a row of parking stalls; positions on fire lanes, covers, hydrants, trees or "
                          "buildings are skipped")),
                 ("tree_row", TreeRowTool, self.tr("Tree row / 行道树排布"), "/mActionCapturePoint.svg",
                  self.tr("Draw a row of trees at a spacing; positions too close to a pipe or in a fire lane "
                          "are skipped"))]
        for key, cls, text, icon, tip in specs:
            tool = cls(canvas, self.iface, self.project_path)
            action = QAction(QgsApplication.getThemeIcon(icon), text, self.toolbar)
            action.setObjectName(f"RenewalPlanner_{key}")
            action.setCheckable(True)
            action.setToolTip(tip)
            action.triggered.connect(lambda checked, t=tool: self.activate(t))
            tool.setAction(action)
            self.toolbar.addAction(action)
            self.tools[key], self.actions[key] = tool, action

    def activate(self, tool):
        self.iface.mapCanvas().setMapTool(tool)

    def unload(self):
        canvas = self.iface.mapCanvas()
        for tool in self.tools.values():
            if canvas.mapTool() is tool:
                canvas.unsetMapTool(tool)
            tool.dispose()
            tool.setAction(None)
            tool.deleteLater()
        self.tools.clear()
        for action in self.actions.values():
            action.setParent(None)
            action.deleteLater()
        self.actions.clear()
        if self.toolbar is not None:
            try:
                self.iface.mainWindow().removeToolBar(self.toolbar)
            except AttributeError:
                pass
            self.toolbar.setParent(None)
            self.toolbar.deleteLater()
            self.toolbar = None
