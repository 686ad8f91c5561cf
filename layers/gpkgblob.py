"""GeoPackage geometry blobs for plain sqlite3 access.

The check results are merged into the ``conflict`` table in ONE sqlite
transaction (a reader never sees half a run). GDAL's R-tree triggers call
ST_IsEmpty / ST_MinX ... on insert and update, so those functions are
registered on the connection here, reading the envelope we write in the
blob header.
"""
from __future__ import annotations

import struct

import numpy as np

# flags: little endian (bit 0), envelope code 1 = [minx, maxx, miny, maxy] (bits 1-3),
# empty (bit 4)
_FLAGS_ENV = 0b0000_0011
_FLAGS_EMPTY = 0b0001_0001


#: the header of a blob with an xy envelope, little endian (what to_blobs writes before the WKB)
HEADER = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs", "<i4"), ("env", "<f8", (4,))])


def to_blobs(geoms, srs_id: int) -> list:
    """GeoPackage blobs (with envelope) for an array of shapely geometries (None stays None);
    the headers are built in one numpy array."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    out = [None] * n
    if not n:
        return out
    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms) & ~missing
    wkb = shapely.to_wkb(geoms, byte_order=1)
    full = np.flatnonzero(~(missing | empty))
    if len(full):
        b = shapely.bounds(geoms[full])
        h = np.empty(len(full), HEADER)
        h["magic"], h["version"], h["flags"], h["srs"] = b"GP", 0, _FLAGS_ENV, srs_id
        h["env"] = b[:, [0, 2, 1, 3]]
        raw = h.tobytes()
        k = HEADER.itemsize
        for j, i in enumerate(full.tolist()):
            out[i] = raw[j * k:(j + 1) * k] + wkb[i]
    for i in np.flatnonzero(empty).tolist():
        out[i] = b"GP\x00" + bytes([_FLAGS_EMPTY]) + struct.pack("<i", srs_id) + wkb[i]
    return out


def _header(blob):
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    little = flags & 1
    env = (flags >> 1) & 0b111
    empty = (flags >> 4) & 1
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env, 0)
    fmt = ("<" if little else ">") + "d" * (size // 8)
    envelope = struct.unpack(fmt, blob[8:8 + size]) if size else None
    return empty, envelope, 8 + size


def from_blob(blob):
    import shapely

    h = _header(blob)
    if h is None:
        return None
    return shapely.from_wkb(bytes(blob[h[2]:]))


def _bound(i):
    def f(blob):
        h = _header(blob)
        if h is None:
            return None
        empty, env, _ = h
        if empty:
            return None
        if env is None:
            g = from_blob(blob)
            if g is None or g.is_empty:
                return None
            b = g.bounds
            env = (b[0], b[2], b[1], b[3])
        return env[i]
    return f


def _is_empty(blob):
    h = _header(blob)
    if h is None:
        return 1
    return int(bool(h[0]))


def register_functions(con):
    """Make GDAL's GeoPackage R-tree triggers work on a plain sqlite3 connection."""
    con.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for name, i in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, _bound(i), deterministic=True)
    # GDAL >= 3.7 triggers may also use this
    con.create_function("ST_GeometryType", 1, lambda b: None, deterministic=True)
