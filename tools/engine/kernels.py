"""Compiled kernels (numba) for the hottest joins, with numpy fallbacks.

numba is optional: imported lazily on the first call; when it is missing,
fails to compile, or ``RENEWAL_PLANNER_NUMBA=0``, the numpy code gives the
same results (same pairs, same order; tested in tests/unit/test_kernels.py).
Kernels are compiled with ``cache=True`` (about a second the very first time,
then loaded from the cache in ~10 ms); when the package folder is not
writable the cache goes to ``~/.cache/renewal_planner/numba`` (NUMBA_CACHE_DIR
wins when set). Every kernel is ``nogil``: rules run chunks of one in threads
(tools/engine/parallel.py).
"""
from __future__ import annotations

import os
import threading

import numpy as np

_lock = threading.Lock()
_state = {}


def enabled() -> bool:
    """True when the compiled kernels are in use."""
    return _compiled() is not None


def _compiled():
    if os.environ.get("RENEWAL_PLANNER_NUMBA", "1").strip().lower() in ("0", "no", "false", "off"):
        return None
    if "mod" in _state:
        return _state["mod"]
    with _lock:
        if "mod" not in _state:
            _state["mod"] = _build()
    return _state["mod"]


def _build():
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.environ.get("NUMBA_CACHE_DIR"):
        cache = os.path.join(here, "__pycache__")
        if not (os.access(cache, os.W_OK) or (not os.path.exists(cache) and os.access(here, os.W_OK))):
            os.environ["NUMBA_CACHE_DIR"] = os.path.join(os.path.expanduser("~"), ".cache",
                                                         "renewal_planner", "numba")
    try:
        import numba
    except Exception:  # noqa: BLE001 - not installed or broken: the numpy path
        return None
    try:
        return _Kernels(numba)
    except Exception:  # noqa: BLE001 - a compile failure must not stop the checks
        return None


class _Kernels:
    def __init__(self, numba):
        jit = numba.njit(nogil=True, cache=True)
        self.grid_pairs = jit(_grid_pairs_py)
        # compile now (or load from the cache) with the types used, so that an
        # error shows here and not in the middle of a rule
        f = np.zeros(1)
        i = np.zeros(2, np.int64)
        self.grid_pairs(f, f, f, f, 0.0, 0.0, 1.0, 1, 1, 0.0, 0.0, i, i[:1], f, f, f, f)
        self.sha1_hex16 = jit(_sha1_hex16_py)
        self.sha1_hex16(np.zeros(1, np.uint8), np.zeros(2, np.int64), np.zeros((1, 16), np.uint8))


def _grid_pairs_py(qx0, qy0, qx1, qy1, x0, y0, cell, nc, nr, hx, hy, start, order, sx0, sy0, sx1, sy1):
    """PointGrid._pairs as one loop (numba): (query, feature) pairs whose closed
    boxes meet, in the numpy path's order (query, grid row, grid position)."""
    m = len(qx0)
    cap = max(16, 2 * m)
    oq = np.empty(cap, np.int64)
    of = np.empty(cap, np.int64)
    k = 0
    for i in range(m):
        a0, a1, b0, b1 = qx0[i], qx1[i], qy0[i], qy1[i]
        c0 = min(max(np.floor((a0 - hx - x0) / cell), 0.0), nc - 1.0)
        c1 = min(max(np.floor((a1 + hx - x0) / cell), -1.0), nc - 1.0)
        r0 = min(max(np.floor((b0 - hy - y0) / cell), 0.0), nr - 1.0)
        r1 = min(max(np.floor((b1 + hy - y0) / cell), -1.0), nr - 1.0)
        if not (c1 >= c0 and r1 >= r0):  # also skips NaN boxes
            continue
        ic0, ic1 = int(c0), int(c1)
        for r in range(int(r0), int(r1) + 1):
            base = r * nc
            lo = start[base + ic0]
            hi = start[base + ic1 + 1]
            for p in range(lo, hi):
                if sx0[p] <= a1 and sx1[p] >= a0 and sy0[p] <= b1 and sy1[p] >= b0:
                    if k == cap:
                        cap *= 2
                        nq = np.empty(cap, np.int64)
                        nf = np.empty(cap, np.int64)
                        nq[:k] = oq[:k]
                        nf[:k] = of[:k]
                        oq, of = nq, nf
                    oq[k] = i
                    of[k] = order[p]
                    k += 1
    return oq[:k].copy(), of[:k].copy()


