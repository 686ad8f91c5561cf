"""The streamed import's writer for a PostGIS project (stream.py's ``_Writer`` twin).

``open_writer(project, model, meta)`` -> ``(con, writer)``: a connection adapter that
stream.py drives like its sqlite connection (``execute("BEGIN IMMEDIATE" / "COMMIT" /
"ROLLBACK")``, ``in_transaction``, ``close``) and a writer with ``_Writer``'s interface
(begin / rows / close / finish). Everything happens in ONE transaction, opened here:

* the import lock of pg_commit.write_plans (``LOCK import_batch IN SHARE ROW EXCLUSIVE``),
  then the check that the project holds no pipes (else ``stream.Fallback``: the
  per-record path updates by uid);
* every chunk becomes CSV text built by Arrow (vectorised; geometries as hex EWKB
  built in numpy or by shapely) and goes in with one ``COPY`` straight into the layer,
  in a background thread while the next chunk is parsed. A role under row-level
  security (a utility) may not COPY into the layer: its chunks go through a
  temporary table and one ``INSERT ... SELECT`` each, which the policies check;
* ``finish``: the owner check of pg_commit._check_owners (same refusal, same message:
  the first record of a foreign or missing owner and how many there are; nothing
  written), then the import_batch row (uploaded_by = the database user, finished_at =
  the transaction's time, also every row's updated_at) and the rejects (COPY).

The GiST indexes and the history are PostgreSQL's (the history's INSERT trigger is
statement-level in projects made by this version, pg.py). Database errors become
the per-record path's InputError ("the database refused the import, nothing was
written: ...").
"""
from __future__ import annotations

import queue
import threading

import numpy as np

from .. import pg
from . import pg_commit
from .stream import columns
from .validate import POINT, SEGMENT

_EWKB_SRID = 0x20000000
_HEX = np.array([f"{i:02X}".encode() for i in range(256)], dtype="S2")


def open_writer(project, model, meta):
    """(connection adapter, writer) in a transaction holding the import lock; Fallback
    (nothing done) when the project holds pipes already."""
    from .stream import Fallback

    p = pg.PgProject(project)
    srid = pg.parse_srid(pg.project_crs(project))
    raw = pg.connect(p)
    con = PgCon(raw)
    sql = pg._sql()
    try:
        with pg_commit.db_errors(p):
            raw.execute("SET client_encoding TO 'UTF8'")
            user, now = pg_commit.lock_import(raw, p)
            for layer in (POINT, SEGMENT):
                if raw.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
                        sql.Identifier(p.schema, layer))).fetchone()[0]:
                    raise Fallback("the project holds pipes: per-record path (updates by uid)")
            rls = {layer: pg_commit._rls_owner(raw, p, layer) for layer in (POINT, SEGMENT)}
    except BaseException:
        con.close()
        raise
    fields = {lyr: [f for f in model.layer(lyr).fields if f.name not in ("source", "updated_at")]
              for lyr in (POINT, SEGMENT)}
    return con, PgWriter(raw, p, srid, fields, meta["batch_id"], user, now, rls)


class PgCon:
    """The psycopg connection as stream.py's import drives its sqlite3 one."""

    def __init__(self, raw):
        self.raw = raw

    def execute(self, stmt):
        if stmt == "BEGIN IMMEDIATE":    # the transaction is open already (open_writer took the lock)
            return None
        if stmt == "COMMIT":
            return self.raw.commit()
        if stmt == "ROLLBACK":
            return self.raw.rollback()
        raise ValueError(f"not for a PostGIS import: {stmt}")

    @property
    def in_transaction(self):
        return not self.raw.closed and self.raw.info.transaction_status != 0   # 0: IDLE

    def close(self):
        if not self.raw.closed:
            if self.in_transaction:
                self.raw.rollback()
            self.raw.close()


