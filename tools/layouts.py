"""Presets of the drawing tools (tools/layouts.yaml): stall sizes, shares, tree spacing.

Every value carries its source and confidence, like the rules file. The
tools take these as defaults; the user may change each one.
"""
from __future__ import annotations

import os
from functools import lru_cache

from ..layers.errors import InputError
from .ruleset import Value

LAYOUTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layouts.yaml")
STALL_LAYOUTS = ("perpendicular", "parallel", "angled")


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError:
        raise InputError("layouts file not found", file=path) from None
    if not isinstance(doc, dict) or "stalls" not in doc or "trees" not in doc:
        raise InputError("a layouts file has the sections stalls and trees", file=path)
    for name in STALL_LAYOUTS:
        if name not in doc["stalls"]:
            raise InputError(f"stalls.{name} is missing", file=path)
    return doc


def preset(section: str, key: str, sub: str = None, path: str = None) -> Value:
    """One preset with its source, e.g. ``preset('stalls', 'angled', 'width_m')``."""
    doc = _load(path or LAYOUTS_FILE)
    node = doc[section][key]
    if sub is not None:
        node = node[sub]
    return Value(node["value"], node.get("source", "local"), node.get("confidence", "local"))


def stall_size(layout: str, path: str = None):
    """(width_m, length_m, angle_deg) preset of a stall layout."""
    if layout not in STALL_LAYOUTS:
        raise InputError(f"unknown stall layout {layout!r} (one of {', '.join(STALL_LAYOUTS)})")
    return tuple(float(preset("stalls", layout, k, path).value) for k in ("width_m", "length_m", "angle_deg"))
