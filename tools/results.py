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
    if _is_pg(project):
        return _merge_run_pg(project, run, area_geometry, now)
    return _merge_run_gpkg(project, run, area_geometry, now)


def _py_column(s) -> list:
    """A findings column as Python values, None for missing (vectorised)."""
    return s.to_numpy(dtype=object, na_value=None).tolist()


def _plan(ex, ids, rule_ids, area_geometry):
    """The merge decisions, vectorised.

    ``ex``: DataFrame of the stored rows the run can touch (conflict_id, fid,
    review, previous_review, rule_id and, for an area run, the decoded
    geometry ``g``); ``ids``: the run's conflict_ids. Returns (pos, review,
    prev, stale_fid, stale_prev, counts): ``pos`` is the stored row of each
    finding (-1 = new), ``review``/``prev`` what each finding's row gets.
    """
    import pandas as pd

    n = len(ids)
    index = pd.Index(ex["conflict_id"].to_numpy(dtype=object))
    pos = index.get_indexer(ids) if n and len(ex) else np.full(n, -1, dtype=np.int64)
    seen = pos >= 0
    review = np.full(n, "open", dtype=object)
    prev = np.full(n, None, dtype=object)
    old_review = ex["review"].to_numpy(dtype=object)
    old_prev = ex["previous_review"].to_numpy(dtype=object)
    r, pv = old_review[pos[seen]], old_prev[pos[seen]]
    reopened = r == "resolved"  # it came back: restore the reviewer's decision
    decided = pd.Series(pv, dtype=object).isin(REVIEWER_DECISIONS).to_numpy()
    review[seen] = np.where(reopened, np.where(decided, pv, "open"), r)
    prev[seen] = np.where(reopened, None, pv)
    # findings of the rules run that no longer occur
    mask = (~index.isin(ids) if n else np.ones(len(ex), dtype=bool)) & (old_review != "resolved") \
        & ex["rule_id"].isin(list(rule_ids)).to_numpy()
    if area_geometry is not None and len(ex):  # an area run only speaks for its area
        import shapely

        g = ex["g"].to_numpy(dtype=object)
        hit = np.zeros(len(ex), dtype=bool)
        cand = np.flatnonzero(mask & pd.notna(g))
        if len(cand):
            hit[cand] = shapely.intersects(np.asarray(list(g[cand]), dtype=object), area_geometry)
        mask &= hit
    stale_fid = ex["fid"].to_numpy()[mask]
    sr = old_review[mask]
    stale_prev = np.where(pd.Series(sr, dtype=object).isin(REVIEWER_DECISIONS).to_numpy(), sr, None)
    counts = {"new": int((~seen).sum()), "seen_again": int(seen.sum()), "resolved": int(mask.sum()),
              "reopened": int(reopened.sum())}
    return pos, review, prev, stale_fid, stale_prev, counts


_RTREE_TRIGGERS = ("rtree_{t}_geom_insert", "rtree_{t}_geom_update1", "rtree_{t}_geom_update2",
                   "trigger_insert_feature_count_{t}")


def _morton(x, y):
    """Z-order keys of points (R-tree entries go in spatially sorted: few nodes touched)."""
    def spread(v):
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        for s, m in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(s))) & np.uint64(m)
        return v

    def q(v):
        lo, hi = np.nanmin(v), np.nanmax(v)
        return np.nan_to_num((v - lo) / ((hi - lo) or 1.0) * 65535.0)

    return spread(q(x)) | (spread(q(y)) << np.uint64(1))


