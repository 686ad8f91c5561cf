"""The finding contract shared by every rule, and the certainty band.

A rule returns a DataFrame (``new_findings``) with one row per pair of
features and these columns; the engine adds ids, messages and profile.
"""
from __future__ import annotations

import hashlib

import numpy as np

FINDING_COLUMNS = ["rule_id", "layer_a", "uid_a", "layer_b", "uid_b", "measured", "required",
                   "unit", "severity", "certainty", "rule_source", "geometry"]


def new_findings(rule_id, layer_a, uid_a, layer_b, uid_b, measured, required, unit, severity,
                 certainty, rule_source, geometry):
    """Build a findings frame; scalars are broadcast to the length of ``uid_a``.

    ``geometry`` is a sequence of shapely geometries (the real geometry of
    each finding: stretch, overlap polygon, crossing point, ...).
    """
    import geopandas as gpd

    n = len(uid_a)

    def col(x, dtype=object):
        if np.ndim(x) == 0:
            return np.full(n, x, dtype=dtype)
        x = np.asarray(x, dtype=dtype)
        if len(x) != n:
            raise ValueError(f"{rule_id}: column length {len(x)} != {n}")
        return x

    def text(x):
        """A text column: built in Arrow (no per-row Python) when the values are
        text, else as pandas infers it from the object array."""
        a = _arrow_text_col(x, n)
        if a is None:
            return col(x)
        if len(a) != n:
            raise ValueError(f"{rule_id}: column length {len(a)} != {n}")
        return a

    data = {
        "rule_id": text(rule_id),
        "layer_a": text(layer_a),
        "uid_a": text(uid_a),
        "layer_b": text(layer_b if layer_b is not None else ""),
        "uid_b": text(uid_b if uid_b is not None else ""),
        "measured": col(measured, float),
        "required": col(np.nan if required is None else required, float),
        "unit": text(unit),
        "severity": text(severity),
        "certainty": text(certainty),
        "rule_source": text(rule_source),
    }
    if not n:
        geometry = []
    elif not isinstance(geometry, np.ndarray):
        geometry = list(geometry)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, index=None), crs=None)


def _str_dtype():
    import pandas as pd

    return pd.Series(["x"]).dtype


