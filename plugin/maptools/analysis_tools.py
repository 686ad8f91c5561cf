"""The analysis tools' toolbar: 'Cross-section / 横断面' and 'Profile / 纵断面'.

``AnalysisTools(iface, project_path).init_gui()`` adds a toolbar of its own
(its actions are children of the toolbar, so the plugin's dock toggle stays the
only action on the main window); ``unload()`` removes the tools, their panels,
the actions and the toolbar.
"""
from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

from .toolbar import ToolBar

TOOLBAR_OBJECT_NAME = "RenewalPlannerAnalysisTools"


class AnalysisTools(ToolBar):
    OBJECT_NAME = TOOLBAR_OBJECT_NAME

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("AnalysisTools", text)

    def title(self) -> str:
        return self.tr("Renewal Planner analysis tools")

    def specs(self):
        from .profile_tool import ProfileMapTool
        from .section_tool import SectionMapTool

        specs = [("section", SectionMapTool, self.tr("Cross-section / 横断面"), "/mActionMeasure.svg",
                  self.tr("Draw a section line across a street: its pipes at their depths, with clearances")),
                 ("profile", ProfileMapTool, self.tr("Profile / 纵断面"), "/mActionIdentify.svg",
                  self.tr("Click a pipe: the longitudinal profile of its run, with slopes and crossings"))]
        return specs
