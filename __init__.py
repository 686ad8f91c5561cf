"""Renewal Planner / 城市更新规划助手 -- a QGIS plugin and planning tool.

The repository root is the plugin folder. ``classFactory`` only imports and
returns the plugin object, so QGIS starts fast and nothing runs at import.
"""

__version__ = "0.1.0"


def classFactory(iface):  # noqa: N802 - QGIS's name
    from .plugin.main import RenewalPlannerPlugin

    return RenewalPlannerPlugin(iface)
