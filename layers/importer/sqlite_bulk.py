"""Bulk INSERTs into a sqlite3 connection: bound in compiled code, written beside the parsing.

An import of a million-row survey table spends most of its write time in ``executemany``
binding Python values one by one (about 0.4 us a value, the GIL held). Here a chunk's
columns become Arrow buffers (C), and a numba loop binds them straight from those buffers
with the SQLite C API of the very library Python's ``sqlite3`` module uses, on the same
connection (so inside the caller's transaction), ``nogil``, in one background thread: the
next chunk is parsed while this one is written. At most one chunk waits, so memory stays
one chunk.

The stored values are those ``executemany`` stores: every value is bound with the type
sqlite3 gives it (str -> TEXT, float -> REAL (NaN -> NULL), int -> INTEGER, bytes -> BLOB,
None -> NULL). A chunk whose columns Arrow cannot type that way (mixed types, lone
surrogates, ...) is written by ``executemany``, as is everything when numba is missing,
``RENEWAL_PLANNER_NUMBA=0``, or the connection's handle cannot be proven (the handle is
read from the CPython object and checked with ``sqlite3_db_filename`` before any use).
tests/unit/test_sqlite_bulk.py compares both ways value by value, ``typeof`` included.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading

import numpy as np

from .. import numba_env

_DONE, _OK = 101, 0
_lock = threading.Lock()
_state = {}
# column kinds of the compiled loop
_NULL, _F64, _I64, _TEXT, _BLOB = 0, 1, 2, 3, 4


def _capi():
    """ctypes functions of the SQLite library behind Python's sqlite3 module, and the jitted loop."""
    if not numba_env.enabled() or sys.implementation.name != "cpython" or sys.version_info >= (3, 15):
        return None       # the connection handle is read from CPython's object layout (3.8 .. 3.14 alike)
    if "api" in _state:
        return _state["api"]
    with _lock:
        if "api" not in _state:
            try:
                _state["api"] = _build()
            except Exception:  # noqa: BLE001 - numba missing or a compile failure: executemany
                _state["api"] = None
    return _state["api"]


def _build():
    import _sqlite3

    numba = numba_env.import_numba(os.path.dirname(os.path.abspath(__file__)))

    lib = ctypes.CDLL(_sqlite3.__file__)      # dlsym also searches the module's libsqlite3
    i64, cint = ctypes.c_int64, ctypes.c_int

    def fn(name, res, *args):
        f = getattr(lib, name)
        f.restype, f.argtypes = res, list(args)
        return f

    api = {
        "filename": fn("sqlite3_db_filename", ctypes.c_char_p, ctypes.c_void_p, ctypes.c_char_p),
        "prepare": fn("sqlite3_prepare_v2", cint, ctypes.c_void_p, ctypes.c_char_p, cint,
                      ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p),
        "finalize": fn("sqlite3_finalize", cint, ctypes.c_void_p),
        "errmsg": fn("sqlite3_errmsg", ctypes.c_char_p, ctypes.c_void_p),
        "clear": fn("sqlite3_clear_bindings", cint, ctypes.c_void_p),
    }
    # pointers as 64-bit integers (same registers on every 64-bit ABI): numba passes int64 as is
    b_null = fn("sqlite3_bind_null", cint, i64, cint)
    b_double = fn("sqlite3_bind_double", cint, i64, cint, ctypes.c_double)
    b_int = fn("sqlite3_bind_int64", cint, i64, cint, i64)
    b_text = fn("sqlite3_bind_text", cint, i64, cint, i64, cint, i64)
    b_blob = fn("sqlite3_bind_blob", cint, i64, cint, i64, cint, i64)
    step = fn("sqlite3_step", cint, i64)
    reset = fn("sqlite3_reset", cint, i64)

    # the C functions are arguments, not globals: numba can cache the compiled loop on disk
    fns = (b_null, b_double, b_int, b_text, b_blob, step, reset)
    jitted = numba.njit(nogil=True, cache=True)(_run_py)

    def run(stmt, n, *arrays):
        return jitted(*fns, stmt, n, *arrays)

    z = np.zeros
    run(0, 0, z(1, np.int64), z(1, np.int64), z((1, 1)), z((1, 1), np.int64), z((1, 1), bool),
        z((1, 2), np.int64), z(1, np.int64))      # compile (or load from the cache) now: a failure shows here
    api["run"] = run
    return api


