"""RenewalPlannerPlugin: what QGIS loads (``classFactory`` in the root __init__).

initGui adds: the translator, the Processing provider, one action (toolbar
button + Plugins menu entry) toggling the dock, the dock itself, and a single
warning when QGIS's Python lacks a package. unload removes all of it.
"""
from __future__ import annotations

import os

from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, Qt, QTranslator
from qgis.PyQt.QtWidgets import QAction

from . import deps
from .icons import ROOT, plugin_icon
from .toolbelt.log import log

MENU = "&Renewal Planner"
ACTION_OBJECT_NAME = "RenewalPlannerToggleDock"


def qgis_locale() -> str:
    """The locale QGIS uses for its UI, e.g. 'zh_CN' or 'en_US'."""
    try:
        loc = QgsApplication.locale()
        if loc:
            return loc
    except AttributeError:
        pass
    settings = QgsSettings()
    if str(settings.value("locale/overrideFlag", False)).lower() in ("true", "1"):
        return settings.value("locale/userLocale", "") or QLocale.system().name()
    return QLocale.system().name()


def translation_file(locale: str):
    """Path of the .qm for ``locale`` (only Chinese is shipped), or None."""
    if not locale or not locale.lower().startswith("zh"):
        return None
    path = os.path.join(ROOT, "i18n", "renewal_planner_zh.qm")
    return path if os.path.exists(path) else None


class RenewalPlannerPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.translator = None
        self.provider = None
        self.action = None
        self.dock = None
        self.row_tools = None
        self.analysis_tools = None
        self.live_checks = None
        self.problems = []
        self.dependency_message = ""

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RenewalPlannerPlugin", text)

    # -- translator ---------------------------------------------------------------
    def _install_translator(self) -> None:
        if self.translator is not None:
            return
        qm = translation_file(qgis_locale())
        if qm is None:
            return
        translator = QTranslator()
        if translator.load(qm):
            QCoreApplication.installTranslator(translator)
            self.translator = translator

    def _remove_translator(self) -> None:
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None

    # -- Processing (also called by qgis_process, without initGui) -----------------
    def initProcessing(self):  # noqa: N802
        if self.provider is not None:
            return
        deps.isolate_bundled_libraries()  # before anything imports shapely / pyogrio
        self._install_translator()
        from .provider import RenewalPlannerProvider

        provider = RenewalPlannerProvider()
        if QgsApplication.processingRegistry().addProvider(provider):
            self.provider = provider

    # -- GUI ----------------------------------------------------------------------
    def initGui(self):  # noqa: N802
        self._install_translator()
        self.initProcessing()
        self.problems = deps.check()
        self.dependency_message = self.describe_problems(self.problems)

        from .dock import RenewalPlannerDock

        main_window = self.iface.mainWindow()
        self.dock = RenewalPlannerDock(self.iface, self.problems, self.dependency_message, main_window)
        self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()

        self.action = QAction(plugin_icon(), self.tr("Renewal Planner"), main_window)
        self.action.setObjectName(ACTION_OBJECT_NAME)
        self.action.setCheckable(True)
        self.action.setToolTip(self.tr("Show or hide the Renewal Planner dock"))
        self.action.toggled.connect(self._set_dock_visible)
        self.dock.visibilityChanged.connect(self._dock_visibility_changed)
        self.iface.addToolBarIcon(self.action)
        self.iface.addPluginToMenu(MENU, self.action)

        from .maptools import RowTools  # drawing tools: own toolbar (issue 5)

        self.row_tools = RowTools(self.iface, lambda: self.dock.current_project() if self.dock else None)
        self.row_tools.init_gui()

        from .maptools.analysis_tools import AnalysisTools  # cross-section / profile (issue 5)

        self.analysis_tools = AnalysisTools(self.iface, lambda: self.dock.current_project() if self.dock else None)
        self.analysis_tools.init_gui()

        self._init_live_checks()

        if self.problems:
            self.warn_missing_dependencies()

    def _init_live_checks(self) -> None:
        """Checks while drawing (plugin/live_checks.py): its toggle goes on the drawing toolbar."""
        from .live_checks import LiveChecks

        try:
            self.live_checks = LiveChecks(self.iface, lambda: self.dock.current_project() if self.dock else None,
                                          lambda: self.dock.checks_tab if self.dock else None, self.dock)
        except ImportError as exc:  # a missing package: the dock already says which
            log(f"Check while drawing disabled: {exc}", "warning")
            return
        toolbar = getattr(self.row_tools, "toolbar", None)
        action = self.live_checks.make_action(toolbar if toolbar is not None else self.dock)
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(action)

    def describe_problems(self, problems) -> str:
        if not problems:
            return ""
        what = ", ".join(
            self.tr("{0} {1} (need >= {2})").format(p.requirement.dist, p.found, p.requirement.minimum)
            if p.found else self.tr("{0} (not installed)").format(p.requirement.dist)
            for p in problems)
        return self.tr("QGIS's Python lacks {0}. Install with: {1} (add --break-system-packages "
                       "on Debian 12 and later), or run `make run` from the Renewal Planner "
                       "source tree. Until then the features that need them are disabled."
                       ).format(what, deps.pip_command(problems))

    def warn_missing_dependencies(self) -> None:
        """One message bar warning and one message-log entry, never a traceback."""
        log(self.dependency_message, "warning", bar=self.iface.messageBar(),
            title=self.tr("Renewal Planner"), duration=0)

    def _set_dock_visible(self, visible: bool) -> None:
        if self.dock is None:
            return
        if visible:
            self.dock.show()
            self.dock.raise_()
        else:
            self.dock.hide()

    def _dock_visibility_changed(self, visible: bool) -> None:
        if self.action is not None and self.action.isChecked() != visible:
            self.action.blockSignals(True)
            self.action.setChecked(visible)
            self.action.blockSignals(False)

    def unload(self):
        if self.live_checks is not None:  # before the toolbar holding its action goes
            self.live_checks.unload()
            self.live_checks.deleteLater()
            self.live_checks = None
        if self.analysis_tools is not None:
            self.analysis_tools.unload()
            self.analysis_tools = None
        if self.row_tools is not None:
            self.row_tools.unload()
            self.row_tools = None
        if self.dock is not None:
            self.dock.shutdown()
            try:
                self.dock.visibilityChanged.disconnect(self._dock_visibility_changed)
            except TypeError:
                pass
            self.iface.removeDockWidget(self.dock)
            self.dock.hide()
            self.dock.setParent(None)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removePluginMenu(MENU, self.action)
            self.iface.removeToolBarIcon(self.action)
            self.action.setParent(None)
            self.action.deleteLater()
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        self._remove_translator()
