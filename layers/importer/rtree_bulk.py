"""Bulk load of an EMPTY SQLite R-tree (GeoPackage spatial index) by writing its shadow tables.

Inserting through the virtual table costs ~15-25 us a row (node splits, reinsertion);
GDAL's GeoPackage driver therefore packs the tree itself and writes the
``<rtree>_node`` / ``_rowid`` / ``_parent`` tables. Same here: entries sorted by a
Z-order key, packed into full nodes level by level (blobs built with numpy), root = node 1.

SQLite's node format (ext/rtree/rtree.c): big-endian; header u16 depth (root only,
leaves are depth 0) + u16 cell count; cells of i64 rowid/child + 4 float32
(minx, maxx, miny, maxy), min rounded down and max rounded up to float32; node
size = the length of the existing root blob; at most 51 cells a node (RTREE_MAXCELLS).
Checked with SQLite's own ``rtreecheck()`` in the tests.
"""
from __future__ import annotations

import numpy as np

MAXCELLS = 51
_CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])


_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0


def _down(v):
    """rtree.c rtreeValueDown: float32, moved down by a relative 2**-23 when it rounded up."""
    v = np.asarray(v, np.float64)
    f = v.astype(np.float32)
    over = f.astype(np.float64) > v
    d = v[over]
    f[over] = (d * np.where(d < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return f


def _up(v):
    """rtree.c rtreeValueUp."""
    v = np.asarray(v, np.float64)
    f = v.astype(np.float32)
    under = f.astype(np.float64) < v
    d = v[under]
    f[under] = (d * np.where(d < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return f


class Loader:
    """Feed (ids, minx, maxx, miny, maxy) in spatial order with ``add``; ``finish`` writes the tree."""

    def __init__(self, con, name, bulk=None, id_range=None):
        self.con, self.name = con, name
        self.bulk = bulk             # a sqlite_bulk.Bulk on ``con``, or None (executemany)
        if bulk is not None:
            bulk.wait()              # nothing else may use ``con`` while a chunk is being written
        row = con.execute(f'SELECT length(data) FROM "{name}_node" WHERE nodeno = 1').fetchone()
        self.size = int(row[0]) if row else 1228
        self.per = min(MAXCELLS, (self.size - 4) // _CELL.itemsize)
        self.pending = None          # entries not yet making a full node
        self.level = []              # (node numbers, boxes) of the leaf level, for the levels above
        self.next_node = 2
        con.execute(f'DELETE FROM "{name}_node"')
        con.execute(f'DELETE FROM "{name}_rowid"')
        con.execute(f'DELETE FROM "{name}_parent"')
        self.total = 0
        self.rowids, self.owners = [], []
        # ids known to be exactly lo..hi: their leaf node numbers in one int32 array, no sort
        self.dense = None
        if id_range is not None and id_range[1] >= id_range[0] and self.per and id_range[1] - id_range[0] < 2**31:
            self.lo = id_range[0]
            self.dense = np.full(id_range[1] - id_range[0] + 1, -1, np.int32)

    def add(self, ids, minx, maxx, miny, maxy):
        cells = np.empty(len(ids), _CELL)
        cells["id"], cells["minx"], cells["maxx"] = ids, _down(minx), _up(maxx)
        cells["miny"], cells["maxy"] = _down(miny), _up(maxy)
        if self.pending is not None:
            cells = np.concatenate([self.pending, cells])
        full = len(cells) // self.per * self.per
        self.pending = cells[full:]
        if full:
            self._leaves(cells[:full])

    def _nodes(self, cells, depth=0):
        """Blobs of nodes holding ``cells`` (``per`` a node, the last may be short)."""
        n = len(cells)
        k = max(1, -(-n // self.per))
        pad = np.zeros(k * self.per, _CELL)
        pad[:n] = cells
        buf = np.zeros((k, self.size), np.uint8)
        buf[:, 4:4 + self.per * _CELL.itemsize] = pad.view(np.uint8).reshape(k, -1)
        counts = np.full(k, self.per, np.int64)
        counts[-1] = n - (k - 1) * self.per
        buf[:, 0], buf[:, 1] = depth >> 8, depth & 0xFF
        buf[:, 2], buf[:, 3] = counts >> 8, counts & 0xFF
        return buf, counts

    def _boxes(self, cells, k):
        """Bounding boxes of the nodes over ``cells`` (exact: float32 min of mins, max of maxes)."""
        n = len(cells)
        starts = np.arange(k) * self.per
        out = np.empty(k, _CELL)
        for c, fn in (("minx", np.minimum), ("miny", np.minimum), ("maxx", np.maximum), ("maxy", np.maximum)):
            out[c] = fn.reduceat(cells[c].astype(np.float32), starts) if n else 0
        return out

    def _write(self, cells, depth, root=False):
        buf, counts = self._nodes(cells, depth if root else 0)
        k = len(buf)
        nos = np.array([1]) if root else np.arange(self.next_node, self.next_node + k)
        if not root:
            self.next_node += k
        self._insert("node", ("nodeno", "data"), nos.astype(np.int64), [b.tobytes() for b in buf])
        owner = np.repeat(nos, counts)
        if depth == 0:
            # leaf entries' (rowid, node) wait for finish(): written in rowid order, they append to the
            # _rowid table's b-tree instead of landing at random pages (spatial order)
            ids = cells["id"].astype(np.int64)
            if self.dense is not None and len(ids) and ids.min() >= self.lo \
                    and ids.max() - self.lo < len(self.dense) and nos.max() < 2**31:
                self.dense[ids - self.lo] = owner
            else:
                self._undense()                   # not the promised range after all: back to sorting
                self.rowids.append(ids)
                self.owners.append(owner.astype(np.int32 if self.next_node < 2**31 else np.int64))
        else:
            self._insert("parent", ("nodeno", "parentnode"), cells["id"].astype(np.int64), owner.astype(np.int64))
        return nos, self._boxes(cells, k)

    def _leaves(self, cells):
        nos, boxes = self._write(cells, 0)
        boxes["id"] = nos
        self.level.append(boxes)
        self.total += len(cells)

    def _undense(self):
        """Move the dense entries (if any) to the lists that are sorted at the end."""
        if self.dense is not None:
            have = np.flatnonzero(self.dense >= 0)
            self.rowids.append(have + self.lo)
            self.owners.append(self.dense[have].astype(np.int64))
            self.dense = None

    def _rowid_table(self):
        if self.dense is not None and (self.dense >= 0).all():
            ids = np.arange(self.lo, self.lo + len(self.dense), dtype=np.int64)
            owner, self.dense = self.dense.astype(np.int64), None
            self._insert("rowid", ("rowid", "nodeno"), ids, owner)
            return
        self._undense()
        if not self.rowids:
            return
        ids, owner = np.concatenate(self.rowids), np.concatenate(self.owners)
        self.rowids = self.owners = None
        order = np.argsort(ids, kind="stable")
        self._insert("rowid", ("rowid", "nodeno"), ids[order], owner[order].astype(np.int64))

    def _insert(self, shadow, cols, a, b, step=65536):
        table = f"{self.name}_{shadow}"
        if len(a) > step:            # in pieces: the bulk writer's buffers stay one piece big
            for i in range(0, len(a), step):
                self._insert(shadow, cols, a[i:i + step], b[i:i + step], step)
            return
        if self.bulk is not None and self.bulk.insert(table, list(cols), [a, b]):
            return
        self.con.executemany(f'INSERT INTO "{table}" ({cols[0]}, {cols[1]}) VALUES (?, ?)',
                             zip(a.tolist(), b if isinstance(b, list) else b.tolist()))

    def finish(self):
        """Write the remaining leaves and every level above; the root is node 1."""
        rest = self.pending if self.pending is not None else np.empty(0, _CELL)
        if not self.level:
            # everything fits in the root (leaf), possibly empty
            self._write(rest, 0, root=True)
            self._rowid_table()
            return len(rest)
        if len(rest):
            self._leaves(rest)
        self._rowid_table()
        level = np.concatenate(self.level)
        depth = 1
        while len(level) > self.per:
            nos, boxes = self._write(level, depth)
            boxes["id"] = nos
            level = boxes
            depth += 1
        self._write(level, depth, root=True)
        return self.total
