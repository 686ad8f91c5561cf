"""A merge's rows reach PostgreSQL through COPY exactly: pg._run_csv's Arrow CSV gives back
every value as it was, NULL as NULL, "" as "" and the text \\N as text."""
import math

import numpy as np
import pandas as pd
import pytest

from renewal_planner.layers import pg

psycopg = pytest.importorskip("psycopg")

TRICKY = ["", None, "a,b", 'say "no"', "two\nlines", "中文，全角", "\\N", " lead", "NULL"]


def frame():
    n = len(TRICKY)
    return pd.DataFrame({
        "ord": np.arange(n, dtype=np.int64),
        "txt": TRICKY,
        "x": [0.1, float("nan"), 1 / 3, 1e-300, -0.0, 2.5e15, 123456.789012345, float("inf"), None],
        "fid": pd.array([1, None, 3, None, 5, 6, 7, 8, 9], dtype="Int64"),
        "nothing": [None] * n,
    })


@pytest.mark.parametrize("mixed", [False, True])
def test_copy_gives_the_values_back(pg_conninfo, mixed):
    f = frame()
    if mixed:    # a column Arrow will not type goes as text
        f["odd"] = [1, "one", 2.5, None, "x", 3, float("nan"), 5, pd.NA]
    cols = "ord bigint, txt text, x double precision, fid bigint, nothing text" + (", odd text" if mixed else "")
    with psycopg.connect(pg_conninfo) as con:
        con.execute(f"CREATE TEMPORARY TABLE t ({cols})")
        with con.cursor().copy("COPY t FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(pg._run_csv(f))
        got = con.execute("SELECT ord, txt, x, fid, nothing FROM t ORDER BY ord").fetchall()
        odd = [r[0] for r in con.execute("SELECT odd FROM t ORDER BY ord")] if mixed else None
    assert [r[1] for r in got] == TRICKY
    for r, want in zip(got, f["x"]):
        if want is None or (isinstance(want, float) and math.isnan(want)):
            assert r[2] is None
        else:
            assert r[2] == want and math.copysign(1, r[2]) == math.copysign(1, want)
    assert [r[3] for r in got] == [None if v is pd.NA else int(v) for v in f["fid"]]
    assert [r[4] for r in got] == [None] * len(TRICKY)
    if mixed:
        assert odd == ["1", "one", "2.5", None, "x", "3", None, "5", None]
