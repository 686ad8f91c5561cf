"""Where numba may run and cache: one rule for the engine's kernels and the importer's bulk writer.

numba is optional. ``enabled()`` is False when ``RENEWAL_PLANNER_NUMBA=0`` (or no/false/off);
``import_numba(here)`` points numba's on-disk cache at ``here/__pycache__`` when that folder can
be written, else at ``~/.cache/renewal_planner/numba`` (NUMBA_CACHE_DIR wins when set), then
imports numba (ImportError when it is missing).
"""
from __future__ import annotations

import os


def enabled() -> bool:
    return os.environ.get("RENEWAL_PLANNER_NUMBA", "1").strip().lower() not in ("0", "no", "false", "off")


def import_numba(here: str):
    if not os.environ.get("NUMBA_CACHE_DIR"):
        cache = os.path.join(here, "__pycache__")
        if not (os.access(cache, os.W_OK) or (not os.path.exists(cache) and os.access(here, os.W_OK))):
            os.environ["NUMBA_CACHE_DIR"] = os.path.join(os.path.expanduser("~"), ".cache",
                                                         "renewal_planner", "numba")
    import numba

    return numba
