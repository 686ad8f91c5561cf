"""Findings survive: stable ids, merge, resolved, reviews never lost.

The rule is replaced by a controllable fake so that the merge logic is
tested on its own (the rules have their own tests).
"""
import json
import subprocess
import sys

import numpy as np
import pytest
from shapely.geometry import LineString, Point

from renewal_planner.layers import gpkg, io
from renewal_planner.tools import check, results
from renewal_planner.tools import engine
from renewal_planner.tools.engine.findings import conflict_id, new_findings, classify_min


class FakeRule:
    """Returns the pairs in self.pairs as tree_pipe_clearance findings."""

    def __init__(self):
        self.pairs = []

    def __call__(self, ctx):
        n = len(self.pairs)
        return new_findings("tree_pipe_clearance", "tree", [p[0] for p in self.pairs], "pipe_segment",
                            [p[1] for p in self.pairs], [p[2] for p in self.pairs], 1.5, "m",
                            "error", "certain", "CJJ 75-97 table 6.2.1 [medium]",
                            [Point(i, i) for i in range(n)])


@pytest.fixture
def project(tmp_path, monkeypatch):
    path = gpkg.create_project(str(tmp_path / "p.gpkg"))
    fake = FakeRule()
    monkeypatch.setattr(engine, "rule_function", lambda rid: fake)
    return path, fake


def run(path, only="tree_pipe_clearance"):
    r, rows, counts = check.check_project(path, only=only)
    return {row["conflict_id"]: row for row in rows}, counts


def test_ids_are_stable_and_distinct():
    a = conflict_id("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1")
    assert a == conflict_id("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1")
    assert a != conflict_id("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS2")
    assert a != conflict_id("tree_pipe_clearance", "tree", "T1J", "pipe_segment", "S1")  # no concatenation clash


def test_merge_keeps_reviews_and_resolves(project):
    path, fake = project
    fake.pairs = [("T1", "JS1", 0.5), ("T2", "JS1", 0.9)]
    rows, counts = run(path)
    assert counts == {"new": 2, "seen_again": 0, "resolved": 0, "reopened": 0}
    id1 = conflict_id("tree_pipe_clearance", "tree", "T1", "pipe_segment", "JS1")
    id2 = conflict_id("tree_pipe_clearance", "tree", "T2", "pipe_segment", "JS1")
    assert set(rows) == {id1, id2}
    t0 = results.read_conflicts(path).set_index("conflict_id")
    assert t0.loc[id1, "review"] == "open" and t0.loc[id1, "measured"] == 0.5

    assert results.set_review(path, [id1], "waived", reviewer="李工", note="树已移栽 moved") == 1
    fake.pairs = [("T1", "JS1", 0.4), ("T3", "JS1", 1.0)]  # T2 gone, T3 new, T1 changed
    rows, counts = run(path)
    assert counts == {"new": 1, "seen_again": 1, "resolved": 1, "reopened": 0}
    t1 = results.read_conflicts(path).set_index("conflict_id")
    assert len(t1) == 3  # nothing dropped
    assert t1.loc[id1, "review"] == "waived" and t1.loc[id1, "reviewer"] == "李工"
    assert t1.loc[id1, "review_note"] == "树已移栽 moved"
    assert t1.loc[id1, "measured"] == 0.4  # fresh measurement
    assert t1.loc[id1, "first_seen"] == t0.loc[id1, "first_seen"]
    assert t1.loc[id1, "last_seen"] >= t0.loc[id1, "last_seen"]
    assert t1.loc[id2, "review"] == "resolved"
    assert rows[id1]["review"] == "waived"

    # the waived finding disappears, then comes back: the decision comes back with it
    fake.pairs = [("T3", "JS1", 1.0)]
    run(path)
    t2 = results.read_conflicts(path).set_index("conflict_id")
    assert t2.loc[id1, "review"] == "resolved" and t2.loc[id1, "previous_review"] == "waived"
    fake.pairs = [("T1", "JS1", 0.4), ("T3", "JS1", 1.0)]
    _, counts = run(path)
    assert counts["reopened"] == 1
    t3 = results.read_conflicts(path).set_index("conflict_id")
    assert t3.loc[id1, "review"] == "waived" and t3.loc[id1, "review_note"] == "树已移栽 moved"


def test_rules_not_run_are_not_resolved(project, monkeypatch):
    path, fake = project
    fake.pairs = [("T1", "JS1", 0.5)]
    run(path)
    fake.pairs = []
    _, counts = run(path, only="cover_depth")  # the fake answers, but as another rule's run
    t = results.read_conflicts(path)
    # the fake produced nothing for cover_depth: tree_pipe_clearance findings stay open
    assert counts["resolved"] == 0
    assert t["review"].tolist() == ["open"]


