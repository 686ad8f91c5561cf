"""Findings that survive: merge a check run into the project's ``conflict`` table.

- the same rule and the same features keep their ``conflict_id`` in every run;
- a finding seen again gets a new ``last_seen`` and fresh measurements, and
  keeps its review, reviewer, note and ``first_seen``;
- a finding of a rule that ran but that no longer occurs becomes ``resolved``;
  a reviewer's earlier decision is kept in ``previous_review`` (and restored if
  the finding comes back), the reviewer and note are never touched;
- everything is written in one transaction.
"""
from __future__ import annotations

import datetime as _dt
import sqlite3

import numpy as np

from ..layers import gpkgblob

TABLE = "conflict"
MEASURE_COLS = ["rule_id", "severity", "certainty", "layer_a", "uid_a", "layer_b", "uid_b",
                "measured", "required", "unit", "message_zh", "message_en", "rule_source",
                "rule_profile"]
REVIEWER_DECISIONS = ("accepted", "waived")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _srs_id(con) -> int:
    row = con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (TABLE,)).fetchone()
    return int(row[0]) if row else 0


def _val(x):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if np.isnan(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def merge_run(project: str, run, area_geometry=None, now: str = None) -> dict:
    """Merge ``run`` (engine CheckRun) into the conflict table.

    Returns {conflict_id: review} for the run's findings, and counts under
    the key '_counts' (new, seen_again, resolved, reopened).
    """
    now = now or now_iso()
    f = run.findings
    if _is_pg(project):
        return _merge_run_pg(project, run, area_geometry, now)
    con = sqlite3.connect(project, timeout=30)
    gpkgblob.register_functions(con)
    try:
        srs = _srs_id(con)
        existing = {}
        for cid, fid, review, prev, geom, rule in con.execute(
                f"SELECT conflict_id, fid, review, previous_review, geom, rule_id FROM {TABLE}"):
            existing[cid] = (fid, review, prev, geom, rule)
        blobs = gpkgblob.to_blobs(f.geometry.to_numpy() if len(f) else [], srs)
        updates, inserts, stale, reviews, counts = _plan_merge(
            existing, f, run.rule_ids, area_geometry, gpkgblob.from_blob, blobs, now)
        set_cols = ", ".join(f"{c} = ?" for c in MEASURE_COLS)
        with con:
            if updates:
                con.executemany(
                    f"UPDATE {TABLE} SET {set_cols}, geom = ?, last_seen = ?, review = ?, "
                    f"previous_review = ? WHERE fid = ?", updates)
            if inserts:
                con.executemany(
                    f"INSERT INTO {TABLE} (conflict_id, {', '.join(MEASURE_COLS)}, geom, review, "
                    f"first_seen, last_seen) VALUES ({', '.join('?' * (len(MEASURE_COLS) + 5))})",
                    inserts)
            if stale:
                con.executemany(
                    f"UPDATE {TABLE} SET review = 'resolved', previous_review = ? WHERE fid = ?", stale)
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, TABLE))
        reviews["_counts"] = counts
        return reviews
    finally:
        con.close()


def _plan_merge(existing, f, rule_ids, area_geometry, decode, geoms, now):
    """What a merge changes: (updates, inserts, stale, reviews, counts).

    ``existing``: {conflict_id: (fid, review, previous_review, stored geometry,
    rule_id)}; ``decode`` turns a stored geometry into a shapely one; ``geoms``
    are the findings' geometries as the store writes them.
    """
    reviews = {}
    inserts, updates = [], []
    counts = {"new": 0, "seen_again": 0, "resolved": 0, "reopened": 0}
    cols = {c: f[c].to_numpy() if len(f) else [] for c in MEASURE_COLS + ["conflict_id"]}
    for i in range(len(f)):
        cid = cols["conflict_id"][i]
        values = [_val(cols[c][i]) for c in MEASURE_COLS]
        if cid in existing:
            fid, review, prev, _, _ = existing[cid]
            if review == "resolved":  # it came back: restore the reviewer's decision
                review, prev = (prev if prev in REVIEWER_DECISIONS else "open"), None
                counts["reopened"] += 1
            counts["seen_again"] += 1
            updates.append(values + [geoms[i], now, review, prev, fid])
        else:
            review = "open"
            counts["new"] += 1
            inserts.append([cid] + values + [geoms[i], review, now, now])
        reviews[cid] = review
    seen = set(cols["conflict_id"]) if len(f) else set()
    rule_ids = set(rule_ids)
    stale = []  # (previous_review, fid) of findings of the rules run that no longer occur
    for cid, (fid, review, prev, geom, rule) in existing.items():
        if cid in seen or review == "resolved" or rule not in rule_ids:
            continue
        if area_geometry is not None:  # an area run only speaks for its area
            g = decode(geom)
            if g is None or not g.intersects(area_geometry):
                continue
        stale.append((review if review in REVIEWER_DECISIONS else None, fid))
    counts["resolved"] = len(stale)
    return updates, inserts, stale, reviews, counts


def _is_pg(project) -> bool:
    return isinstance(project, str) and project.lower().startswith(("postgresql://", "postgres://"))


def _merge_run_pg(project, run, area_geometry, now):
    """merge_run on a PostGIS project: read the table, plan, write in one transaction
    (inside the check's pg.session() when there is one, so reads and writes share it)."""
    import shapely

    from ..layers import pg

    f = run.findings
    existing = {cid: (fid, review, prev, geom, rule)
                for cid, fid, review, prev, geom, rule in pg.read_conflict_state(
                    project, ids=f["conflict_id"].tolist() if len(f) else [], area=area_geometry)}
    wkb = list(shapely.to_wkb(f.geometry.to_numpy())) if len(f) else []
    updates, inserts, stale, reviews, counts = _plan_merge(
        existing, f, run.rule_ids, area_geometry, lambda g: g, wkb, _pg_time(now))
    pg.write_merge(project, MEASURE_COLS, updates, inserts, stale)
    reviews["_counts"] = counts
    return reviews


def _pg_time(now: str):
    return _dt.datetime.strptime(now.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=_dt.timezone.utc) \
        if "." in now else _dt.datetime.strptime(now.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=_dt.timezone.utc)


def set_review(project: str, conflict_ids, review: str, reviewer: str = None, note: str = None,
               now: str = None) -> int:
    """Record a reviewer's decision (and note) on findings. Returns rows changed."""
    from ..layers import schema
    from ..layers.errors import InputError

    if review not in schema.model().domain("review").values:
        raise InputError(f"review must be one of {schema.model().domain('review').values}",
                         field="review")
    now = now or now_iso()
    ids = list(conflict_ids)
    if _is_pg(project):
        from ..layers import pg

        return pg.set_review(project, [(review, reviewer, note, _pg_time(now), cid) for cid in ids])
    con = sqlite3.connect(project, timeout=30)
    gpkgblob.register_functions(con)
    try:
        with con:
            cur = con.executemany(
                f"UPDATE {TABLE} SET review = ?, reviewer = ?, review_note = COALESCE(?, review_note), "
                f"reviewed_at = ?, previous_review = NULL WHERE conflict_id = ?",
                [(review, reviewer, note, now, cid) for cid in ids])
            return cur.rowcount
    finally:
        con.close()


def read_conflicts(project: str):
    """The conflict table as a DataFrame (without geometry)."""
    import pandas as pd

    if _is_pg(project):
        from ..layers import pg

        return pg.read_conflicts(project)
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        return pd.read_sql_query(f"SELECT * FROM {TABLE}", con).drop(columns=["geom"])
    finally:
        con.close()
