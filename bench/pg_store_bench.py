"""Issue 7, part 6: the benchmark city in a PostGIS project, checked.

    python -m renewal_planner.bench.pg_store_bench [--segments N]   (default 1,000,000)

What it does, in one run:

1. the cached city (bench/city.py cached_city) is copied to a work GeoPackage
   and a few renovation areas (300-450 m across, in busy parts of the city)
   are added to it (the cached city itself is never changed);
2. a throwaway PostgreSQL cluster (bench/pgcluster.py) is started, a project
   made with ``renewal-planner init postgresql://...?schema=city`` and every
   layer of the work GeoPackage loaded into it with ``layers/pg.bulk_load``
   (CSV COPY; the loading time is reported separately, not in the checks);
3. ``check`` on the GeoPackage and ``check`` on the PostGIS project (all rules,
   as the command line runs them, each in a fresh process), and a one-area
   check (``check --area UID``) on both. Each check process reports the seconds
   of ``check_project`` (imports aside), the rows it read per layer and a hash of
   its findings (the same findings in both stores?).

Targets: PostGIS check within 2x the GeoPackage check; one-area check < 2 s.
Writes build/bench/pg-store-results.md; ``run(segments, log) -> markdown``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

AREA_PREFIX = "BENCH-RA"
# (x, y) as fractions of the city's extent, and the size across in metres
AREAS = [(0.31, 0.33, 320.0), (0.50, 0.52, 450.0), (0.68, 0.41, 380.0), (0.42, 0.71, 300.0),
         (0.61, 0.63, 410.0)]
TARGET_RATIO = 2.0
TARGET_AREA_S = 2.0
TIMEOUT = 3600


def _out_dir() -> str:
    from .city import city_dir

    return city_dir()


def area_frame(extent, crs):
    """Renovation areas as a GeoDataFrame: irregular octagons at AREAS of ``extent``."""
    import geopandas as gpd
    import numpy as np
    import shapely

    x0, y0, x1, y1 = extent
    rows, geoms = [], []
    for i, (fx, fy, size) in enumerate(AREAS, 1):
        cx, cy = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
        ang = np.linspace(0, 2 * np.pi, 8, endpoint=False) + 0.2 * i
        r = size / 2 * (0.85 + 0.15 * np.cos(3 * ang + i))
        geoms.append(shapely.Polygon(np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)])))
        rows.append({"uid": f"{AREA_PREFIX}{i}", "status": "planned", "source": "bench", "community": f"试点小区{i}",
                     "neighbourhood": f"社区{i}", "year": 2025, "batch": "bench", "buildings": 12 + i,
                     "households": 400 + 37 * i, "floor_area_m2": 30000.0 + 1000 * i, "phase": "planned"})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


def prepare_gpkg(city_gpkg: str, work: str, log=print) -> str:
    """The cached city copied to ``work`` with the bench's renovation areas added."""
    import pyogrio

    from ..layers import io

    if os.path.exists(work):
        os.unlink(work)
    shutil.copy(city_gpkg, work)
    info = pyogrio.read_info(work, layer="pipe_segment", force_total_bounds=True)
    n = io.write_layer(work, "renovation_area", area_frame(info["total_bounds"], io.project_crs(work)))
    log(f"work GeoPackage {work}: {n} renovation areas added")
    return work


def load_pg(gpkg: str, project: str, log=print) -> dict:
    """Every data-model layer of ``gpkg`` into the PostGIS project: {layer: (rows, read s, copy s)}."""
    from ..layers import io, pg, schema

    out = {}
    present = set(io.list_layers(gpkg))
    for lyr in schema.model().layers.values():
        if lyr.name not in present or not lyr.thematic:
            continue
        t = time.perf_counter()
        df = io.read_layer(gpkg, lyr.name)
        tr = time.perf_counter() - t
        t = time.perf_counter()
        n = pg.bulk_load(project, lyr.name, df) if len(df) else 0
        tc = time.perf_counter() - t
        out[lyr.name] = (n, tr, tc)
        log(f"  {lyr.name}: {n:,} rows, read {tr:.1f} s, COPY {tc:.1f} s")
    return out


def read_times(gpkg: str, project: str, layers, repeat: int = 2, log=print) -> dict:
    """{layer: (rows, GeoPackage s, PostGIS s)}: io.read_layer of the whole layer, best of ``repeat``."""
    import gc

    from ..layers import io

    out = {}
    for name in layers:
        best = []
        for proj in (gpkg, project):
            t_best, n = float("inf"), 0
            for _ in range(repeat):
                gc.collect()
                t = time.perf_counter()
                n = len(io.read_layer(proj, name))
                t_best = min(t_best, time.perf_counter() - t)
            best.append(t_best)
        out[name] = (n, best[0], best[1])
        log(f"  {name}: {n:,} rows, GeoPackage {best[0]:.2f} s, PostGIS {best[1]:.2f} s")
    return out


