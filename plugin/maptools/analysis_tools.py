"""The analysis tools' toolbar: 'Cross-section / 横断面' and 'Profile / 纵断面'.

``AnalysisTools(iface, project_path).init_gui()`` adds a toolbar of its own
(its actions are children of the toolbar, so the plugin's dock toggle stays the
only action on the main window); ``unload()`` removes the tools, their panels,
the actions and the toolbar.
"""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QAction

TOOLBAR_OBJECT_NAME = "RenewalPlannerAnalysisTools"


class AnalysisTools:
    def __init__(self, iface, project_path=None):
        self.iface = iface
        self.project_path = project_path or (lambda: None)
        self.toolbar = None
        self.actions = {}
        self.tools = {}

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("AnalysisTools", text)

    def init_gui(self):
        from .profile_tool import ProfileMapTool
        from .section_tool import SectionMapTool

        canvas = self.iface.mapCanvas()
        self.toolbar = self.iface.addToolBar(self.tr("Renewal Planner analysis tools"))
        self.toolbar.setObjectName(TOOLBAR_OBJECT_NAME)
        specs = [("section", SectionMapTool, self.tr("Cross-section / 横断面"), "/mActionMeasure.svg",
                  self.tr("Draw a section line across a street: its pipes at their depths, with clearances")),
                 ("profile", ProfileMapTool, self.tr("Profile / 纵断面"), "/mActionIdentify.svg",
                  self.tr("Click a pipe: the longitudinal profile of its run, with slopes and crossings"))]
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
