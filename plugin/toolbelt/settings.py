"""Typed access to the plugin's QgsSettings (all keys under ``renewal_planner/``).

Each setting is declared once with its type and default; reading converts the
stored value to that type, so a hand-edited QGIS3.ini never gives a widget a
string where it expects a bool.
"""
from __future__ import annotations

from dataclasses import dataclass

from qgis.core import QgsSettings

PREFIX = "renewal_planner"


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: object

    def _full(self) -> str:
        return f"{PREFIX}/{self.key}"

    def value(self):
        raw = QgsSettings().value(self._full(), self.default)
        return _convert(raw, self.type, self.default)

    def set(self, value) -> None:
        QgsSettings().setValue(self._full(), _convert(value, self.type, self.default))

    def remove(self) -> None:
        QgsSettings().remove(self._full())


def _convert(raw, typ, default):
    if raw is None:
        return default
    try:
        if typ is bool:
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        return typ(raw)
    except (TypeError, ValueError):
        return default


LAST_PROJECT = Setting("last_project", str, "")
LAST_DIRECTORY = Setting("last_directory", str, "")
DEMO_SEED = Setting("demo_seed", int, 20261129)
SHOW_DEPENDENCY_WARNING = Setting("show_dependency_warning", bool, True)
