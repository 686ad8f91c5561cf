"""The shared checks in PostGIS with GiST indexes, in a throwaway cluster
(pgcluster.throwaway_cluster), max_parallel_workers_per_gather = 2.

Loading: pyogrio reads the layers, psycopg COPY (text, hex WKB) writes them;
the working tables (peers_sql.prepare_sql) get GiST indexes and ANALYZE.
"""
from __future__ import annotations

import io
import time

from . import peers_sql
from .pgcluster import throwaway_cluster

GEOM_TYPE = {"pipe_segment": "LineString", "pipe_point": "Point", "tree": "Point"}


def _copy_frame(con, table, df, srid=4547, geom_type="Geometry"):
    cols = [c for c in df.columns if c != "wkb"]
    types = []
    for c in cols:
        k = str(df[c].dtype)
        types.append("double precision" if k in ("Float64", "float64") else "text")
    con.execute(f"CREATE UNLOGGED TABLE {table} ({', '.join(f'{c} {t}' for c, t in zip(cols, types))}, "
                f"geom geometry({geom_type}, {srid}))")
    out = df[cols].copy()
    out["geom"] = [b.hex() for b in df["wkb"]]
    buf = io.StringIO()
    out.to_csv(buf, sep="\t", header=False, index=False, na_rep="\\N")
    data = buf.getvalue().encode()
    with con.cursor().copy(f"COPY {table} FROM STDIN") as cp:
        for i in range(0, len(data), 1 << 24):
            cp.write(data[i:i + (1 << 24)])


def run(gpkg: str, rules, only=None, log=print, conninfo: str = None) -> dict:
    if conninfo is None:
        with throwaway_cluster() as ci:
            return run(gpkg, rules, only=only, log=log, conninfo=ci)
    import pandas as pd
    import psycopg

    out = {"queries": {}, "findings": {}}
    with psycopg.connect(conninfo, autocommit=True) as con:
        out["server"] = con.execute("SELECT version()").fetchone()[0].split(",")[0]
        out["postgis"] = con.execute("SELECT postgis_lib_version()").fetchone()[0]
        t0 = time.perf_counter()
        frames = {name: peers_sql.read_raw(gpkg, name) for name in peers_sql.RAW_COLUMNS}
        peers_sql.check_city_assumptions(frames)
        out["read_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        raw = {}
        for name, df in frames.items():
            _copy_frame(con, f"raw_{name}", df, geom_type=GEOM_TYPE.get(name, "Polygon"))
            raw[name] = f"raw_{name}"
        del frames
        prof = peers_sql.Profiles(rules)
        for stmt in peers_sql.prepare_sql(rules, prof, raw):
            con.execute(stmt.replace("CREATE TABLE", "CREATE UNLOGGED TABLE"))
        for name, df in peers_sql.requirement_frames(rules, prof).items():
            cols = list(df.columns)
            con.execute(f"CREATE UNLOGGED TABLE {name} ("
                        + ", ".join(f"{c} {'text' if c == 'kind' else ('double precision' if c == 'req' else 'integer')}"
                                    for c in cols) + ")")
            buf = io.StringIO()
            df.to_csv(buf, sep="\t", header=False, index=False)
            with con.cursor().copy(f"COPY {name} FROM STDIN") as cp:
                cp.write(buf.getvalue().encode())
            con.execute(f"CREATE INDEX ON {name} ({', '.join(c for c in cols if c != 'req')})")
        for name in raw.values():
            con.execute(f"DROP TABLE {name}")
        out["load_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        for t in ("pipe", "road", "pt", "tree", "stall", "lane", "bld"):
            con.execute(f"CREATE INDEX {t}_gix ON {t} USING GIST (geom)")
        for t in ("pipe", "road", "pt", "tree", "stall", "lane", "bld", "req_h", "req_tree", "req_bld"):
            con.execute(f"ANALYZE {t}")
        out["index_s"] = time.perf_counter() - t2
        con.execute("SET max_parallel_workers_per_gather = 2")
        max_w = con.execute("SELECT COALESCE(max(w), 0) FROM pipe").fetchone()[0]
        max_r = con.execute("SELECT COALESCE(max(r), 0) FROM pt").fetchone()[0]
        for rid, sql in peers_sql.queries(rules, max_w, max_r).items():
            if only and rid not in only:
                continue
            t = time.perf_counter()
            con.execute(f"CREATE UNLOGGED TABLE res AS {sql}")
            dt = time.perf_counter() - t
            cur = con.execute("SELECT layer_a, uid_a, uid_b, m FROM res")
            df = pd.DataFrame(cur.fetchall(), columns=["layer_a", "uid_a", "uid_b", "m"])
            con.execute("DROP TABLE res")
            out["queries"][rid] = {"seconds": dt, "rows": len(df)}
            out["findings"][rid] = df
            log(f"  postgis {rid}: {dt:.2f} s, {len(df):,} rows")
    return out
