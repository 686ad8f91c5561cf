"""The PostGIS import's bulk writing (pg_commit.py: COPY into a temporary
table, then one INSERT ... SELECT or UPDATE ... FROM): fids in the plan's
order as in a GeoPackage, several column sets in one delivery, and an update
whose row vanished meanwhile refused with nothing written."""
import sqlite3

import pytest

from renewal_planner.layers import gpkg, pg
from renewal_planner.layers.errors import InputError
from renewal_planner.layers.importer import commit_plan, import_files, plan_files

from .test_pg_import import GOOD, MESSY, layer_records, pg_count, pg_rows, write_csv

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def both(tmp_path, make_project):
    g = gpkg.create_project(str(tmp_path / "p.gpkg"), crs="EPSG:4547")
    return g, make_project(prefix="bulk")


def _gpkg_fids(project, layer):
    con = sqlite3.connect(project)
    try:
        return dict(con.execute(f"SELECT uid, fid FROM {layer}").fetchall())
    finally:
        con.close()


def _chain(n, start_y=0.0):
    """n points of one water line JS1 - JS2 - ..., every third without depth or size (other columns)."""
    rows = []
    for i in range(n):
        nxt = f"JS{i + 2}" if i + 1 < n else ""
        depth = "" if i % 3 == 0 else f"{1.0 + (i % 7) / 10:.2f}"
        size = "" if i % 3 == 1 else "DN200"
        rows.append([f"JS{i + 1}", "JS", "直线点", "", f"{3379000 + start_y:.3f}", f"{501000 + 2 * i:.3f}",
                     "12.0", depth, nxt, size, "PE", "武汉水务集团"])
    return rows


def test_fids_in_plan_order_as_in_geopackage(tmp_path, both):
    g, p = both
    f = write_csv(tmp_path / "messy.csv", MESSY + _chain(40, 80)[5:])
    sg, = import_files(g, [f])
    sp, = import_files(p, [f])
    assert sp["accepted"] == sg["accepted"] > 40 and sp["rejected"] == sg["rejected"] > 0
    for layer in ("pipe_point", "pipe_segment"):
        fids = dict(pg_rows(p, layer, ["uid", "fid"]))
        assert fids == _gpkg_fids(g, layer)
        assert layer_records(p, layer) == layer_records(g, layer)
    # one history row per written pipe row, in fid order
    hist = pg_rows(p, "history", ["id", "layer", "op", "uid"])
    assert len(hist) == sp["accepted"] and {h[2] for h in hist} == {"INSERT"}
    for layer in ("pipe_point", "pipe_segment"):
        fids = dict(pg_rows(p, layer, ["uid", "fid"]))
        order = [fids[u] for _, lyr, _, u in sorted(hist) if lyr == layer]
        assert order == sorted(order)


def test_many_rows_updates_as_in_geopackage(tmp_path, both):
    g, p = both
    rows = _chain(1200)
    f = write_csv(tmp_path / "big.csv", rows)
    first = {}
    for proj in both:
        s, = import_files(proj, [f])
        assert (s["inserted"], s["rejected"]) == (2399, 0)
        first[proj] = s["batch_id"]
    changed = [r[:] for r in rows]
    for r in changed[::5]:
        r[7] = "2.50"       # depth of every fifth point: the point and its two segments change
    write_csv(tmp_path / "big.csv", changed)
    sg, = import_files(g, [f])
    sp, = import_files(p, [f])
    assert (sp["updated"], sp["inserted"], sp["unchanged"]) == (sg["updated"], sg["inserted"], sg["unchanged"])
    assert sp["updated"] > 240
    for layer in ("pipe_point", "pipe_segment"):
        assert layer_records(p, layer) == layer_records(g, layer)
    assert dict(pg_rows(p, "pipe_point", ["uid", "depth"]))["JS6"] == 2.5
    src = dict(pg_rows(p, "pipe_point", ["uid", "source"]))
    assert src["JS6"] == sp["batch_id"] and src["JS2"] == first[p]
    assert pg_count(p, "history") == 2399 + sp["updated"]


def test_update_of_vanished_row_writes_nothing(tmp_path, make_project):
    p = make_project(prefix="bulk")
    f = write_csv(tmp_path / "pts.csv", GOOD)
    import_files(p, [f])
    changed = [r[:] for r in GOOD]
    changed[0][7] = "1.30"   # JS1: an update
    changed[2][7] = "1.40"   # JS3: an update
    write_csv(tmp_path / "pts.csv", changed)
    plan = plan_files(p, [f])
    assert plan.plans[0][0].count("update") >= 2
    pp = pg.PgProject(p)
    with pg.connect(p) as con:  # someone deletes JS3 after the plan was made
        con.execute(psycopg.sql.SQL("DELETE FROM {} WHERE uid = 'JS3'").format(
            psycopg.sql.Identifier(pp.schema, "pipe_point")))
        con.commit()
    before = sorted(pg_rows(p, "pipe_point", ["uid", "depth", "updated_at"]))
    with pytest.raises(InputError, match="1 record\\(s\\) to update are no longer in pipe_point"):
        commit_plan(plan, check_project=False)
    assert sorted(pg_rows(p, "pipe_point", ["uid", "depth", "updated_at"])) == before
    assert pg_count(p, "import_batch") == 1
