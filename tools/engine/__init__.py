"""The conflict-check engine: every rule of rules.md over a project.

No Qt here: the same ``run_checks`` serves the command line, Processing, a
QgsTask in the dock and the tests.

A run reads the layers its rules need (only the columns they use, several
layers at a time), prepares the pipe model, then runs the rules on up to
``workers`` cores: the main thread takes rules from a shared queue (longest
first) and each extra worker takes the next one as it frees up. An extra
worker is a forked process (children inherit the layers already read;
findings come back as an Arrow table + WKB) or, inside QGIS and on
PostgreSQL projects, a thread (shapely/numpy release the GIL in their array
work). The findings are the same whatever the workers: each rule's frame is
finished (ids, messages) on its own and the frames are put together in rule
order. Progress and cancel are handled in the main thread.

``RENEWAL_PLANNER_WORKERS`` (default: min(2, cores); 1 inside QGIS) and
``RENEWAL_PLANNER_PARALLEL`` (``fork`` | ``thread``) override the defaults.
"""
from __future__ import annotations

import gc
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List

from ...layers.errors import InputError
from .context import Cancelled, CheckContext  # noqa: F401 - re-exported
from .findings import FINDING_COLUMNS, conflict_ids, empty_findings
from .registry import RULES, layer_columns, rule_function, rule_layers

# rough relative cost of each rule at scale: the longest start first (a late
# long rule would leave the other core idle at the end)
_COST = {"horizontal_clearance": 24, "cover_depth": 14, "vertical_clearance": 13,
         "tree_pipe_clearance": 6, "building_clearance": 6, "fire_lane_width": 5,
         "stall_over_structure": 4, "pipe_under_road": 3.4, "crossing_angle": 2.2,
         "works_over_pipes": 1.7, "fire_lane_obstruction": 1.4, "depth_unknown": 0.1}
PARALLEL_MIN_ROWS = 20_000  # smaller projects run serially (workers cost more than they save)


@dataclass
class CheckRun:
    findings: object  # GeoDataFrame: FINDING_COLUMNS + conflict_id, message_zh/en, rule_profile
    profile: str
    rule_ids: List[str]
    seconds: Dict[str, float] = field(default_factory=dict)
    area_geometry: object = None  # the renovation area of an --area run
    # read_s, prepare_s, rules_s (wall), finish_s, total_s, workers, mode, read_layer_s,
    # rule_cpu_s / rule_total_s (CPU / wall seconds of each rule + its ids and messages)
    timings: Dict[str, object] = field(default_factory=dict)


def parse_only(only) -> List[str]:
    if not only:
        return list(RULES)
    ids = [x.strip() for x in (only.split(",") if isinstance(only, str) else only) if x.strip()]
    for x in ids:
        if x not in RULES:
            raise InputError(f"--only: unknown rule {x!r} (known: {', '.join(RULES)})")
    return ids


def in_qgis() -> bool:
    """True inside a running QGIS application (desktop, Processing, tests with a
    QgsApplication): never fork there, and run the rules one after another."""
    if "qgis.core" not in sys.modules:
        return False
    try:
        from qgis.core import QgsApplication

        return QgsApplication.instance() is not None
    except Exception:  # pragma: no cover - a broken qgis import: be careful
        return True


def worker_count(workers=None) -> int:
    """Cores to use: ``workers``, else RENEWAL_PLANNER_WORKERS, else min(2, cpus)
    (1 inside QGIS, where the desktop and its tests expect rules in order)."""
    if workers is None:
        env = os.environ.get("RENEWAL_PLANNER_WORKERS", "").strip()
        if env:
            try:
                workers = int(env)
            except ValueError:
                raise InputError(f"RENEWAL_PLANNER_WORKERS must be a whole number, not {env!r}") from None
        elif in_qgis():
            workers = 1
        else:
            workers = min(2, os.cpu_count() or 1)
    return max(1, int(workers))


