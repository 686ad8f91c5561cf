"""The shared checks in DuckDB's spatial extension (threads = 2), loaded from
the project GeoPackage through pyogrio (WKB handed over via pandas; ST_Read
crashes on this GeoPackage with DuckDB 1.5.5)."""
from __future__ import annotations

import glob
import os
import time

from . import peers_sql


def spatial_extension_path() -> str:
    import duckdb_extension_spatial

    here = os.path.dirname(duckdb_extension_spatial.__file__)
    found = sorted(glob.glob(os.path.join(here, "extensions", "*", "spatial.duckdb_extension")))
    if not found:
        raise RuntimeError(f"spatial.duckdb_extension not found under {here}")
    return found[-1]


def connect(threads: int = 2):
    import duckdb

    con = duckdb.connect()
    con.execute(f"LOAD '{spatial_extension_path()}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET enable_progress_bar = false")
    return con


def run(gpkg: str, rules, only=None, threads: int = 2, log=print) -> dict:
    """Load, prepare, run every shared query. Returns timings and findings frames."""
    con = connect(threads)
    out = {"threads": threads, "queries": {}, "findings": {}}
    t0 = time.perf_counter()
    frames = {name: peers_sql.read_raw(gpkg, name) for name in peers_sql.RAW_COLUMNS}
    peers_sql.check_city_assumptions(frames)
    out["read_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    raw = {}
    for name, df in frames.items():
        con.register(f"df_{name}", df)
        con.execute(f"CREATE TABLE raw_{name} AS SELECT * EXCLUDE (wkb), ST_GeomFromWKB(wkb) AS geom "
                    f"FROM df_{name}")
        con.unregister(f"df_{name}")
        raw[name] = f"raw_{name}"
    del frames
    prof = peers_sql.Profiles(rules)
    for stmt in peers_sql.prepare_sql(rules, prof, raw):
        con.execute(stmt)
    for name, df in peers_sql.requirement_frames(rules, prof).items():
        con.register(f"df_{name}", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM df_{name}")
        con.unregister(f"df_{name}")
    for name in raw.values():
        con.execute(f"DROP TABLE {name}")
    out["load_s"] = time.perf_counter() - t1
    max_w = con.execute("SELECT COALESCE(max(w), 0) FROM pipe").fetchone()[0]
    max_r = con.execute("SELECT COALESCE(max(r), 0) FROM pt").fetchone()[0]
    for rid, sql in peers_sql.queries(rules, max_w, max_r).items():
        if only and rid not in only:
            continue
        t = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE res AS {sql}")
        dt = time.perf_counter() - t
        df = con.execute("SELECT * FROM res").df()
        con.execute("DROP TABLE res")
        out["queries"][rid] = {"seconds": dt, "rows": len(df)}
        out["findings"][rid] = df
        log(f"  duckdb {rid}: {dt:.2f} s, {len(df):,} rows")
    con.close()
    return out
