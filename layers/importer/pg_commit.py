"""Imports into a PostGIS project: the PostgreSQL twin of batch.py's reading
of the project state and writing of plans.

``plan_files`` / ``commit_plan`` (``__init__.py``) dispatch here for a
``postgresql://...?schema=`` project; validation is the same code as for a
GeoPackage, so the same delivery gives the same accepted and rejected
records in both stores.

Writing (``write_plans``) happens in ONE database transaction: every
import_batch, import_reject, pipe_point and pipe_segment row of the call, or
nothing. Identifiers are composed with ``psycopg.sql``, values are always
parameters. ``uploaded_by`` is the database user (``current_user``), which is
what the history table and row-level security also see.

Row-level security (issue 7): a utility role writes only pipes whose
``owner`` is its own. A delivery that holds records of another owner (or no
owner) is REFUSED as a whole by such a role, nothing written, with a one-line
reason naming the first record, its uid and its owner. Why not quarantine
those records in import_reject as for bad data: they are not defective and
the uploader cannot fix them by editing the file (only by asking the bureau
or the other utility), a half-imported delivery would hide that, and the
database refuses those rows anyway. Updates are checked against the owner
stored in the database too (row-level security would otherwise skip such an
UPDATE silently).
"""
from __future__ import annotations

import contextlib
import datetime as _dt

from .. import pg, schema
from ..errors import InputError
from .validate import POINT, SEGMENT, State

BATCH, REJECT = "import_batch", "import_reject"
PIPES = (POINT, SEGMENT)


def _sql():
    return pg._sql()


def _psycopg():
    return pg._psycopg()


def _text_value(v):
    """Column values as the GeoPackage's sqlite gives them (what validate compares)."""
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="milliseconds") + "Z"
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def load_state(project: str) -> State:
    """The project's pipe points and segments, read by uid as the planner asks
    for them (ProjectRows): not the whole project."""
    return State(loader=ProjectRows(project))


class ProjectRows:
    """Rows of a PostGIS project's pipe tables by uid: (fid, values, geometry),
    values as the GeoPackage's sqlite gives them."""

    CHUNK = 20_000

    def __init__(self, project: str):
        self.p = pg.PgProject(project)
        self.cols = {}

    def _select(self, layer, where, keys):
        import numpy as np
        import shapely

        sql = _sql()
        out = {}
        with pg._connection(self.p) as con:
            if layer not in self.cols:
                have = pg._columns(con, self.p, layer)
                if not have:
                    raise InputError("layer is missing from the project", file=self.p.display, layer=layer)
                self.cols[layer] = [f.name for f in schema.model().layer(layer).fields if f.name in have]
            cols = self.cols[layer]
            for i in range(0, len(keys), self.CHUNK):
                rows = con.execute(sql.SQL("SELECT {}, ST_AsBinary({}), {} FROM {} WHERE {} ORDER BY {}").format(
                    sql.Identifier(pg.FID), sql.Identifier(pg.GEOM_COLUMN),
                    sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(self.p.schema, layer),
                    where, sql.Identifier(pg.FID)), {"keys": [str(k) for k in keys[i:i + self.CHUNK]]}).fetchall()
                wkb = np.array([bytes(r[1]) if r[1] is not None else None for r in rows], dtype=object)
                geoms = shapely.from_wkb(wkb) if len(rows) else []
                for r, g in zip(rows, geoms):
                    vals = {c: _text_value(v) for c, v in zip(cols, r[2:])}
                    out[vals["uid"]] = (r[0], vals, g)
        return out

    def rows(self, layer, uids) -> dict:
        return self._select(layer, _sql().SQL("uid = ANY(%(keys)s)"), list(uids))

    def segments_at(self, point_uids) -> dict:
        """The segments with an end at one of these points."""
        if not point_uids:
            return {}
        return self._select(SEGMENT, _sql().SQL("start_uid = ANY(%(keys)s) OR end_uid = ANY(%(keys)s)"),
                            list(point_uids))


def existing_batches(project: str) -> dict:
    sql = _sql()
    p = pg.PgProject(project)
    with pg._connection(p) as con:
        rows = con.execute(sql.SQL("SELECT batch_id, sha256, mapping FROM {}").format(
            sql.Identifier(p.schema, BATCH))).fetchall()
    return {r[0]: {"sha256": r[1], "mapping": r[2]} for r in rows}


