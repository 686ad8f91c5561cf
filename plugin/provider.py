"""Processing provider ``renewal_planner`` (qgis_process, toolbox, Model Designer)."""
from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication

from .algorithms import CheckAlgorithm, DemoAlgorithm, ImportAlgorithm, InitAlgorithm
from .algorithms import QuantitiesAlgorithm
from .algorithms import ReportAlgorithm
from .icons import plugin_icon

PROVIDER_ID = "renewal_planner"
ALGORITHMS = (InitAlgorithm, DemoAlgorithm, CheckAlgorithm, ImportAlgorithm)
ALGORITHMS += (QuantitiesAlgorithm,)
ALGORITHMS += (ReportAlgorithm,)


class RenewalPlannerProvider(QgsProcessingProvider):
    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RenewalPlannerProvider", text)

    def id(self):
        return PROVIDER_ID

    def name(self):
        return "Renewal Planner"

    def longName(self):  # noqa: N802
        return self.tr("Renewal Planner: urban renewal planning and conflict checks")

    def icon(self):
        return plugin_icon()

    def loadAlgorithms(self):  # noqa: N802
        for cls in ALGORITHMS:
            self.addAlgorithm(cls())
