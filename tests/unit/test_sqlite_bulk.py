"""sqlite_bulk binds from Arrow buffers in compiled code: the rows it stores must be exactly the rows
``executemany`` stores from the same Python values (value and typeof), whatever the values."""
import math
import sqlite3

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewal_planner.layers.importer import sqlite_bulk

pytestmark = pytest.mark.skipif(sqlite_bulk._capi() is None, reason="numba not available")

DDL = ('CREATE TABLE t (fid INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, '
       'txt TEXT, r REAL, i INTEGER, d DATE, g BLOB, anything)')
COLS = ["uid", "txt", "r", "i", "d", "g", "anything"]


def _db(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(DDL)
    return con


def _dump(con):
    return con.execute("SELECT fid, " + ", ".join(f"{c}, typeof({c})" for c in COLS) + " FROM t ORDER BY fid").fetchall()


def _both(tmp_path, chunks, threaded=True):
    a = _db(str(tmp_path / "a.db"))
    b = _db(str(tmp_path / "b.db"))
    bulk = sqlite_bulk.Bulk(b, threaded=threaded)
    assert bulk.compiled
    fast = 0
    a.execute("BEGIN")
    b.execute("BEGIN")
    for data in chunks:
        lists = [v.tolist() if isinstance(v, np.ndarray) else list(v) for v in data]
        a.executemany(f"INSERT INTO t ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})", zip(*lists))
        if bulk.insert("t", COLS, data):
            fast += 1
        else:
            b.executemany(f"INSERT INTO t ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})", zip(*lists))
    bulk.close()
    a.execute("COMMIT")
    b.execute("COMMIT")
    return _dump(a), _dump(b), fast


def _obj(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def test_hand_made_values_are_stored_alike(tmp_path):
    n = 7
    data = [
        _obj([f"P{i}" for i in range(n)]),
        _obj(["给水", None, "", "a\x00b", "emoji 🚰", "it's", "'; DROP TABLE t; --"]),
        np.array([1.5, np.nan, -0.0, 1e308, 5e-324, math.pi, 2.0]),
        _obj([1, None, -(2 ** 63), 2 ** 63 - 1, 0, 7, 2019]),
        _obj(["2024-05-01", None, "2024-05-01T10:00:00.000Z", "x", None, "", "2024"]),
        _obj([b"GP\x00\x01", None, b"", b"\x00" * 40, b"x", b"y", b"z"]),
        _obj([None] * n),
    ]
    a, b, fast = _both(tmp_path, [data])
    assert fast == 1
    assert a == b
    # spot checks against hand-known storage
    assert b[1][3:5] == (None, "null")                      # NaN binds as NULL
    assert b[3][3:5] == ("a\x00b", "text")                  # embedded NUL kept, as executemany keeps it
    assert b[2][7:9] == (-(2 ** 63), "integer")


def test_mixed_types_go_back_to_executemany(tmp_path):
    good = [_obj(["A", "B"]), _obj(["x", "y"]), np.array([1.0, 2.0]), _obj([1, 2]), _obj([None, None]),
            _obj([b"1", b"2"]), _obj([None, None])]
    mixed = [_obj(["C", "D"]), _obj(["x", 3.5]), np.array([1.0, 2.0]), _obj([1, 2]), _obj([None, None]),
             _obj([b"1", b"2"]), _obj([None, None])]
    ints_in_text = [_obj(["E", "F"]), _obj([1, 2.5]), np.array([1.0, 2.0]), _obj([1, 2]), _obj([None, None]),
                    _obj([b"1", b"2"]), _obj([None, None])]
    a, b, fast = _both(tmp_path, [good, mixed, ints_in_text])
    assert a == b
    assert fast == 1          # the two odd chunks were refused by the compiled path, not stored differently
    assert b[5][3:5] == ("2.5", "text") and b[4][3:5] == ("1", "text")


def test_constraint_error_names_the_row(tmp_path):
    con = _db(str(tmp_path / "c.db"))
    bulk = sqlite_bulk.Bulk(con)
    con.execute("BEGIN")
    data = [_obj(["A", "B", "A"])] + [_obj([None] * 3) for _ in COLS[1:]]
    assert bulk.insert("t", COLS, data)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE.*row 3 of a chunk of 3"):
        bulk.wait()
    bulk.close()
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_numba_off_means_executemany(tmp_path, monkeypatch):
    monkeypatch.setenv("RENEWAL_PLANNER_NUMBA", "0")
    con = _db(str(tmp_path / "d.db"))
    bulk = sqlite_bulk.Bulk(con)
    assert not bulk.compiled
    assert bulk.insert("t", COLS, [_obj(["A"])] + [_obj([None]) for _ in COLS[1:]]) is False


_text = st.one_of(st.none(), st.text(max_size=12))
_real = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
_int = st.one_of(st.none(), st.integers(-(2 ** 63), 2 ** 63 - 1))
_blob = st.one_of(st.none(), st.binary(max_size=20))
_any = st.one_of(st.none(), st.text(max_size=5), st.floats(allow_nan=False), st.integers(-(2 ** 63), 2 ** 63 - 1),
                 st.binary(max_size=5))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_text, _real, _int, _text, _blob, _any), min_size=1, max_size=30),
       st.booleans(), st.booleans())
def test_random_columns_are_stored_alike(tmp_path_factory, rows, as_float_array, threaded):
    tmp = tmp_path_factory.mktemp("bulk")
    n = len(rows)
    cols = list(zip(*rows))
    r = np.array([np.nan if x is None else x for x in cols[1]]) if as_float_array else _obj(list(cols[1]))
    data = [_obj([f"U{i}" for i in range(n)]), _obj(list(cols[0])), r, _obj(list(cols[2])), _obj(list(cols[3])),
            _obj(list(cols[4])), _obj(list(cols[5]))]
    a, b, _ = _both(tmp, [data, [_obj([f"V{i}" for i in range(n)])] + data[1:]], threaded=threaded)
    assert a == b
