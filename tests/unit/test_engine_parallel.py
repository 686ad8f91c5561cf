"""The engine around the rules: parallel runs give the findings of a serial run,
cancel and errors in a parallel run, the vectorised ids and messages against
the row-by-row definitions, and the columns read.

The demo district (tools/demo.py) holds every kind of finding; the 100k
benchmark city is compared too when it has been built (make bench).
"""
from __future__ import annotations

import math
import multiprocessing
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from renewal_planner.layers import io
from renewal_planner.layers.errors import InputError
from renewal_planner.tools import engine
from renewal_planner.tools.engine import Cancelled, run_checks
from renewal_planner.tools.engine.findings import conflict_id, conflict_ids, new_findings
from renewal_planner.tools.engine.messages import MESSAGES, format_messages
from renewal_planner.tools.engine.registry import LAYER_COLUMNS, RULES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CITY_100K = os.path.join(ROOT, "build", "bench", "cities", "city_n100000_s20240611_x1_v4.gpkg")


def _children_gone(seconds=10.0):
    """No forked worker is left: polls, since the pool's manager thread reaps
    its children asynchronously after they were terminated."""
    import time

    deadline = time.monotonic() + seconds
    while multiprocessing.active_children():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from renewal_planner.tools.demo import build_demo

    return build_demo(str(tmp_path_factory.mktemp("demo")), with_styles=False)


def assert_same_findings(a, b):
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    pa, pb = pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    assert list(pa.dtypes) == list(pb.dtypes)
    pd.testing.assert_frame_equal(pa, pb, check_exact=True)
    wa = shapely.to_wkb(np.asarray(a.geometry.array, dtype=object))
    wb = shapely.to_wkb(np.asarray(b.geometry.array, dtype=object))
    assert (wa == wb).all()


@pytest.mark.parametrize("mode", ["fork", "thread"])
def test_parallel_run_gives_the_serial_findings_on_the_demo(demo, mode):
    serial = run_checks(demo["project"], dem=demo["dem"], workers=1)
    par = run_checks(demo["project"], dem=demo["dem"], workers=2, mode=mode, parallel_min_rows=0)
    assert serial.timings["mode"] == "serial" and par.timings["mode"] == mode
    f = serial.findings
    assert len(f) >= 30 and set(f["rule_id"]) == set(RULES)  # the demo plants every kind of finding
    # rule order, as the registry lists them
    order = [list(RULES).index(r) for r in f["rule_id"]]
    assert order == sorted(order)
    assert_same_findings(serial.findings, par.findings)
    assert set(par.seconds) == set(RULES) and set(par.timings["rule_cpu_s"]) == set(RULES)
    assert _children_gone()


def test_small_projects_run_serially_unless_asked(demo):
    run = run_checks(demo["project"], only="tree_pipe_clearance,building_clearance", workers=2)
    assert run.timings["mode"] == "serial"  # the demo is far below PARALLEL_MIN_ROWS
    run = run_checks(demo["project"], only="tree_pipe_clearance", workers=2, parallel_min_rows=0)
    assert run.timings["mode"] == "serial"  # one rule: nothing to share


def test_worker_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("RENEWAL_PLANNER_WORKERS", "1")
    assert engine.worker_count() == 1
    monkeypatch.setenv("RENEWAL_PLANNER_WORKERS", "3")
    assert engine.worker_count() == 3
    assert engine.worker_count(2) == 2
    monkeypatch.setenv("RENEWAL_PLANNER_WORKERS", "two")
    with pytest.raises(InputError, match="RENEWAL_PLANNER_WORKERS"):
        engine.worker_count()
    monkeypatch.delenv("RENEWAL_PLANNER_WORKERS")
    assert engine.worker_count() == min(2, os.cpu_count() or 1)
    monkeypatch.setenv("RENEWAL_PLANNER_PARALLEL", "threads?")
    with pytest.raises(InputError, match="RENEWAL_PLANNER_PARALLEL"):
        engine.parallel_mode("x.gpkg")
    assert engine.parallel_mode("postgresql://h/db", "fork") == "thread"


