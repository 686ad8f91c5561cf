"""`make bench`: the engine against DuckDB spatial and PostGIS on a synthetic city.

    python -m renewal_planner.bench [--segments N] [--quick] [--no-postgis] [--no-duckdb]
                                    [--no-report] [--no-imports] [--no-pg-store]

Then the report, import (beside ogr2ogr) and PostGIS-store benchmarks, each a
section of the same results file.

Every measured job runs in a fresh process (bench/worker.py) so its peak memory
is its own. Results: a table on stdout, and build/bench/results-<N>.json / .md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import subprocess
import sys
import time

from . import city
from .compare import compare, compare_peers

TARGET_S = 30.0
TARGET_MB = 6144.0
JOB_TIMEOUT = 900


def log(*a):
    print(*a, flush=True)


def run_job(job: dict, tag: str, outdir: str) -> dict:
    out = os.path.join(outdir, "jobs", tag)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    job = dict(job, out=out)
    for ext in (".json", ".pkl"):
        if os.path.exists(out + ext):
            os.unlink(out + ext)
    t = time.perf_counter()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        p = subprocess.run([sys.executable, "-m", "renewal_planner.bench.worker", json.dumps(job)],
                           capture_output=True, text=True, timeout=JOB_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout after {JOB_TIMEOUT} s", "process_s": JOB_TIMEOUT}
    wall = time.perf_counter() - t
    if not os.path.exists(out + ".json"):
        return {"ok": False, "error": f"worker died (exit {p.returncode}): {p.stderr[-1500:]}",
                "process_s": wall}
    with open(out + ".json") as f:
        res = json.load(f)
    with open(out + ".pkl", "rb") as f:
        res["_findings"] = pickle.load(f)
    res["process_s"] = wall
    res["stderr_tail"] = p.stderr[-1500:]
    return res


def engine_total(res) -> float:
    """Wall seconds of the engine's run_checks (read + pipe model + rules on all workers + merge)."""
    if res.get("total_s") is not None:
        return res["total_s"]
    return res.get("read_s", 0) + res.get("prepare_s", 0) + sum(res.get("rule_s", {}).values())