def _run_py(b_null, b_double, b_int, b_text, b_blob, step, reset, stmt, n, kind, slot, f64, i64v, null, off, base):
    """Bind and step rows 0..n-1 (numba, nogil); (rows done, sqlite result code of the failure or 101)."""
    for r in range(n):
        for c in range(len(kind)):
            k = kind[c]
            s = slot[c]
            if k == _NULL or null[c, r]:
                rc = b_null(stmt, c + 1)
            elif k == _F64:
                rc = b_double(stmt, c + 1, f64[s, r])
            elif k == _I64:
                rc = b_int(stmt, c + 1, i64v[s, r])
            else:
                a = off[s, r]
                ln = np.int32(off[s, r + 1] - a)
                if k == _TEXT:
                    rc = b_text(stmt, c + 1, base[s] + a, ln, 0)     # SQLITE_STATIC: buffers outlive the step
                else:
                    rc = b_blob(stmt, c + 1, base[s] + a, ln, 0)
            if rc != 0:
                reset(stmt)
                return r, rc
        rc = step(stmt)
        reset(stmt)
        if rc != 101:
            return r, rc
    return n, 101


def _handle(con, api):
    """The sqlite3* of ``con`` (first field after the CPython object header), proven by its file name."""
    try:
        db = ctypes.c_void_p.from_address(id(con) + object.__basicsize__).value
        if not db:
            return None
        got = api["filename"](db, b"main")
        want = con.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()[0]
    except Exception:  # noqa: BLE001 - anything odd: executemany
        return None
    if got is None or os.fsdecode(got) != (want or ""):
        return None
    return db


_FLOATS = {float, type(None), np.float64, np.float32, np.float16}
_BYTES = {bytes, type(None)}

