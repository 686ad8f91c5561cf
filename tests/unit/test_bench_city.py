"""The benchmark's synthetic city, rule tables and comparison, at small scale."""
import os
import shutil
import tempfile

import numpy as np
import pandas as pd
import pytest
import shapely

from renewal_planner.bench import city, peers_sql
from renewal_planner.bench.compare import compare
from renewal_planner.layers import io
from renewal_planner.tools.ruleset import load_rules

N = 2000


@pytest.fixture(scope="module")
def small_city(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("city") / "city.gpkg")
    written = city.make_city(path, n_segments=N, seed=7)
    return path, written


def test_counts_scale_with_segments(small_city):
    path, written = small_city
    want = city.counts(N)
    assert want["tree"] == 400 and want["parking_stall"] == 200 and want["fire_lane"] == 10
    for name, n in want.items():
        assert written[name] == n
        assert len(io.read_layer(path, name)) == n


def test_pipes_join_their_points(small_city):
    path, _ = small_city
    seg = io.read_layer(path, "pipe_segment")
    pts = io.read_layer(path, "pipe_point").set_index("uid")
    assert seg["uid"].is_unique and pts.index.is_unique
    assert seg["start_uid"].isin(pts.index).all() and seg["end_uid"].isin(pts.index).all()
    first = shapely.get_point(seg.geometry.values, 0)
    last = shapely.get_point(seg.geometry.values, -1)
    assert np.allclose(shapely.distance(first, pts.loc[seg["start_uid"]].geometry.values), 0, atol=1e-6)
    assert np.allclose(shapely.distance(last, pts.loc[seg["end_uid"]].geometry.values), 0, atol=1e-6)
    lengths = seg.length.to_numpy()
    assert lengths.min() >= 0.5 and lengths.max() <= 100.0 + 1e-6
    assert set(seg["utility"]) >= {"JS", "PS", "RQ", "DL", "TX"}
    # neighbours along a line share their point: many points serve two segments
    used = pd.concat([seg["start_uid"], seg["end_uid"]]).value_counts()
    assert (used == 2).sum() > N / 2


def test_same_seed_same_city(small_city, tmp_path):
    path, _ = small_city
    again = str(tmp_path / "again.gpkg")
    city.make_city(again, n_segments=N, seed=7)
    a, b = io.read_layer(path, "pipe_segment"), io.read_layer(again, "pipe_segment")
    assert (a["uid"] == b["uid"]).all()
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, 0).all()
    other = str(tmp_path / "other.gpkg")
    city.make_city(other, n_segments=N, seed=8)
    c = io.read_layer(other, "pipe_segment")
    assert not shapely.equals_exact(a.geometry.values, c.geometry.values, 0).all()


def test_requirement_tables_match_ruleset_lookup():
    """The SQL's profile-keyed tables give what RuleSet.lookup gives, pair by pair."""
    rules = load_rules()
    prof = peers_sql.Profiles(rules)
    rng = np.random.default_rng(3)
    n = 3000
    cls = rng.choice(prof.classes, n).astype(object)
    dia = rng.choice([np.nan, 100.0, 200.0, 250.0, 800.0], n)
    pres = rng.choice([np.nan, 0.005, 0.01, 0.2, 0.3, 0.4, 0.8, 1.6], n)
    bur = rng.choice(np.array([None, "ZM", "GM", "GK", "GG", "JK"], dtype=object), n)
    key = prof.python(cls, dia, pres, bur)
    tabs = peers_sql.requirement_tables(rules, prof)
    req_h = {(a, b): r for a, b, r in tabs["req_h"][1]}
    i, j = rng.integers(0, n, n), rng.integers(0, n, n)
    want, _ = rules.lookup("horizontal_clearance", "pairs", cls[i], cls[j],
                           attrs_b={"diameter_mm": dia[j], "pressure_mpa": pres[j], "burial": bur[j]},
                           attrs_a={"diameter_mm": dia[i], "pressure_mpa": pres[i], "burial": bur[i]})
    got = np.array([req_h[(a, b)] for a, b in zip(key[i], key[j])])
    assert np.array_equal(got, want)
    req_t = {(k, b): r for k, b, r in tabs["req_tree"][1]}
    for kind in ("tree", "shrub"):
        want, _ = rules.lookup("tree_pipe_clearance", kind, None, cls,
                               attrs_b={"diameter_mm": dia, "pressure_mpa": pres, "burial": bur})
        assert np.array_equal(np.array([req_t[(kind, b)] for b in key]), want)
    req_b = {b: r for b, r in tabs["req_bld"][1]}
    want, _ = rules.lookup("building_clearance", "pairs", None, cls,
                           attrs_b={"diameter_mm": dia, "pressure_mpa": pres, "burial": bur})
    assert np.array_equal(np.array([req_b[b] for b in key]), want)


