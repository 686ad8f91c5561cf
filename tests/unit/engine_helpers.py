"""Shared helpers for the check-engine unit tests (no qgis imports).

Use from a test file::

    import sys, pathlib
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from engine_helpers import make_project, run_rule

    path = make_project(tmp_path, pipe_segment=[
        {"geometry": LineString([(0, 0), (10, 0)]), "utility": "JS", "diameter_mm": 300,
         "depth_start": 1.0, "depth_end": 1.0}])
    f = run_rule(path, "cover_depth")

Each layer is a list of dicts holding a shapely ``geometry`` and model fields.
A required coded field left out of every dict (e.g. work_type) gets the
first code of its list. ``uid`` defaults to ``<prefix><n>`` (e.g. ``S1``, ``S2`` for pipe_segment, in
list order), ``status`` to ``existing``. A field left out of every dict of a
layer gets the model default on write (e.g. depth_ref 'top'); give it as None
explicitly to store NULL.
"""
from __future__ import annotations

import pathlib

PREFIX = {"pipe_point": "P", "pipe_segment": "S", "planned_road": "R", "renovation_area": "A",
          "renovation_work": "W", "tree": "T", "planting_area": "G", "parking_stall": "C",
          "fire_lane": "F", "building": "B"}


def layer_frame(name, rows, crs="EPSG:4547"):
    """A GeoDataFrame for data-model layer ``name`` from a list of dicts."""
    import geopandas as gpd
    import pandas as pd

    from renewal_planner.layers import schema

    model = schema.model()
    rows = [dict(r) for r in rows]
    # required coded fields left out: the first code of their list
    for fld in model.layer(name).fields:
        if fld.required and fld.domain and fld.default is None and not any(fld.name in r for r in rows):
            for r in rows:
                r[fld.name] = model.domain(fld.domain).values[0]
    prefix = PREFIX.get(name, name[:1].upper())
    for i, r in enumerate(rows, start=1):
        if r.get("uid") is None:
            r["uid"] = f"{prefix}{i}"
        r.setdefault("status", "existing")
    geoms = [r.pop("geometry") for r in rows]
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


def make_project(tmp_path, name="p.gpkg", crs="EPSG:4547", **layers):
    """Create a project GeoPackage in ``tmp_path`` holding ``layers``; returns its path."""
    from renewal_planner.layers import gpkg, io

    path = gpkg.create_project(str(pathlib.Path(tmp_path) / name), crs=crs)
    for lname, rows in layers.items():
        if rows:
            io.write_layer(path, lname, layer_frame(lname, rows, crs=crs))
    return path


def run_rule(path, rule_id, **kwargs):
    """Findings of one rule (GeoDataFrame), via the engine's public run_checks."""
    from renewal_planner.tools.engine import run_checks

    return run_checks(path, only=rule_id, **kwargs).findings


def context(path, dem=None, rules=None):
    """A CheckContext over ``path`` (for tests of the pipe model itself)."""
    from renewal_planner.tools.engine.context import CheckContext
    from renewal_planner.tools.ruleset import load_rules

    return CheckContext(path, rules or load_rules(), dem=dem)


def pair_set(findings):
    """{(uid_a, uid_b): measured} of a findings frame."""
    return {(a, b): m for a, b, m in zip(findings["uid_a"], findings["uid_b"], findings["measured"])}


class MemoryContext:
    """A CheckContext stand-in over in-memory layers (no GeoPackage): for fast
    property tests. ``layers``: name -> list of dicts (as make_project)."""

    def __init__(self, rules=None, dem=None, **layers):
        from renewal_planner.tools.ruleset import load_rules

        self.rules = rules or load_rules()
        self.dem = dem
        self.area_geometry = None
        self._rows = layers
        self._cache = {}
        self._pipes = None

    def layer(self, name):
        from renewal_planner.layers import io, schema

        if name in self._cache:
            return self._cache[name]
        rows = self._rows.get(name) or []
        if not rows:
            df = io.empty_frame(name, crs="EPSG:4547")
        else:
            df = layer_frame(name, rows)
            for fld in schema.model().layer(name).fields:
                if fld.name not in df.columns:
                    df[fld.name] = fld.default
            df = df.loc[df["status"].astype(object) != "abandoned"].reset_index(drop=True)
        self._cache[name] = df
        return df

    @property
    def pipes(self):
        if self._pipes is None:
            from renewal_planner.tools.engine.pipes import prepare_pipes

            self._pipes = prepare_pipes(self)
        return self._pipes

    def plan_acc_h(self, frame):
        import numpy as np

        default = float(self.rules.value("general", "plan_acc_h_m"))
        if "acc_h" in frame.columns:
            return frame["acc_h"].astype(float).fillna(default).to_numpy()
        return np.full(len(frame), default)

    def progress(self, fraction, message=""):
        pass

    def check_cancelled(self):
        pass