def test_geometry_is_written_and_readable(project):
    path, fake = project
    fake.pairs = [("T1", "JS1", 0.5), ("T2", "JS9", 0.1)]
    run(path)
    df = io.read_layer(path, "conflict")
    assert sorted(df.geometry.to_wkt()) == ["POINT (0 0)", "POINT (1 1)"]
    from osgeo import ogr  # GDAL sees the same rows through its own reader, R-tree included

    ds = ogr.Open(path)
    lyr = ds.GetLayerByName("conflict")
    lyr.SetSpatialFilterRect(0.5, 0.5, 1.5, 1.5)
    assert [f.GetField("uid_a") for f in lyr] == ["T2"]


def test_certainty_band():
    found, cert = classify_min([0.9, 1.45, 1.55, 1.7, 1.2], [1.5] * 5, [0.1, 0.1, 0.1, 0.1, 0.0])
    assert found.tolist() == [True, True, True, False, True]
    assert cert[:3].tolist() == ["certain", "possible", "possible"]
    assert cert[4] == "certain"


def test_cli_check_outputs(project, tmp_path, capsys):
    from renewal_planner import cli

    path, fake = project
    fake.pairs = [("T1", "JS1", 0.5)]
    out_csv = tmp_path / "f.csv"
    code = cli.main(["check", path, "--only", "tree_pipe_clearance", "--csv", str(out_csv), "--json",
                     "--fail-on", "error"])
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert data[0]["uid_a"] == "T1" and data[0]["review"] == "open"
    header = out_csv.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(check.CSV_COLUMNS)
    assert cli.main(["check", path, "--only", "tree_pipe_clearance", "--fail-on", "error"]) == 1
    cid = data[0]["conflict_id"]
    results.set_review(path, [cid], "waived", reviewer="x")
    assert cli.main(["check", path, "--only", "tree_pipe_clearance", "--fail-on", "error"]) == 0


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    path = gpkg.create_project(str(tmp_path / "p.gpkg"))
    before = open(path, "rb").read()
    cases = [
        ["check", str(tmp_path / "missing.gpkg")],
        ["check", path, "--only", "no_such_rule"],
        ["check", path, "--rules", str(tmp_path / "nope.yaml")],
        ["check", path, "--area", "NOPE"],
        ["init", str(tmp_path / "x.gpkg"), "--crs", "EPSG:4326"],
        ["frobnicate"],
    ]
    for argv in cases:
        p = subprocess.run([sys.executable, "-m", "renewal_planner", *argv], capture_output=True,
                           text=True)
        assert p.returncode == 2, (argv, p.stderr)
        assert p.stderr.count("\n") == 1 and p.stderr.startswith("renewal-planner: error:"), p.stderr
    assert open(path, "rb").read() == before


def test_possible_findings_say_so_and_no_message_claims_less_than():
    from renewal_planner.tools.engine.messages import MESSAGES, POSSIBLE_SUFFIX, format_messages

    # a near miss: 1.21 m where 1.20 m is required, a finding only within the uncertainty
    f = new_findings("tree_pipe_clearance", "tree", ["T1", "T2"], "pipe_segment", ["RQ1", "RQ1"],
                     [1.21, 0.5], 1.2, "m", "error", np.array(["possible", "certain"], dtype=object),
                     "CJJ 75-97", [Point(0, 0), Point(1, 1)])
    zh, en = format_messages(f)
    assert en[0] == "tree T1 is 1.21 m from the edge of pipe RQ1 (required at least 1.20 m)" + POSSIBLE_SUFFIX[1]
    assert zh[0].endswith(POSSIBLE_SUFFIX[0]) and "1.21 m" in zh[0] and "≥ 1.20 m" in zh[0]
    assert en[1] == "tree T2 is 0.50 m from the edge of pipe RQ1 (required at least 1.20 m)"
    for tzh, ten in MESSAGES.values():
        assert "less than" not in ten and "小于" not in tzh


