"""Field mapping: recognise survey table headers and coded values.

The synonyms are data (headers.yaml); the data-model names and aliases
(model.yaml) are recognised too. A mapping file overrides what is
recognised, and the mapping actually used is stored with the batch.
"""
from __future__ import annotations

import functools
import json
import os
import re
import unicodedata

from .. import schema
from ..errors import InputError

HEADERS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "headers.yaml")
TARGET_LAYERS = ("pipe_point", "pipe_segment")
ROLES = ("east", "north", "connect", "size", "top_elev", "invert_elev", "cover")

_BRACKETS = re.compile(r"[\(\[（【{].*?[\)\]）】}]")
_SEPARATORS = re.compile(r"[\s_\-\.·:：/\\]+")
_UNIT_TAIL = ("毫米", "mm", "kv", "mpa", "米")


@functools.lru_cache(maxsize=None)
def config(path: str = HEADERS_PATH) -> dict:
    import yaml

    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def normalise(header) -> str:
    """Comparable form of a header: NFKC, case-folded, no brackets, units or separators."""
    if header is None:
        return ""
    text = unicodedata.normalize("NFKC", str(header)).strip().casefold()
    stripped = _BRACKETS.sub("", text)
    text = stripped if stripped.strip() else text
    text = _SEPARATORS.sub("", text)
    for unit in _UNIT_TAIL:
        if text.endswith(unit) and len(text) > len(unit):
            text = text[: -len(unit)]
            break
    return text


@functools.lru_cache(maxsize=None)
def synonyms() -> dict:
    """normalised header -> target (importer synonyms first, then model names and aliases)."""
    out = {}
    for target, names in config()["headers"].items():
        for name in [target] + list(names):
            out.setdefault(normalise(name), target)
    m = schema.model()
    for lname in TARGET_LAYERS:
        for f in m.layer(lname).fields:
            if f.name in ("source", "updated_at"):
                continue
            for name in (f.name, f.zh, f.en):
                out.setdefault(normalise(name), f.name)
    return out


def recognise(columns) -> dict:
    """{source column: target} for the columns whose header is known (first one wins)."""
    syn = synonyms()
    out, taken = {}, set()
    for col in columns:
        target = syn.get(normalise(col))
        if target and target not in taken:
            out[col] = target
            taken.add(target)
    return out


def header_hits(cells) -> int:
    syn = synonyms()
    return sum(1 for c in cells if c is not None and str(c).strip() and normalise(c) in syn)


def load_mapping(path_or_dict) -> dict:
    """A mapping file (YAML or JSON): ``{columns: {source header: target}, utility:, depth_ref:,
    layer:, values: {domain: {text: code}}}``. A bare ``{source: target}`` dict is taken as columns."""
    if path_or_dict is None:
        return {}
    if isinstance(path_or_dict, dict):
        doc = path_or_dict
    else:
        if not os.path.isfile(path_or_dict):
            raise InputError("mapping file not found", file=path_or_dict)
        try:
            with open(path_or_dict, encoding="utf-8-sig") as fh:
                text = fh.read()
            if path_or_dict.lower().endswith(".json"):
                doc = json.loads(text)
            else:
                import yaml

                doc = yaml.safe_load(text)
        except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
            raise InputError(f"mapping file cannot be read: {exc}".splitlines()[0],
                             file=path_or_dict) from None
    if not isinstance(doc, dict):
        raise InputError("mapping file must be a mapping of source header to target",
                         file=str(path_or_dict))
    known = {"columns", "utility", "subclass", "depth_ref", "layer", "values", "crs", "encoding"}
    if not set(doc) & known:
        doc = {"columns": doc}
    valid = set(all_targets())
    for src, target in (doc.get("columns") or {}).items():
        if target is not None and target not in valid:
            raise InputError(f"unknown target {target!r} (one of: {', '.join(sorted(valid))})",
                             file=str(path_or_dict), field=str(src))
    return doc


def all_targets() -> list:
    m = schema.model()
    names = set(ROLES)
    for lname in TARGET_LAYERS:
        names |= set(m.layer(lname).field_names)
    return sorted(names)


def apply_mapping(columns, user: dict) -> dict:
    """Recognised mapping with the user's mapping file laid over it."""
    out = recognise(columns)
    over = (user or {}).get("columns") or {}
    if over:
        norm = {normalise(c): c for c in columns}
        for src, target in over.items():
            col = src if src in columns else norm.get(normalise(src))
            if col is None:
                continue
            for k in [k for k, v in out.items() if v == target and k != col]:
                del out[k]
            if target is None:
                out.pop(col, None)
            else:
                out[col] = target
    return out


# ---------------------------------------------------------------- values

@functools.lru_cache(maxsize=None)
def _value_table(domain: str) -> dict:
    m = schema.model()
    table = {}
    for code, zh, en in m.domain(domain).codes:
        for k in (code, zh, en):
            table.setdefault(unicodedata.normalize("NFKC", k).strip().casefold(), code)
    for k, v in (config().get("values", {}).get(domain) or {}).items():
        table.setdefault(unicodedata.normalize("NFKC", str(k)).strip().casefold(), v)
    return table


def code_of(domain: str, text, extra: dict = None):
    """The code of ``text`` in ``domain`` (code, Chinese or English name, synonym), or None."""
    if text is None:
        return None
    key = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    if extra:
        for k, v in extra.items():
            if unicodedata.normalize("NFKC", str(k)).strip().casefold() == key:
                return v
    return _value_table(domain).get(key)


def utility_of(text, extra: dict = None):
    """(utility, subclass) from a class written as code or name: 'JS', '给水', 'YS', '雨水'."""
    u = code_of("utility", text, (extra or {}).get("utility"))
    if u:
        return u, None
    s = code_of("subclass", text, (extra or {}).get("subclass"))
    if s:
        return schema.model().subclass_parent[s], s
    return None, None


def utility_from_name(name):
    """(utility, subclass) from a layer / sheet / file name like 'JS', 'YS_point', '给水管线'."""
    if not name:
        return None, None
    text = unicodedata.normalize("NFKC", str(name)).strip()
    m = schema.model()
    head = re.match(r"[A-Za-z]+", text)
    if head:
        letters = head.group(0).upper()
        for cand in (letters, letters[:2]):
            u, s = utility_of(cand)
            if u:
                return u, s
    for code, zh, _ in m.domain("subclass").codes:
        if zh in text:
            return m.subclass_parent[code], code
    for code, zh, _ in m.domain("utility").codes:
        if zh[:2] in text:
            return code, None
    return None, None


def is_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return str(value).strip() in _null_set()


@functools.lru_cache(maxsize=None)
def _null_set() -> frozenset:
    return frozenset(str(t) for t in config()["null_tokens"])


def check_value(name: str):
    return config()["checks"][name]
