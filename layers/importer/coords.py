"""Coordinates: which CRS, which column is the easting, zone prefixes, area checks.

Survey tables (管线点成果表) list X = northing and Y = easting; the header
synonyms map them to ``north`` / ``east`` accordingly. Where the values show
that a table used X as the easting instead (the east column holds northings
for the CRS and vice versa), the columns are swapped and a note says so.
An 8-digit easting carries the 3° (zones 25-45) or 6° (zones 13-23) zone
number: the CGCS2000 CRS with that prefix is used (standards.md §2).
Coordinates outside the CRS's area of use are refused, never guessed at.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

from ..errors import InputError
from . import mapping

# CGCS2000 Gauss-Krüger CRSs with the zone number in the easting (standards.md §2)
_PREFIX_3DEG = {z: 4488 + z for z in range(25, 46)}   # EPSG:4513-4533
_PREFIX_6DEG = {z: 4491 + z - 13 for z in range(13, 24)}  # EPSG:4491-4501


_PINNED_CONTEXTS = {}


def _pin_proj_context():
    """Keep this OS thread's PROJ context alive for the thread's life.

    pyproj (3.7) keeps the thread's PJ_CONTEXT pointer in OS thread storage but
    frees it with a ``threading.local`` object. In a Qt worker thread (QgsTask)
    the Python thread state, and so that object, is dropped after every call
    into Python while the OS thread lives on: the next task on that thread
    would use a freed context and crash in ``proj_create``.
    """
    try:
        from pyproj._context import get_context_manager
    except ImportError:  # pragma: no cover - another pyproj
        return
    manager = get_context_manager()
    if manager is not None:
        _PINNED_CONTEXTS[threading.get_native_id()] = manager


def _per_thread(fn):
    """Cache pyproj objects per thread: a Transformer (and a CRS's PROJ context)
    must not be shared between threads (pyproj's multithreading notes); the dock
    plans imports in QgsTask worker threads."""
    local = threading.local()

    @functools.wraps(fn)
    def wrapper(*args):
        cache = getattr(local, "cache", None)
        if cache is None:
            cache = local.cache = {}
        if args not in cache:
            if len(cache) >= 64:
                cache.clear()
            cache[args] = fn(*args)
            _pin_proj_context()
        return cache[args]

    wrapper.cache_clear = lambda: getattr(local, "cache", {}).clear()
    return wrapper


@_per_thread
def crs(text):
    import pyproj

    try:
        return pyproj.CRS.from_user_input(text)
    except Exception:  # noqa: BLE001
        raise InputError(f"unknown CRS {text!r}") from None


def authid(c) -> str:
    a = c.to_authority()
    return f"{a[0]}:{a[1]}" if a else c.to_wkt()


def _false_easting(c):
    if not c.is_projected or c.coordinate_operation is None:
        return None
    for p in c.coordinate_operation.params:
        if p.name == "False easting":
            return p.value
    return None


def prefixed_crs(easting: float):
    """The CGCS2000 GK CRS whose false easting carries the zone of this 8-digit easting, or None."""
    if not np.isfinite(easting) or easting < 1e7 or easting >= 1e8:
        return None
    zone = int(easting // 1e6)
    code = _PREFIX_3DEG.get(zone) or _PREFIX_6DEG.get(zone)
    return f"EPSG:{code}" if code else None


@_per_thread
def _to_geodetic(crs_text):
    import pyproj

    c = crs(crs_text)
    return pyproj.Transformer.from_crs(c, c.geodetic_crs, always_xy=True)


@_per_thread
def _between(a, b):
    import pyproj

    return pyproj.Transformer.from_crs(crs(a), crs(b), always_xy=True)


def inside_area(x, y, crs_text) -> np.ndarray:
    """True where (x, y) in ``crs_text`` lies inside the CRS's area of use."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    c = crs(crs_text)
    ok = np.isfinite(x) & np.isfinite(y)
    area = c.area_of_use
    if area is None or not ok.any():
        return ok
    lon, lat = _arrays(_to_geodetic(crs_text), np.where(ok, x, 0.0), np.where(ok, y, 0.0))
    m = mapping.check_value("crs_area_margin_deg")
    w, s, e, n = area.bounds
    with np.errstate(invalid="ignore"):
        return ok & np.isfinite(lon) & np.isfinite(lat) & (lon >= w - m) & (lon <= e + m) \
            & (lat >= s - m) & (lat <= n + m)


def transform(x, y, crs_from, crs_to):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if crs(crs_from) == crs(crs_to):
        return x, y
    return _arrays(_between(crs_from, crs_to), x, y)


def _arrays(tr, x, y):
    """``tr.transform`` of 1-d arrays, also of length 1: pyproj tries its one-point path on a
    length-1 array first, which converts the array to a scalar (deprecated in numpy 1.25)."""
    if x.shape == (1,):
        x2, y2 = tr.transform(np.repeat(x, 2), np.repeat(y, 2))
        return x2[:1], y2[:1]
    return tr.transform(x, y)


def table_crs(east, north, crs_in):
    """Decide how a table's columns are read: returns (east, north, crs_in, notes).

    ``east`` / ``north`` are the columns as the headers say (X = north). A zone
    prefix in the eastings selects the prefixed CRS; a table whose values show
    X = easting is swapped back.
    """
    east = np.asarray(east, dtype=float)
    north = np.asarray(north, dtype=float)
    notes = []
    c = crs(crs_in)
    if c.is_projected:
        prefixed_e = np.isfinite(east) & (east >= 1e7) & (east < 1e8)
        prefixed_n = np.isfinite(north) & (north >= 1e7) & (north < 1e8)
        # an easting with a prefix looks like 38 501 548; northings in China are below 6e6
        if prefixed_n.sum() > prefixed_e.sum():
            east, north = north, east
            prefixed_e = prefixed_n
            notes.append("columns swapped: the X column holds the (zone-prefixed) eastings")
        if prefixed_e.any() and (_false_easting(c) or 0) < 1e6:
            zones = np.floor(east[prefixed_e] / 1e6)
            vals, counts = np.unique(zones, return_counts=True)
            zone_crs = prefixed_crs(float(vals[np.argmax(counts)]) * 1e6 + 5e5)
            if zone_crs is not None:  # else: no known zone, the area check refuses them
                notes.append(f"eastings carry a zone prefix: read in {zone_crs}")
                return east, north, zone_crs, notes
    as_is = inside_area(east, north, crs_in)
    swapped = inside_area(north, east, crs_in)
    if swapped.sum() > as_is.sum():
        notes.append("columns swapped: the X column holds the eastings")
        east, north = north, east
    return east, north, crs_in, notes


class TableCrs:
    """``table_crs``'s decision from counts gathered chunk by chunk (no column kept whole).

    ``add(east, north)`` per chunk (columns as the headers say), then ``decide()`` ->
    (swapped, crs_in, notes): the same choice ``table_crs`` makes on the whole columns."""

    def __init__(self, crs_in):
        self.crs_in = crs_in
        self.c = crs(crs_in)
        self.pe = self.pn = 0                 # zone-prefixed values in the east / north column
        self.zones_e, self.zones_n = {}, {}   # their zone counts
        self.as_is = self.swapped = 0         # rows inside the CRS's area as they are / swapped

    @staticmethod
    def _count(zones, v):
        z, k = np.unique(np.floor(v / 1e6), return_counts=True)
        for a, b in zip(z.tolist(), k.tolist()):
            zones[a] = zones.get(a, 0) + b

    def add(self, east, north):
        east = np.asarray(east, dtype=float)
        north = np.asarray(north, dtype=float)
        if self.c.is_projected:
            pe = np.isfinite(east) & (east >= 1e7) & (east < 1e8)
            pn = np.isfinite(north) & (north >= 1e7) & (north < 1e8)
            self.pe += int(pe.sum())
            self.pn += int(pn.sum())
            self._count(self.zones_e, east[pe])
            self._count(self.zones_n, north[pn])
        self.as_is += int(inside_area(east, north, self.crs_in).sum())
        self.swapped += int(inside_area(north, east, self.crs_in).sum())

    def decide(self):
        notes = []
        swapped = False
        if self.c.is_projected:
            pe, zones = self.pe, self.zones_e
            if self.pn > self.pe:
                swapped, pe, zones = True, self.pn, self.zones_n
                notes.append("columns swapped: the X column holds the (zone-prefixed) eastings")
            if pe and (_false_easting(self.c) or 0) < 1e6:
                best = max(zones.values())
                zone = min(z for z, k in zones.items() if k == best)     # np.unique + argmax: the lowest
                zone_crs = prefixed_crs(float(zone) * 1e6 + 5e5)
                if zone_crs is not None:
                    notes.append(f"eastings carry a zone prefix: read in {zone_crs}")
                    return swapped, zone_crs, notes
            if swapped:
                # table_crs goes on with the swapped columns: the area counts swap with them
                if self.as_is > self.swapped:
                    notes.append("columns swapped: the X column holds the eastings")
                    return False, self.crs_in, notes
                return True, self.crs_in, notes
        if self.swapped > self.as_is:
            notes.append("columns swapped: the X column holds the eastings")
            swapped = True
        return swapped, self.crs_in, notes


def geometry_to_project(geoms, crs_in, crs_out):
    """(geometries in crs_out, inside mask) for an array of shapely geometries in crs_in."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    ok = np.zeros(len(geoms), dtype=bool)
    if not len(geoms):
        return geoms, ok
    present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    coords, idx = shapely.get_coordinates(geoms[present], return_index=True)
    inside = inside_area(coords[:, 0], coords[:, 1], crs_in)
    bad = np.zeros(int(present.sum()), dtype=bool)
    np.logical_or.at(bad, idx, ~inside)
    ok[np.flatnonzero(present)] = ~bad
    out = geoms.copy()
    if crs(crs_in) != crs(crs_out) and ok.any():
        tr = _between(crs_in, crs_out)
        sel = np.flatnonzero(ok)

        def fn(xy):
            x, y = _arrays(tr, xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        out[sel] = shapely.transform(geoms[sel], fn)
        # and where it lands must lie in the project's CRS area too
        c2, i2 = shapely.get_coordinates(out[sel], return_index=True)
        bad2 = np.zeros(len(sel), dtype=bool)
        np.logical_or.at(bad2, i2, ~inside_area(c2[:, 0], c2[:, 1], crs_out))
        ok[sel[bad2]] = False
    return out, ok
