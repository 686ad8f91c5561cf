"""One measured job in a fresh process, so peak memory (ru_maxrss) is its own.

    python -m renewal_planner.bench.worker '<json>'

json: {"job": "engine" | "duckdb" | "postgis", "gpkg": path, "out": prefix, "rules": [ids] (engine:
which rules; null = every rule of the registry)}. Writes <out>.json (timings, memory, status)
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
    res["peak_rss_mb"] = ru.ru_maxrss / 1024.0
    res["cpu_s"] = ru.ru_utime + ru.ru_stime


def engine_job(args, res):
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
    ctx = engine.CheckContext(args["gpkg"], rules)
    layers = sorted({lyr for rid in built for lyr in registry.RULES[rid][2]})
    t = time.perf_counter()
    res["layer_rows"] = {}
    for name in layers:
        res["layer_rows"][name] = len(ctx.layer(name))
    res["read_s"] = time.perf_counter() - t
    res["prepare_s"] = 0.0
    if "pipe_segment" in layers:
        t = time.perf_counter()
        try:
            ctx.pipes
            res["prepare_s"] = time.perf_counter() - t
        except Exception as e:  # rules that need the pipe model will fail and say so
            res["prepare_error"] = f"{type(e).__name__}: {e}"
    # run_checks builds its own context: hand it ours, already read
    engine.CheckContext = lambda *a, **k: ctx
    res["rule_s"], res["rule_fn_s"], frames = {}, {}, []
    for rid in built:
        t = time.perf_counter()
        try:
            run = engine.run_checks(args["gpkg"], only=[rid], rules=rules)
        except Exception as e:
            status[rid] = f"error ({type(e).__name__}: {str(e)[:300]})"
            res.setdefault("tracebacks", {})[rid] = traceback.format_exc()[-3000:]
            continue
        res["rule_s"][rid] = time.perf_counter() - t
        res["rule_fn_s"][rid] = run.seconds.get(rid)
        f = run.findings
        frames.append(pd.DataFrame({"rule_id": f["rule_id"].astype(object), "layer_a": f["layer_a"].astype(object),
                                    "uid_a": f["uid_a"].astype(object), "uid_b": f["uid_b"].astype(object),
                                    "measured": f["measured"].astype(float),
                                    "certainty": f["certainty"].astype(object)}))
    res["findings_rows"] = {rid: int(sum((fr["rule_id"] == rid).sum() for fr in frames)) for rid in res["rule_s"]}
    return pd.concat(frames, ignore_index=True) if frames else None


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
