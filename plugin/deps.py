"""Check the Python packages the plugin needs inside QGIS's own Python.

QGIS runs the system Python: Debian 12 ships shapely 1.8 and no geopandas,
pyogrio or rasterio. The check is quick (no heavy imports: package metadata
first, an import only when there is no metadata) and returns what is missing,
so the plugin can show one clear message instead of a traceback.
No qgis import here: this module is plain Python.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass

from ..layers.errors import MissingDependency, _vtuple


@dataclass(frozen=True)
class Requirement:
    module: str          # import name
    dist: str            # distribution name (pip)
    minimum: str = None  # lowest version that works

    @property
    def pip_spec(self) -> str:
        return f"{self.dist}>={self.minimum}" if self.minimum else self.dist


REQUIREMENTS = (
    Requirement("shapely", "shapely", "2.0"),
    Requirement("geopandas", "geopandas", "0.14"),
    Requirement("pyogrio", "pyogrio"),
    Requirement("rasterio", "rasterio"),
    Requirement("yaml", "PyYAML"),
    Requirement("numpy", "numpy"),
)

# Which plugin features need which modules. Creating and opening a project
# needs the data model (YAML) only; the demo district needs the full stack.
FEATURES = {
    "project": ("yaml",),
    "demo": ("shapely", "geopandas", "pyogrio", "rasterio", "yaml", "numpy"),
    "check": ("shapely", "geopandas", "pyogrio", "yaml", "numpy"),
}


@dataclass(frozen=True)
class Problem:
    requirement: Requirement
    found: str = None  # installed version when too old; None when missing

    def describe(self) -> str:
        r = self.requirement
        if self.found:
            return f"{r.dist} {self.found} (need >= {r.minimum})"
        return f"{r.dist} (not installed)"

    def as_exception(self, feature: str = "Renewal Planner") -> MissingDependency:
        need = f">={self.requirement.minimum}" if self.requirement.minimum else ""
        return MissingDependency(self.requirement.dist, need, feature, found=self.found)


def installed_version(req: Requirement):
    """Version string of an installed package, '' if present without a version, None if absent."""
    if importlib.util.find_spec(req.module) is None:
        return None
    try:
        from importlib import metadata

        return metadata.version(req.dist)
    except Exception:
        pass
    try:  # no metadata (e.g. a bare folder on sys.path): import it
        return str(getattr(importlib.import_module(req.module), "__version__", ""))
    except Exception:
        return None


def check(requirements=REQUIREMENTS) -> list:
    """Return a list of Problem, empty when everything is installed and recent enough."""
    problems = []
    for req in requirements:
        version = installed_version(req)
        if version is None:
            problems.append(Problem(req))
        elif req.minimum and version and _vtuple(version) < _vtuple(req.minimum):
            problems.append(Problem(req, found=version))
    return problems


#: Wheels that bundle their own GEOS / GDAL / PROJ under the same symbol names
#: as QGIS's. The qgis and qgis_process executables link QGIS's copies into the
#: global symbol scope, so without care the wheels' extension modules call
#: QGIS's (older) libraries: shapely fails ("WKB output dimension must be 2 or
#: 3") and pyogrio crashes. Loading them with RTLD_DEEPBIND makes each one use
#: the libraries it ships with.
BUNDLED_LIBRARY_MODULES = ("shapely", "pyproj", "pyogrio", "fiona", "rasterio")


def isolate_bundled_libraries(modules=BUNDLED_LIBRARY_MODULES) -> list:
    """Import ``modules`` with RTLD_DEEPBIND (Linux); returns the ones imported now.

    Must run before anything else imports them (the plugin calls it first in
    initProcessing); a module already imported or not installed is skipped.
    numpy and pandas are imported first, normally, so only the wheels' own
    extension modules get the flag.
    """
    flag = getattr(os, "RTLD_DEEPBIND", 0)
    if not flag or not sys.platform.startswith("linux"):
        return []
    todo = [m for m in modules if m not in sys.modules and importlib.util.find_spec(m) is not None]
    if not todo:
        return []
    for base in ("numpy", "pandas"):
        try:
            importlib.import_module(base)
        except Exception:
            pass
    done = []
    old = sys.getdlopenflags()
    sys.setdlopenflags(old | flag)
    try:
        for name in todo:
            try:
                importlib.import_module(name)
                done.append(name)
            except Exception:  # reported by check() / at use, with a clear message
                pass
    finally:
        sys.setdlopenflags(old)
    return done


def missing_for(feature: str, problems) -> list:
    """The problems that block ``feature`` (a key of FEATURES)."""
    needed = set(FEATURES.get(feature, ()))
    return [p for p in problems if p.requirement.module in needed]


def pip_command(problems) -> str:
    """The one command that installs everything in ``problems`` for QGIS's Python."""
    specs = " ".join(f"'{p.requirement.pip_spec}'" if p.requirement.minimum else p.requirement.pip_spec
                     for p in problems)
    return f"python3 -m pip install --user {specs}"


def message(problems) -> str:
    """One English line naming exactly what is missing and how to install it."""
    if not problems:
        return ""
    what = ", ".join(p.describe() for p in problems)
    return (f"QGIS's Python lacks {what}. Install with: {pip_command(problems)} "
            f"(add --break-system-packages on Debian 12 and later), "
            f"or run `make run` from the Renewal Planner source tree.")