class Bulk:
    """INSERTs of whole columns into ``con``'s tables; ``wait()`` before using ``con`` otherwise."""

    def __init__(self, con, threaded=True):
        self.con = con
        self.api = _capi()
        self.db = _handle(con, self.api) if self.api else None
        self.stmts = {}
        self.job = None
        self.error = None
        self.pool = None
        # the writer thread shares the connection with its owner, who waits for it before any other use;
        # only with SQLite built serialized (threadsafety 3) even that is left to the library's mutex
        import sqlite3

        self.threaded = threaded and sqlite3.threadsafety == 3

    @property
    def compiled(self) -> bool:
        return self.db is not None

    # -- public
    def insert(self, table, cols, data) -> bool:
        """INSERT INTO table (cols) the rows of ``data`` (one sequence a column, same lengths), or
        return False (after waiting for the pending chunk) when the caller must use executemany."""
        n = len(data[0]) if data else 0
        if not n:
            return True
        packed = self._pack(table, cols, data) if self.db is not None else None
        if packed is None:
            self.wait()
            return False
        sql, args = packed
        stmt = self._stmt(sql)
        self.wait()
        if self.threaded:
            if self.pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self.pool = ThreadPoolExecutor(1, thread_name_prefix="rp-sqlite-bulk")
            self.job = self.pool.submit(self._run, stmt, n, args)
        else:
            self._run(stmt, n, args)
        return True

    def wait(self):
        """Block until the pending chunk is written; raise its error."""
        job, self.job = self.job, None
        if job is not None:
            job.result()

    def close(self):
        """Wait, then finalize the statements (always call, also after an error)."""
        try:
            job, self.job = self.job, None
            if job is not None:
                try:
                    job.result()
                except Exception:  # noqa: BLE001 - the caller is already failing or has seen it
                    pass
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
                self.pool = None
            for st in self.stmts.values():
                self.api["finalize"](st)
            self.stmts.clear()

    # -- internals
    def _run(self, stmt, n, args):
        done, rc = self.api["run"](stmt, n, *args[:7])     # args[7]: the Arrow arrays the buffers belong to
        self.api["clear"](stmt)
        if rc != _DONE:
            import sqlite3

            msg = (self.api["errmsg"](self.db) or b"").decode("utf-8", "replace")
            cls = sqlite3.IntegrityError if rc & 0xFF == 19 else sqlite3.OperationalError
            raise cls(f"{msg} (row {done + 1} of a chunk of {n})")

    def _stmt(self, sql):
        st = self.stmts.get(sql)
        if st is None:
            p = ctypes.c_void_p()
            rc = self.api["prepare"](self.db, sql.encode("utf-8"), -1, ctypes.byref(p), None)
            if rc != _OK:
                import sqlite3

                raise sqlite3.OperationalError((self.api["errmsg"](self.db) or b"").decode("utf-8", "replace"))
            st = self.stmts[sql] = p.value
        return st

    def _pack(self, table, cols, data):
        """(sql, loop arguments) or None when a column's values need executemany's per-value typing."""
        import pyarrow as pa

        n = len(data[0])
        kinds, slots, f64, i64, text, nulls = [], [], [], [], [], []
        for name, v in zip(cols, data):
            try:
                if isinstance(v, pa.Array):
                    a = v
                elif isinstance(v, np.ndarray) and v.dtype.kind == "f":
                    a = pa.array(v, pa.float64(), from_pandas=True)
                elif isinstance(v, np.ndarray) and v.dtype.kind in "iu":
                    a = pa.array(v, pa.int64())
                else:
                    a = pa.array(v, from_pandas=True)     # infers: str, bytes, float, int, None
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                return None
            t = a.type
            if isinstance(a, pa.ChunkedArray) or len(a) != n:
                return None
            if not isinstance(v, (np.ndarray, pa.Array)) or (isinstance(v, np.ndarray) and v.dtype == object):
                # Arrow coerces some mixtures that sqlite3 would type value by value
                if pa.types.is_floating(t) and not set(map(type, v)) <= _FLOATS:
                    return None            # an int among floats
                if pa.types.is_binary(t) and not set(map(type, v)) <= _BYTES:
                    return None            # str among bytes
            if pa.types.is_null(t):
                kinds.append(_NULL)
                slots.append(0)
                nulls.append(None)
                continue
            if pa.types.is_floating(t):
                if t != pa.float64():
                    return None
                kinds.append(_F64)
                slots.append(len(f64))
                f64.append(np.asarray(a.fill_null(0.0)))
            elif pa.types.is_integer(t) and t == pa.int64():
                kinds.append(_I64)
                slots.append(len(i64))
                i64.append(np.asarray(a.fill_null(0)))
            elif t in (pa.string(), pa.binary()):
                kinds.append(_TEXT if t == pa.string() else _BLOB)
                slots.append(len(text))
                text.append(a)
            else:
                return None            # bool, large ints, nested: executemany
            nulls.append(np.asarray(a.is_null()) if a.null_count else None)
        null = np.zeros((len(cols), n), bool)
        for c, m in enumerate(nulls):
            if m is not None:
                null[c] = m
        off = np.zeros((max(1, len(text)), n + 1), np.int64)
        base = np.zeros(max(1, len(text)), np.int64)
        for j, a in enumerate(text):
            _, ob, db = a.buffers()
            off[j] = np.frombuffer(ob, np.int32, n + 1, a.offset * 4)
            base[j] = db.address if db is not None else 0
        f64a = np.stack(f64) if f64 else np.zeros((1, n))
        i64a = np.stack(i64) if i64 else np.zeros((1, n), np.int64)
        sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
        # ``text`` keeps the Arrow buffers alive until the job is done
        return sql, (np.array(kinds, np.int64), np.array(slots, np.int64), f64a, i64a, null, off, base, text)

