"""The plugin's icon, loaded from the file (no compiled Qt resources needed)."""
from __future__ import annotations

import os

from qgis.PyQt.QtGui import QIcon

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ICON_PATH = os.path.join(ROOT, "icons", "renewal_planner.svg")


def plugin_icon() -> QIcon:
    return QIcon(ICON_PATH)
