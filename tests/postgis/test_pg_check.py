"""The same project checked as a GeoPackage and as PostGIS gives the same findings."""
import math
import shutil

import pytest

from renewal_planner.layers import io, pg
from renewal_planner.tools import check, results

psycopg = pytest.importorskip("psycopg")


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


def _by_id(rows):
    return {r["conflict_id"]: r for r in rows}


@pytest.fixture(scope="module")
def checked(demo_gpkg, demo_pg, tmp_path_factory):
    gp = str(tmp_path_factory.mktemp("gp") / "demo.gpkg")
    shutil.copy(demo_gpkg["project"], gp)
    dem = demo_gpkg["dem"]
    g = check.check_project(gp, dem=dem)
    p = check.check_project(demo_pg, dem=dem)
    return gp, g, p


def test_layers_read_back_identical(demo_gpkg, demo_pg):
    for name in ("pipe_point", "pipe_segment", "renovation_area", "tree"):
        a = io.read_layer(demo_gpkg["project"], name)
        b = io.read_layer(demo_pg, name)
        assert list(a.columns) == list(b.columns)
        assert len(a) == len(b) > 0
        a, b = a.sort_values("uid").reset_index(drop=True), b.sort_values("uid").reset_index(drop=True)
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all(), name
        for c in a.columns:
            if c in ("geometry", "updated_at"):  # updated_at: the database keeps it
                continue
            for x, y in zip(a[c].tolist(), b[c].tolist()):
                x = None if x is None or (isinstance(x, float) and math.isnan(x)) else x
                y = None if y is None or (isinstance(y, float) and math.isnan(y)) else y
                assert x == y or str(x) == str(y), (name, c, x, y)


def test_identical_findings(checked):
    _, (grun, grows, gcounts), (prun, prows, pcounts) = checked
    assert len(grows) > 20  # the demo's planted conflicts
    g, p = _by_id(grows), _by_id(prows)
    assert set(g) == set(p)
    for cid in g:
        for col in check.CSV_COLUMNS:
            assert _same(g[cid][col], p[cid][col]), (cid, col, g[cid][col], p[cid][col])
    assert gcounts == pcounts


def test_conflict_tables_identical(checked, demo_pg):
    gp, _, _ = checked
    a = results.read_conflicts(gp).set_index("conflict_id").sort_index()
    b = results.read_conflicts(demo_pg).set_index("conflict_id").sort_index()
    assert list(a.index) == list(b.index)
    for col in ("rule_id", "severity", "certainty", "uid_a", "uid_b", "review", "message_en"):
        assert a[col].fillna("").tolist() == b[col].fillna("").tolist(), col
    assert all(_same(float(x), float(y)) for x, y in zip(a["measured"], b["measured"]))
    # the finding geometries survive the round trip
    ga = io.read_layer(gp, "conflict").set_index("conflict_id").sort_index()
    gb = io.read_layer(demo_pg, "conflict").set_index("conflict_id").sort_index()
    assert ga.geometry.geom_equals_exact(gb.geometry, 1e-6).all()


def test_second_run_and_reviews_kept(checked, demo_pg):
    _, _, (_, prows, _) = checked
    cid = prows[0]["conflict_id"]
    assert results.set_review(demo_pg, [cid], "accepted", reviewer="王工", note="ok; DROP TABLE conflict") == 1
    run, rows, counts = check.check_project(demo_pg)
    assert counts["new"] == 0 and counts["seen_again"] == len(prows) == len(rows)
    got = {r["conflict_id"]: r["review"] for r in rows}
    assert got[cid] == "accepted"
    c = results.read_conflicts(demo_pg)
    row = c.loc[c["conflict_id"] == cid].iloc[0]
    assert row["reviewer"] == "王工" and row["review_note"] == "ok; DROP TABLE conflict"


def test_area_check_same_as_geopackage(checked, demo_gpkg, demo_pg):
    gp, _, _ = checked
    area = io.read_layer(demo_gpkg["project"], "renovation_area")["uid"].iloc[0]
    _, grows, _ = check.check_project(gp, dem=demo_gpkg["dem"], area=area)
    _, prows, _ = check.check_project(demo_pg, dem=demo_gpkg["dem"], area=area)
    assert {r["conflict_id"] for r in grows} == {r["conflict_id"] for r in prows}
    assert len(grows) < len(checked[1][1])


def test_cli_check_json(demo_pg, capsys):
    from renewal_planner.cli import main

    assert main(["check", demo_pg, "--json", "--only", "pipe_under_road"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["rule_id"] for r in rows} == {"pipe_under_road"}


def test_quantities_same_as_geopackage(demo_gpkg, demo_pg):
    import pandas as pd

    from renewal_planner.tools import quantities

    a = quantities.compute_quantities(demo_gpkg["project"])
    b = quantities.compute_quantities(demo_pg)
    assert list(a) == list(b)
    assert len(a["summary"]) > 0
    for theme in a:
        x, y = a[theme], b[theme]
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True),
                                          check_dtype=False, obj=theme)
