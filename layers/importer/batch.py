"""Write import plans in ONE sqlite transaction: pipe_point, pipe_segment,
import_batch and import_reject change together or not at all.

GDAL's R-tree triggers are served by layers/gpkgblob.py's functions, as in
tools/results.py.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import sqlite3

import numpy as np

from .. import gpkgblob, schema
from ..errors import InputError
from .validate import POINT, SEGMENT, State

BATCH, REJECT = "import_batch", "import_reject"
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def file_sha256(path: str) -> str:
    """SHA-256 of the file (for a shapefile: of its .shp/.shx/.dbf/.prj/.cpg together)."""
    h = hashlib.sha256()
    base, ext = os.path.splitext(path)
    parts = [base + e for e in _SIDECARS if os.path.isfile(base + e)] if ext.lower() == ".shp" else [path]
    for p in parts:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _connect(project):
    con = sqlite3.connect(project, timeout=30, isolation_level=None)  # explicit transactions
    gpkgblob.register_functions(con)
    return con


def load_state(project: str) -> State:
    """The project's pipe points and segments, read by uid as the planner asks
    for them (ProjectRows): not the whole project."""
    return State(loader=ProjectRows(project))


class ProjectRows:
    """Rows of a GeoPackage project's pipe tables by uid: (fid, values, geometry)."""

    CHUNK = 20_000

    def __init__(self, project: str):
        self.project = project
        self.cols = {}

    def _con(self):
        return sqlite3.connect(f"file:{self.project}?mode=ro", uri=True)

    def _columns(self, con, layer):
        if layer not in self.cols:
            have = {r[1] for r in con.execute(f"PRAGMA table_info({layer})")}
            if not have:
                raise InputError("layer is missing from the project", file=self.project, layer=layer)
            self.cols[layer] = [f.name for f in schema.model().layer(layer).fields if f.name in have]
        return self.cols[layer]

    def _select(self, layer, where, keys):
        con = self._con()
        out = {}
        try:
            cols = self._columns(con, layer)
            for i in range(0, len(keys), self.CHUNK):
                part = json.dumps(list(keys[i:i + self.CHUNK]), default=str, ensure_ascii=False)
                for row in con.execute(f"SELECT fid, geom, {', '.join(cols)} FROM {layer} WHERE {where}",
                                       {"keys": part}):
                    vals = dict(zip(cols, row[2:]))
                    out[vals["uid"]] = (row[0], vals, gpkgblob.from_blob(row[1]))
        finally:
            con.close()
        return out

    def rows(self, layer, uids) -> dict:
        return self._select(layer, "uid IN (SELECT value FROM json_each(:keys))", list(uids))

    def segments_at(self, point_uids) -> dict:
        """The segments with an end at one of these points."""
        if not point_uids:
            return {}
        return self._select(SEGMENT, "start_uid IN (SELECT value FROM json_each(:keys)) "
                                     "OR end_uid IN (SELECT value FROM json_each(:keys))", list(point_uids))


def existing_batches(project: str) -> dict:
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        return {r[0]: {"sha256": r[1], "mapping": r[2]} for r in
                con.execute(f"SELECT batch_id, sha256, mapping FROM {BATCH}")}
    finally:
        con.close()


def duplicate_of(plan, sha256: str, mapping_json: str, earlier: dict):
    """The earlier batch this one repeats (same file, same mapping, nothing to
    insert or update), or None: a repeated import then changes nothing."""
    same = [b for b, e in earlier.items() if e["sha256"] == sha256 and e["mapping"] == mapping_json]
    changes = plan.count("insert") + plan.count("update")
    return same[0] if same and changes == 0 else None


def _py(v):
    if v is None:
        return None
    if isinstance(v, (np.floating, float)):
        return None if v != v else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return int(v)
    return v


def _srs(con, table):
    row = con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchone()
    return int(row[0]) if row else 0


def _execute(con, sql, rows):
    """One executemany (a seam for tests that break an import midway)."""
    con.executemany(sql, rows)


def write_plans(project: str, batches, now: str = None):
    """Write [(plan, batch_meta)] in one transaction. Nothing is written if anything fails."""
    now = now or now_iso()
    con = _connect(project)
    try:
        srs = {POINT: _srs(con, POINT), SEGMENT: _srs(con, SEGMENT)}
        con.execute("BEGIN IMMEDIATE")
        try:
            for plan, meta in batches:
                _execute(con, f"INSERT INTO {BATCH} (batch_id, file_name, sha256, uploaded_by, started_at, "
                         "finished_at, target_layer, crs_in, encoding, records_in, accepted, rejected, "
                         "updated, unchanged, mapping) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         [(meta["batch_id"], meta["file_name"], meta["sha256"], meta["uploaded_by"],
                           meta["started_at"], now, ",".join(plan.target_layers), plan.crs_in,
                           plan.encoding, plan.records_in, plan.accepted, plan.rejected,
                           plan.count("update"), plan.count("unchanged"), meta["mapping_json"])])
                if plan.rejects:
                    _execute(con, f"INSERT INTO {REJECT} (batch_id, record_no, target_layer, field, value, "
                             "reason_code, reason_zh, reason_en, raw) VALUES (?,?,?,?,?,?,?,?,?)",
                             [(meta["batch_id"], r["record_no"], r["target_layer"], r["field"], r["value"],
                               r["reason_code"], r["reason_zh"], r["reason_en"], r["raw"])
                              for r in plan.rejects])
                for layer in (POINT, SEGMENT):
                    rows = [r for r in plan.rows if r.layer == layer and r.action in ("insert", "update")]
                    if not rows:
                        continue
                    blobs = gpkgblob.to_blobs([r.geometry for r in rows], srs[layer])
                    groups = {}
                    for r, blob in zip(rows, blobs):
                        keys = tuple(k for k in r.values if k not in ("source", "updated_at"))
                        groups.setdefault((r.action, keys), []).append(
                            [_py(r.values[k]) for k in keys] + [meta["batch_id"], now, blob]
                            + ([r.values["uid"]] if r.action == "update" else []))
                    for (action, keys), vals in groups.items():
                        cols = list(keys) + ["source", "updated_at", "geom"]
                        if action == "insert":
                            _execute(con, f"INSERT INTO {layer} ({', '.join(cols)}) VALUES "
                                     f"({', '.join('?' * len(cols))})", vals)
                        else:
                            _execute(con, f"UPDATE {layer} SET {', '.join(c + ' = ?' for c in cols)} "
                                     "WHERE uid = ?", vals)
                    con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, layer))
            for t in (BATCH, REJECT):
                con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, t))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except sqlite3.IntegrityError as exc:
        raise InputError(f"the project refused the import, nothing was written: {exc}", file=project) from None
    finally:
        con.close()


def mapping_json(plan) -> str:
    return json.dumps(plan.mapping, ensure_ascii=False, sort_keys=True)