def fmt(x, nd=2):
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m renewal_planner.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100k segments only, no PostGIS")
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--per-rule", action="store_true",
                    help="also run each rule in its own process (own peak memory; default only up to 200k "
                         "segments: at 1M every job re-reads the city)")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--workers", type=int, default=None,
                    help="cores for the engine (default: RENEWAL_PLANNER_WORKERS or min(2, cpus))")
    ap.add_argument("--compare-serial", action="store_true",
                    help="also run the engine on one core (workers=1) and report both")
    ap.add_argument("--alone", action=argparse.BooleanOptionalAction, default=True,
                    help="also time each rule shared with the SQL peers alone, with every core available to it "
                         "(one process: layers read and pipe model prepared once, then each rule 3 times; the "
                         "like-for-like figure for the peers' query seconds)")
    ap.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                    help="then the report benchmark (bench/report_bench.py: 10,000 findings to PDF, HTML, XLSX)")
    ap.add_argument("--imports", action=argparse.BooleanOptionalAction, default=True,
                    help="then the import benchmark (bench/import_bench.py: a point-table CSV and a line "
                         "shapefile of as many rows as segments, and a tenth of that, beside ogr2ogr; also into "
                         "PostGIS unless --quick or --no-postgis)")
    ap.add_argument("--pg-store", action=argparse.BooleanOptionalAction, default=True,
                    help="then the PostGIS store benchmark (bench/pg_store_bench.py: the city in a PostGIS "
                         "project, checked there and as GeoPackage, plus a one-area check); off with --quick "
                         "or --no-postgis")
    a = ap.parse_args(argv)
    n = 100_000 if a.quick else a.segments
    base_n = max(n // 10, 1000)
    use_pg = not (a.quick or a.no_postgis)
    use_duck = not a.no_duckdb
    outdir = city.city_dir()
    os.makedirs(outdir, exist_ok=True)
    t_all = time.perf_counter()

    from ..tools.engine.registry import RULES
    from .peers_sql import SQL_RULES

    path = city.cached_city(n, a.seed, log=log)
    base_path = city.cached_city(base_n, a.seed, log=log)
    report = {"when": dt.datetime.now().isoformat(timespec="seconds"), "segments": n, "seed": a.seed,
              "counts": city.counts(n), "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "targets": {"total_s": TARGET_S, "peak_mb": TARGET_MB}}

    log(f"engine, all rules together, {n:,} segments ...")
    eng_all = run_job({"job": "engine", "gpkg": path, "workers": a.workers}, f"engine-all-{n}", outdir)
    eng_serial = None
    if a.compare_serial:
        log(f"engine, all rules together, one core, {n:,} segments ...")
        eng_serial = run_job({"job": "engine", "gpkg": path, "workers": 1}, f"engine-serial-{n}", outdir)
    log(f"engine, all rules together, {base_n:,} segments (scaling) ...")
    eng_base = run_job({"job": "engine", "gpkg": base_path, "workers": a.workers}, f"engine-all-{base_n}", outdir)
    per_rule = {}
    if a.per_rule or n <= 200_000:
        for rid in RULES:
            if eng_all.get("status", {}).get(rid, "").startswith("not built"):
                continue
            log(f"engine, {rid} alone ...")
            per_rule[rid] = run_job({"job": "engine", "gpkg": path, "rules": [rid], "workers": 1},
                                    f"engine-{rid}-{n}", outdir)
    eng_alone = None
    if a.alone:
        shared_ids = [r for r in RULES if r in SQL_RULES
                      and not eng_all.get("status", {}).get(r, "").startswith("not built")]
        if shared_ids:
            log(f"engine, each shared rule alone on all cores, {n:,} segments ...")
            eng_alone = run_job({"job": "engine_alone", "gpkg": path, "rules": shared_ids,
                                 "threads": a.workers, "reps": 3}, f"engine-alone-{n}", outdir)
    peers = {}
    if use_duck:
        log("DuckDB spatial ...")
        peers["duckdb"] = run_job({"job": "duckdb", "gpkg": path}, f"duckdb-{n}", outdir)
    if use_pg:
        log("PostGIS (throwaway cluster) ...")
        peers["postgis"] = run_job({"job": "postgis", "gpkg": path}, f"postgis-{n}", outdir)

    # ---- compare and tabulate ---------------------------------------------------------
    ef = eng_all.get("_findings")
    rows = []
    for rid in RULES:
        st = eng_all.get("status", {}).get(rid, "error" if not eng_all.get("ok") else "?")
        r = {"rule": rid, "engine_status": st.split(" (")[0], "engine_detail": st,
             "engine_s": eng_all.get("rule_s", {}).get(rid)}
        pr = per_rule.get(rid)
        if pr:
            r["alone_s"] = pr.get("rule_s", {}).get(rid)
            r["alone_read_s"] = (pr.get("read_s") or 0) + (pr.get("prepare_s") or 0)
            r["alone_peak_mb"] = pr.get("peak_rss_mb")
            r["alone_cores"] = (pr.get("cpu_s") / pr["wall_s"]) if pr.get("wall_s") else None
        r["findings"] = eng_all.get("findings_rows", {}).get(rid)
        al = (eng_alone or {}).get("alone", {}).get(rid)
        if al:
            r["solo_s"], r["solo_cpu_s"], r["solo_first_s"] = al["wall_s"], al["cpu_s"], al["first_s"]
        for name, res in peers.items():
            q = res.get("queries", {}).get(rid)
            if q is None:
                continue
            r[f"{name}_s"] = q["seconds"]
            if r.get("solo_s"):  # like with like: the rule alone vs the query alone
                r[f"{name}_ratio"] = q["seconds"] / r["solo_s"]
            if ef is not None and r["engine_s"] is not None and res.get("_findings") is not None:
                pf = res["_findings"]
                r[f"{name}_cmp"] = compare(ef[ef["rule_id"] == rid], pf[pf["rule_id"] == rid])
        if "duckdb" in peers and "postgis" in peers and rid in SQL_RULES:
            d, p = peers["duckdb"].get("_findings"), peers["postgis"].get("_findings")
            if d is not None and p is not None:
                r["duckdb_vs_postgis_diff"] = compare_peers(d[d["rule_id"] == rid], p[p["rule_id"] == rid])
        rows.append(r)
    report["rules"] = rows
    report["engine_all"] = {k: v for k, v in eng_all.items() if not k.startswith("_")}
    report["engine_all"]["total_s"] = engine_total(eng_all)
    if eng_serial is not None:
        report["engine_serial"] = {k: v for k, v in eng_serial.items() if not k.startswith("_")}
        report["engine_serial"]["total_s"] = engine_total(eng_serial)
    report["engine_base"] = {k: v for k, v in eng_base.items() if not k.startswith("_")}
    report["engine_base"]["total_s"] = engine_total(eng_base)
    if eng_alone is not None:
        report["engine_alone"] = {k: v for k, v in eng_alone.items() if not k.startswith("_")}
    report["per_rule_jobs"] = {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")}
                               for k, v in per_rule.items()}
    report["peers"] = {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in peers.items()}
    tb, tn = report["engine_base"]["total_s"], report["engine_all"]["total_s"]
    same_rules = [r for r in rows if r["engine_status"] == "ok"]
    report["scaling"] = {"base_segments": base_n, "segments": n, "base_s": tb, "s": tn,
                         "ratio": (tn / tb) if tb else None, "linear_ratio": n / base_n,
                         "base_rules": sorted(report["engine_base"].get("rule_s", {})),
                         "rules": sorted(report["engine_all"].get("rule_s", {}))}
    report["bench_wall_s"] = time.perf_counter() - t_all
    md = render(report, peers)
    print(md)
    if a.report:
        report["report_bench"] = run_report_bench()
        md += "\n## Report: 10,000 findings (bench/report_bench.py)\n\n```\n" + report["report_bench"] + "```\n"
    if a.imports:
        report["import_bench"] = run_section("import benchmark", "import_bench", n, pg=use_pg)
        md += "\n" + report["import_bench"] + "\n"
    if a.pg_store and use_pg:
        report["pg_store_bench"] = run_section("PostGIS store benchmark", "pg_store_bench", n)
        md += "\n" + report["pg_store_bench"] + "\n"
    with open(os.path.join(outdir, f"results-{n}.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    with open(os.path.join(outdir, f"results-{n}.md"), "w") as f:
        f.write(md)
    log(f"written: {os.path.join(outdir, f'results-{n}.json')} and .md")
    del same_rules
    return 0


def run_report_bench() -> str:
    """bench/report_bench.py in its own process (a QGIS application of its own); its table, also printed."""
    log("report benchmark: 10,000 findings to PDF, HTML and XLSX ...")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        p = subprocess.run([sys.executable, "-m", "renewal_planner.bench.report_bench"], capture_output=True,
                           text=True, timeout=JOB_TIMEOUT, env=env)
        text = p.stdout if p.returncode == 0 else f"{p.stdout}failed (exit {p.returncode}): {p.stderr[-1500:]}\n"
    except subprocess.TimeoutExpired:
        text = f"report benchmark: timeout after {JOB_TIMEOUT} s\n"
    log(text)
    return text


def run_section(title: str, module: str, n: int, **kw) -> str:
    """bench/<module>.py's ``run(n, log)`` in this process (it starts its own
    subprocesses and servers); its markdown, or what went wrong."""
    import importlib
    import traceback

    log(f"{title}, {n:,} ...")
    try:
        text = importlib.import_module(f"{__package__}.{module}").run(n, log=log, **kw)
        log(text)
        return text
    except Exception as e:  # one section failing must not lose the others' figures
        text = f"## {title}\n\nfailed: {type(e).__name__}: {e}\n\n```\n{traceback.format_exc()[-2000:]}```\n"
        log(text)
        return text


def fastest_verdict(r) -> str:
    """'yes' when the engine alone beats every peer that ran the rule, with the
    same findings; else what fails."""
    peers = [nm for nm in ("duckdb", "postgis") if r.get(f"{nm}_s") is not None]
    if not peers:
        return "—"
    if r.get("solo_s") is None:
        return "not measured"
    slower = [nm for nm in peers if r[f"{nm}_s"] <= r["solo_s"]]
    differ = [nm for nm in peers if r.get(f"{nm}_cmp") and not r[f"{nm}_cmp"]["same"]]
    if not slower and not differ:
        return "yes"
    out = []
    if slower:
        out.append("no, slower than " + ", ".join(slower))
    if differ:
        out.append("findings differ from " + ", ".join(differ))
    return "; ".join(out)


def render(rep, peers) -> str:
    n = rep["segments"]
    L = [f"# Renewal Planner benchmark: {n:,} pipe segments (seed {rep['seed']})", "",
         "counts: " + ", ".join(f"{k} {v:,}" for k, v in rep["counts"].items()), "",
         "Columns. **engine alone s**: the rule alone with every core available to it (threads), layers already "
         "read and the pipe model prepared (as the peers' tables are loaded), its findings with ids, messages and "
         "geometry included; median of 3 runs (first run in brackets: includes loading compiled kernels). "
         "**DuckDB s** / **PostGIS s**: the peer's join+measure query alone (CREATE TABLE AS; DuckDB on "
         "2 threads), loading separate. **ratio** = peer s / engine alone s (> 1: the engine is faster). "
         "**in all-rules run s**: the same rule inside one `run_checks` of all rules, rules side by side on the "
         "cores (one core each), so not comparable with the peers. **per-rule process**: the rule in its own "
         "`run_checks` process (rule s, read+prepare s, peak MB, cores used).", "",
         "| rule | engine alone s (CPU s) | DuckDB s | PostGIS s | DuckDB / engine | PostGIS / engine | engine fastest? |"
         " in all-rules run s | same findings? | findings | per-rule process | status |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rep["rules"]:
        same = []
        for name in ("duckdb", "postgis"):
            c = r.get(f"{name}_cmp")
            if c:
                same.append(f"{name[:4]}: {'yes' if c['same'] else 'NO'} (sql {c['sql']:,}, miss {c['missing']}, "
                            f"extra certain {c['extra_certain']}, band {c['extra_possible']}, "
                            f"measure {c['bad_measured']})")
        alone = "—"
        if r.get("alone_s") is not None:
            alone = (f"{r['alone_s']:.2f} ({r['alone_read_s']:.1f}, {r['alone_peak_mb']:.0f}, "
                     f"{r['alone_cores']:.2f})")
        solo = "—"
        if r.get("solo_s") is not None:
            solo = f"**{r['solo_s']:.2f}** ({r['solo_cpu_s']:.2f}) [{r['solo_first_s']:.2f}]"
        fastest = fastest_verdict(r)
        st = r["engine_status"] if r["engine_status"] == "ok" else r["engine_detail"][:120]
        L.append(f"| {r['rule']} | {solo} | {fmt(r.get('duckdb_s'))} | {fmt(r.get('postgis_s'))} | "
                 f"{fmt(r.get('duckdb_ratio'), 1)} | {fmt(r.get('postgis_ratio'), 1)} | {fastest} | "
                 f"{fmt(r.get('engine_s'))} | {'; '.join(same) or '—'} | "
                 f"{fmt(r.get('findings'))} | {alone} | {st} |")
    verdict = [(r["rule"], fastest_verdict(r)) for r in rep["rules"]
               if r.get("duckdb_s") is not None or r.get("postgis_s") is not None]
    if verdict:
        L += ["", "Verdict (engine alone vs each peer's query, same findings required): " + "; ".join(
            f"{rid}: {v}" for rid, v in verdict)]
    ea = rep["engine_all"]
    L += ["", "## Totals", ""]

    def engine_line(label, e):
        rule_sum = sum(e.get("rule_s", {}).values())
        cpu_sum = sum(e.get("rule_cpu_s", {}).values())
        layers = ", ".join(f"{k} {v:.1f}" for k, v in sorted(e.get("read_layer_s", {}).items(),
                                                              key=lambda kv: -kv[1]) if v >= 0.05)
        per = {}
        for r, c in e.get("rule_cpu_s", {}).items():
            w = e.get("rule_worker", {}).get(r, "main")
            per[w] = per.get(w, 0.0) + c
        path = (f"; rule CPU per worker: " + ", ".join(f"{w} {v:.1f} s" for w, v in sorted(per.items()))) if per else ""
        return (f"- {label}: read {fmt(e.get('read_s'))} s ({layers}) + pipe model {fmt(e.get('prepare_s'))} s + "
                f"rules {fmt(e.get('rules_wall_s'))} s wall (sum of the rules' own seconds {fmt(rule_sum)} s, "
                f"CPU {fmt(cpu_sum)} s{path}; {e.get('workers')} worker(s), {e.get('mode')}) + merge "
                f"{fmt(e.get('finish_s'))} s = **{fmt(e.get('total_s'))} s** (target < {TARGET_S:.0f} s; process wall "
                f"incl. imports {fmt(e.get('wall_s'))} s); peak memory **{fmt(e.get('peak_rss_mb'), 0)} MB**"
                f" (+ forked worker {fmt(e.get('children_peak_rss_mb'), 0)} MB, shared pages counted in both; "
                f"target < {TARGET_MB:.0f} MB); cores used {fmt((e.get('cpu_s') or 0) / (e.get('wall_s') or 1))}")

    L.append(engine_line("engine, all built rules in one run", ea))
    if rep.get("engine_serial"):
        L.append(engine_line("engine on one core (workers=1)", rep["engine_serial"]))
    shared = [r for r in rep["rules"] if r.get("duckdb_s") is not None or r.get("postgis_s") is not None]
    for name, res in rep["peers"].items():
        if not res.get("ok"):
            L.append(f"- {name}: FAILED: {res.get('error')}")
            continue
        q = sum(v["seconds"] for v in res.get("queries", {}).values())
        extra = f" + indexes {fmt(res.get('index_s'))} s" if "index_s" in res else ""
        L.append(f"- {name}: read {fmt(res.get('read_s'))} s + load {fmt(res.get('load_s'))} s{extra} + "
                 f"queries {fmt(q)} s; python-side peak {fmt(res.get('peak_rss_mb'), 0)} MB"
                 + (f"; {res.get('server')}, PostGIS {res.get('postgis')}" if "server" in res else ""))
    if shared:
        es = sum(r.get("solo_s") or 0 for r in shared)
        L.append(f"- shared rules: engine alone {fmt(es)} s" + "".join(
            f", {nm} {fmt(sum(r.get(nm + '_s') or 0 for r in shared))} s" for nm in rep["peers"]))
    sc = rep["scaling"]
    L.append(f"- scaling: {sc['base_segments']:,} -> {sc['segments']:,} segments: engine total "
             f"{fmt(sc['base_s'])} s -> {fmt(sc['s'])} s, ratio **{fmt(sc['ratio'])}** (linear = "
             f"{sc['linear_ratio']:.0f})" + ("" if sc["base_rules"] == sc["rules"] else
                                             " (rule sets differ between the runs!)"))
    fails = [f"{r['rule']}: {r['engine_detail']}" for r in rep["rules"] if r["engine_status"] != "ok"]
    if fails:
        L += ["", "## Rules not measured", ""] + [f"- {x}" for x in fails]
    L += ["", f"bench wall time {rep['bench_wall_s']:.0f} s", ""]
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
