"""What the scale bench relies on: bulk_load gives the same layer as the row
loader, and a one-area check reads only that area from PostGIS (layers and
findings) while merging as a whole-table read would."""
import math
import os

import pytest
import shapely

from renewal_planner.layers import io, pg
from renewal_planner.tools import check

from .conftest import DEMO_LAYERS

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def bulk_pg(pg_conninfo, demo_gpkg):
    p = pg.project_string(pg_conninfo, f"bulk_{os.getpid()}")
    pg.init_project(p, styles=False)
    for name in DEMO_LAYERS:
        df = io.read_layer(demo_gpkg["project"], name)
        assert pg.bulk_load(p, name, df) == len(df)
    return p


def _norm(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def test_bulk_load_reads_back_identical(demo_gpkg, bulk_pg):
    for name in DEMO_LAYERS:
        a = io.read_layer(demo_gpkg["project"], name).sort_values("uid").reset_index(drop=True)
        b = io.read_layer(bulk_pg, name).sort_values("uid").reset_index(drop=True)
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        if not len(a):
            continue
        assert a.geometry.geom_equals_exact(b.geometry, 0).all(), name
        for c in a.columns:
            if c == "geometry":
                continue
            for x, y in zip(a[c].tolist(), b[c].tolist()):
                x, y = _norm(x), _norm(y)
                assert x == y or str(x) == str(y), (name, c, x, y)
    # no history rows for a bulk load, and the triggers are back on afterwards
    s = pg.PgProject(bulk_pg).schema
    with pg.connect(bulk_pg) as con:
        assert con.execute(f'SELECT count(*) FROM "{s}".history').fetchone()[0] == 0
        con.execute(f'UPDATE "{s}".tree SET note = %s WHERE fid = (SELECT min(fid) FROM "{s}".tree)', ("x';--",))
        con.commit()
        assert con.execute(f'SELECT count(*), min(new_values->>%s) FROM "{s}".history', ("note",)).fetchone() \
            == (1, "x';--")


def test_bulk_load_refused_for_a_utility_role(pg_conninfo, bulk_pg):
    from renewal_planner.layers.errors import InputError

    from .conftest import as_user

    s = pg.PgProject(bulk_pg).schema
    role = f"u_{s}"
    pg.grant(bulk_pg, role, "utility", owner="X")
    p = pg.project_string(as_user(pg_conninfo, role), s)
    df = io.read_layer(bulk_pg, "pipe_point").iloc[:2]
    with pytest.raises(InputError, match="refused"):
        pg.bulk_load(p, "pipe_point", df)


def test_area_check_reads_only_the_area(demo_gpkg, bulk_pg, monkeypatch):
    area = io.read_layer(bulk_pg, "renovation_area").iloc[0]
    check.check_project(bulk_pg, dem=demo_gpkg["dem"])
    s = pg.PgProject(bulk_pg).schema
    # two planted open findings of a rule that runs: one inside the area, one far outside
    inside = area.geometry.representative_point()
    outside = shapely.Point(inside.x + 50000, inside.y)
    with pg.connect(bulk_pg) as con:
        for cid, g in (("plant-in", inside), ("plant-out", outside)):
            con.execute(f'INSERT INTO "{s}".conflict (conflict_id, rule_id, severity, certainty, layer_a, uid_a, '
                        f"review, geom) VALUES (%s, 'pipe_under_road', 'error', 'certain', 'pipe_segment', 'x', "
                        f"'open', ST_SetSRID(ST_GeomFromWKB(%s), 4547))", (cid, shapely.to_wkb(g)))
        con.commit()
        total = con.execute(f'SELECT count(*) FROM "{s}".conflict').fetchone()[0]
    read, state = {}, {}
    real_read, real_state = pg.read_layer, pg.read_conflict_state

    def spy_read(project, name, *a, **kw):
        df = real_read(project, name, *a, **kw)
        read[name] = read.get(name, 0) + len(df)
        return df

    def spy_state(*a, **kw):
        out = real_state(*a, **kw)
        state["rows"] = len(out)
        return out

    monkeypatch.setattr(pg, "read_layer", spy_read)
    monkeypatch.setattr(pg, "read_conflict_state", spy_state)
    _, rows, counts = check.check_project(bulk_pg, dem=demo_gpkg["dem"], area=area["uid"])
    monkeypatch.undo()
    whole = {n: len(io.read_layer(bulk_pg, n)) for n in read}
    assert read["pipe_segment"] < whole["pipe_segment"] and read["tree"] < whole["tree"]
    assert sum(read.values()) < sum(whole.values()) / 2
    assert len(rows) < state["rows"] < total  # the run's findings and the area's, not the whole table
    review = dict(psycopg.connect(pg_conninfo_of(bulk_pg)).execute(
        f'SELECT conflict_id, review FROM "{s}".conflict WHERE conflict_id LIKE %s', ("plant-%",)).fetchall())
    assert review == {"plant-in": "resolved", "plant-out": "open"}
    assert counts["resolved"] == 1


def pg_conninfo_of(project):
    return pg.PgProject(project).conninfo