def _arrow_text_col(x, n):
    """``x`` (a str scalar, or an array / Series of str, NaN/None for missing)
    as a pandas text array of the default str dtype, built through Arrow;
    None when ``x`` holds anything but text (the caller's pandas path then
    decides, as before)."""
    import pandas as pd
    import pyarrow as pa

    dtype = _str_dtype()
    if getattr(dtype, "storage", None) != "pyarrow":  # pragma: no cover - pandas without Arrow strings
        return None
    try:
        if isinstance(x, str):
            a = pa.repeat(pa.scalar(x, pa.large_string()), n)
        elif np.ndim(x) == 0:
            return None
        else:
            if isinstance(x, pd.Series):
                x = x.array
            if isinstance(x, np.ndarray) and x.dtype != object:
                return None
            a = pa.array(x, type=pa.large_string(), from_pandas=True)
            if isinstance(a, pa.ChunkedArray):
                a = a.combine_chunks()
        return pd.array(a, dtype=dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def empty_findings():
    return new_findings("", "", [], "", [], [], [], "", "", "", "", [])


def classify_min(measured, required, uncertainty):
    """For "at least ``required``" rules (clearances, cover, angles).

    Returns (is_finding, certainty) arrays: a finding when the value is short
    of the requirement or within the uncertainty of it; ``certain`` when it is
    short even after the uncertainty is added in the features' favour,
    ``possible`` otherwise (rules.md, Certainty).
    """
    m = np.asarray(measured, float)
    r = np.asarray(required, float)
    u = np.nan_to_num(np.asarray(uncertainty, float), nan=0.0)
    is_finding = (m - u) < r
    certain = (m + u) < r
    return is_finding, np.where(certain, "certain", "possible")


def classify_positive(measured, uncertainty):
    """For "any amount is a breach" rules (length inside, overlap, depth cut).

    A finding when ``measured + uncertainty > 0``; certain when
    ``measured - uncertainty > 0``.
    """
    m = np.asarray(measured, float)
    u = np.nan_to_num(np.asarray(uncertainty, float), nan=0.0)
    return (m + u) > 0, np.where((m - u) > 0, "certain", "possible")


def conflict_id(rule_id: str, layer_a: str, uid_a: str, layer_b: str, uid_b: str) -> str:
    """Stable id: the same rule and the same features give the same id in every run."""
    key = "\x1f".join(str(x) for x in (rule_id, layer_a, uid_a, layer_b or "", uid_b or ""))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def conflict_ids(rule_id, layer_a, uid_a, layer_b, uid_b, threads: int = 1):
    """``conflict_id`` of every row (columns as Series or arrays), as an object array.

    The same values as the scalar function, row by row (tested): the keys are
    joined by Arrow, only the sha1 itself runs per row (~1 µs). Rows with a
    missing value or a non-text column take the scalar path.
    """
    cols = [rule_id, layer_a, uid_a, layer_b, uid_b]
    n = len(uid_a)
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    arrs = [_arrow_text(c, n) for c in cols]
    if any(a is None for a in arrs):
        vals = [_py_values(c, n) for c in cols]
        out[:] = [conflict_id(*row) for row in zip(*vals)]
        return out
    import pyarrow as pa
    import pyarrow.compute as pc

    sep = pa.scalar("\x1f", pa.large_string())
    keys = pc.binary_join_element_wise(*arrs, sep)
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    if keys.null_count == 0:
        from .kernels import sha1_hex16

        hexes = sha1_hex16(keys, threads=threads)  # compiled SHA-1, when numba is there
        if hexes is not None:
            out[:] = hexes.astype(object)
            return out
    null = np.asarray(keys.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    kb = keys.cast(pa.large_binary()).to_numpy(zero_copy_only=False)
    sha1 = hashlib.sha1
    if null.any():
        ok = np.flatnonzero(~null)
        out[ok] = [sha1(k).hexdigest()[:16] for k in kb[ok]]
        bad = np.flatnonzero(null)
        vals = [_py_values(c, n)[bad] for c in cols]
        out[bad] = [conflict_id(*row) for row in zip(*vals)]
    else:
        out[:] = [sha1(k).hexdigest()[:16] for k in kb]
    return out


def _arrow_text(x, n):
    """``x`` (scalar, Series or array) as an Arrow large_string array, or None
    when it does not hold text only (then the scalar path keeps str() semantics)."""
    import pyarrow as pa

    if isinstance(x, str):
        return pa.repeat(pa.scalar(x, pa.large_string()), n)
    try:
        import pandas as pd

        if isinstance(x, pd.Series):
            x = x.array if hasattr(x.array, "__arrow_array__") else x.to_numpy()
        a = pa.array(x, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
        return a.cast(pa.large_string())
    if pa.types.is_null(a.type):  # all missing: each row goes through the scalar path
        return pa.nulls(n, pa.large_string())
    return None


def _py_values(x, n):
    """``x`` as an object array of the Python values the scalar path would see."""
    if isinstance(x, str):
        return np.full(n, x, dtype=object)
    try:
        import pandas as pd

        if isinstance(x, pd.Series):
            return np.asarray(list(x), dtype=object)
    except ImportError:
        pass
    return np.asarray(list(x), dtype=object)


def order_pairs(uid_a, uid_b):
    """For same-layer rules: swap so that uid_a < uid_b (plain string order)."""
    a = np.asarray(uid_a, dtype=object)
    b = np.asarray(uid_b, dtype=object)
    swap = a > b
    return np.where(swap, b, a), np.where(swap, a, b), swap
