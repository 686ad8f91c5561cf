"""The rules file: load, validate, merge a local profile, look values up.

Every value carries its source and confidence (tools/rules.yaml). A profile
file (``--rules FILE``) has the same layout and holds only what it changes:
scalar values replace the default, pair-table entries are put in front of the
defaults (first match wins), and a value without ``source`` is marked local.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import numpy as np

from ..layers.errors import InputError
from ..layers import schema

DEFAULT_RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules.yaml")
META_KEYS = {"profile", "description"}
PAIR_KEYS = {"a", "b", "value", "source", "confidence", "max_diameter_mm", "max_pressure_mpa",
             "burial", "deeper_than_foundation"}
CONFIDENCES = {"high", "medium", "unconfirmed", "local"}
RULE_IDS = tuple(schema.model().domain("rule").values)


@dataclass(frozen=True)
class Value:
    value: Any
    source: str
    confidence: str

    @property
    def cite(self) -> str:
        return f"{self.source} [{self.confidence}]"


def _load_yaml(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError:
        raise InputError("rules file not found", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"not valid YAML{where}", file=path) from None
    if not isinstance(doc, dict):
        raise InputError("a rules file is a mapping of rule names", file=path)
    return doc


def _is_value(node) -> bool:
    return isinstance(node, dict) and "value" in node


def _check_number(x, where, path):
    if isinstance(x, bool):
        return
    if isinstance(x, (int, float)):
        if x < 0 or x != x:
            raise InputError(f"{where}: negative or invalid number {x}", file=path)
    elif isinstance(x, (list, tuple)):
        for i, y in enumerate(x):
            _check_number(y, f"{where}[{i}]", path)
    elif isinstance(x, dict):
        for k, y in x.items():
            _check_number(y, f"{where}.{k}", path)


def _validate_pairs(entries, where, path):
    if not isinstance(entries, list):
        raise InputError(f"{where}: a pair table is a list of entries", file=path)
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "value" not in e:
            raise InputError(f"{where}[{i}]: an entry needs a value", file=path)
        bad = set(e) - PAIR_KEYS
        if bad:
            raise InputError(f"{where}[{i}]: unknown key {sorted(bad)[0]!r}", file=path)
        _check_number(e["value"], f"{where}[{i}].value", path)
        for k in ("max_diameter_mm", "max_pressure_mpa"):
            if k in e:
                _check_number(e[k], f"{where}[{i}].{k}", path)
        utilities = set(schema.model().domain("utility").values) | {"any"}
        for k in ("a", "b"):
            if k in e and e[k] not in utilities:
                raise InputError(f"{where}[{i}].{k}: unknown utility class {e[k]!r}", file=path)


def _validate(doc: dict, reference: dict, path: str):
    """Every key of ``doc`` must exist in ``reference`` (the default file)."""
    for rule, body in doc.items():
        if rule in META_KEYS:
            continue
        if rule not in reference:
            raise InputError(f"unknown rule or section {rule!r}", file=path)
        if not isinstance(body, dict):
            raise InputError(f"{rule}: expected a mapping", file=path)
        for key, node in body.items():
            where = f"{rule}.{key}"
            if key not in reference[rule]:
                raise InputError(f"{where}: unknown key", file=path)
            ref = reference[rule][key]
            if key.startswith("severity"):
                if node not in ("error", "warning", "info"):
                    raise InputError(f"{where}: severity must be error, warning or info", file=path)
            elif isinstance(ref, list):
                _validate_pairs(node, where, path)
            elif _is_value(ref):
                if not _is_value(node):
                    node = {"value": node}
                _check_number(node["value"], where, path)
                conf = node.get("confidence", "local")
                if conf not in CONFIDENCES:
                    raise InputError(f"{where}: confidence {conf!r} is not one of {sorted(CONFIDENCES)}",
                                     file=path)
            elif isinstance(ref, dict):  # a group of values (e.g. min_cover by class)
                if not isinstance(node, dict):
                    raise InputError(f"{where}: expected a mapping", file=path)
                for sub, leaf in node.items():
                    if sub not in ref:
                        raise InputError(f"{where}.{sub}: unknown key", file=path)
                    leaf = leaf if _is_value(leaf) else {"value": leaf}
                    _check_number(leaf["value"], f"{where}.{sub}", path)


def _localise(node):
    """A profile value without a source is a local one."""
    if _is_value(node):
        out = dict(node)
    else:
        out = {"value": node}
    out.setdefault("source", "local")
    out.setdefault("confidence", "local")
    return out


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for rule, body in over.items():
        if rule in META_KEYS:
            out[rule] = body
            continue
        for key, node in body.items():
            ref = out[rule][key]
            if key.startswith("severity"):
                out[rule][key] = node
            elif isinstance(ref, list):
                out[rule][key] = [dict(e, source=e.get("source", "local"),
                                       confidence=e.get("confidence", "local")) for e in node] + ref
            elif _is_value(ref):
                out[rule][key] = _localise(node)
            else:
                for sub, leaf in node.items():
                    out[rule][key][sub] = _localise(leaf)
    return out


class RuleSet:
    """The merged rules in force for one check run."""

    def __init__(self, doc: dict, profile: str, files: Sequence[str]):
        self.doc = doc
        self.profile = profile
        self.files = list(files)

    # -- scalar values ----------------------------------------------------
    def get(self, rule: str, key: str, sub: str = None) -> Value:
        node = self.doc[rule][key]
        if sub is not None:
            node = node[sub]
        if not _is_value(node):
            raise KeyError(f"{rule}.{key} is not a value")
        return Value(node["value"], node.get("source", "local"), node.get("confidence", "local"))

    def value(self, rule: str, key: str, sub: str = None):
        return self.get(rule, key, sub).value

    def severity(self, rule: str, key: str = "severity") -> str:
        return self.doc[rule][key]

    def group(self, rule: str, key: str) -> Dict[str, Value]:
        return {k: Value(v["value"], v.get("source", "local"), v.get("confidence", "local"))
                for k, v in self.doc[rule][key].items()}

    def entries(self, rule: str, key: str = "pairs") -> List[dict]:
        return self.doc[rule][key]

    # -- pair tables, vectorised -------------------------------------------
    def lookup(self, rule: str, key: str, cls_a, cls_b, attrs_b: dict = None,
               attrs_a: dict = None, symmetric: bool = True):
        """Required value and source for each row of a pair table.

        ``cls_a`` / ``cls_b``: arrays of utility classes (``cls_a`` may be
        None for single-class tables, whose entries name only ``b``).
        ``attrs_b`` / ``attrs_a``: dict of arrays (diameter_mm, pressure_mpa,
        burial, deeper_than_foundation) of the pipe of class b / a, used by
        the entries' conditions. With ``symmetric`` an entry {a: X, b: Y} also
        matches the pair (Y, X), its conditions then applying to the a side.

        Returns (values: float array, entry index: int array, -1 where none).
        """
        entries = self.entries(rule, key)
        cls_b = np.asarray(cls_b, dtype=object)
        n = len(cls_b)
        cls_a = None if cls_a is None else np.asarray(cls_a, dtype=object)
        attrs_a, attrs_b = attrs_a or {}, attrs_b or {}
        out = np.full(n, np.nan)
        idx = np.full(n, -1, dtype=np.int64)
        todo = np.ones(n, dtype=bool)

        def cond(e, attrs, rows):
            m = rows.copy()
            if "max_diameter_mm" in e:
                d = np.asarray(attrs.get("diameter_mm", np.full(n, np.nan)), dtype=float)
                m &= np.nan_to_num(d, nan=np.inf) <= e["max_diameter_mm"]
            if "max_pressure_mpa" in e:
                p = np.asarray(attrs.get("pressure_mpa", np.full(n, np.nan)), dtype=float)
                m &= np.nan_to_num(p, nan=np.inf) <= e["max_pressure_mpa"]
            if "burial" in e:
                b = np.asarray(attrs.get("burial", np.full(n, None)), dtype=object)
                m &= np.isin(b, list(e["burial"]))
            if "deeper_than_foundation" in e:
                # 1.0 deeper, 0.0 shallower, NaN unknown (does not match)
                f = np.asarray(attrs.get("deeper_than_foundation", np.full(n, np.nan)), dtype=float)
                m &= f == float(bool(e["deeper_than_foundation"]))
            return m

        def cls_match(arr, want):
            if want is None or want == "any":
                return np.ones(n, dtype=bool)
            return arr == want

        for i, e in enumerate(entries):
            if not todo.any():
                break
            if cls_a is None:
                m = todo & cls_match(cls_b, e.get("b", "any"))
                m = cond(e, attrs_b, m)
            else:
                m = todo & cls_match(cls_a, e.get("a", "any")) & cls_match(cls_b, e.get("b", "any"))
                m = cond(e, attrs_b, m)
                if symmetric:
                    m2 = todo & cls_match(cls_b, e.get("a", "any")) & cls_match(cls_a, e.get("b", "any"))
                    m2 = cond(e, attrs_a, m2)
                    m = m | m2
            out[m] = float(e["value"])
            idx[m] = i
            todo &= ~m
        return out, idx

    def entry_source(self, rule: str, i: int, key: str = "pairs") -> str:
        if i < 0:
            return ""
        e = self.entries(rule, key)[i]
        return f"{e.get('source', 'local')} [{e.get('confidence', 'local')}]"

    def describe(self) -> str:
        return f"{self.profile} ({', '.join(os.path.basename(f) for f in self.files)})"


def load_rules(path: str = None) -> RuleSet:
    """The default rules, with the profile at ``path`` (if any) merged on top."""
    base = _load_yaml(DEFAULT_RULES)
    _validate(base, base, DEFAULT_RULES)
    if not path:
        return RuleSet(base, base.get("profile", "national-default"), [DEFAULT_RULES])
    path = os.path.abspath(path)
    over = _load_yaml(path)
    _validate(over, base, path)
    merged = _merge(base, over)
    name = over.get("profile") or os.path.splitext(os.path.basename(path))[0]
    merged["profile"] = name
    return RuleSet(merged, name, [DEFAULT_RULES, path])