def _check_in_process(project: str, area: str = None) -> dict:
    """One check (as ``renewal-planner check``), in a fresh process: the seconds
    of check_project, rows read per layer, findings and their hash."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "renewal_planner.bench.pg_store_bench", "--worker", project]
    if area:
        cmd += ["--area", area]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise RuntimeError(f"check worker failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
    line = [x for x in res.stdout.splitlines() if x.startswith("{")][-1]
    out = json.loads(line)
    out["process_s"] = wall
    return out


def worker(project: str, area: str = None) -> dict:
    t_import = time.perf_counter()
    import geopandas  # noqa: F401  (imports are not the check's time)
    import shapely  # noqa: F401

    from ..layers import io
    from ..tools import check, engine, results  # noqa: F401
    from ..tools.engine import (rule_buildings, rule_cover, rule_fire, rule_pipe_pairs,  # noqa: F401
                                rule_roads, rule_stalls, rule_trees, rule_works)

    if io._pg(project):
        import psycopg  # noqa: F401

    rows_read = {}
    real = io.read_layer

    def counting(project_, name, *a, **kw):
        df = real(project_, name, *a, **kw)
        rows_read[name] = rows_read.get(name, 0) + len(df)
        return df

    io.read_layer = counting
    imports = time.perf_counter() - t_import
    t = time.perf_counter()
    run, rows, counts = check.check_project(project, area=area)
    check_s = time.perf_counter() - t
    ids = sorted(r["conflict_id"] for r in rows)
    tm = run.timings if hasattr(run, "timings") else {}
    return {"check_s": check_s, "imports_s": imports, "findings": len(ids),
            "findings_sha": hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16],
            "rows_read": rows_read, "read_s": tm.get("read_s"), "rules_s": tm.get("rules_s"),
            "prepare_s": tm.get("prepare_s"), "mode": tm.get("mode"),
            "merge_s": check_s - (tm.get("total_s") or 0.0)}


def run(segments: int = 1_000_000, log=print, conninfo: str = None) -> str:
    """The whole benchmark; returns the markdown (also written to build/bench/pg-store-results.md)."""
    from ..layers import pg
    from .city import cached_city
    from .pgcluster import throwaway_cluster

    t_all = time.perf_counter()
    city_gpkg = cached_city(segments, log=log)
    work_dir = os.path.join(_out_dir(), "pgstore")
    os.makedirs(work_dir, exist_ok=True)
    gp = prepare_gpkg(city_gpkg, os.path.join(work_dir, f"city_n{segments}_areas.gpkg"), log=log)
    if conninfo is None:
        with throwaway_cluster() as ci:
            return _run(segments, gp, ci, log, t_all)
    return _run(segments, gp, conninfo, log, t_all)


def _run(segments, gp, conninfo, log, t_all) -> str:
    from .. import cli
    from ..layers import pg

    schema_name = f"city_{segments}"
    project = pg.project_string(conninfo, schema_name)
    with pg.connect(project, autocommit=True) as con:
        server = con.execute("SELECT version()").fetchone()[0].split(",")[0]
        con.execute(pg._sql().SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pg._sql().Identifier(schema_name)))
        con.execute("DELETE FROM public.layer_styles WHERE f_table_schema = %s", (schema_name,)) \
            if con.execute("SELECT to_regclass('public.layer_styles')").fetchone()[0] else None
    t = time.perf_counter()
    if cli.main(["init", project]) != 0:
        raise RuntimeError("renewal-planner init failed")
    init_s = time.perf_counter() - t
    log(f"init {init_s:.1f} s; loading the city into PostGIS")
    t = time.perf_counter()
    loaded = load_pg(gp, project, log=log)
    load_s = time.perf_counter() - t
    log(f"loaded in {load_s:.1f} s")

    log("whole-layer reads (io.read_layer, best of 2) ...")
    reads = read_times(gp, project, list(loaded), log=log)
    res = {}
    for key, proj, area in (("gpkg", gp, None), ("pg", project, None),
                            ("gpkg_area", gp, f"{AREA_PREFIX}2"), ("pg_area", project, f"{AREA_PREFIX}2")):
        log(f"check {key} ...")
        res[key] = _check_in_process(proj, area)
        log(f"  {res[key]['check_s']:.2f} s, {res[key]['findings']:,} findings, rows read "
            f"{sum(res[key]['rows_read'].values()):,}")
    md = _markdown(segments, server, init_s, load_s, loaded, res, time.perf_counter() - t_all, reads)
    path = os.path.realpath(os.path.join(_out_dir(), "pg-store-results.md"))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(md)
    log(md)
    log(f"written {path}")
    return md


def _markdown(segments, server, init_s, load_s, loaded, res, wall, reads=None) -> str:
    g, p, ga, pa = res["gpkg"], res["pg"], res["gpkg_area"], res["pg_area"]
    ratio = p["check_s"] / g["check_s"] if g["check_s"] else float("nan")
    total_rows = sum(v[0] for v in loaded.values())
    lines = [f"# PostGIS project store: {segments:,} pipe segments", "",
             f"server: {server}; city {total_rows:,} features in {len(loaded)} layers "
             f"(+{len(AREAS)} bench renovation areas)", "",
             "| step | GeoPackage s | PostGIS s | PostGIS / GeoPackage | target | same findings? | findings | "
             "rows read (PG) |",
             "|---|---|---|---|---|---|---|---|"]
    lines.append(f"| init (`renewal-planner init`) | — | {init_s:.2f} | — | — | — | — | — |")
    lines.append(f"| load (read GPKG + COPY) | — | {load_s:.2f} | — | — | — | — | — |")
    lines.append(f"| check, all rules | {g['check_s']:.2f} | {p['check_s']:.2f} | **{ratio:.2f}** | "
                 f"≤ {TARGET_RATIO:g}× {'ok' if ratio <= TARGET_RATIO else 'MISSED'} | "
                 f"{'yes' if g['findings_sha'] == p['findings_sha'] else 'NO'} | {p['findings']:,} | "
                 f"{sum(p['rows_read'].values()):,} |")
    ok = pa["check_s"] < TARGET_AREA_S
    lines.append(f"| check --area {AREA_PREFIX}2 | {ga['check_s']:.2f} | {pa['check_s']:.2f} | "
                 f"{pa['check_s'] / ga['check_s']:.2f} | < {TARGET_AREA_S:g} s {'ok' if ok else 'MISSED'} | "
                 f"{'yes' if ga['findings_sha'] == pa['findings_sha'] else 'NO'} | {pa['findings']:,} | "
                 f"{sum(pa['rows_read'].values()):,} |")
    lines += ["", "Check seconds: `tools.check.check_project` in a fresh process (Python imports aside: "
              f"GeoPackage {g['imports_s']:.1f} s, PostGIS {p['imports_s']:.1f} s); process wall incl. imports: "
              f"GeoPackage {g['process_s']:.1f} s / {ga['process_s']:.1f} s (area), PostGIS {p['process_s']:.1f} s / "
              f"{pa['process_s']:.1f} s (area).", "",
              "| phase | GeoPackage s | PostGIS s |", "|---|---|---|"]
    for k in ("read_s", "prepare_s", "rules_s", "merge_s"):
        lines.append(f"| {k[:-2]} | {_f(g.get(k))} | {_f(p.get(k))} |")
    lines.append(f"| mode | {g.get('mode')} | {p.get('mode')} |")
    lines += ["", "Load per layer (rows, read from GeoPackage s, COPY into PostGIS s):", ""]
    for name, (n, tr, tc) in loaded.items():
        lines.append(f"- {name}: {n:,} rows, read {tr:.2f} s, COPY {tc:.2f} s")
    if reads:
        lines += ["", "Whole-layer reads (`io.read_layer`, all columns, best of 2; PostGIS: one CSV COPY "
                  "parsed by pyarrow):", "", "| layer | rows | GeoPackage s | PostGIS s | PostGIS / GeoPackage |",
                  "|---|---|---|---|---|"]
        for name, (n, tg, tp) in reads.items():
            lines.append(f"| {name} | {n:,} | {tg:.2f} | {tp:.2f} | {tp / tg if tg else float('nan'):.2f} |")
        tg, tp = sum(v[1] for v in reads.values()), sum(v[2] for v in reads.values())
        lines.append(f"| all | {sum(v[0] for v in reads.values()):,} | {tg:.2f} | {tp:.2f} | "
                     f"{tp / tg if tg else float('nan'):.2f} |")
    lines += ["", f"One-area check, rows read from PostGIS per layer: "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(pa["rows_read"].items()))
              + f" (whole city: {sum(p['rows_read'].values()):,})", "",
              f"bench wall {wall:.0f} s", ""]
    return "\n".join(lines)


def _f(v):
    return "—" if v is None else f"{v:.2f}"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m renewal_planner.bench.pg_store_bench")
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--worker", metavar="PROJECT", help=argparse.SUPPRESS)
    ap.add_argument("--area", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.area)), flush=True)
        return 0
    run(args.segments, log=lambda *a: print(*a, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
