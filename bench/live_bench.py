"""Checks-while-drawing benchmark: ``tools.engine.live.check_feature`` for one
edited feature of each thematic layer on the demo district, after the first
call (the cache warm), timed per feature.

    .venv/bin/python -m renewal_planner.bench.live_bench [--n 20] [--out DIR]

Target (issue 5, item 5): a single feature in under 0.2 s. Exits 1 when the
median of a layer misses it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

LAYERS = ("parking_stall", "tree", "pipe_segment", "pipe_point", "building", "fire_lane",
          "renovation_work", "planned_road")
TARGET_S = 0.2


def bench(project: str, dem: str = None, n: int = 20, shift_m: float = 0.7) -> dict:
    """{layer: [seconds per call]}: n features of each layer, each moved by
    ``shift_m`` (an edit), checked with one warm LiveCache."""
    import numpy as np
    from shapely import affinity

    from ..layers import io
    from ..tools.engine.live import LiveCache, check_feature

    cache = LiveCache()
    out = {}
    for layer in LAYERS:
        df = io.read_layer(project, layer, active_only=True)
        if not len(df):
            continue
        idx = np.linspace(0, len(df) - 1, min(n, len(df))).astype(int)
        feats = []
        for i in idx:
            row = df.iloc[i]
            f = {k: row[k] for k in df.columns if k != "geometry"}
            f["geometry"] = affinity.translate(row.geometry, shift_m, 0.0)
            feats.append(f)
        check_feature(project, layer, feats[0], dem=dem, cache=cache)  # first call: reads
        times = []
        for f in feats:
            t0 = time.perf_counter()
            check_feature(project, layer, f, dem=dem, cache=cache)
            times.append(time.perf_counter() - t0)
        out[layer] = times
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="features per layer")
    ap.add_argument("--out", help="folder for the demo district (default: a temporary one)")
    args = ap.parse_args(argv)
    from ..tools.demo import build_demo

    out = args.out or tempfile.mkdtemp(prefix="live-bench-")
    r = build_demo(out, with_styles=False)
    res = bench(r["project"], r["dem"], args.n)
    ok = True
    print(f"{'layer':<16} {'n':>3} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}  (target {TARGET_S * 1000:.0f} ms)")
    for layer, t in res.items():
        med = statistics.median(t)
        p90 = sorted(t)[int(0.9 * (len(t) - 1))]
        flag = "" if med < TARGET_S else "  SLOW"
        ok &= med < TARGET_S
        print(f"{layer:<16} {len(t):>3} {med * 1000:>10.1f} {p90 * 1000:>8.1f} {max(t) * 1000:>8.1f}{flag}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
