"""`renewal-planner import` on a PostGIS project: the same records as on a
GeoPackage, one transaction, the database user in import_batch, two
utilities importing at once, row-level security, hostile values."""
import json
import os
import sqlite3
import threading

import pytest
import shapely

from renewal_planner.layers import gpkg, pg
from renewal_planner.layers.errors import InputError
from renewal_planner.layers.importer import commit_plan, import_files, plan_files

from .conftest import as_user

psycopg = pytest.importorskip("psycopg")

HEADER = ["物探点号", "管种", "特征点", "附属物", "X", "Y", "地面高程", "埋深", "连接方向", "管径", "材质", "权属单位"]
OWNER_A = "武汉水务集团"
OWNER_B = "武汉燃气集团"
GOOD = [
    ["JS1", "JS", "直线点", "阀门", "3379500.000", "501500.000", "12.50", "1.20", "JS2", "DN300", "球墨铸铁", OWNER_A],
    ["JS2", "给水", "三通", "", "3379510.000", "501500.000", "12.40", "1.10", "JS3", "DN300", "球墨铸铁", OWNER_A],
    ["JS3", "JS", "弯头", "", "3379510.000", "501510.000", "12.30", "1.00", "JS4", "De110", "PE", OWNER_A],
    ["JS4", "JS", "终点", "", "3379520.000", "501510.000", "12.20", "", "", "De110", "PE", OWNER_A],
    ["JS5", "JS", "直线点", "", "3379510.000", "501490.000", "12.45", "1.15", "JS2", "DN200", "PE", OWNER_A],
]
MESSY = [r[:] for r in GOOD] + [
    ["JS1", "JS", "", "", "3379600", "501600", "", "", "", "", "", OWNER_A],      # duplicate point
    ["JS7", "JS", "", "", "3379600", "501600", "", "", "", "99999", "", OWNER_A],  # absurd size
    ["JS8", "JS", "", "", "100", "200", "", "", "", "", "", OWNER_A],              # outside the CRS area
    ["", "JS", "", "", "3379600", "501610", "", "", "", "", "", OWNER_A],          # no point number
]
MESSY[1][7] = "-1"    # negative depth
MESSY[2][4] = "abc"   # bad northing
MESSY[3][1] = "ZZ"    # unknown class
HOSTILE = "x'); DROP TABLE pipe_point; --"


def write_csv(path, rows, header=HEADER):
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def gpkg_rows(project, table, cols):
    con = sqlite3.connect(project)
    try:
        return con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    finally:
        con.close()


def pg_rows(project, table, cols):
    p = pg.PgProject(project)
    sql = psycopg.sql
    with pg.connect(p) as con:
        return con.execute(sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(p.schema, table))).fetchall()


def pg_count(project, table):
    p = pg.PgProject(project)
    sql = psycopg.sql
    with pg.connect(p) as con:
        return con.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(p.schema, table))).fetchone()[0]


def _norm(v):
    if isinstance(v, float):
        return round(v, 9)
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    return v


def layer_records(project, layer):
    """{uid: (values..., geometry WKT)} of a pipe layer, the same in both stores."""
    from renewal_planner.layers import io, schema

    cols = [f.name for f in schema.model().layer(layer).fields if f.name not in ("updated_at", "source")]
    df = io.read_layer(project, layer, columns=cols)
    out = {}
    for rec, g in zip(df[cols].to_dict("records"), df.geometry):
        vals = tuple(None if (isinstance(v, float) and v != v) or v is None or v is getattr(__import__("pandas"), "NaT")
                     else _norm(v) for v in rec.values())
        out[rec["uid"]] = vals + (shapely.to_wkt(g, rounding_precision=6),)
    return out


REJECT_COLS = ["record_no", "target_layer", "field", "value", "reason_code", "reason_zh", "reason_en", "raw"]
BATCH_COLS = ["file_name", "sha256", "target_layer", "crs_in", "encoding", "records_in", "accepted", "rejected",
              "updated", "unchanged", "mapping"]
SUMMARY_KEYS = ["records_in", "accepted", "rejected", "inserted", "updated", "unchanged", "merged", "target_layer",
                "crs_in", "encoding", "written"]


@pytest.fixture
def both(tmp_path, make_project):
    g = gpkg.create_project(str(tmp_path / "p.gpkg"), crs="EPSG:4547")
    return g, make_project(prefix="imp")


def _db_user(project):
    with pg.connect(project) as con:
        return con.execute("SELECT current_user").fetchone()[0]


