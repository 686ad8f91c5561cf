"""Planning an import into a project that already holds pipes reads only the rows the
delivery touches (validate.State with batch.ProjectRows), and plans exactly what a
planner holding the whole project in memory plans (the oracle: every row's action,
fid, values and geometry, every reject and every finding)."""
import pathlib
import sqlite3
import sys

import pytest

from renewal_planner.layers.importer import batch as batchmod
from renewal_planner.layers.importer import import_files, plan_files
from renewal_planner.layers.importer.validate import POINT, SEGMENT, State

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from import_helpers import (GOOD_ROWS, POINT_HEADER, delivery_files, make_project, plan_dump,  # noqa: E402
                            sewer_rows, write_csv)


@pytest.fixture
def city(tmp_path):
    """A project holding the water line of GOOD_ROWS and 600 sewer points (599 pipes)."""
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "base.csv", POINT_HEADER, GOOD_ROWS + sewer_rows(600))
    (s,) = import_files(p, [f])
    assert s["accepted"] == 605 + 603 and s["rejected"] == 0
    return p


def _whole(project):
    """The oracle's state: every pipe row of the project, read up front."""
    con = sqlite3.connect(project)
    try:
        uids = {lyr: [r[0] for r in con.execute(f"SELECT uid FROM {lyr}")] for lyr in (POINT, SEGMENT)}
    finally:
        con.close()
    rows = batchmod.ProjectRows(project)
    return State(rows.rows(POINT, uids[POINT]), rows.rows(SEGMENT, uids[SEGMENT]))


def test_lazy_state_plans_as_the_whole_project_does(city, tmp_path, monkeypatch):
    files = delivery_files(tmp_path)
    asked = []
    real_rows, real_at = batchmod.ProjectRows.rows, batchmod.ProjectRows.segments_at

    def rows(self, layer, uids):
        got = real_rows(self, layer, uids)
        asked.append((layer, len(uids), len(got)))
        return got

    def segments_at(self, points):
        got = real_at(self, points)
        asked.append(("ends", len(points), len(got)))
        return got

    monkeypatch.setattr(batchmod.ProjectRows, "rows", rows)
    monkeypatch.setattr(batchmod.ProjectRows, "segments_at", segments_at)
    lazy = plan_files(city, files)
    read = sum(n for _, _, n in asked)
    monkeypatch.setattr(batchmod.ProjectRows, "rows", real_rows)
    monkeypatch.setattr(batchmod.ProjectRows, "segments_at", real_at)
    monkeypatch.setattr(batchmod, "load_state", _whole)
    whole = plan_files(city, files)
    assert plan_dump(lazy) == plan_dump(whole)
    # the plan itself: what the deliveries say
    d1, d2 = (p for p, _ in lazy.plans)
    acts = {(r.layer, r.values["uid"]): r.action for r in d1.rows + d2.rows}
    assert acts[(POINT, "JS1")] == acts[(SEGMENT, "JS1-JS2")] == "update"
    assert acts[(POINT, "JS2")] == "unchanged" and acts[(SEGMENT, "JS2-JS3")] == "unchanged"
    assert acts[(POINT, "WS7")] == "update" and acts[(SEGMENT, "WS3-WS4")] == "update"
    assert acts[(POINT, "JS7")] == acts[(SEGMENT, "JS7-JS4")] == acts[(SEGMENT, "JS6-JS4")] == "insert"
    assert [(f["uid"], f["found"]) for f in d1.findings] == [("JS7", 1)]
    assert [(r["record_no"], r["reason_code"], r["field"]) for r in d2.rejects] == [(2, "unknown_point", "end_uid")]
    # and it read a few rows of the project's 1,208, not all of them
    assert 0 < read <= 20, asked
