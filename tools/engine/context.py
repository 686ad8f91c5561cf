"""What a rule sees: the project's layers (active features only), the rules in
force, the DEM, the area being checked, progress and cancel.

Layers are read once per run and shared by every rule. ``run_checks`` reads
only the columns the rules use (``columns``, from registry.LAYER_COLUMNS) and
reads the layers ahead, in parallel threads (``preload``): pyogrio's Arrow
reader works without the GIL. The context is safe to share between threads:
each layer is read once even when two rules ask for it at the same time.
"""
from __future__ import annotations

import threading

import numpy as np

from ...layers import io, schema
from ...layers.errors import InputError


class Cancelled(Exception):
    """The user cancelled the run; nothing was written."""


class CheckContext:
    def __init__(self, project: str, rules, dem: str = None, area: str = None,
                 progress=None, is_cancelled=None, area_margin_m: float = 10.0,
                 columns: dict = None):
        self.project = project
        self.rules = rules
        self.dem = dem
        self.area_uid = area
        self.area_margin_m = area_margin_m
        self.columns = dict(columns) if columns else {}
        self._progress = progress
        self._is_cancelled = is_cancelled
        self._cache = {}
        self._derived_cache = {}  # point coordinates, encoded columns (see point_xy, codes)
        self._pipes = None
        self._locks = {}
        self._lock = threading.Lock()
        self._main = threading.get_ident()
        self._span = (0.0, 1.0)  # progress of the rule running in the main thread
        self._last = 0.0
        self.read_seconds = {}
        self.threads = 1  # threads a rule may use (run_checks sets it; tools/engine/parallel.py)
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

    def _layer_lock(self, name):
        with self._lock:
            lk = self._locks.get(name)
            if lk is None:
                lk = self._locks[name] = threading.Lock()
            return lk

    def layer(self, name: str):
        """Active features (status other than abandoned) of a data-model layer.

        A feature with a NULL or empty geometry is bad input: InputError
        naming the layer and the record.
        """
        df = self._cache.get(name)
        if df is not None:
            return df
        with self._layer_lock(name):
            if name in self._cache:
                return self._cache[name]
            df = self._read(name)
            self._cache[name] = df
            return df

    def _read(self, name):
        import time

        t0 = time.perf_counter()
        lyr = schema.model().layer(name)
        bbox = None
        if self.area_geometry is not None:
            bbox = tuple(self.area_geometry.buffer(self.area_margin_m).bounds)
        df = io.read_layer(self.project, name, columns=self.columns.get(name), bbox=bbox,
                           active_only=lyr.thematic)
        if lyr.geometry is not None and len(df):
            geoms = df.geometry.array
            bad = geoms.isna() | geoms.is_empty
            if bad.any():
                uid = df.loc[bad, "uid"].iloc[0]
                raise InputError(f"feature has no geometry ({int(bad.sum())} such)",
                                 file=self.project, layer=name, record=uid)
            if self.area_geometry is not None:
                near = df.geometry.intersects(self.area_geometry.buffer(self.area_margin_m))
                df = df.loc[near]
            df = df.reset_index(drop=True)
        self.read_seconds[name] = time.perf_counter() - t0
        return df

    def preload(self, names, workers: int = 1):
        """Read ``names`` now, up to ``workers`` layers at a time (threads).

        Layers missing from the project are skipped here (the rule that asks
        for one gets the error). Cancel is checked between layers.
        """
        names = [n for n in names if n not in self._cache]
        if not names:
            return
        present = set(io.list_layers(self.project))
        names = [n for n in names if n in present]
        if workers <= 1 or len(names) <= 1 or io._pg(self.project):
            for n in names:
                self.check_cancelled()
                self.layer(n)
            return
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

        ex = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rp-read")
        try:
            futs = [ex.submit(self.layer, n) for n in names]
            pending = set(futs)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                for f in done:
                    f.result()  # re-raise the first error
                self.check_cancelled()
        except BaseException:
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown(wait=True)  # no reader thread left behind (a fork may follow)

    def point_xy(self, name: str) -> np.ndarray:
        """(n, 2) coordinates of point layer ``name``, aligned with ``layer(name)``
        (NaN for a NULL or empty geometry); decoded once per run, like a
        database's load step, and shared by every rule that needs them."""
        return self._derived(("xy", name), lambda: _point_xy(self.layer(name).geometry.to_numpy()))

    def codes(self, name: str, column: str):
        """(codes, values) of a text column of layer ``name``: the column
        dictionary-encoded once per run (pandas.factorize; code -1 = NULL)."""
        def encode():
            import pandas as pd

            codes, uniq = pd.factorize(self.layer(name)[column])
            return np.asarray(codes), [str(u) for u in uniq]
        return self._derived(("codes", name, column), encode)

    def _derived(self, key, build):
        hit = self._derived_cache.get(key)
        if hit is None:
            with self._layer_lock(key):
                hit = self._derived_cache.get(key)
                if hit is None:
                    hit = self._derived_cache[key] = build()
        return hit

    @property
    def pipes(self):
        """The prepared pipe model (tools/engine/pipes.py), built once per run."""
        if self._pipes is None:
            with self._layer_lock("__pipes__"):
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
        """Report progress (``fraction`` of the current rule, or of the run when
        called by the engine) and check cancel. From a worker thread (rules
        running in parallel) only cancel is checked: the engine reports
        progress from the main thread as rules complete."""
        if self._progress is not None and threading.get_ident() == self._main:
            lo, hi = self._span
            value = max(lo + float(fraction) * (hi - lo), self._last)  # never backwards
            self._last = value
            self._progress(value, message)
        self.check_cancelled()

    def check_cancelled(self):
        if self._is_cancelled is not None and self._is_cancelled():
            raise Cancelled()


def _point_xy(geoms) -> np.ndarray:
    import shapely

    return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])


def _sql_str(s: str) -> str:
    return str(s).replace("'", "''")
