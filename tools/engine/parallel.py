"""Threads inside one rule.

GEOS calls in shapely 2, most numpy array work and the compiled kernels
(tools/engine/kernels.py, ``nogil``) release the GIL, so a rule can split its
query set into contiguous chunks and work on them in threads. How many: the
context's ``threads`` (set by ``run_checks``: all the cores of the run when a
rule runs alone, 1 when the rules already run side by side on the cores).
The results come back in chunk order, so they are the same whatever the
number of threads.
"""
from __future__ import annotations

MIN_CHUNK = 1 << 15  # fewer items than this per thread: not worth a thread


def rule_threads(ctx) -> int:
    """Threads a rule may use (1 when ``ctx`` says nothing)."""
    try:
        return max(1, int(getattr(ctx, "threads", 1) or 1))
    except (TypeError, ValueError):
        return 1


def spans(n: int, threads: int, min_chunk: int = MIN_CHUNK):
    """Contiguous (start, stop) spans covering range(n): one per thread, fewer
    when there is too little work."""
    k = max(1, min(int(threads), n // max(int(min_chunk), 1)))
    if n == 0:
        return [(0, 0)]
    bounds = [round(n * i / k) for i in range(k + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(k) if bounds[i + 1] > bounds[i]]


def map_spans(fn, n: int, threads: int, min_chunk: int = MIN_CHUNK):
    """[fn(start, stop) for each span of range(n)], spans run in up to
    ``threads`` threads; results in span order. The pool is gone when this
    returns (a fork may follow)."""
    sp = spans(n, threads, min_chunk)
    if len(sp) == 1:
        return [fn(*sp[0])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(sp), thread_name_prefix="rp-rule") as ex:
        futs = [ex.submit(fn, s, e) for s, e in sp]
        return [f.result() for f in futs]


def map_ordered(fn, items, threads: int):
    """fn(*item) for each item of an iterator (chunks a generator yields), in
    order, with up to ``threads`` chunks in work at a time while the
    generator makes the next ones."""
    if threads <= 1:
        for it in items:
            yield fn(*it)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rp-rule") as ex:
        pending = deque()
        try:
            for it in items:
                pending.append(ex.submit(fn, *it))
                while len(pending) > threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