def test_same_delivery_same_records_as_geopackage(tmp_path, both):
    g, p = both
    f = write_csv(tmp_path / "messy.csv", MESSY)
    sg, = import_files(g, [f])
    sp, = import_files(p, [f])
    assert {k: sg[k] for k in SUMMARY_KEYS} == {k: sp[k] for k in SUMMARY_KEYS}
    assert sp["accepted"] == 2 and sp["rejected"] == 11 and sp["records_in"] == 13  # as the GeoPackage test
    assert sp["rejects"] == sg["rejects"]
    for layer in ("pipe_point", "pipe_segment"):
        assert layer_records(p, layer) == layer_records(g, layer)
    assert sorted(pg_rows(p, "import_reject", REJECT_COLS)) == sorted(gpkg_rows(g, "import_reject", REJECT_COLS))
    assert pg_rows(p, "import_batch", BATCH_COLS) == gpkg_rows(g, "import_batch", BATCH_COLS)
    # the database user, not the operating-system one, uploaded it; sources are the batch
    assert pg_rows(p, "import_batch", ["batch_id", "uploaded_by"]) == [(sp["batch_id"], _db_user(p))]
    assert sp["uploaded_by"] == _db_user(p)
    assert {r[0] for r in pg_rows(p, "pipe_point", ["source"])} == {sp["batch_id"]}
    # accepted + rejected = records_in, also as stored
    assert sp["accepted"] + pg_count(p, "import_reject") == sp["records_in"]


def test_reimport_unchanged_and_update_by_uid(tmp_path, both):
    g, p = both
    f = write_csv(tmp_path / "pts.csv", GOOD)
    first = import_files(p, [f])[0]
    first_g = import_files(g, [f])[0]
    assert first["inserted"] == first_g["inserted"] == 9
    before = {t: sorted(pg_rows(p, t, ["fid", "uid", "updated_at"])) for t in ("pipe_point", "pipe_segment")}
    hist = pg_count(p, "history")
    again = import_files(p, [f])[0]
    assert not again["written"] and again["duplicate_of"] == first["batch_id"]
    assert again["unchanged"] == again["accepted"] == 9
    assert {t: sorted(pg_rows(p, t, ["fid", "uid", "updated_at"])) for t in before} == before
    assert pg_count(p, "history") == hist
    assert len(pg_rows(p, "import_batch", ["batch_id"])) == 1

    changed = [r[:] for r in GOOD]
    changed[0][7] = "1.30"   # JS1 depth -> JS1 and JS1-JS2 change
    changed[4][9] = ""       # JS5-JS2 size now unknown: NULL, not 0
    write_csv(tmp_path / "pts.csv", changed)
    s = import_files(p, [f])[0]
    sg = import_files(g, [f])[0]
    assert s["written"] and (s["updated"], s["inserted"], s["unchanged"]) == (3, 0, 6)
    assert (sg["updated"], sg["inserted"], sg["unchanged"]) == (3, 0, 6)
    assert dict(pg_rows(p, "pipe_point", ["uid", "depth"]))["JS1"] == 1.3
    assert dict(pg_rows(p, "pipe_segment", ["uid", "diameter_mm"]))["JS5-JS2"] is None
    src = dict(pg_rows(p, "pipe_point", ["uid", "source"]))
    assert src["JS1"] == s["batch_id"] and src["JS3"] == first["batch_id"]
    assert len(pg_rows(p, "pipe_point", ["uid"])) == 5
    assert dict(pg_rows(p, "import_batch", ["batch_id", "updated"]))[s["batch_id"]] == 3
    # the history shows the update of JS1 with old and new depth
    h = [r for r in pg_rows(p, "history", ["op", "uid", "old_values", "new_values"]) if r[0] == "UPDATE"]
    js1 = [r for r in h if r[1] == "JS1"]
    assert len(js1) == 1 and js1[0][2]["depth"] == 1.2 and js1[0][3]["depth"] == 1.3
    for layer in ("pipe_point", "pipe_segment"):
        assert layer_records(p, layer) == layer_records(g, layer)


def test_failure_midway_writes_nothing(tmp_path, make_project):
    p = make_project(prefix="imp")
    f = write_csv(tmp_path / "pts.csv", GOOD)
    plan = plan_files(p, [f])
    rows = plan.plans[0][0].rows
    # the last segment breaks a CHECK constraint: the batch row, the points and
    # the other segments were already sent when the server refuses it
    seg = [r for r in rows if r.layer == "pipe_segment"][-1]
    seg.values["utility"] = "XX"
    with pytest.raises(InputError, match="nothing was written"):
        commit_plan(plan)
    for t in ("pipe_point", "pipe_segment", "import_batch", "import_reject", "history"):
        assert pg_count(p, t) == 0, t