def test_compare_counts():
    eng = pd.DataFrame({"layer_a": "tree", "uid_a": ["t1", "t2", "t3", "t4"], "uid_b": ["p1"] * 4,
                        "measured": [0.5, 1.0, 1.45, 1.2], "certainty": ["certain", "possible", "possible", "certain"]})
    sql = pd.DataFrame({"layer_a": "tree", "uid_a": ["t1", "t2", "t5"], "uid_b": ["p1"] * 3,
                        "measured": [0.5, 1.2, 0.1]})
    c = compare(eng, sql)
    assert (c["common"], c["missing"], c["extra_certain"], c["extra_possible"], c["bad_measured"]) == (2, 1, 1, 1, 1)
    assert c["max_abs_diff"] == pytest.approx(0.2)
    assert not c["same"]
    assert compare(eng.iloc[:1], sql.iloc[:1])["same"]


def test_duckdb_peer_against_brute_force(small_city):
    pytest.importorskip("duckdb")
    pytest.importorskip("duckdb_extension_spatial")
    from renewal_planner.bench import peers_duckdb

    path, _ = small_city
    rules = load_rules()
    res = peers_duckdb.run(path, rules, log=lambda *a: None)
    # tree_pipe_clearance by brute force over every tree x pipe pair
    trees = io.read_layer(path, "tree", active_only=True)
    pipes = io.read_layer(path, "pipe_segment", active_only=True)
    w = pipes["diameter_mm"].fillna(pipes["width_mm"]).fillna(0).to_numpy() / 1000.0
    d = shapely.distance(np.asarray(trees.geometry.array, dtype=object)[:, None], np.asarray(pipes.geometry.array, dtype=object)[None, :]) - w[None, :] / 2
    d = np.maximum(d, 0)
    ti, pj = np.nonzero(d < 1.5 + 1e-9)  # 1.5 m is the largest requirement in the tables
    kinds = trees["kind"].to_numpy()[ti]
    req = np.full(len(ti), np.nan)
    for kind in ("tree", "shrub"):
        m = kinds == kind
        q = pipes.iloc[pj[m]]
        req[m] = rules.lookup("tree_pipe_clearance", kind, None, q["utility"].to_numpy(),
                              attrs_b={"diameter_mm": q["diameter_mm"].to_numpy(),
                                       "pressure_mpa": q["pressure_mpa"].to_numpy(),
                                       "burial": q["burial"].to_numpy()})[0]
    brk = d[ti, pj] < req
    want = {(trees["uid"].iloc[a], pipes["uid"].iloc[b]): v
            for a, b, v in zip(ti[brk], pj[brk], d[ti[brk], pj[brk]])}
    got = res["findings"]["tree_pipe_clearance"]
    assert len(want) > 0
    assert {(a, b) for a, b in zip(got["uid_a"], got["uid_b"])} == set(want)
    for a, b, m in zip(got["uid_a"], got["uid_b"], got["m"]):
        assert m == pytest.approx(want[(a, b)], abs=1e-9)
    # fire-lane trees: the point inside the lane
    lanes = io.read_layer(path, "fire_lane", active_only=True)
    inside = shapely.intersects(np.asarray(trees.geometry.array, dtype=object)[:, None], np.asarray(lanes.geometry.array, dtype=object)[None, :])
    ti, li = np.nonzero(inside)
    fl = res["findings"]["fire_lane_obstruction"]
    fl = fl[fl["layer_a"] == "tree"]
    assert {(a, b) for a, b in zip(fl["uid_a"], fl["uid_b"])} == {
        (trees["uid"].iloc[a], lanes["uid"].iloc[b]) for a, b in zip(ti, li)}


@pytest.mark.postgis
@pytest.mark.slow
def test_throwaway_cluster_starts_and_cleans_up():
    psycopg = pytest.importorskip("psycopg")
    from renewal_planner.bench import pgcluster

    try:
        pgcluster.bindir()
    except RuntimeError:
        pytest.skip("no PostgreSQL server binaries")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("root without runuser")
    before = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("rp-pg-")}
    with pgcluster.throwaway_cluster() as ci:
        with psycopg.connect(ci) as con:
            assert con.execute("SELECT ST_AsText(ST_Buffer(ST_Point(0, 0), 1, 1))").fetchone()[0].startswith("POLYGON")
            assert con.execute("SHOW max_parallel_workers_per_gather").fetchone()[0] == "2"
        mine = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("rp-pg-")} - before
        assert len(mine) == 1
    assert not os.path.exists(os.path.join(tempfile.gettempdir(), mine.pop()))
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(ci, connect_timeout=2)
