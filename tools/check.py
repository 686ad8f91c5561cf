"""``renewal-planner check``: run the engine, merge into the project, report.

Shared by the command line and the Processing algorithm.
"""
from __future__ import annotations

import csv
import json
import os
import sys

from ..layers.errors import InputError
from ..layers.project import is_pg, require_project

CSV_COLUMNS = ["conflict_id", "rule_id", "severity", "certainty", "layer_a", "uid_a", "layer_b",
               "uid_b", "measured", "required", "unit", "review", "message_en"]
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def default_dem(project: str):
    cand = os.path.splitext(project)[0] + "_dem.tif"
    return cand if os.path.isfile(cand) else None


def check_project(project: str, rules=None, only=None, dem=None, area=None, progress=None,
                  is_cancelled=None):
    """Run the checks and merge them into the project. Returns (run, rows).

    ``rows``: one dict per finding with the CSV columns (review as merged).
    Bad input raises InputError before anything is written.
    """
    from . import results
    from .engine import run_checks

    if is_pg(project):  # one transaction: layers read from one snapshot, results written at once
        from ..layers import pg

        require_project(project)
        if dem is not None and not os.path.isfile(dem):
            raise InputError("DEM file not found", file=dem)
        with pg.session(project, lock_conflicts=True):
            run = run_checks(project, rules_path=rules, only=only, dem=dem, area=area,
                             progress=progress, is_cancelled=is_cancelled)
            reviews = results.merge_run(project, run, area_geometry=run.area_geometry)
        return run, _rows(run, reviews), reviews["_counts"]
    project = os.path.abspath(project)
    require_project(project)
    if dem is not None and not os.path.isfile(dem):
        raise InputError("DEM file not found", file=dem)
    dem = dem or default_dem(project)
    run = run_checks(project, rules_path=rules, only=only, dem=dem, area=area, progress=progress,
                     is_cancelled=is_cancelled)
    reviews = results.merge_run(project, run, area_geometry=run.area_geometry)
    return run, _rows(run, reviews), reviews["_counts"]


def _rows(run, reviews):
    """One dict per finding with the CSV columns (built column-wise: to_dict of
    the whole findings frame took seconds per 100k findings)."""
    f = run.findings
    n = len(f)
    cols = {c: (f[c].tolist() if c in f.columns else [None] * n) for c in CSV_COLUMNS if c != "review"}
    cols["review"] = [reviews.get(cid, "open") for cid in cols["conflict_id"]]
    return [dict(zip(CSV_COLUMNS, vals)) for vals in zip(*(cols[c] for c in CSV_COLUMNS))]


def _clean(v):
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, float):
        return round(v, 4)
    return v


def check_command(args) -> int:
    run, rows, counts = check_project(args.project, rules=args.rules, only=args.only, dem=args.dem,
                                      area=args.area)
    if args.certain_only:
        rows = [r for r in rows if r["certainty"] == "certain"]
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            w.writeheader()
            for r in rows:
                w.writerow({k: _clean(v) for k, v in r.items()})
    out = sys.stderr if args.json else sys.stdout
    if args.json:
        json.dump([{k: _clean(v) for k, v in r.items()} for r in rows], sys.stdout,
                  ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    for line in summary_lines(run, rows, counts):
        print(line, file=out)
    if args.fail_on:
        limit = SEVERITY_RANK[args.fail_on]
        if any(SEVERITY_RANK.get(r["severity"], 0) >= limit and r["review"] != "waived" for r in rows):
            return 1
    return 0


def summary_lines(run, rows, counts=None):
    from collections import Counter

    by_rule = Counter(r["rule_id"] for r in rows)
    certain = Counter(r["rule_id"] for r in rows if r["certainty"] == "certain")
    lines = [f"rules profile: {run.profile}"]
    width = max(len(r) for r in run.rule_ids) if run.rule_ids else 10
    for rid in run.rule_ids:
        secs = run.seconds.get(rid, 0.0)
        lines.append(f"  {rid:<{width}}  {by_rule.get(rid, 0):6d} findings "
                     f"({certain.get(rid, 0)} certain)  {secs:6.2f} s")
    lines.append(f"total: {len(rows)} findings")
    if counts:
        lines.append(f"conflict table: {counts['new']} new, {counts['seen_again']} seen again, "
                     f"{counts['resolved']} resolved, {counts['reopened']} reopened")
    return lines