def parallel_mode(project, mode=None) -> str:
    """``fork`` (processes) or ``thread`` for the extra workers."""
    mode = (mode or os.environ.get("RENEWAL_PLANNER_PARALLEL", "") or "fork").strip().lower()
    if mode not in ("fork", "thread"):
        raise InputError(f"RENEWAL_PLANNER_PARALLEL must be fork or thread, not {mode!r}")
    if mode == "fork":
        from ...layers import io

        import multiprocessing as mp

        if ("fork" not in mp.get_all_start_methods() or in_qgis() or io._pg(project)):
            mode = "thread"  # a fork inside QGIS, or with an open database connection, is unsafe
    return mode


def run_checks(project: str, rules_path: str = None, only=None, dem: str = None, area: str = None,
               progress=None, is_cancelled=None, rules=None, workers: int = None, mode: str = None,
               parallel_min_rows: int = None) -> CheckRun:
    import pandas as pd
    import geopandas as gpd

    from ..ruleset import load_rules

    t_start = time.perf_counter()
    rules = rules or load_rules(rules_path)
    ids = parse_only(only)
    nw = worker_count(workers)
    ctx = CheckContext(project, rules, dem=dem, area=area, progress=progress,
                       is_cancelled=is_cancelled, columns=layer_columns(ids))
    timings = {"workers": nw}
    # -- read every layer the rules need (several at a time) -----------------------
    t = time.perf_counter()
    ctx.progress(0.0, "reading layers")
    ctx.preload(rule_layers(ids), workers=nw)
    timings["read_s"] = time.perf_counter() - t
    timings["read_layer_s"] = dict(ctx.read_seconds)
    rows = sum(len(df) for df in ctx._cache.values())
    min_rows = PARALLEL_MIN_ROWS if parallel_min_rows is None else parallel_min_rows
    if len(ids) < 2 or rows < min_rows:
        nw = 1
    timings["prepare_s"] = 0.0
    md = parallel_mode(project, mode) if nw > 1 else "serial"
    # a rule running alone may use every core of the run in threads; rules
    # running side by side use one each (tools/engine/parallel.py)
    ctx.threads = 1 if nw > 1 else worker_count(workers)
    timings["rule_threads"] = ctx.threads
    if any("pipe_segment" in RULES[r][2] for r in ids) and "pipe_segment" in ctx._cache:
        # shared by every rule (and every worker): build it once, before them
        t = time.perf_counter()
        ctx.progress(0.0, "pipe model")
        prepare_shared(ctx, ids)
        timings["prepare_s"] = time.perf_counter() - t
    timings["mode"] = md
    # -- the rules -------------------------------------------------------------------
    t = time.perf_counter()
    if md == "serial":
        done, seconds, cpu = _run_serial(ctx, ids)
    else:
        done, seconds, cpu = _run_parallel(ctx, ids, nw, md)
    timings["rules_s"] = time.perf_counter() - t
    timings["rule_cpu_s"] = {r: c[0] for r, c in cpu.items()}
    timings["rule_total_s"] = {r: c[1] for r, c in cpu.items()}
    timings["rule_worker"] = dict(getattr(ctx, "_ran_on", None) or {r: "main" for r in cpu})
    ctx._span = (0.0, 1.0)
    ctx.progress(1.0, "done")
    # -- put together in rule order ----------------------------------------------------
    t = time.perf_counter()
    frames = [done[r] for r in ids if done.get(r) is not None and len(done[r])]
    if frames:
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    else:
        out = _finish(empty_findings())
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=None)
    out["rule_profile"] = rules.profile
    timings["finish_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start
    return CheckRun(out, rules.profile, ids, seconds, ctx.area_geometry, timings)


# derived pipe data several rules share: built with the pipe model, once per run
_NEEDS_SEGMENTS = {"pipe_under_road", "crossing_angle", "tree_pipe_clearance", "building_clearance"}
_NEEDS_EDGES = {"horizontal_clearance", "vertical_clearance"}


def prepare_shared(ctx, ids):
    """The pipe model and the pipe geometry arrays the rules ``ids`` share
    (vertex segments, Morton-sorted edges): like a database's load step, done
    once per run before the rules (and before any fork, so the workers share
    the pages)."""
    from . import kernels

    kernels.enabled()  # load the compiled kernels once, before the rules (and any fork)
    pm = ctx.pipes
    if len(pm) == 0:
        return pm
    if _NEEDS_SEGMENTS & set(ids):
        pm.segments
    if {"tree_pipe_clearance", "building_clearance"} & set(ids):
        from .plan_join import prepare_distinct

        f = pm.frame
        prepare_distinct(pm.distinct_cache(), f["utility"],
                         {c: f[c] for c in ("burial", "diameter_mm", "pressure_mpa")})
    if _NEEDS_EDGES & set(ids):
        from .rule_pipe_pairs import edges_of

        edges_of(pm)
    if "stall_over_structure" in ids:  # the points' coordinates and kinds, decoded once
        ctx.point_xy("pipe_point")
        ctx.codes("pipe_point", "appurtenance")
    return pm


def _finish(df, threads: int = 1):
    """One rule's frame with its ids and messages (no duplicates allowed)."""
    import geopandas as gpd
    import pandas as pd

    from .messages import format_messages

    df = df[FINDING_COLUMNS]
    if not isinstance(df, gpd.GeoDataFrame):
        df = gpd.GeoDataFrame(df, geometry="geometry", crs=None)
    df = df.reset_index(drop=True)
    ids = conflict_ids(df["rule_id"], df["layer_a"], df["uid_a"], df["layer_b"], df["uid_b"],
                       threads=threads)
    df["conflict_id"] = pd.Series(ids, index=df.index, dtype=pd.Series(["x"]).dtype)
    dup = df["conflict_id"].duplicated(keep=False)
    if dup.any():  # a rule must give one row per pair: a bug, not bad input
        raise AssertionError(f"duplicate findings: {df.loc[dup, ['rule_id', 'uid_a', 'uid_b']].head()}")
    if len(df):
        df["message_zh"], df["message_en"] = format_messages(df)
    else:
        df["message_zh"], df["message_en"] = [], []
    return df


def _run_rule(ctx, rid):
    """(finished frame, seconds of the rule function, (CPU, wall) seconds of rule + finish)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    df = rule_function(rid)(ctx)
    s = time.perf_counter() - t0
    out = _finish(df, threads=getattr(ctx, "threads", 1)) if len(df) else None
    return out, s, (time.thread_time() - c0, time.perf_counter() - t0)


def _run_serial(ctx, ids):
    done, seconds, cpu = {}, {}, {}
    n = len(ids)
    for k, rid in enumerate(ids):
        ctx._span = (0.0, 1.0)
        ctx.progress(k / n, rid)
        ctx._span = (k / n, (k + 1) / n)
        done[rid], seconds[rid], cpu[rid] = _run_rule(ctx, rid)
    return done, seconds, cpu


# -- parallel -----------------------------------------------------------------------------
_FORK_CTX = None  # the context a forked worker inherits


def _child_init():
    ctx = _FORK_CTX
    ctx._progress = None  # the parent's callbacks are not ours to call
    ctx._is_cancelled = None
    ctx._main = threading.get_ident()


def _child_noop():
    return os.getpid()


def _child_rule(rid):
    """In a forked worker: run one rule, return its findings compactly."""
    try:
        df, s, c = _run_rule(_FORK_CTX, rid)
    except InputError as e:
        return ("input_error", (e.reason, e.file, e.layer, e.record, e.field))
    return ("ok", (_pack(df), s, c))


def _pack(df):
    """A finished findings frame as (Arrow table of the attributes, WKB array)."""
    if df is None:
        return None
    import numpy as np
    import pyarrow as pa
    import shapely

    attrs = pa.Table.from_pandas(df.drop(columns="geometry"), preserve_index=False)
    return attrs, shapely.to_wkb(np.asarray(df.geometry.array, dtype=object))


def _unpack(packed, columns):
    if packed is None:
        return None
    import geopandas as gpd
    import shapely

    attrs, wkb = packed
    df = attrs.to_pandas()
    df["geometry"] = gpd.GeoSeries(shapely.from_wkb(wkb), index=df.index)
    return gpd.GeoDataFrame(df[columns], geometry="geometry", crs=None)


def _run_parallel(ctx, ids, nw, mode):
    """Run ``ids`` on the main thread plus ``nw - 1`` workers pulling from one queue."""
    global _FORK_CTX
    order = sorted(ids, key=lambda r: -_COST.get(r, 1.0))
    queue = list(order)
    qlock = threading.Lock()
    done, seconds, cpu, errors = {}, {}, {}, []
    where = {}  # rule -> the worker that ran it ("main" or "worker-<k>")
    stop = threading.Event()
    n = len(ids)
    columns = FINDING_COLUMNS + ["conflict_id", "message_zh", "message_en"]

    def take():
        with qlock:
            if stop.is_set() or not queue:
                return None
            return queue.pop(0)

    pool, frozen = None, False
    if mode == "fork":
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        _FORK_CTX = ctx
        # objects alive now are shared with the children: keep the collector from
        # touching (and so copying) their pages on either side of the fork
        gc.freeze()
        frozen = True
        try:
            pool = ProcessPoolExecutor(max_workers=nw - 1, mp_context=mp.get_context("fork"),
                                       initializer=_child_init)
            # start the children now, while this is the only busy thread
            for f in [pool.submit(_child_noop) for _ in range(nw - 1)]:
                f.result()
        except BaseException:
            gc.unfreeze()
            _FORK_CTX = None
            if pool is not None:
                _kill_pool(pool)
            raise

    def worker(k):
        while not stop.is_set():
            rid = take()
            if rid is None:
                return
            try:
                if pool is None:
                    df, s, c = _run_rule(ctx, rid)
                else:
                    fut = pool.submit(_child_rule, rid)
                    while True:
                        try:
                            kind, val = fut.result(timeout=0.2)
                            break
                        except TimeoutError:
                            if stop.is_set():
                                return
                    if kind == "input_error":
                        reason, file, layer, record, fld = val
                        raise InputError(reason, file=file, layer=layer, record=record, field=fld)
                    packed, s, c = val
                    df = _unpack(packed, columns)
                done[rid], seconds[rid], cpu[rid] = df, s, c
                where[rid] = f"worker-{k}"
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                errors.append(e)
                stop.set()
                return

    threads = [threading.Thread(target=worker, args=(k + 1,), name=f"rp-rule-{k + 1}", daemon=True)
               for k in range(nw - 1)]
    try:
        for th in threads:
            th.start()
        while True:
            if errors:
                raise errors[0]
            ctx._span = (0.0, 1.0)
            ctx.progress(len(done) / n, "")
            rid = take()
            if rid is None:
                break
            ctx.progress(len(done) / n, rid)
            ctx._span = (len(done) / n, (len(done) + 1) / n)
            done[rid], seconds[rid], cpu[rid] = _run_rule(ctx, rid)
            where[rid] = "main"
        while any(th.is_alive() for th in threads):  # the workers' last rules
            for th in threads:
                th.join(timeout=0.2)
            if errors:
                raise errors[0]
            ctx._span = (0.0, 1.0)
            ctx.progress(len(done) / n, "")
        if errors:
            raise errors[0]
    except BaseException:
        stop.set()
        if pool is not None:
            _kill_pool(pool)
            pool = None
        raise
    finally:
        stop.set()
        if pool is not None:
            pool.shutdown(wait=True)
        if frozen:
            gc.unfreeze()
        _FORK_CTX = None
    ctx._ran_on = where
    return done, seconds, cpu


def _kill_pool(pool):
    """Stop the forked workers now (cancel or error: their rules are not wanted).

    Every child is terminated and reaped before this returns, so no worker
    outlives the run (a SIGTERM not acted on in time is followed by SIGKILL).
    """
    procs = dict(getattr(pool, "_processes", None) or {})
    pool.shutdown(wait=False, cancel_futures=True)
    procs.update(getattr(pool, "_processes", None) or {})
    for p in procs.values():
        try:
            p.terminate()
        except Exception:  # pragma: no cover - already gone
            pass
    for p in procs.values():
        p.join(timeout=5)
        if p.is_alive():  # pragma: no cover - a child that ignored SIGTERM
            p.kill()
            p.join(timeout=5)
