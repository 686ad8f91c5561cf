"""One measured job in a fresh process, so peak memory (ru_maxrss) is its own.

    python -m renewal_planner.bench.worker '<json>'

json: {"job": "engine" | "duckdb" | "postgis", "gpkg": path, "out": prefix, "rules": [ids] (engine:
which rules; null = every rule of the registry), "workers": n (engine; null = the default)}. Writes <out>.json (timings, memory, status)
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


def _usage(res: dict):
    ru = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)  # forked rule workers
    res["peak_rss_mb"] = ru.ru_maxrss / 1024.0
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
