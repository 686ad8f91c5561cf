"""Report benchmark: the demo district with its findings copied up to N
(default 10,000; every review status), then ``tools.report.write_report`` to
PDF, HTML and XLSX, timed (wall and CPU).

    .venv/bin/python -m renewal_planner.bench.report_bench [--n 10000] [--out DIR]

Target (issue 6): the 10,000-findings PDF within a minute.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time


def multiply_findings(project: str, n: int) -> int:
    """Copy the project's findings (new ids, review cycling through every status) up to n rows."""
    from ..layers import gpkgblob

    con = sqlite3.connect(project)
    gpkgblob.register_functions(con)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(conflict)") if r[1] != "fid"]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM conflict").fetchall()
        ci, ri = cols.index("conflict_id"), cols.index("review")
        new = []
        for k in range(max(0, n - len(rows))):
            r = list(rows[k % len(rows)])
            r[ci] = f"{r[ci]}-{k:05d}"
            r[ri] = ("open", "open", "accepted", "waived", "resolved")[k % 5]
            new.append(r)
        with con:
            con.executemany(f"INSERT INTO conflict ({', '.join(cols)}) VALUES "
                            f"({', '.join('?' * len(cols))})", new)
        return con.execute("SELECT count(*) FROM conflict").fetchone()[0]
    finally:
        con.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="report_bench")
    ap.add_argument("--n", type=int, default=10_000, help="findings (default 10,000)")
    ap.add_argument("--out", help="keep the project and reports here (default: a temporary folder)")
    ap.add_argument("--max-pages", type=int, default=None, help="atlas pages (default: the report's)")
    args = ap.parse_args(argv)

    from ..layers.qgis_env import qgis_app
    from ..tools import check, demo, report

    qgis_app()
    out = args.out or tempfile.mkdtemp(prefix="report-bench-")
    os.makedirs(out, exist_ok=True)
    built = demo.build_demo(os.path.join(out, "demo"))
    check.check_project(built["project"], dem=built.get("dem"))
    project = os.path.join(out, "report_bench.gpkg")
    shutil.copy(built["project"], project)
    total = multiply_findings(project, args.n)
    max_pages = report.DEFAULT_MAX_PAGES if args.max_pages is None else args.max_pages
    print(f"report benchmark: {total} findings, atlas pages at most {max_pages}")
    print(f"{'format':<6} {'wall s':>8} {'cpu s':>8} {'pages':>6} {'MB':>7}")
    for ext in ("pdf", "html", "xlsx"):
        path = os.path.join(out, f"report.{ext}")
        w0, c0 = time.perf_counter(), time.process_time()
        r = report.write_report(project, path, max_pages=max_pages)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(f"{ext:<6} {wall:8.1f} {cpu:8.1f} {r.get('pages', ''):>6} "
              f"{os.path.getsize(path) / 1e6:7.1f}")
    if not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