def test_stale_plan_refused(tmp_path, make_project):
    p = make_project(prefix="imp")
    f1 = write_csv(tmp_path / "a.csv", GOOD[:2])
    f2 = write_csv(tmp_path / "b.csv", GOOD[2:])
    plan = plan_files(p, [f2])
    import_files(p, [f1])
    with pytest.raises(InputError, match="changed since"):
        commit_plan(plan)
    assert pg_count(p, "import_batch") == 1


def _grid_rows(prefix, owner, n, y0):
    """n points of a line prefix1 - prefix2 - ... owned by ``owner``."""
    out = []
    for i in range(n):
        nxt = f"{prefix}{i + 2}" if i + 1 < n else ""
        out.append([f"{prefix}{i + 1}", "RQ" if prefix.startswith("RQ") else "JS", "直线点", "",
                    f"{3379000 + y0:.3f}", f"{501000 + 5 * i:.3f}", "12.0", "1.0", nxt, "DN100", "PE", owner])
    return out


@pytest.fixture
def utilities(pg_conninfo, make_project):
    p = make_project(prefix="imp")
    tag = pg.PgProject(p).schema.split("_", 1)[1]
    ua, ub = f"ua_{tag}", f"ub_{tag}"
    pg.grant(p, ua, "utility", owner=OWNER_A)
    pg.grant(p, ub, "utility", owner=OWNER_B)
    pa = pg.project_string(as_user(pg_conninfo, ua), pg.PgProject(p).schema)
    pb = pg.project_string(as_user(pg_conninfo, ub), pg.PgProject(p).schema)
    return p, pa, pb, ua, ub


def test_two_utilities_importing_at_once_lose_nothing(tmp_path, utilities):
    p, pa, pb, ua, ub = utilities
    n = 300
    fa = write_csv(tmp_path / "water.csv", _grid_rows("JS", OWNER_A, n, 0))
    fb = write_csv(tmp_path / "gas.csv", _grid_rows("RQ", OWNER_B, n, 50))
    # both plan first (each sees an empty project), then both commit at once
    plans = {"a": plan_files(pa, [fa]), "b": plan_files(pb, [fb])}
    go = threading.Barrier(2)
    results, errors = {}, []

    def run(key):
        try:
            go.wait()
            results[key] = commit_plan(plans[key], check_project=False)[0]
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert results["a"]["accepted"] == results["b"]["accepted"] == 2 * n - 1
    owners = pg_rows(p, "pipe_point", ["uid", "owner", "source"])
    assert len(owners) == 2 * n
    assert {o for u, o, _ in owners if u.startswith("JS")} == {OWNER_A}
    assert {o for u, o, _ in owners if u.startswith("RQ")} == {OWNER_B}
    assert {s for u, _, s in owners if u.startswith("JS")} == {results["a"]["batch_id"]}
    assert len(pg_rows(p, "pipe_segment", ["uid"])) == 2 * (n - 1)
    assert sorted(pg_rows(p, "import_batch", ["uploaded_by", "accepted"])) == sorted([(ua, 2 * n - 1),
                                                                                       (ub, 2 * n - 1)])
    who = pg_rows(p, "history", ["changed_by", "uid"])
    assert {c for c, u in who if u.startswith("JS")} == {ua}
    assert {c for c, u in who if u.startswith("RQ")} == {ub}
    assert len(who) == 2 * (2 * n - 1)


def test_two_utilities_import_files_concurrently_processes(tmp_path, utilities):
    """import_files (plan + commit) from two processes at once, as two users would."""
    import multiprocessing as mp

    p, pa, pb, ua, ub = utilities
    fa = write_csv(tmp_path / "water.csv", _grid_rows("JS", OWNER_A, 200, 0))
    fb = write_csv(tmp_path / "gas.csv", _grid_rows("RQ", OWNER_B, 200, 50))
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        out = pool.starmap(_import_in_process, [(pa, fa), (pb, fb)])
    assert out == [(399, 0), (399, 0)]
    assert len(pg_rows(p, "pipe_point", ["uid"])) == 400
    assert len(pg_rows(p, "pipe_segment", ["uid"])) == 398
    assert sorted(r[0] for r in pg_rows(p, "import_batch", ["uploaded_by"])) == sorted([ua, ub])


def _import_in_process(project, path):
    from renewal_planner.layers.importer import import_files as imp

    s = imp(project, [path])[0]
    return s["accepted"], s["rejected"]