def test_rtree_follows_moved_and_new_findings(project, monkeypatch):
    """The R-tree is kept in bulk (triggers set aside): GDAL's spatial filter must
    see moved findings where they are now, new ones, and nothing where they were."""
    from osgeo import ogr

    path, fake = project
    fake.pairs = [("T1", "JS1", 0.5), ("T2", "JS1", 0.9)]
    run(path)  # findings at (0 0) and (1 1)
    moved = FakeRule()
    moved.pairs = [("T1", "JS1", 0.5), ("T2", "JS1", 0.9), ("T3", "JS1", 0.2)]
    real = moved.__call__

    def shifted(ctx):
        f = real(ctx)
        f["geometry"] = [Point(0, 0), Point(10, 10), Point(20, 20)]  # T2 moved, T3 new
        return f

    monkeypatch.setattr(engine, "rule_function", lambda rid: shifted)
    rows, counts = run(path)
    assert counts == {"new": 1, "seen_again": 2, "resolved": 0, "reopened": 0}

    def uids_in(x0, y0, x1, y1):
        ds = ogr.Open(path)
        lyr = ds.GetLayerByName("conflict")
        lyr.SetSpatialFilterRect(x0, y0, x1, y1)
        return sorted(f.GetField("uid_a") for f in lyr)

    assert uids_in(0.5, 0.5, 1.5, 1.5) == []
    assert uids_in(9.5, 9.5, 10.5, 10.5) == ["T2"]
    assert uids_in(19.5, 19.5, 20.5, 20.5) == ["T3"]
    assert uids_in(-0.5, -0.5, 0.5, 0.5) == ["T1"]
    ds = ogr.Open(path)
    assert ds.GetLayerByName("conflict").GetFeatureCount() == 3
    import sqlite3

    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                       "AND tbl_name = 'conflict'")}
    assert {"rtree_conflict_geom_insert", "rtree_conflict_geom_update1", "rtree_conflict_geom_update2",
            "trigger_insert_feature_count_conflict"} <= names  # put back
    assert con.execute("SELECT count(*) FROM rtree_conflict_geom").fetchone()[0] == 3


def _table_and_tree(path):
    import sqlite3

    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT * FROM conflict ORDER BY fid").fetchall()
        tree = con.execute("SELECT * FROM rtree_conflict_geom ORDER BY id").fetchall()
        check = con.execute("SELECT rtreecheck('rtree_conflict_geom')").fetchone()[0]
        count = con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'conflict'").fetchone()
    finally:
        con.close()
    return rows, tree, check, count


def test_a_large_first_run_is_written_in_bulk_as_row_by_row(tmp_path, monkeypatch):
    """results.BULK_MIN new findings into an empty table: bound in compiled code and the R-tree
    packed; the table, its R-tree (entries and rtreecheck) and GDAL's view are those of the
    row-by-row path; a second run then updates the packed tree like any other."""
    from osgeo import ogr

    fake = FakeRule()
    monkeypatch.setattr(engine, "rule_function", lambda rid: fake)
    n = results.BULK_MIN + 123
    fake.pairs = [(f"T{i}", f"JS{i % 97}", 0.25 + (i % 7) / 10) for i in range(n)]
    calls = []
    real = results._insert_packed
    monkeypatch.setattr(results, "_insert_packed", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(results, "now_iso", lambda: "2026-11-29T00:00:00.00Z")
    paths = [gpkg.create_project(str(tmp_path / f"{k}.gpkg")) for k in ("bulk", "rows")]
    run(paths[0])
    assert calls == [1]
    monkeypatch.setattr(results, "BULK_MIN", 10 ** 9)
    run(paths[1])
    assert calls == [1]
    bulk, rows = _table_and_tree(paths[0]), _table_and_tree(paths[1])
    assert bulk[2] == "ok" and len(bulk[0]) == len(bulk[1]) == n
    assert bulk == rows
    # the second run: one finding moved, one gone (resolved), one new; GDAL finds them where they are
    monkeypatch.setattr(results, "BULK_MIN", 5000)
    moved = FakeRule()
    moved.pairs = fake.pairs[1:] + [("TX", "JS1", 0.1)]
    real_call = moved.__call__

    def shifted(ctx):
        f = real_call(ctx)
        geoms = list(f.geometry)
        geoms[0] = Point(-50, -50)          # T1 moved far away; TX at (n-1, n-1)
        f["geometry"] = geoms
        return f

    monkeypatch.setattr(engine, "rule_function", lambda rid: shifted)
    got, counts = run(paths[0])
    assert counts == {"new": 1, "seen_again": n - 1, "resolved": 1, "reopened": 0}
    ds = ogr.Open(paths[0])
    lyr = ds.GetLayerByName("conflict")
    lyr.SetSpatialFilterRect(-51, -51, -49, -49)
    assert [f.GetField("uid_a") for f in lyr] == ["T1"]
    lyr.SetSpatialFilterRect(0.5, 0.5, 1.5, 1.5)      # T1's old place now holds T2's point (1, 1)
    assert sorted(f.GetField("uid_a") for f in lyr) == ["T2"]
    assert _table_and_tree(paths[0])[2] == "ok"