def grid_pairs(grid, qx0, qy0, qx1, qy1, threads: int = 1):
    """(query, feature) pairs of a PointGrid (see PointGrid.pairs), compiled,
    over ``threads`` threads; None when the kernels are off (the caller then
    uses its numpy path)."""
    K = _compiled()
    if K is None:
        return None
    from .parallel import map_spans

    g = grid
    args = (float(g.x0), float(g.y0), float(g.cell), int(g.nc), int(g.nr), float(g.hx), float(g.hy),
            g.start, g.order, g.sx0, g.sy0, g.sx1, g.sy1)
    qs = [np.ascontiguousarray(a, dtype=float) for a in (qx0, qy0, qx1, qy1)]

    def run(s, e):
        q, f = K.grid_pairs(qs[0][s:e], qs[1][s:e], qs[2][s:e], qs[3][s:e], *args)
        return q + s, f

    parts = map_spans(run, len(qs[0]), threads)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# ---------------------------------------------------------------------------
# SHA-1 (FIPS 180-4) of many short keys: the conflict ids
# ---------------------------------------------------------------------------
def _sha1_hex16_py(data, offsets, out):
    """out[i] = the first 16 hex digits (ASCII) of sha1(data[offsets[i]:offsets[i+1]])."""
    M = np.uint64(0xFFFFFFFF)
    hexd = np.array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102], dtype=np.uint8)
    n = len(offsets) - 1
    maxlen = 0
    for i in range(n):
        maxlen = max(maxlen, offsets[i + 1] - offsets[i])
    buf = np.zeros(((maxlen + 8) // 64 + 1) * 64, np.uint8)
    w = np.empty(80, np.uint64)
    for i in range(n):
        s = offsets[i]
        L = offsets[i + 1] - s
        total = ((L + 8) // 64 + 1) * 64
        # the padded message: data, 0x80, zeros, the length in bits (big-endian)
        for p in range(L):
            buf[p] = data[s + p]
        buf[L] = 0x80
        for p in range(L + 1, total - 8):
            buf[p] = 0
        bits = np.uint64(L) * np.uint64(8)
        for k in range(8):
            buf[total - 1 - k] = np.uint8((bits >> np.uint64(8 * k)) & np.uint64(0xFF))
        h0 = np.uint64(0x67452301)
        h1 = np.uint64(0xEFCDAB89)
        h2 = np.uint64(0x98BADCFE)
        h3 = np.uint64(0x10325476)
        h4 = np.uint64(0xC3D2E1F0)
        for b0 in range(0, total, 64):
            for t in range(16):
                q = b0 + 4 * t
                w[t] = ((np.uint64(buf[q]) << np.uint64(24)) | (np.uint64(buf[q + 1]) << np.uint64(16))
                        | (np.uint64(buf[q + 2]) << np.uint64(8)) | np.uint64(buf[q + 3]))
            for t in range(16, 80):
                x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = ((x << np.uint64(1)) | (x >> np.uint64(31))) & M
            a, b, c, d, e = h0, h1, h2, h3, h4
            for t in range(80):
                if t < 20:
                    f = ((b & c) | ((~b) & d)) & M
                    k_ = np.uint64(0x5A827999)
                elif t < 40:
                    f = b ^ c ^ d
                    k_ = np.uint64(0x6ED9EBA1)
                elif t < 60:
                    f = (b & c) | (b & d) | (c & d)
                    k_ = np.uint64(0x8F1BBCDC)
                else:
                    f = b ^ c ^ d
                    k_ = np.uint64(0xCA62C1D6)
                tmp = ((((a << np.uint64(5)) | (a >> np.uint64(27))) & M) + f + e + k_ + w[t]) & M
                e = d
                d = c
                c = ((b << np.uint64(30)) | (b >> np.uint64(2))) & M
                b = a
                a = tmp
            h0 = (h0 + a) & M
            h1 = (h1 + b) & M
            h2 = (h2 + c) & M
            h3 = (h3 + d) & M
            h4 = (h4 + e) & M
        for k in range(8):
            out[i, k] = hexd[(h0 >> np.uint64(28 - 4 * k)) & np.uint64(0xF)]
            out[i, 8 + k] = hexd[(h1 >> np.uint64(28 - 4 * k)) & np.uint64(0xF)]


def sha1_hex16(keys, threads: int = 1):
    """First 16 hex digits of sha1 of every key of an Arrow (large_)binary /
    string array without nulls, as a NumPy 'U16' array; None when the
    kernels are off."""
    K = _compiled()
    if K is None:
        return None
    import pyarrow as pa

    from .parallel import map_spans

    if pa.types.is_string(keys.type) or pa.types.is_binary(keys.type):
        keys = keys.cast(pa.large_binary())
    n = len(keys)
    _, ob, db = keys.buffers()
    # writable copies: one compiled signature (a read-only view would compile another)
    offsets = np.frombuffer(ob, dtype=np.int64)[keys.offset:keys.offset + n + 1].copy()
    data = np.frombuffer(db, dtype=np.uint8).copy() if db is not None else np.zeros(1, np.uint8)
    out = np.empty((n, 16), np.uint8)

    def run(a, b):
        K.sha1_hex16(data, offsets[a:b + 1], out[a:b])

    map_spans(run, n, threads, min_chunk=1 << 14)
    return out.view("S16").ravel().astype("U16")
