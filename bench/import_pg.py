"""The import benchmark's PostGIS part (issue 4 beside issue 7): the same survey
files imported into a fresh PostGIS project, and ``ogr2ogr -f PostgreSQL``
of them as the like-for-like peer.

Uses the throwaway cluster of the PostGIS store benchmark (bench/pgcluster.py,
as bench/pg_store_bench.py does); every project is a new schema made with
``pg.init_project`` (what ``renewal-planner init postgresql://...`` runs).
Every timed job runs in a fresh process; its peak memory is the Python
process's own (VmHWM, bench/worker.py): the server's memory is not in it.

    python -m renewal_planner.bench.import_pg [--rows N]     (import_bench with --pg, 100,000 rows by default;
    writes build/bench/import-pg-results-<N>.md)
    python -m renewal_planner.bench.import_pg --pg-only --rows N [--per-record]
        (only the PostGIS part, at N rows, any size: our streamed import, or the per-record
        path with --per-record, beside ogr2ogr -f PostgreSQL; prints a markdown table)

A fresh project holding no pipes takes the streamed import (stream.py + importer/pg_stream.py:
chunks COPYed as they are validated, one transaction); ``--per-record`` forces the older
per-record path (whole plan in memory, COPY into a temporary table, INSERT ... SELECT).

From import_bench.run(pg=...): ``server_missing()``, ``cluster()``,
``timed_import(conninfo, path, tag)``, ``timed_ogr2ogr(conninfo, path, tag)``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

TIMEOUT = 3600


def server_missing():
    """Why no PostgreSQL + PostGIS server can be started here, or None."""
    from .pgcluster import bindir

    try:
        bindir()
    except RuntimeError as exc:
        return str(exc)
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed (make deps)"
    return None


def cluster():
    """The store benchmark's throwaway cluster (context manager yielding a conninfo)."""
    from .pgcluster import throwaway_cluster

    return throwaway_cluster()


def new_project(conninfo: str, schema_name: str) -> str:
    """A fresh, empty PostGIS project (the schema dropped first if it exists)."""
    from ..layers import pg

    project = pg.project_string(conninfo, schema_name)
    with pg.connect(project, autocommit=True) as con:
        con.execute(pg._sql().SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pg._sql().Identifier(schema_name)))
    pg.init_project(project, crs="EPSG:4547", styles=False)
    return project


def _drop_schema(conninfo: str, schema_name: str):
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema_name)))


def _run_job(args, timeout=TIMEOUT) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "renewal_planner.bench.import_pg", "--job"] + args,
                           capture_output=True, text=True, errors="replace", env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{args[0]} on {args[-1]}: timeout after {timeout} s") from None
    if p.returncode:
        raise RuntimeError(f"{args[0]} on {args[-1]} failed:\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t0
    return res


def timed_import(conninfo: str, path: str, tag: str, timeout=TIMEOUT, per_record=False) -> dict:
    """``import_files`` of ``path`` into a fresh project, in a fresh process:
    {wall_s, peak_rss_mb, records_in, accepted, rejected, by_layer, process_s}.
    ``per_record``: the per-record path (``stream=False``), else the default (streamed)."""
    schema_name = f"imp_{tag}"
    project = new_project(conninfo, schema_name)
    try:
        return _run_job(["import-per-record" if per_record else "import", project, path], timeout)
    finally:
        _drop_schema(conninfo, schema_name)


def timed_ogr2ogr(conninfo: str, path: str, tag: str, timeout=TIMEOUT) -> dict:
    """``ogr2ogr -f PostgreSQL`` of ``path`` into a fresh schema (COPY, spatial
    index, no validation): {wall_s, peak_rss_mb, process_s, rows}."""
    schema_name = f"ogr_{tag}"
    import psycopg

    _drop_schema(conninfo, schema_name)
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(psycopg.sql.Identifier(schema_name)))
    try:
        res = _run_job(["ogr2ogr", conninfo, schema_name, path], timeout)
        with psycopg.connect(conninfo) as con:  # what it loaded (a failed encoding would lose rows)
            res["rows"] = con.execute(psycopg.sql.SQL("SELECT count(*) FROM {}").format(
                psycopg.sql.Identifier(schema_name, "data"))).fetchone()[0]
        return res
    finally:
        _drop_schema(conninfo, schema_name)