@pytest.mark.skipif(not os.path.isfile(CITY_100K), reason="the 100k benchmark city is not built (make bench)")
def test_parallel_run_gives_the_serial_findings_on_the_100k_city():
    serial = run_checks(CITY_100K, workers=1)
    par = run_checks(CITY_100K, workers=2, mode="fork")
    assert par.timings["mode"] == "fork" and len(serial.findings) > 10_000
    assert_same_findings(serial.findings, par.findings)


SHARED = ["pipe_under_road", "horizontal_clearance", "tree_pipe_clearance", "stall_over_structure",
          "fire_lane_obstruction", "building_clearance"]


@pytest.mark.skipif(not os.path.isfile(CITY_100K), reason="the 100k benchmark city is not built (make bench)")
def test_threads_inside_rules_and_compiled_kernels_give_the_same_findings(monkeypatch):
    """Rules running alone split their work over threads (small chunks here, so
    that every threaded path really splits); with or without the compiled
    kernels: the same frame, row for row."""
    import renewal_planner.tools.engine.parallel as par
    import renewal_planner.tools.engine.rule_roads as roads

    one = run_checks(CITY_100K, only=SHARED, workers=1)
    assert one.timings["rule_threads"] == 1
    monkeypatch.setattr(par, "MIN_CHUNK", 64)
    monkeypatch.setattr(roads, "ROAD_CHUNK", 50)
    # a big parallel_min_rows keeps the rules one after another, each on 3 threads
    many = run_checks(CITY_100K, only=SHARED, workers=3, parallel_min_rows=10 ** 12)
    assert many.timings["mode"] == "serial" and many.timings["rule_threads"] == 3
    assert len(one.findings) > 10_000
    assert_same_findings(one.findings, many.findings)
    monkeypatch.setenv("RENEWAL_PLANNER_NUMBA", "0")
    plain = run_checks(CITY_100K, only=SHARED, workers=1)
    assert_same_findings(one.findings, plain.findings)


@pytest.mark.parametrize("mode", ["fork", "thread"])
def test_cancel_during_a_parallel_run_writes_nothing(demo, tmp_path, monkeypatch, mode):
    from renewal_planner.tools import check, results

    path = str(tmp_path / "demo.gpkg")
    shutil.copy(demo["project"], path)
    monkeypatch.setenv("RENEWAL_PLANNER_WORKERS", "2")
    monkeypatch.setenv("RENEWAL_PLANNER_PARALLEL", mode)
    monkeypatch.setattr(engine, "PARALLEL_MIN_ROWS", 0)
    seen = []

    def progress(fraction, message):
        seen.append(fraction)

    # cancel once the first rule is done: the other worker is then busy with its own
    with pytest.raises(Cancelled):
        check.check_project(path, progress=progress, is_cancelled=lambda: any(x > 0 for x in seen))
    assert any(x > 0 for x in seen) and max(seen) < 1.0
    assert len(results.read_conflicts(path)) == 0
    assert _children_gone()
    # and an uncancelled run of the same project writes its findings
    run, rows, _ = check.check_project(path)
    assert run.timings["mode"] == mode and len(results.read_conflicts(path)) == len(rows) >= 30


@pytest.mark.parametrize("mode", ["fork", "thread"])
def test_an_error_in_a_parallel_rule_reaches_the_caller(demo, monkeypatch, mode):
    real = engine.rule_function

    def fake(rid):
        if rid == "building_clearance":
            def bad(ctx):
                raise InputError("broken record", file="x.gpkg", layer="building", record="B9")
            return bad
        return real(rid)

    monkeypatch.setattr(engine, "rule_function", fake)
    with pytest.raises(InputError, match="broken record") as e:
        run_checks(demo["project"], workers=2, mode=mode, parallel_min_rows=0)
    assert (e.value.layer, e.value.record, e.value.reason) == ("building", "B9", "broken record")
    assert _children_gone()