def test_utility_cannot_import_another_owners_pipes(tmp_path, utilities):
    p, pa, pb, ua, ub = utilities
    # a delivery mixing the two owners: refused as a whole, nothing written
    mixed = _grid_rows("JS", OWNER_A, 5, 0) + _grid_rows("RQ", OWNER_B, 3, 50)
    f = write_csv(tmp_path / "mixed.csv", mixed)
    with pytest.raises(InputError) as err:
        import_files(pa, [f])
    msg = str(err.value)
    assert "mixed.csv" in msg and OWNER_B in msg and "RQ1" in msg and "nothing was written" in msg
    assert "\n" not in msg
    for t in ("pipe_point", "pipe_segment", "import_batch", "import_reject"):
        assert pg_count(p, t) == 0, t
    # no owner at all: refused too (the database would refuse a NULL owner)
    f2 = write_csv(tmp_path / "noowner.csv", [r[:-1] for r in _grid_rows("JS", OWNER_A, 3, 0)], header=HEADER[:-1])
    with pytest.raises(InputError, match="nothing was written"):
        import_files(pa, [f2])
    # own pipes go in; the other utility cannot take them over by re-importing them as its own
    own = write_csv(tmp_path / "own.csv", _grid_rows("JS", OWNER_A, 3, 0))
    assert import_files(pa, [own])[0]["accepted"] == 5
    grab = [r[:-1] + [OWNER_B] for r in _grid_rows("JS", OWNER_A, 3, 0)]
    grab[0][7] = "2.0"
    fg = write_csv(tmp_path / "grab.csv", grab)
    with pytest.raises(InputError, match=f"belongs to owner '{OWNER_A}'"):
        import_files(pb, [fg])
    assert {o for (o,) in pg_rows(p, "pipe_point", ["owner"])} == {OWNER_A}
    assert {d for (d,) in pg_rows(p, "pipe_point", ["depth"])} == {1.0}
    assert pg_count(p, "import_batch") == 1


def test_viewer_import_refused_cleanly(tmp_path, pg_conninfo, make_project):
    p = make_project(prefix="imp")
    tag = pg.PgProject(p).schema.split("_", 1)[1]
    pg.grant(p, f"v_{tag}", "viewer")
    pv = pg.project_string(as_user(pg_conninfo, f"v_{tag}"), pg.PgProject(p).schema)
    f = write_csv(tmp_path / "pts.csv", GOOD)
    with pytest.raises(InputError, match="refused the import, nothing was written: permission denied"):
        import_files(pv, [f])
    assert pg_count(p, "pipe_point") == 0


def test_hostile_values_and_file_name_stored_verbatim(tmp_path, both):
    g, p = both
    rows = [r[:] for r in GOOD]
    rows[0][0] = HOSTILE                     # a point number
    rows[2][10] = 'PE"; DELETE FROM import_batch; --'   # material
    rows[3][11] = "O'Brien; DROP SCHEMA public CASCADE;"  # owner
    d = tmp_path / "d"
    d.mkdir()
    f = write_csv(d / "x'; DROP TABLE pipe_point; --.csv", rows)
    sg, = import_files(g, [f], batch="b'; DROP TABLE import_batch; --")
    sp, = import_files(p, [f], batch="b'; DROP TABLE import_batch; --")
    assert {k: sg[k] for k in SUMMARY_KEYS} == {k: sp[k] for k in SUMMARY_KEYS}
    assert sp["accepted"] == 9 and sp["rejected"] == 0
    assert pg_rows(p, "import_batch", ["batch_id", "file_name"]) == [
        ("b'; DROP TABLE import_batch; --", "x'; DROP TABLE pipe_point; --.csv")]
    pts = dict(pg_rows(p, "pipe_point", ["uid", "owner"]))
    assert HOSTILE in pts and pts["JS4"] == "O'Brien; DROP SCHEMA public CASCADE;"
    assert dict(pg_rows(p, "pipe_segment", ["uid", "material"]))["JS3-JS4"] == 'PE"; DELETE FROM import_batch; --'
    assert (HOSTILE, "JS2") in set(pg_rows(p, "pipe_segment", ["start_uid", "end_uid"]))
    for layer in ("pipe_point", "pipe_segment"):
        assert layer_records(p, layer) == layer_records(g, layer)
    # every table is still there
    with pg.connect(p) as con:
        n = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                        (pg.PgProject(p).schema,)).fetchone()[0]
    assert n >= 15 and pg_count(p, "import_reject") == 0


def test_cli_import_postgis(tmp_path, make_project, capsys):
    from renewal_planner.cli import main

    p = make_project(prefix="imp")
    f = write_csv(tmp_path / "pts.csv", GOOD)
    assert main(["import", p, f]) == 0
    out = capsys.readouterr().out
    assert "accepted 9" in out and "rejected 0" in out
    assert pg_count(p, "pipe_point") == 5
