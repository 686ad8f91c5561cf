"""Log to QGIS's message log (tab "Renewal Planner") and, optionally, the message bar."""
from __future__ import annotations

from qgis.core import Qgis, QgsMessageLog

TAG = "Renewal Planner"

_LEVELS = {
    "info": Qgis.Info,
    "warning": Qgis.Warning,
    "critical": Qgis.Critical,
    "success": Qgis.Success,
}


def level(name: str):
    """Map 'info' / 'warning' / 'critical' / 'success' to a Qgis message level."""
    return _LEVELS[name]


def log(message: str, lvl: str = "info", *, bar=None, title: str = None, duration: int = None):
    """Write ``message`` to the message log; also push it to ``bar`` when given.

    ``bar`` is a QgsMessageBar (``iface.messageBar()``); ``duration`` in seconds
    (None: 5 s for info/success, sticky for warnings and errors).
    """
    qlevel = _LEVELS[lvl]
    QgsMessageLog.logMessage(str(message), TAG, qlevel)
    if bar is not None:
        if duration is None:
            duration = 5 if lvl in ("info", "success") else 0
        bar.pushMessage(title or TAG, str(message), level=qlevel, duration=duration)
