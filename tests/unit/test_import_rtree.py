"""rtree_bulk packs an empty SQLite R-tree by writing its shadow tables: the stored boxes must be
exactly those SQLite's own inserts store, the tree must pass SQLite's rtreecheck(), and window
queries must return what the SQLite-built tree returns (no QGIS)."""
import sqlite3

import numpy as np
import pytest

from renewal_planner.layers.importer import rtree_bulk
from renewal_planner.layers.importer.stream import _morton


@pytest.mark.parametrize("n", [0, 1, 50, 51, 52, 51 * 51, 51 * 51 + 1, 30000])
def test_bulk_tree_equals_sqlite_built(n):
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    con.execute("CREATE VIRTUAL TABLE ref USING rtree(id, minx, maxx, miny, maxy)")
    rng = np.random.default_rng(n)
    x = rng.uniform(-1000, 520000, n)
    y = rng.uniform(-5, 3400000, n)
    w = rng.uniform(0, 50, n) * (rng.random(n) < 0.5)
    ids = np.arange(1, n + 1) * 3
    order = np.argsort(_morton(x, y))
    con.execute("BEGIN")
    loader = rtree_bulk.Loader(con, "r")
    for s in range(0, n, 777):
        sl = order[s:s + 777]
        loader.add(ids[sl], x[sl], x[sl] + w[sl], y[sl], y[sl] + w[sl])
    assert loader.finish() == n
    con.execute("COMMIT")
    con.executemany("INSERT INTO ref VALUES (?,?,?,?,?)",
                    zip(ids.tolist(), x.tolist(), (x + w).tolist(), y.tolist(), (y + w).tolist()))
    assert con.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM r").fetchone()[0] == n
    assert con.execute("SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM ref)").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT * FROM r)").fetchone()[0] == 0
    q = "SELECT id FROM {} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ? ORDER BY id"
    for _ in range(40):
        qx, qy = rng.uniform(-1000, 520000), rng.uniform(0, 3400000)
        box = (qx, qx + 20000, qy, qy + 100000)
        got = con.execute(q.format("r"), box).fetchall()
        assert got == con.execute(q.format("ref"), box).fetchall()
        want = ids[(x + w >= box[0]) & (x <= box[1]) & (y + w >= box[2]) & (y <= box[3])]
        assert set(want.tolist()) <= {r[0] for r in got}
    # the tree stays a working SQLite R-tree: inserts and deletes after the bulk load
    con.execute("INSERT INTO r VALUES (1, 0, 1, 0, 1)")
    if n:
        con.execute("DELETE FROM r WHERE id = ?", (int(ids[0]),))
    assert con.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"


def test_blobs_are_header_plus_wkb():
    """gpkgblob.to_blobs (headers built in numpy) against the GeoPackage spec written out
    one geometry at a time: "GP", version 0, flags (little endian, xy envelope; empty:
    bit 4 and no envelope), srs id, envelope minx maxx miny maxy, little-endian WKB."""
    import struct

    import shapely

    from renewal_planner.layers import gpkgblob

    g = np.array([shapely.Point(500000.5, 3380000.25), shapely.LineString([(1, 2), (3, -4), (5, 6)]),
                  None, shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 5)]]), shapely.LineString(),
                  shapely.Polygon([(0, 0), (2, 0), (2, 3)]), shapely.Point()], dtype=object)

    def spec(geom):
        if geom is None:
            return None
        wkb = shapely.to_wkb(geom, byte_order=1)
        if geom.is_empty:
            return b"GP\x00\x11" + struct.pack("<i", 4547) + wkb
        minx, miny, maxx, maxy = geom.bounds
        return b"GP\x00\x03" + struct.pack("<i4d", 4547, minx, maxx, miny, maxy) + wkb

    assert gpkgblob.to_blobs(g, 4547) == [spec(x) for x in g]
    assert gpkgblob.to_blobs(np.array([], dtype=object), 1) == []
    assert [gpkgblob.from_blob(b) for b in gpkgblob.to_blobs(g[:2], 4547)] == list(g[:2])


@pytest.mark.parametrize("id_range", [(1, 700), (1, 900), (5, 700)])
def test_id_range_hint_gives_the_same_tree(tmp_path, id_range):
    """The dense rowid table (ids promised to be lo..hi) gives the same shadow tables as sorting,
    also when the promise is wrong (ids outside the range, gaps)."""
    rng = np.random.default_rng(3)
    ids = rng.permutation(np.arange(1, 701))
    x, y = rng.uniform(0, 1000, 700), rng.uniform(0, 1000, 700)
    dumps = []
    for hint in (None, id_range):
        con = sqlite3.connect(str(tmp_path / f"h{hint}.db"))
        con.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
        loader = rtree_bulk.Loader(con, "r", id_range=hint)
        for i in range(0, 700, 150):
            loader.add(ids[i:i + 150], x[i:i + 150], x[i:i + 150] + 1, y[i:i + 150], y[i:i + 150] + 1)
        loader.finish()
        con.commit()
        assert con.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
        dumps.append([con.execute(f"SELECT * FROM r_{t} ORDER BY 1").fetchall() for t in ("node", "rowid", "parent")])
    assert dumps[0] == dumps[1]
