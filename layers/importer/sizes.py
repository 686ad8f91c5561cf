"""Pipe sizes as surveyors write them.

``parse_size('DN300')`` -> {'diameter_mm': 300.0}; ``'800×600'`` -> width and
height (and diameter_mm = width: a box's horizontal size, pipes.py);
``'4孔2根'`` -> holes_total 4, cable_count 2. Empty / NULL -> {} (never 0).
An unreadable size raises SizeError (the record is rejected as bad_number).
"""
from __future__ import annotations

import re
import unicodedata

_NUM = r"(\d+(?:\.\d+)?)"
_ROUND = re.compile(r"^(?:dn|de|d|φ|ϕ|ф|Φ|Ø|ø|phi)?\s*" + _NUM + r"\s*(?:mm)?$", re.I)
_BOX = re.compile(r"^(?:b\s*[x×*]\s*h\s*[=:]?\s*)?" + _NUM + r"\s*(?:mm)?\s*[x×*]\s*" + _NUM + r"\s*(?:mm)?$",
                  re.I)
_HOLES = re.compile(r"^(?:" + r"(\d+)\s*孔" + r")?\s*(?:(\d+)\s*(?:根|条))?$")


class SizeError(ValueError):
    pass


def _clean(text) -> str:
    t = unicodedata.normalize("NFKC", str(text)).strip()
    # NFKC keeps '×' and 'Φ'; unify a few look-alikes
    return t.replace("＊", "*").replace("Х", "x").replace("х", "x").replace(" ", "")


def parse_size(text) -> dict:
    if text is None:
        return {}
    if isinstance(text, (int, float)):
        if text != text:
            return {}
        if text < 0:
            raise SizeError(f"negative size {text}")
        return {"diameter_mm": float(text)}
    t = _clean(text)
    if not t:
        return {}
    m = _ROUND.match(t)
    if m:
        return {"diameter_mm": float(m.group(1))}
    m = _BOX.match(t)
    if m:
        w, h = float(m.group(1)), float(m.group(2))
        return {"width_mm": w, "height_mm": h}
    m = _HOLES.match(t)
    if m and (m.group(1) or m.group(2)):
        out = {}
        if m.group(1):
            out["holes_total"] = int(m.group(1))
        if m.group(2):
            out["cable_count"] = int(m.group(2))
        return out
    # a duct bank size followed by its holes: '600×400/6孔'
    for sep in ("/", "(", "（"):
        if sep in t:
            head, tail = t.split(sep, 1)
            tail = tail.rstrip(")）")
            try:
                a, b = parse_size(head), parse_size(tail)
            except SizeError:
                break
            if a and b and not set(a) & set(b):
                return {**a, **b}
            break
    raise SizeError(f"cannot read size {text!r}")