def fingerprint(project: str) -> tuple:
    """Row counts, largest fids and last changes of the tables an import reads and writes."""
    sql = _sql()
    p = pg.PgProject(project)
    out = []
    with pg._connection(p) as con:
        for table in (POINT, SEGMENT, BATCH):
            last = "updated_at" if table != BATCH else "finished_at"
            n, top, when = con.execute(sql.SQL("SELECT count(*), max({}), max({}) FROM {}").format(
                sql.Identifier(pg.FID), sql.Identifier(last), sql.Identifier(p.schema, table))).fetchone()
            out.append((table, n, top, str(when) if when is not None else None))
    return tuple(out)


def _py(v):
    t = type(v)
    if v is None or t is str or t is int:  # most values: nothing to do
        return v
    if t is float:
        return None if v != v else v
    import numpy as np

    if isinstance(v, (np.floating, float)):
        return None if v != v else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _rls_owner(con, p, layer):
    """(True, owner) when row-level security applies to the current user on
    ``layer`` (owner: the one rp_role gives it, None if none), else (False, None)."""
    sql = _sql()
    active = con.execute(
        "SELECT row_security_active(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s", (p.schema, layer)).fetchone()
    if not active or not active[0]:
        return False, None
    row = con.execute(sql.SQL("SELECT owner FROM {} WHERE role_name = current_user AND kind = 'utility'").format(
        sql.Identifier(p.schema, pg.ROLE_TABLE))).fetchone()
    return True, (row[0] if row else None)


def _check_owners(con, p, batches, user):
    """Refuse (InputError) a delivery holding pipes the current user may not write."""
    sql = _sql()
    for layer in PIPES:
        active, own = _rls_owner(con, p, layer)
        if not active:
            continue
        for plan, meta in batches:
            rows = [r for r in plan.rows if r.layer == layer and r.action in ("insert", "update")]
            if not rows:
                continue
            stored = dict(con.execute(sql.SQL("SELECT uid, owner FROM {} WHERE uid = ANY(%s)").format(
                sql.Identifier(p.schema, layer)), ([r.values["uid"] for r in rows],)).fetchall())
            bad = [(r, r.values.get("owner") if r.values.get("owner") != own else stored.get(r.values["uid"]))
                   for r in rows
                   if r.values.get("owner") != own or (r.values["uid"] in stored and stored[r.values["uid"]] != own)]
            if bad:
                r, owner = bad[0]
                raise owner_refused(meta["file_name"], layer, r.record_no, r.values["uid"], owner, user, own,
                                    len(bad))


def owner_refused(file_name, layer, record, uid, owner, user, own, count) -> InputError:
    """The error for a utility role importing pipes of another owner (or of none)."""
    mine = f"only pipes of owner {own!r}" if own else "no pipes (it is not a utility role)"
    return InputError(f"record {record} ({layer} {uid!r}) belongs to owner {owner!r}, and database user "
                      f"{user} may import {mine}; {count} such record(s) in the file, nothing was written",
                      file=file_name, layer=layer, field="owner")


def write_plans(project: str, batches, now: str = None):
    """Write [(plan, batch_meta)] in one transaction. Nothing is written if anything fails.

    Sets ``meta['uploaded_by']`` to the database user.
    """
    p = pg.PgProject(project)
    srid = pg.parse_srid(pg.project_crs(project))
    with pg._connection(p, write=True) as con, db_errors(p):
        with con.transaction():
            user, now_db = lock_import(con, p)
            now = now or now_db
            _check_owners(con, p, batches, user)
            for plan, meta in batches:
                write_batch(con, p, plan, meta, user, now)
                for layer in PIPES:
                    _write_layer_rows(con, p, layer, srid, plan, meta, now)


def lock_import(con, p):
    """Take the import lock (self-conflicting, taken by every role that may import: one
    import at a time per project, batches never interleave); (database user, now)."""
    sql = _sql()
    con.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(p.schema, BATCH)))
    return con.execute("SELECT current_user::text, now()").fetchone()


def write_batch(con, p, plan, meta, user, now):
    """The import_batch row of ``plan`` (uploaded_by = ``user``, also set in ``meta``) and its
    rejects (import_reject has no row-level security: one COPY)."""
    sql = _sql()
    meta["uploaded_by"] = user
    con.execute(sql.SQL(
        "INSERT INTO {} (batch_id, file_name, sha256, uploaded_by, started_at, finished_at, "
        "target_layer, crs_in, encoding, records_in, accepted, rejected, updated, unchanged, "
        "mapping) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(
        sql.Identifier(p.schema, BATCH)),
        (meta["batch_id"], meta["file_name"], meta["sha256"], user, meta["started_at"], now,
         ",".join(plan.target_layers), plan.crs_in, plan.encoding, plan.records_in,
         plan.accepted, plan.rejected, plan.count("update"), plan.count("unchanged"),
         meta["mapping_json"]))
    if plan.rejects:
        _copy_insert(con, p, REJECT, ["batch_id", "record_no", "target_layer", "field", "value",
                                      "reason_code", "reason_zh", "reason_en", "raw"],
                     ([meta["batch_id"], r["record_no"], r["target_layer"], r["field"],
                       r["value"], r["reason_code"], r["reason_zh"], r["reason_en"], r["raw"]]
                      for r in plan.rejects))


