"""One measured job in a fresh process, so peak memory (ru_maxrss) is its own.

    python -m renewal_planner.bench.worker '<json>'

json: {"job": "engine" | "engine_alone" | "duckdb" | "postgis", "gpkg": path, "out": prefix, "rules": [ids] (engine:
which rules; null = every rule of the registry), "workers": n (engine; null = the default),
"threads": n, "reps": n (engine_alone: each rule alone on n threads, reps runs)}. Writes <out>.json (timings, memory, status)
and <out>.pkl (findings: rule_id, layer_a, uid_a, uid_b, measured, certainty).
"""
from __future__ import annotations

import json
import os
import pickle
import resource
import sys
import time
import traceback

T_START = time.perf_counter()


def peak_rss_mb() -> float:
    """This process's own peak resident memory, MB. VmHWM belongs to the
    address space, which exec makes anew; getrusage's ru_maxrss does not: on
    Linux a child started from a big parent (fork + exec) inherits the
    parent's peak, so a job started late in `make bench` would report the
    bench's own memory."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _usage(res: dict):
    ru = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)  # forked rule workers
    res["peak_rss_mb"] = peak_rss_mb()
    res["children_peak_rss_mb"] = ch.ru_maxrss / 1024.0
    res["cpu_s"] = ru.ru_utime + ru.ru_stime + ch.ru_utime + ch.ru_stime


def engine_job(args, res):
    """One ``run_checks`` over the built rules, as the command line runs it (layers
    read several at a time, rules on RENEWAL_PLANNER_WORKERS cores)."""
    import pandas as pd

    from .. import tools  # noqa: F401
    from ..tools import engine
    from ..tools.engine import registry
    from ..tools.ruleset import load_rules

    ids = args.get("rules") or list(registry.RULES)
    rules = load_rules()
    status, built = {}, []
    for rid in ids:
        try:
            registry.rule_function(rid)
            built.append(rid)
            status[rid] = "ok"
        except (ImportError, AttributeError) as e:
            status[rid] = f"not built ({type(e).__name__}: {e})"
    res["status"] = status
    res["import_s"] = time.perf_counter() - T_START
    if not built:
        return None
    t = time.perf_counter()
    try:
        run = engine.run_checks(args["gpkg"], only=built, rules=rules, workers=args.get("workers"))
    except Exception as e:
        for rid in built:
            status[rid] = f"error ({type(e).__name__}: {str(e)[:300]})"
        res["traceback"] = traceback.format_exc()[-3000:]
        return None
    res["run_s"] = time.perf_counter() - t
    tm = run.timings
    res["read_s"] = tm.get("read_s", 0.0)
    res["read_layer_s"] = tm.get("read_layer_s", {})
    res["prepare_s"] = tm.get("prepare_s", 0.0)
    res["rules_wall_s"] = tm.get("rules_s")
    res["finish_s"] = tm.get("finish_s")
    res["total_s"] = tm.get("total_s")
    res["workers"], res["mode"] = tm.get("workers"), tm.get("mode")
    res["rule_fn_s"] = dict(run.seconds)
    res["rule_s"] = dict(tm.get("rule_total_s", run.seconds))  # rule + its ids and messages
    res["rule_cpu_s"] = dict(tm.get("rule_cpu_s", {}))
    res["rule_worker"] = dict(tm.get("rule_worker", {}))
    f = run.findings
    res["findings_rows"] = {rid: int(c) for rid, c in f["rule_id"].value_counts().items()}
    for rid in built:
        res["findings_rows"].setdefault(rid, 0)
    return pd.DataFrame({"rule_id": f["rule_id"].astype(object), "layer_a": f["layer_a"].astype(object),
                         "uid_a": f["uid_a"].astype(object), "uid_b": f["uid_b"].astype(object),
                         "measured": f["measured"].astype(float),
                         "certainty": f["certainty"].astype(object)})


def engine_alone_job(args, res):
    """Each rule of ``rules`` alone, with every core of the machine available to
    it (``threads``), after the layers are read and the pipe model is prepared
    once (the same split as the peers' load vs query seconds). Per rule:
    ``reps`` runs of the rule + its ids and messages; what a run builds lazily
    on the pipe model is dropped before the next, so every run starts from the
    prepared model. Wall and CPU (all threads) seconds of each run."""
    import statistics

    from ..tools import engine
    from ..tools.engine import registry
    from ..tools.engine.context import CheckContext
    from ..tools.ruleset import load_rules

    ids = [r for r in args["rules"] if r in registry.RULES]
    threads = int(args.get("threads") or engine.worker_count(None))
    reps = int(args.get("reps") or 3)
    rules = load_rules()
    ctx = CheckContext(args["gpkg"], rules, columns=registry.layer_columns(ids))
    t = time.perf_counter()
    ctx.preload(registry.rule_layers(ids), workers=threads)
    res["read_s"] = time.perf_counter() - t
    t = time.perf_counter()
    if any("pipe_segment" in registry.RULES[r][2] for r in ids) and "pipe_segment" in ctx._cache:
        engine.prepare_shared(ctx, ids)
    res["prepare_s"] = time.perf_counter() - t
    ctx.threads = threads
    res["threads"] = threads
    pm = ctx._pipes
    base = set(vars(pm)) if pm is not None else set()
    out = {}
    for rid in ids:
        walls, cpus, rows = [], [], None
        for _ in range(reps):
            if pm is not None:
                for a in set(vars(pm)) - base:
                    delattr(pm, a)
            t, c = time.perf_counter(), time.process_time()
            df = registry.rule_function(rid)(ctx)
            df = engine._finish(df, threads=threads)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            rows = len(df)
            del df
        out[rid] = {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
                    "first_s": walls[0], "walls": walls, "cpus": cpus, "rows": rows}
    res["alone"] = out
    from ..tools.engine import kernels

    res["numba"] = kernels.enabled()
    return None


def peer_job(args, res, kind):
    import pandas as pd

    from ..tools.ruleset import load_rules

    if kind == "duckdb":
        from . import peers_duckdb as peer
    else:
        from . import peers_postgis as peer
    out = peer.run(args["gpkg"], load_rules(), log=lambda *a: print(*a, file=sys.stderr, flush=True))
    for k in ("read_s", "load_s", "index_s", "threads", "server", "postgis"):
        if k in out:
            res[k] = out[k]
    res["queries"] = out["queries"]
    frames = []
    for rid, df in out["findings"].items():
        frames.append(pd.DataFrame({"rule_id": rid, "layer_a": df["layer_a"].astype(object),
                                    "uid_a": df["uid_a"].astype(object), "uid_b": df["uid_b"].astype(object),
                                    "measured": df["m"].astype(float)}))
    return pd.concat(frames, ignore_index=True) if frames else None


def main(argv=None):
    args = json.loads((argv or sys.argv[1:])[0])
    res = {"job": args["job"], "gpkg": args["gpkg"]}
    findings = None
    try:
        if args["job"] == "engine":
            findings = engine_job(args, res)
        elif args["job"] == "engine_alone":
            findings = engine_alone_job(args, res)
        else:
            findings = peer_job(args, res, args["job"])
        res["ok"] = True
    except Exception as e:
        res["ok"] = False
        res["error"] = f"{type(e).__name__}: {e}"
        res["traceback"] = traceback.format_exc()[-4000:]
    res["wall_s"] = time.perf_counter() - T_START
    _usage(res)
    with open(args["out"] + ".pkl", "wb") as f:
        pickle.dump(findings, f)
    with open(args["out"] + ".json", "w") as f:
        json.dump(res, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
