"""Planning a delivery into a PostGIS project that holds pipes reads the rows it touches
(pg_commit.ProjectRows) and plans what a planner holding the whole project plans
(the scenario of tests/unit/test_import_state.py)."""
import pathlib
import sys

import pytest

from renewal_planner.layers.importer import import_files, pg_commit, plan_files
from renewal_planner.layers.importer.validate import POINT, SEGMENT, State

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "unit"))
from import_helpers import GOOD_ROWS, POINT_HEADER, delivery_files, plan_dump, sewer_rows, write_csv  # noqa: E402

psycopg = pytest.importorskip("psycopg")


def test_lazy_state_plans_as_the_whole_project_does(make_project, tmp_path, monkeypatch):
    p = make_project()
    base = write_csv(tmp_path / "base.csv", POINT_HEADER, GOOD_ROWS + sewer_rows(80))
    (s,) = import_files(p, [base])
    assert s["accepted"] == 85 + 83
    files = delivery_files(tmp_path)
    read = []
    real = pg_commit.ProjectRows._select

    def spy(self, layer, where, keys):
        got = real(self, layer, where, keys)
        read.append(len(got))
        return got

    monkeypatch.setattr(pg_commit.ProjectRows, "_select", spy)
    lazy = plan_files(p, files)
    monkeypatch.setattr(pg_commit.ProjectRows, "_select", real)

    def whole(project):
        rows = pg_commit.ProjectRows(project)
        with psycopg.connect(rows.p.conninfo) as con:
            uids = {lyr: [r[0] for r in con.execute(f'SELECT uid FROM "{rows.p.schema}".{lyr}')]
                    for lyr in (POINT, SEGMENT)}
        return State(rows.rows(POINT, uids[POINT]), rows.rows(SEGMENT, uids[SEGMENT]))

    monkeypatch.setattr(pg_commit, "load_state", whole)
    assert plan_dump(lazy) == plan_dump(plan_files(p, files))
    d1, d2 = (pl for pl, _ in lazy.plans)
    assert [(f["uid"], f["found"]) for f in d1.findings] == [("JS7", 1)]
    assert sum(r.action == "update" for r in d1.rows + d2.rows) == 4
    assert 0 < sum(read) <= 20
