"""A toolbar of map tools that the plugin adds and removes as one piece.

Its actions are children of the toolbar, so the plugin's dock toggle stays the
only action on the main window; ``unload()`` removes the tools, their panels,
the actions and the toolbar. Subclasses name the toolbar and list their tools
(``specs``), with their own ``tr`` context so each keeps its translations.
"""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QAction


class ToolBar:
    OBJECT_NAME = ""

    def __init__(self, iface, project_path=None):
        self.iface = iface
        self.project_path = project_path or (lambda: None)
        self.toolbar = None
        self.actions = {}
        self.tools = {}

    def title(self) -> str:
        raise NotImplementedError

    def specs(self):
        """[(key, map tool class, text, theme icon, tooltip)]"""
        raise NotImplementedError

    def init_gui(self):
        canvas = self.iface.mapCanvas()
        self.toolbar = self.iface.addToolBar(self.title())
        self.toolbar.setObjectName(self.OBJECT_NAME)
        for key, cls, text, icon, tip in self.specs():
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