def _bounds(fids, geoms):
    """(fids, boxes minx miny maxx maxy) of the non-null, non-empty geometries, Z-ordered."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
    b = shapely.bounds(geoms[ok]) if ok.any() else np.zeros((0, 4))
    fids = np.asarray(fids)[ok]
    order = np.argsort(_morton((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2), kind="stable") \
        if len(b) else np.zeros(0, dtype=np.int64)
    return fids[order], b[order]


def _bounds_rows(fids, geoms):
    """R-tree rows (id, minx, maxx, miny, maxy) of the non-null, non-empty geometries, Z-ordered."""
    fids, b = _bounds(fids, geoms)
    return zip(fids.tolist(), b[:, 0].tolist(), b[:, 2].tolist(), b[:, 1].tolist(), b[:, 3].tolist())


#: From this many new findings into an empty conflict table, rows are bound in compiled code and the
#: R-tree is packed (layers/importer/sqlite_bulk.py, rtree_bulk.py, as the import does); below, and
#: whenever the table holds findings already, executemany and R-tree inserts.
BULK_MIN = 5000


def _merge_run_gpkg(project, run, area_geometry, now):
    """merge_run on a GeoPackage: one sqlite transaction (BEGIN IMMEDIATE: two runs
    merge one after the other), set-based where it can be, R-tree kept in bulk
    (GDAL's per-row R-tree triggers are set aside inside the transaction and put
    back before it commits)."""
    import json

    import pandas as pd
    import shapely

    f = run.findings
    n = len(f)
    ids = _py_column(f["conflict_id"]) if n else []
    geoms = f.geometry.to_numpy() if n else np.empty(0, dtype=object)
    con = sqlite3.connect(project, timeout=30, isolation_level=None)
    gpkgblob.register_functions(con)
    try:
        con.execute("PRAGMA cache_size = -262144")
        con.execute("BEGIN IMMEDIATE")
        try:
            srs = _srs_id(con)
            rtree = f"rtree_{TABLE}_geom"
            has_rtree = con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rtree,)).fetchone()
            cols = ["fid", "conflict_id", "review", "previous_review", "rule_id"]
            sel = ", ".join(f"c.{c}" for c in cols)
            if area_geometry is None:
                rows = con.execute(f"SELECT {sel}, c.geom FROM {TABLE} c").fetchall()
                ex = pd.DataFrame(rows, columns=cols + ["geom"])
            else:  # only the rows this run can touch: its own ids, and stored findings in the area
                rows = con.execute(f"SELECT {sel}, c.geom FROM {TABLE} c WHERE c.conflict_id IN "
                                   f"(SELECT value FROM json_each(?))", (json.dumps(ids),)).fetchall()
                minx, miny, maxx, maxy = area_geometry.bounds
                if has_rtree:
                    rows += con.execute(
                        f"SELECT {sel}, c.geom FROM {TABLE} c JOIN {rtree} r ON r.id = c.fid "
                        "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
                        (maxx, minx, maxy, miny)).fetchall()
                else:
                    rows += con.execute(f"SELECT {sel}, c.geom FROM {TABLE} c").fetchall()
                ex = pd.DataFrame(rows, columns=cols + ["geom"]).drop_duplicates("fid")
                ex["g"] = [gpkgblob.from_blob(b) for b in ex["geom"]]
            ex = ex.reset_index(drop=True)
            pos, review, prev, stale_fid, stale_prev, counts = _plan(ex, ids, run.rule_ids, area_geometry)
            blobs = np.asarray(gpkgblob.to_blobs(geoms, srs) + [None], dtype=object)[:-1] \
                if n else np.empty(0, dtype=object)
            values = [_py_column(f[c]) for c in MEASURE_COLS] if n else [[] for _ in MEASURE_COLS]
            saved = {}
            for t in _RTREE_TRIGGERS:
                name = t.format(t=TABLE)
                row = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                  (name,)).fetchone()
                if row:
                    saved[name] = row[0]
                    con.execute(f'DROP TRIGGER "{name}"')
            seen = np.flatnonzero(pos >= 0)
            new = np.flatnonzero(pos < 0)
            rtree_rows = []  # (fids, geometries) whose R-tree entry is (re)written
            if len(seen):
                fids = ex["fid"].to_numpy()[pos[seen]]
                old = ex["geom"].to_numpy(dtype=object)[pos[seen]]
                same = np.fromiter((a == b for a, b in zip(old, blobs[seen])), dtype=bool, count=len(seen))
                set_cols = ", ".join(f"{c} = ?" for c in MEASURE_COLS)
                for part, with_geom in ((seen[~same], True), (seen[same], False)):
                    if not len(part):
                        continue
                    sub = [[v[i] for i in part.tolist()] for v in values]
                    extra = [blobs[part].tolist()] if with_geom else []
                    k = len(part)
                    con.executemany(
                        f"UPDATE {TABLE} SET {set_cols}{', geom = ?' if with_geom else ''}, last_seen = ?, "
                        f"review = ?, previous_review = ? WHERE fid = ?",
                        zip(*sub, *extra, [now] * k, review[part].tolist(), prev[part].tolist(),
                            ex["fid"].to_numpy()[pos[part]].tolist()))
                changed = ~same
                if changed.any():
                    ch_f, ch_g = fids[changed], geoms[seen[changed]]
                    gone = shapely.is_missing(np.asarray(ch_g, dtype=object)) | shapely.is_empty(
                        np.asarray(ch_g, dtype=object))
                    if has_rtree and gone.any():
                        con.executemany(f"DELETE FROM {rtree} WHERE id = ?", [(int(x),) for x in ch_f[gone]])
                    rtree_rows.append((ch_f, ch_g))
            packed = False
            if len(new):
                start = max(con.execute("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)",
                                        (TABLE,)).fetchone()[0],
                            con.execute(f"SELECT COALESCE(MAX(fid), 0) FROM {TABLE}").fetchone()[0]) + 1
                k = len(new)
                new_fids = np.arange(start, start + k, dtype=np.int64)
                idx = new.tolist()
                sub = [[v[i] for i in idx] for v in values] if k < n else values
                cols = ["fid", "conflict_id", *MEASURE_COLS, "geom", "review", "first_seen", "last_seen"]
                data = [new_fids.tolist(), [ids[i] for i in idx] if k < n else ids, *sub,
                        blobs[new].tolist(), ["open"] * k, [now] * k, [now] * k]
                # nothing stored (an area run reads only part of the table: the R-tree says)
                empty = len(ex) == 0 and (
                    not has_rtree or not con.execute(f"SELECT EXISTS (SELECT 1 FROM {rtree})").fetchone()[0])
                if k >= BULK_MIN and empty:
                    _insert_packed(con, cols, data, new_fids, geoms[new], rtree if has_rtree else None)
                    packed = True
                else:
                    _insert_rows(con, cols, zip(*data))
                    rtree_rows.append((new_fids, geoms[new]))
                con.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? "
                            "WHERE lower(table_name) = lower(?)", (k, TABLE))
            if has_rtree and rtree_rows and not packed:
                fids = np.concatenate([a for a, _ in rtree_rows])
                gs = np.concatenate([np.asarray(b, dtype=object) for _, b in rtree_rows])
                rows_ = _bounds_rows(fids, gs)
                con.executemany(f"INSERT OR REPLACE INTO {rtree} VALUES (?, ?, ?, ?, ?)", rows_)
            if len(stale_fid):
                con.executemany(f"UPDATE {TABLE} SET review = 'resolved', previous_review = ? WHERE fid = ?",
                                zip(stale_prev.tolist(), stale_fid.tolist()))
            for sql in saved.values():
                con.execute(sql)
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, TABLE))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        reviews = dict(zip(ids, review.tolist()))
        reviews["_counts"] = counts
        return reviews
    finally:
        con.close()


def _insert_rows(con, cols, rows):
    con.executemany(f"INSERT INTO {TABLE} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)


def _insert_packed(con, cols, data, fids, geoms, rtree):
    """The first findings of an empty conflict table: rows bound in compiled code
    (executemany where the bulk writer cannot), then the R-tree packed from their
    Z-ordered boxes."""
    from ..layers.importer import rtree_bulk, sqlite_bulk

    bulk = sqlite_bulk.Bulk(con)
    try:
        step = 50_000
        for i in range(0, len(fids), step):
            part = [c[i:i + step] for c in data]
            if not bulk.insert(TABLE, cols, part):
                _insert_rows(con, cols, zip(*part))
        if rtree is not None:
            ids, b = _bounds(fids, geoms)
            loader = rtree_bulk.Loader(con, rtree, bulk, (int(fids[0]), int(fids[-1])) if len(ids) == len(fids)
                                       else None)
            for i in range(0, len(ids), step):
                loader.add(ids[i:i + step], b[i:i + step, 0], b[i:i + step, 2], b[i:i + step, 1],
                           b[i:i + step, 3])
            loader.finish()
        bulk.wait()
    finally:
        bulk.close()


def _is_pg(project) -> bool:
    return isinstance(project, str) and project.lower().startswith(("postgresql://", "postgres://"))


def _merge_run_pg(project, run, area_geometry, now):
    """merge_run on a PostGIS project: the stored state the run can touch is read
    (no geometry for a whole run; for an area run, the run's ids and the area's
    findings by index), planned as for a GeoPackage, and written set-based (COPY
    into a temporary table, then one UPDATE, one INSERT, one UPDATE) in one
    transaction (inside the check's pg.session() when there is one)."""
    import pandas as pd

    from ..layers import pg

    f = run.findings
    n = len(f)
    ids = _py_column(f["conflict_id"]) if n else []
    ex = pg.read_conflict_state(project, ids=ids, area=area_geometry)
    pos, review, prev, stale_fid, stale_prev, counts = _plan(ex, ids, run.rule_ids, area_geometry)
    data = pd.DataFrame({"ord": np.arange(n, dtype=np.int64), "conflict_id": ids})
    for c in MEASURE_COLS:
        data[c] = f[c].to_numpy() if n else []
    fid = pd.Series(ex["fid"].to_numpy()[pos] if n and len(ex) else np.zeros(n, dtype=np.int64),
                    dtype="Int64")
    data["fid"] = fid.where(pos >= 0, pd.NA) if n else fid
    data["review"] = review
    data["previous_review"] = prev
    pg.write_run(project, MEASURE_COLS, data, f.geometry.to_numpy() if n else [],
                 stale_fid.tolist(), stale_prev.tolist(), _pg_time(now))
    reviews = dict(zip(ids, review.tolist()))
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
