"""What a rule sees: the project's layers (active features only), the rules in
force, the DEM, the area being checked, progress and cancel.

Layers are read once per run and shared by every rule.
"""
from __future__ import annotations

import numpy as np

from ...layers import io, schema
from ...layers.errors import InputError


class Cancelled(Exception):
    """The user cancelled the run; nothing was written."""


class CheckContext:
    def __init__(self, project: str, rules, dem: str = None, area: str = None,
                 progress=None, is_cancelled=None, area_margin_m: float = 10.0):
        self.project = project
        self.rules = rules
        self.dem = dem
        self.area_uid = area
        self.area_margin_m = area_margin_m
        self._progress = progress
        self._is_cancelled = is_cancelled
        self._cache = {}
        self._pipes = None
        self.area_geometry = self._load_area(area) if area else None

    # -- layers ---------------------------------------------------------------
    def _load_area(self, uid):
        df = io.read_layer(self.project, "renovation_area", where=f"uid = '{_sql_str(uid)}'")
        if len(df) == 0:
            raise InputError(f"no renovation area with uid {uid!r}", file=self.project,
                             layer="renovation_area", field="uid")
        geom = df.geometry.iloc[0]
        if geom is None or geom.is_empty:
            raise InputError(f"renovation area {uid!r} has no geometry", file=self.project,
                             layer="renovation_area", record=uid)
        return geom

    def layer(self, name: str):
        """Active features (status other than abandoned) of a data-model layer.

        A feature with a NULL or empty geometry is bad input: InputError
        naming the layer and the record.
        """
        if name in self._cache:
            return self._cache[name]
        lyr = schema.model().layer(name)
        bbox = None
        if self.area_geometry is not None:
            bbox = tuple(self.area_geometry.buffer(self.area_margin_m).bounds)
        df = io.read_layer(self.project, name, bbox=bbox, active_only=lyr.thematic)
        if lyr.geometry is not None and len(df):
            bad = df.geometry.isna() | df.geometry.is_empty
            if bad.any():
                uid = df.loc[bad, "uid"].iloc[0]
                raise InputError(f"feature has no geometry ({int(bad.sum())} such)",
                                 file=self.project, layer=name, record=uid)
            if self.area_geometry is not None:
                near = df.geometry.intersects(self.area_geometry.buffer(self.area_margin_m))
                df = df.loc[near]
            df = df.reset_index(drop=True)
        self._cache[name] = df
        return df

    @property
    def pipes(self):
        """The prepared pipe model (tools/engine/pipes.py), built once per run."""
        if self._pipes is None:
            from .pipes import prepare_pipes

            self._pipes = prepare_pipes(self)
        return self._pipes

    def plan_acc_h(self, frame) -> np.ndarray:
        """Horizontal uncertainty of plan features: their acc_h if they have one."""
        default = float(self.rules.value("general", "plan_acc_h_m"))
        if "acc_h" in frame.columns:
            return frame["acc_h"].astype(float).fillna(default).to_numpy()
        return np.full(len(frame), default)

    # -- progress and cancel -------------------------------------------------
    def progress(self, fraction: float, message: str = ""):
        if self._progress is not None:
            self._progress(float(fraction), message)
        self.check_cancelled()

    def check_cancelled(self):
        if self._is_cancelled is not None and self._is_cancelled():
            raise Cancelled()


def _sql_str(s: str) -> str:
    return str(s).replace("'", "''")
