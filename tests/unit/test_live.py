"""Checks while drawing (tools/engine/live.py) on the demo district.

The oracle: write the edited feature into a copy of the project (replacing
the feature with its uid) and run every rule with ``run_checks``; the
findings that involve the feature must be exactly those ``check_feature``
gives (same pairs, measured/required values, severity, certainty, source).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import sys
import time
import pathlib

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box
from shapely import affinity

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import layer_frame  # noqa: E402

from renewal_planner.layers import io  # noqa: E402
from renewal_planner.tools.engine import run_checks  # noqa: E402
from renewal_planner.tools.engine.live import (LiveCache, check_feature, relevant_rules,  # noqa: E402
                                               search_radius)
from renewal_planner.tools.ruleset import load_rules  # noqa: E402

OBSTACLES = ("parking_stall", "tree", "building")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from renewal_planner.tools.demo import build_demo

    out = tmp_path_factory.mktemp("live_demo")
    r = build_demo(str(out), with_styles=False)
    full = run_checks(r["project"], dem=r["dem"]).findings
    return {"project": r["project"], "dem": r["dem"], "full": full, "dir": out}


@pytest.fixture(scope="module")
def cache():
    return LiveCache()


def _feature(row, columns):
    f = {k: row[k] for k in columns if k != "geometry"}
    f["geometry"] = row.geometry
    return f


def _involving(findings, layer, uid, geom, project):
    """Findings of a full run that involve the feature (as rules.md pairs name
    it), plus the clear width of the fire lanes an obstacle stands in."""
    rules = relevant_rules(layer)
    f = findings
    m = f["rule_id"].isin(rules) & (((f["layer_a"] == layer) & (f["uid_a"] == uid))
                                    | ((f["layer_b"] == layer) & (f["uid_b"] == uid)))
    if layer in OBSTACLES:
        lanes = io.read_layer(project, "fire_lane", active_only=True)
        touched = set(lanes["uid"][shapely.intersects(lanes.geometry.to_numpy(), geom)])
        m |= (f["rule_id"] == "fire_lane_width") & f["uid_a"].isin(touched)
    return f.loc[m]


def _key(frame):
    out = {}
    for r in frame.itertuples():
        out[(r.rule_id, r.layer_a, r.uid_a, r.layer_b, r.uid_b)] = (
            None if np.isnan(r.measured) else round(float(r.measured), 6),
            None if np.isnan(r.required) else round(float(r.required), 6),
            r.severity, r.certainty, r.rule_source)
    return out


def _oracle(demo, tmp_path, layer, feature):
    """Full run over a copy of the project holding ``feature`` instead of the
    feature with its uid: the findings involving it."""
    copy = str(tmp_path / "oracle.gpkg")
    shutil.copy(demo["project"], copy)
    uid = feature["uid"]
    con = sqlite3.connect(copy)
    try:
        con.execute(f'DELETE FROM "{layer}" WHERE uid = ?', (uid,))
        con.commit()
    finally:
        con.close()
    row = {k: v for k, v in feature.items() if k not in ("fid",) and not _null(v)}
    io.write_layer(copy, layer, layer_frame(layer, [row]))
    full = run_checks(copy, dem=demo["dem"]).findings
    return _involving(full, layer, uid, feature["geometry"], copy)


def _null(v):
    try:
        return v is None or bool(v != v)
    except Exception:
        return False


def _layer(demo, name):
    return io.read_layer(demo["project"], name, active_only=True)


def _manhole(demo):
    pts = _layer(demo, "pipe_point")
    mh = pts.loc[pts["appurtenance"] == "manhole"].sort_values("uid")
    return mh.iloc[len(mh) // 2]


def _gas_main(demo):
    seg = _layer(demo, "pipe_segment")
    rq = seg.loc[seg["utility"] == "RQ"].copy()
    rq["len"] = rq.geometry.length
    return rq.sort_values(["len", "uid"], ascending=[False, True]).iloc[0]


# ---------------------------------------------------------------------------
def test_new_stall_over_a_manhole(demo, cache, tmp_path):
    mh = _manhole(demo)
    x, y = mh.geometry.x, mh.geometry.y
    stall = {"uid": "LIVE-C1", "stall_no": "P-12", "stall_type": "perpendicular", "status": "planned",
             "width_m": 2.5, "length_m": 5.3, "geometry": box(x - 1.25, y - 2.65, x + 1.25, y + 2.65)}
    got = check_feature(demo["project"], "parking_stall", stall, dem=demo["dem"], cache=cache)
    hit = got.loc[(got["rule_id"] == "stall_over_structure") & (got["uid_b"] == mh["uid"])]
    assert len(hit) == 1
    assert hit["uid_a"].iloc[0] == "LIVE-C1"
    assert hit["layer_b"].iloc[0] == "pipe_point"
    assert hit["measured"].iloc[0] == 0.0          # the cover is under the stall
    assert hit["severity"].iloc[0] == "warning"
    assert "LIVE-C1" in hit["message_zh"].iloc[0] and mh["uid"] in hit["message_en"].iloc[0]
    assert set(got["conflict_id"]) and got["conflict_id"].is_unique
    # every finding involves the stall
    assert ((got["uid_a"] == "LIVE-C1") | (got["uid_b"] == "LIVE-C1")
            | (got["rule_id"] == "fire_lane_width")).all()
    assert _key(got) == _key(_oracle(demo, tmp_path, "parking_stall", stall))


def test_new_tree_half_a_metre_from_a_gas_main(demo, cache, tmp_path):
    pipe = _gas_main(demo)
    line = pipe.geometry
    half = float(pipe["diameter_mm"]) / 2000.0
    mid = line.interpolate(0.5, normalized=True)
    a = line.interpolate(0.5 * line.length - 0.5)
    b = line.interpolate(0.5 * line.length + 0.5)
    d = np.array([b.x - a.x, b.y - a.y])
    n = np.array([-d[1], d[0]]) / np.hypot(*d)
    off = 0.5 + half                               # centre 0.5 m from the outer edge
    tree = {"uid": "LIVE-T1", "kind": "tree", "status": "planned",
            "geometry": Point(mid.x + n[0] * off, mid.y + n[1] * off)}
    got = check_feature(demo["project"], "tree", tree, dem=demo["dem"], cache=cache)
    hit = got.loc[(got["rule_id"] == "tree_pipe_clearance") & (got["uid_b"] == pipe["uid"])]
    assert len(hit) == 1
    assert hit["measured"].iloc[0] == pytest.approx(0.5, abs=1e-6)
    assert hit["required"].iloc[0] == pytest.approx(1.2)  # CJJ 75-97 table 6.2.1, tree to gas
    assert hit["severity"].iloc[0] == "error"             # a planned tree
    assert hit["certainty"].iloc[0] == "certain"
    assert _key(got) == _key(_oracle(demo, tmp_path, "tree", tree))


def test_moved_pipe(demo, cache, tmp_path):
    """A water pipe moved next to another pipe: the clearance to it (and every
    other rule of the moved pipe) as a full run finds it."""
    seg = _layer(demo, "pipe_segment")
    js = seg.loc[seg["utility"] == "JS"].sort_values("uid")
    pipe = js.iloc[len(js) // 3]
    other = seg.loc[(seg["utility"] == "DL") & (seg["uid"] != pipe["uid"])].sort_values("uid").iloc[0]
    oc = other.geometry.interpolate(0.5, normalized=True)
    pc = pipe.geometry.interpolate(0.5, normalized=True)
    moved = _feature(pipe, seg.columns)
    moved["geometry"] = affinity.translate(pipe.geometry, oc.x - pc.x + 0.4, oc.y - pc.y + 0.4)
    got = check_feature(demo["project"], "pipe_segment", moved, dem=demo["dem"], cache=cache)
    pairs = got.loc[got["rule_id"] == "horizontal_clearance"]
    assert other["uid"] in set(pairs["uid_a"]) | set(pairs["uid_b"]) or \
        other["uid"] in set(got.loc[got["rule_id"] == "vertical_clearance", "uid_a"]) | \
        set(got.loc[got["rule_id"] == "vertical_clearance", "uid_b"])
    # the pipe's own findings at its old place are gone
    old = _involving(demo["full"], "pipe_segment", pipe["uid"], pipe.geometry, demo["project"])
    assert _key(got) != _key(old) or len(old) == 0
    assert _key(got) == _key(_oracle(demo, tmp_path, "pipe_segment", moved))


def test_stall_in_a_fire_lane_reports_the_lane_width(demo, cache, tmp_path):
    lanes = _layer(demo, "fire_lane")
    full = demo["full"]
    clear = lanes.loc[~lanes["uid"].isin(full.loc[full["rule_id"] == "fire_lane_width", "uid_a"])]
    lane = clear.sort_values("uid").iloc[0]
    c = lane.geometry.representative_point()
    stall = {"uid": "LIVE-C2", "stall_type": "parallel", "status": "planned",
             "geometry": box(c.x - 1.25, c.y - 1.25, c.x + 1.25, c.y + 1.25)}
    got = check_feature(demo["project"], "parking_stall", stall, dem=demo["dem"], cache=cache)
    assert ("fire_lane_obstruction", "parking_stall", "LIVE-C2", "fire_lane", lane["uid"]) in _key(got)
    assert ("fire_lane_width", "fire_lane", lane["uid"], "", "") in _key(got)
    assert _key(got) == _key(_oracle(demo, tmp_path, "parking_stall", stall))


@pytest.mark.parametrize("layer", ["parking_stall", "tree", "pipe_segment", "pipe_point", "building",
                                   "fire_lane", "renovation_work", "planned_road"])
def test_existing_features_match_the_full_run(demo, cache, layer):
    """Checked as it stands in the file, a feature gets exactly the findings of
    the full run that involve it (those with findings and a sample of others)."""
    df = _layer(demo, layer)
    full = demo["full"]
    named = set(full.loc[full["layer_a"] == layer, "uid_a"]) | set(full.loc[full["layer_b"] == layer, "uid_b"])
    rng = np.random.default_rng(7)
    idx = sorted(set(np.flatnonzero(df["uid"].isin(named))[:8]) |
                 set(rng.choice(len(df), min(6, len(df)), replace=False)))
    nonempty = 0
    for i in idx:
        row = df.iloc[i]
        got = check_feature(demo["project"], layer, _feature(row, df.columns), dem=demo["dem"], cache=cache)
        exp = _involving(full, layer, row["uid"], row.geometry, demo["project"])
        assert _key(got) == _key(exp), row["uid"]
        nonempty += len(exp) > 0
    if named:
        assert nonempty > 0


def test_cache_reads_once_and_follows_the_file(demo, tmp_path):
    path = str(tmp_path / "c.gpkg")
    shutil.copy(demo["project"], path)
    cache = LiveCache()
    mh = _manhole(demo)
    x, y = mh.geometry.x, mh.geometry.y
    stall = {"uid": "LIVE-C3", "geometry": box(x - 1.25, y - 2.65, x + 1.25, y + 2.65)}
    check_feature(path, "parking_stall", stall, cache=cache)
    reads = cache.reads
    assert reads > 0
    for dx in (0.5, 1.0, 1.5):  # drawing nearby: no new read
        check_feature(path, "parking_stall", dict(stall, geometry=affinity.translate(stall["geometry"], dx)),
                      cache=cache)
    assert cache.reads == reads
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # saved by someone
    check_feature(path, "parking_stall", stall, cache=cache)
    assert cache.reads > reads


def test_nothing_to_check(demo, cache):
    mh = _manhole(demo)
    g = mh.geometry.buffer(2.0, cap_style="square")
    for feat in ({"uid": "X", "status": "abandoned", "geometry": g}, {"uid": "X", "geometry": None},
                 {"uid": "X", "geometry": shapely.Polygon()}):
        got = check_feature(demo["project"], "parking_stall", feat, cache=cache)
        assert len(got) == 0 and "conflict_id" in got.columns
    # a layer no rule reads
    assert len(check_feature(demo["project"], "planting_area", {"uid": "G", "geometry": g}, cache=cache)) == 0
    with pytest.raises(KeyError):
        check_feature(demo["project"], "no_such_layer", {"uid": "X", "geometry": g}, cache=cache)
    # only the rules asked for
    stall = {"uid": "N1", "geometry": g}
    got = check_feature(demo["project"], "parking_stall", stall, rules=["fire_lane_obstruction"], cache=cache)
    assert set(got["rule_id"]) <= {"fire_lane_obstruction"}
    got = check_feature(demo["project"], "parking_stall", stall, cache=cache)
    assert "stall_over_structure" in set(got["rule_id"])
    # a new feature without a uid yet
    got = check_feature(demo["project"], "parking_stall", {"geometry": g}, cache=cache)
    assert set(got.loc[got["rule_id"] == "stall_over_structure", "uid_a"]) == {"(new)"}


def test_relevant_rules_and_radius():
    assert relevant_rules("parking_stall") == ["stall_over_structure", "fire_lane_obstruction",
                                               "fire_lane_width"]
    assert "horizontal_clearance" in relevant_rules("pipe_segment")
    assert "cover_depth" not in relevant_rules("pipe_point")      # its findings never name a point
    assert relevant_rules("planting_area") == []
    rules = load_rules()
    # hydrant distance 5 m is the farthest reach of the stall rule: + 5 m margin
    assert search_radius(rules, ["stall_over_structure"]) == pytest.approx(
        max(5.0, max(rules.value("stall_over_structure", "default_cover_size_m").values())) + 5.0)
    assert search_radius(rules, ["building_clearance"], margin_m=0) == pytest.approx(6.0)


def test_timing_after_warm_up(demo):
    cache = LiveCache()
    mh = _manhole(demo)
    x, y = mh.geometry.x, mh.geometry.y
    stall = {"uid": "LIVE-C9", "geometry": box(x - 1.25, y - 2.65, x + 1.25, y + 2.65)}
    check_feature(demo["project"], "parking_stall", stall, dem=demo["dem"], cache=cache)  # warm-up
    times = []
    for k in range(10):
        g = affinity.translate(stall["geometry"], 0.3 * k)
        t0 = time.perf_counter()
        check_feature(demo["project"], "parking_stall", dict(stall, geometry=g), dem=demo["dem"], cache=cache)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"check_feature (stall, warm): median {med * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"(target 200 ms; bench/live_bench.py)")
    assert med < 1.0  # loose: shared CI machines; the 0.2 s target is measured by the bench