def test_a_run_reads_only_the_columns_the_rules_use(demo):
    ctx = engine.CheckContext(demo["project"], None, columns=engine.layer_columns(["tree_pipe_clearance"]))
    trees = ctx.layer("tree")
    assert set(trees.columns) == set(LAYER_COLUMNS["tree"]) | {"geometry"}
    assert "note" not in trees.columns and "updated_at" not in trees.columns
    full = engine.CheckContext(demo["project"], None).layer("tree")  # other users: every model field
    assert {"note", "updated_at", "species"} <= set(full.columns)
    assert (full["uid"].to_numpy() == trees["uid"].to_numpy()).all()
    # every layer a rule reads has its column list
    assert {n for r in RULES.values() for n in r[2]} <= set(LAYER_COLUMNS)


# -- vectorised ids and messages against the row-by-row definitions ---------------------
def _old_messages(df):
    from renewal_planner.tools.engine.messages import POSSIBLE_SUFFIX

    zh, en = [], []
    cert = df["certainty"] if "certainty" in df.columns else ["certain"] * len(df)
    for rule, a, b, m, r, c in zip(df["rule_id"], df["uid_a"], df["uid_b"], df["measured"], df["required"],
                                   cert):
        tzh, ten = MESSAGES[rule]
        kw = dict(a=a, b=b, m=float(m), r=float(r))
        sz, se = POSSIBLE_SUFFIX if c == "possible" else ("", "")
        zh.append(tzh.format(**kw) + sz)
        en.append(ten.format(**kw) + se)
    return zh, en


def _frame(rows):
    cols = list(zip(*rows))
    return new_findings(np.array(cols[0], dtype=object), np.array(cols[1], dtype=object),
                        np.array(cols[2], dtype=object), np.array(cols[3], dtype=object),
                        np.array(cols[4], dtype=object), cols[5], cols[6], "m", "error", "certain",
                        "src", [Point(0, 0)] * len(rows))


def test_conflict_ids_match_the_scalar_definition():
    rng = np.random.default_rng(3)
    rules = list(MESSAGES)
    rows = [(rules[k % len(rules)], "pipe_segment", f"S{rng.integers(1e6)}", "tree" if k % 3 else "",
             "" if k % 3 == 0 else f"T{k}", 1.0, 2.0) for k in range(500)]
    rows.append(("tree_pipe_clearance", "tree", "树木-1", "pipe_segment", "管线\x1fx", 1.0, 1.0))
    f = _frame(rows)
    ids = conflict_ids(f["rule_id"], f["layer_a"], f["uid_a"], f["layer_b"], f["uid_b"])
    want = [conflict_id(*r[:5]) for r in rows]
    assert list(ids) == want
    # the hand-checked value of test_results stays what it was
    assert conflict_id("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1") == \
        conflict_ids(["tree_pipe_clearance"], ["tree"], ["T1"], ["pipe_segment"], ["JS1"])[0]
    # missing values and non-text columns take the scalar path: same ids as zip() over the columns
    s = pd.Series(["B1", None, np.nan], dtype=object)
    got = conflict_ids("building_clearance", "pipe_segment", ["S1", "S2", "S3"], "building", s)
    assert list(got) == [conflict_id("building_clearance", "pipe_segment", u, "building", b)
                         for u, b in zip(["S1", "S2", "S3"], s)]
    got = conflict_ids("r", "l", pd.Series([1, 2]), "", pd.Series(["", ""]))
    assert list(got) == [conflict_id("r", "l", 1, "", ""), conflict_id("r", "l", 2, "", "")]
    strs = pd.Series(["a", None], dtype="str")
    got = conflict_ids("r", "l", strs, "l", strs)
    assert list(got) == [conflict_id("r", "l", a, "l", a) for a in strs]
    assert len(conflict_ids([], [], [], [], [])) == 0