def _job(kind, *args):
    res = {}
    if kind == "ogr2ogr":
        import resource

        conninfo, schema_name, path = args
        cmd = ["ogr2ogr", "-f", "PostgreSQL", f"PG:{conninfo}", path, "-lco", f"SCHEMA={schema_name}",
               "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid", "-nln", "data"]
        env = dict(os.environ, PG_USE_COPY="YES")
        if path.endswith(".csv"):  # easting in column Y, northing in column X (survey convention)
            cmd += ["-oo", "X_POSSIBLE_NAMES=Y", "-oo", "Y_POSSIBLE_NAMES=X", "-a_srs", "EPSG:4547"]
            env["PGCLIENTENCODING"] = "GBK"  # the CSV driver passes the file's GBK bytes on as they are
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env)
        res["wall_s"] = time.perf_counter() - t0
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    else:
        project, path = args
        from ..layers.importer import import_files
        from .worker import peak_rss_mb

        marks = {}

        def progress(_frac, msg):  # commit_plan says "writing" once the whole file is planned
            if msg == "writing" and "plan_s" not in marks:
                marks["plan_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        (s,) = import_files(project, [path], progress=progress,
                            stream=False if kind == "import-per-record" else None)
        res["wall_s"] = time.perf_counter() - t0
        res["plan_s"] = marks.get("plan_s")
        res["write_s"] = res["wall_s"] - marks["plan_s"] if "plan_s" in marks else None
        res.update({k: s[k] for k in ("records_in", "accepted", "rejected", "by_layer")})
        res["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(res, ensure_ascii=False))


def pg_only(rows: int, per_record=False, log=None) -> str:
    """Our import (streamed, or ``per_record``) and ``ogr2ogr -f PostgreSQL`` of the
    bench's files at ``rows``: a markdown table (wall s, ratio, peak RSS MB)."""
    from . import import_bench

    log = log or import_bench._log
    why = server_missing()
    if why:
        return f"PostGIS imports not measured: {why}."
    how = "per record" if per_record else "streamed"
    lines = [f"| file | rows | ogr2ogr -f PostgreSQL s | ours ({how}) s | ratio | ours peak MB | "
             "accepted | rejected |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    files = import_bench.data_files(rows)
    with cluster() as ci:
        for label, path in zip(("points CSV -> PostGIS", "lines shapefile -> PostGIS"), files):
            log(f"import_pg: {label} {rows} rows: ogr2ogr -f PostgreSQL")
            og = timed_ogr2ogr(ci, path, f"{rows}")
            log(f"import_pg: {label} {rows} rows: ours ({how})")
            ours = timed_import(ci, path, f"{rows}", per_record=per_record)
            lines.append(f"| {label} | {rows:,} | {og['wall_s']:.1f} | {ours['wall_s']:.1f} | "
                         f"{ours['wall_s'] / og['wall_s']:.2f} | {ours['peak_rss_mb']:.0f} | "
                         f"{ours['accepted']:,} | {ours['rejected']:,} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m renewal_planner.bench.import_pg", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pg-only", action="store_true", help="only the PostGIS imports, at --rows")
    ap.add_argument("--per-record", action="store_true", help="with --pg-only: the per-record path")
    ap.add_argument("--job", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.job:
        _job(*a.job)
        return 0
    if a.pg_only:
        print(pg_only(a.rows, per_record=a.per_record))
        return 0
    from . import import_bench

    print(import_bench.run(a.rows, pg=True, out=os.path.join(import_bench.ROOT, "build", "bench",
                                                              f"import-pg-results-{a.rows}.md")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