@contextlib.contextmanager
def db_errors(p):
    """A database error during an import as the user's one-line InputError
    (nothing was written: the transaction is rolled back)."""
    psycopg = _psycopg()
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise InputError(f"the project refused the import, nothing was written: "
                         f"{_first(exc)} (imported by someone else meanwhile? import again)",
                         file=p.display) from None
    except psycopg.Error as exc:
        raise InputError(f"the database refused the import, nothing was written: {_first(exc)}",
                         file=p.display) from None


def _first(exc) -> str:
    diag = getattr(exc, "diag", None)
    msg = getattr(diag, "message_primary", None) or str(exc)
    return msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__


_TMP = "rp_import"
_CHUNK = 50_000


def _copy_insert(con, p, table, cols, rows):
    """``rows`` (lists in ``cols`` order) into ``table`` with one COPY, in order
    (for tables without row-level security: COPY is refused on those)."""
    sql = _sql()
    with con.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(p.schema, table), sql.SQL(", ").join(map(sql.Identifier, cols)))) as cp:
        for row in rows:
            cp.write_row(row)


def _write_layer_rows(con, p, layer, srid, plan, meta, now):
    """The inserted and updated rows of ``plan`` for a pipe layer: per group of
    (action, columns given) one COPY into a temporary table, then one
    ``INSERT ... SELECT`` (in the plan's order: fids as in a GeoPackage) or one
    ``UPDATE ... FROM``. Row-level security and the history and touch triggers
    see the same rows, values and order as with one statement per row."""
    import numpy as np
    import shapely

    sql = _sql()
    rows = [r for r in plan.rows if r.layer == layer and r.action in ("insert", "update")]
    if not rows:
        return
    groups, keys_of = {}, {}
    for i, r in enumerate(rows):
        ks = tuple(r.values)
        keys = keys_of.get(ks)
        if keys is None:
            keys = keys_of[ks] = tuple(k for k in ks if k not in ("source", "updated_at"))
        groups.setdefault((r.action, keys), []).append(i)
    t = sql.Identifier(p.schema, layer)
    tmp = sql.Identifier("pg_temp", _TMP)
    batch_id = meta["batch_id"]
    for (action, keys), idx in groups.items():
        names = list(keys) + ["source", "updated_at", pg.GEOM_COLUMN]
        cols = sql.SQL(", ").join(map(sql.Identifier, names))
        con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tmp))
        con.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT 0::bigint AS rp_ord, "
                            "NULL::text AS rp_key, {} FROM {} WITH NO DATA").format(
            sql.Identifier(_TMP), cols, t))
        with con.cursor().copy(sql.SQL("COPY {} (rp_ord, rp_key, {}) FROM STDIN").format(tmp, cols)) as cp:
            for c0 in range(0, len(idx), _CHUNK):
                part = idx[c0:c0 + _CHUNK]
                geoms = np.empty(len(part), dtype=object)
                geoms[:] = [rows[i].geometry for i in part]
                ewkb = shapely.to_wkb(shapely.set_srid(shapely.force_2d(geoms), srid), hex=True,
                                      include_srid=True)
                for i, g in zip(part, ewkb):
                    v = rows[i].values
                    cp.write_row([i, v["uid"] if action == "update" else None]
                                 + [_py(v[k]) for k in keys] + [batch_id, now, g])
        if action == "insert":
            con.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY rp_ord").format(
                t, cols, cols, tmp))
        else:
            con.execute(sql.SQL("ANALYZE {}").format(tmp))  # row count for the join's plan
            cur = con.execute(sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE t.uid = s.rp_key").format(
                t, sql.SQL(", ").join(sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                                      for c in names), tmp))
            n = cur.rowcount  # an UPDATE that hits nothing is an error
            if n != len(idx):
                raise InputError(
                    f"{len(idx) - n} record(s) to update are no longer in {layer} (changed "
                    f"by someone else since the import was planned); nothing was written, "
                    f"import again", file=meta["file_name"], layer=layer)
        con.execute(sql.SQL("DROP TABLE {}").format(tmp))