def test_messages_match_the_row_by_row_format():
    rows = []
    vals = [0.0, -0.0, 0.005, 0.015, 1.125, 2.675, 1e-9, 12345.678, -3.25, math.nan, math.inf, 89.95, 44.5]
    for k, rule in enumerate(MESSAGES):
        for j, m in enumerate(vals):
            r = vals[(j + k) % len(vals)]
            rows.append((rule, "pipe_segment", f"S{j}", "tree", f"管{k}-{j}", m, r))
    rows.reverse()  # rules interleaved out of order
    rows = rows[::2] + rows[1::2]
    f = _frame(rows)
    zh, en = format_messages(f)
    want_zh, want_en = _old_messages(f)
    assert list(zh) == want_zh and list(en) == want_en
    assert zh.dtype == pd.Series(want_zh).dtype and list(zh.index) == list(f.index)
    assert want_en[0] != want_en[1]
    # a missing uid_b reads as the row-by-row format shows it
    g = new_findings("tree_pipe_clearance", "tree", ["T1"], "pipe_segment", np.array([None], dtype=object),
                     [0.5], [1.5], "m", "error", "certain", "src", [Point(0, 0)])
    assert list(format_messages(g)[1]) == _old_messages(g)[1]


def test_run_checks_ids_and_messages_are_the_row_by_row_ones(demo):
    f = run_checks(demo["project"], dem=demo["dem"], workers=1).findings
    assert list(f["conflict_id"]) == [conflict_id(*r) for r in
                                      zip(f["rule_id"], f["layer_a"], f["uid_a"], f["layer_b"], f["uid_b"])]
    zh, en = _old_messages(f)
    assert list(f["message_zh"]) == zh and list(f["message_en"]) == en
    assert f["conflict_id"].is_unique


def test_a_rule_giving_a_pair_twice_is_a_bug(demo, monkeypatch):
    def fake(rid):
        def twice(ctx):
            return new_findings(rid, "tree", ["T1", "T1"], "pipe_segment", ["S1", "S1"], [0.1, 0.2], 1.0, "m",
                                "error", "certain", "src", [Point(0, 0), Point(1, 1)])
        return twice

    monkeypatch.setattr(engine, "rule_function", fake)
    with pytest.raises(AssertionError, match="duplicate findings"):
        run_checks(demo["project"], only="tree_pipe_clearance", workers=1)


def test_read_path_keeps_dtypes_and_active_filter(demo):
    cols = list(LAYER_COLUMNS["pipe_segment"])
    part = io.read_layer(demo["project"], "pipe_segment", columns=cols, active_only=True)
    full = io.read_layer(demo["project"], "pipe_segment", active_only=True)
    assert list(part.columns) == cols + ["geometry"]
    for c in cols:
        assert part[c].dtype == full[c].dtype
        pd.testing.assert_series_equal(part[c], full[c])
    assert (full["status"] != "abandoned").all()


def test_fixed_point_formatting_is_pythons():
    from renewal_planner.tools.engine.messages import _format_fixed

    rng = np.random.default_rng(1)
    vals = np.concatenate([rng.random(50_000) * 100 - 20, np.arange(-2000, 20000) / 1000, np.arange(0, 4000) / 8,
                           rng.normal(size=5000) * 1e-3, rng.random(2000) * 1e10,
                           [0.0, -0.0, math.nan, math.inf, -math.inf, 1e13, -1e15, 0.005, 0.015, 1.125, 2.675,
                            0.125, 0.375, 89.95, 44.5, 0.5, 1.5, 2.5, 999999999.995, -0.001, -0.004]])
    for d in (0, 1, 2, 3):
        assert _format_fixed(vals, d).to_pylist() == [format(v, f".{d}f") for v in vals.tolist()]
