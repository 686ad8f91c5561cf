"""The data model as Python objects, read from ``model.yaml``.

This module is the single door to the declaration: it has no QGIS, GDAL or
pandas imports, so unit tests and the command line can use it anywhere.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.yaml")

FIELD_TYPES = ("text", "integer", "real", "datetime", "date", "boolean")
GEOMETRY_TYPES = ("Point", "LineString", "Polygon", "Geometry", None)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    zh: str
    en: str
    domain: Optional[str] = None
    multi: bool = False
    required: bool = False
    unique: bool = False
    min: Optional[float] = None
    max: Optional[float] = None
    default: Any = None

    def alias(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Layer:
    name: str
    geometry: Optional[str]
    theme: str
    zh: str
    en: str
    fields: Tuple[Field, ...]
    thematic: bool = True

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> List[str]:
        return [f.name for f in self.fields]

    def alias(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Domain:
    name: str
    codes: Tuple[Tuple[str, str, str], ...]  # (code, zh, en)

    @property
    def values(self) -> List[str]:
        return [c for c, _, _ in self.codes]

    def label(self, code: str, lang: str = "zh") -> str:
        for c, zh, en in self.codes:
            if c == code:
                return zh if lang.startswith("zh") else en
        raise KeyError(f"{code!r} is not in code list {self.name}")


@dataclass(frozen=True)
class Model:
    version: int
    default_crs: str
    layers: Dict[str, Layer]  # thematic layers and tables, in declaration order
    domains: Dict[str, Domain]
    subclass_parent: Dict[str, str]
    colours: Dict[str, Tuple[int, int, int]] = field(default_factory=dict)

    @property
    def thematic(self) -> List[Layer]:
        return [lyr for lyr in self.layers.values() if lyr.thematic]

    @property
    def tables(self) -> List[Layer]:
        return [lyr for lyr in self.layers.values() if not lyr.thematic]

    def layer(self, name: str) -> Layer:
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(f"no layer {name!r} in the data model") from None

    def domain(self, name: str) -> Domain:
        return self.domains[name]


class ModelError(ValueError):
    """The declaration itself is inconsistent."""


def _parse_field(raw: dict, where: str) -> Field:
    known = set(Field.__dataclass_fields__)
    extra = set(raw) - known
    if extra:
        raise ModelError(f"{where}: unknown keys {sorted(extra)}")
    if raw.get("type") not in FIELD_TYPES:
        raise ModelError(f"{where}: type {raw.get('type')!r} is not one of {FIELD_TYPES}")
    return Field(**raw)


def parse(doc: dict) -> Model:
    domains: Dict[str, Domain] = {}
    for name, codes in doc["domains"].items():
        if name == "subclass_parent":
            continue
        domains[name] = Domain(name, tuple((str(c), v[0], v[1]) for c, v in codes.items()))
    parent = {str(k): str(v) for k, v in doc["domains"].get("subclass_parent", {}).items()}

    common = [_parse_field(f, f"common_fields[{i}]") for i, f in enumerate(doc["common_fields"])]
    layers: Dict[str, Layer] = {}
    for section, thematic in (("layers", True), ("tables", False)):
        for name, spec in doc[section].items():
            own = [_parse_field(f, f"{name}.fields[{i}]") for i, f in enumerate(spec["fields"])]
            fields = tuple((common if thematic else []) + own)
            names = [f.name for f in fields]
            if len(set(names)) != len(names):
                raise ModelError(f"{name}: duplicate field names")
            if spec.get("geometry") not in GEOMETRY_TYPES:
                raise ModelError(f"{name}: geometry {spec.get('geometry')!r}")
            for f in fields:
                if f.domain and f.domain not in domains:
                    raise ModelError(f"{name}.{f.name}: unknown domain {f.domain!r}")
                if f.domain and f.default is not None and not f.multi \
                        and str(f.default) not in domains[f.domain].values:
                    raise ModelError(f"{name}.{f.name}: default not in {f.domain}")
            layers[name] = Layer(name, spec.get("geometry"), spec["theme"], spec["zh"],
                                 spec["en"], fields, thematic)
    for sub, util in parent.items():
        if sub not in domains["subclass"].values or util not in domains["utility"].values:
            raise ModelError(f"subclass_parent: {sub} -> {util}")
    colours = {k: tuple(v) for k, v in doc.get("colours", {}).items()}
    return Model(int(doc["version"]), doc["default_crs"], layers, domains, parent, colours)


@functools.lru_cache(maxsize=None)
def load(path: str = MODEL_PATH) -> Model:
    import yaml  # PyYAML: in every QGIS install and in .venv

    with open(path, encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh))


def model() -> Model:
    return load()