class PgWriter:
    """Rows into a PostGIS project inside the adapter's transaction (see the module doc)."""

    def __init__(self, con, p, srid, fields, batch_id, user, now, rls):
        self.con, self.p, self.srid, self.fields = con, p, srid, fields
        self.batch_id, self.user, self.now = batch_id, user, now
        self.now_text = now.isoformat()
        self.defaults = {lyr: {f.name: f.default for f in fs} for lyr, fs in fields.items()}
        self.types = {lyr: {f.name: f.type for f in fs} for lyr, fs in fields.items()}
        self.rls = rls                       # layer -> (active, own owner)
        self.bad = {POINT: [0, None], SEGMENT: [0, None]}   # foreign owners: count, first (record, uid, owner)
        self.inserted = {POINT: 0, SEGMENT: 0}
        self.staged = {}
        self.thread = None

    # ---- the background COPY
    def begin(self):
        self.q = queue.Queue(maxsize=2)
        self.error = None
        self.thread = threading.Thread(target=self._work, name="rp-pg-copy", daemon=True)
        self.thread.start()

    def _work(self):
        while True:
            job = self.q.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    self._copy(*job)
            except BaseException as exc:  # noqa: BLE001 - handed to the import's thread
                self.error = exc
            finally:
                self.q.task_done()

    def _raise(self):
        if self.error is not None:
            exc, self.error = self.error, None
            with pg_commit.db_errors(self.p):
                raise exc

    def wait(self):
        if self.thread is not None:
            self.q.join()
        self._raise()

    def close(self):
        """Wait for the chunk being written and stop the thread (also on errors)."""
        t, self.thread = self.thread, None
        if t is not None:
            self.q.put(None)
            t.join()

    def _copy(self, layer, cols, payload):
        sql = pg._sql()
        names = sql.SQL(", ").join(map(sql.Identifier, cols))
        active, _ = self.rls[layer]
        target = sql.Identifier(self.p.schema, layer)
        if not active:
            with self.con.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                    target, names)) as cp:
                cp.write(payload)
            return
        # row-level security: COPY is refused on the layer; a temporary table, then INSERT ... SELECT
        tmp = sql.Identifier(f"rp_stream_{layer}")
        if layer not in self.staged:
            allc = [f.name for f in self.fields[layer]] + ["source", "updated_at", pg.GEOM_COLUMN]
            self.con.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} "
                                     "WITH NO DATA").format(tmp, sql.SQL(", ").join(map(sql.Identifier, allc)),
                                                            target))
            self.con.execute(sql.SQL("ALTER TABLE {} ADD COLUMN rp_ord bigserial").format(tmp))
            self.staged[layer] = True
        with self.con.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(tmp, names)) as cp:
            cp.write(payload)
        self.con.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY rp_ord").format(
            target, names, names, tmp))
        self.con.execute(sql.SQL("TRUNCATE {}").format(tmp))

    # ---- chunks
    def rows(self, layer, vals, idx, geoms, plan, nos=None):
        """Insert rows ``idx`` of ``vals`` (the project's layers are empty: all inserts)."""
        import pyarrow as pa

        if not len(idx):
            return
        self._raise()
        n = len(idx)
        types = self.types[layer]
        cols, data = columns([f.name for f in self.fields[layer]], vals, idx, self.defaults[layer])
        data = [_arrow(v, types[c]) for c, v in zip(cols, data)]
        self.inserted[layer] += n
        plan.counts["insert"] += n
        plan.by_layer[layer] += n
        active, own = self.rls[layer]
        if active:
            # the owner each row gets (pg_commit._check_owners: the value, None where there is none)
            owners = data[cols.index("owner")].to_numpy(zero_copy_only=False) if "owner" in cols \
                else np.full(n, None, dtype=object)
            bad = np.flatnonzero(owners != own)      # elementwise, also for own None (as _check_owners)
            if len(bad):
                cnt = self.bad[layer]
                if cnt[1] is None:
                    j = bad[0]
                    uid = vals["uid"][0][idx[j]]
                    rec = int(nos[j]) if nos is not None else None
                    cnt[1] = (rec, uid, owners[j])
                cnt[0] += len(bad)
            if self.bad[POINT][0] or self.bad[SEGMENT][0]:
                return               # refused at finish: nothing more is written
        if isinstance(geoms, np.ndarray):
            import shapely

            g = shapely.to_wkb(shapely.set_srid(shapely.force_2d(geoms), self.srid), hex=True,
                               include_srid=True)
            gcol = pa.array(g, pa.string())
        else:
            gcol = _ewkb_hex(geoms.c, self.srid)
        cols += ["source", "updated_at", pg.GEOM_COLUMN]
        data += [pa.array(np.full(n, self.batch_id, dtype=object), pa.string()),
                 pa.array(np.full(n, self.now_text, dtype=object), pa.string()), gcol]
        payload = pg.arrow_csv(cols, data)
        while True:   # hand the chunk over, watching for an error of the one before
            try:
                self.q.put((layer, cols, payload), timeout=0.2)
                break
            except queue.Full:
                self._raise()

    def finish(self, plan, meta):
        self.wait()
        self.close()
        for layer in (POINT, SEGMENT):
            cnt, first = self.bad[layer]
            if cnt:
                rec, uid, owner = first
                raise pg_commit.owner_refused(meta["file_name"], layer, rec, uid, owner, self.user,
                                              self.rls[layer][1], cnt)
        with pg_commit.db_errors(self.p):
            pg_commit.write_batch(self.con, self.p, plan, meta, self.user, self.now)


_ARROW = {"text": "string", "date": "string", "datetime": "string", "real": "float64", "integer": "int64",
          "boolean": "bool_"}


def _arrow(v, ftype):
    """A column (object array) as an Arrow array whose CSV text PostgreSQL reads as the
    value psycopg would send (NaN and None: NULL)."""
    import pyarrow as pa

    typ = getattr(pa, _ARROW.get(ftype, "string"))()
    try:
        return pa.array(v, typ, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([pg.copy_text(x) for x in v], pa.string())


def _ewkb_hex(c, srid):
    """Points (x, y) or two-point lines (x0, y0, x1, y1) as hex EWKB strings (what
    shapely.to_wkb(hex=True, include_srid=True) gives), built in numpy."""
    import pyarrow as pa

    n = len(c[0])
    line = len(c) == 4
    rec = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4")] + ([("npts", "<u4")] if line else [])
                   + [("xy", "<f8", (4 if line else 2,))])
    a = np.empty(n, rec)
    a["order"] = 1
    a["srid"] = srid
    if line:
        a["type"], a["npts"] = 2 | _EWKB_SRID, 2
    else:
        a["type"] = 1 | _EWKB_SRID
    for i, v in enumerate(c):
        a["xy"][:, i] = v
    k = rec.itemsize
    hexed = _HEX[np.frombuffer(a.tobytes(), np.uint8)].tobytes()
    offsets = np.arange(0, (n + 1) * 2 * k, 2 * k, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(hexed)])
