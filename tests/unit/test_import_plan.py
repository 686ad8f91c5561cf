"""plan_files / commit_plan: planning writes nothing, a plan commits as import_files does,
a stale plan is refused, per-file options and saved mapping documents."""
import pathlib
import sys
import threading

import pytest
import yaml

from renewal_planner.layers.errors import InputError
from renewal_planner.layers.importer import (commit_plan, coords, import_files, mapping_document, plan_files,
                                             save_mapping)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from import_helpers import GOOD_ROWS, POINT_HEADER, make_project, rows, table_dump, write_csv


def test_plan_writes_nothing_and_commits_like_import_files(tmp_path):
    p, q = make_project(tmp_path, "p.gpkg"), make_project(tmp_path, "q.gpkg")
    f = write_csv(tmp_path / "a.csv", POINT_HEADER, GOOD_ROWS)
    before = table_dump(p)
    plan = plan_files(p, [f], batch="b1")
    assert table_dump(p) == before
    (s,) = plan.summaries()
    assert (s["records_in"], s["accepted"], s["rejected"]) == (9, 9, 0)  # 5 points + 4 connections
    (c,) = commit_plan(plan)
    (d,) = import_files(q, [f], batch="b1")
    keys = ("records_in", "accepted", "rejected", "inserted", "mapping", "batch_id")
    assert {k: c[k] for k in keys} == {k: d[k] for k in keys}
    cols = "uid, utility, feature, ground_elev, depth"
    assert rows(p, f"SELECT {cols} FROM pipe_point ORDER BY uid") == rows(q, f"SELECT {cols} FROM pipe_point ORDER BY uid")


def test_stale_plan_is_refused(tmp_path):
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "a.csv", POINT_HEADER, GOOD_ROWS)
    plan = plan_files(p, [f])
    import_files(p, [write_csv(tmp_path / "b.csv", POINT_HEADER, GOOD_ROWS[:1])])
    before = table_dump(p)
    with pytest.raises(InputError, match="changed since"):
        commit_plan(plan)
    assert table_dump(p) == before


def test_per_file_mapping_and_saved_document(tmp_path):
    p = make_project(tmp_path)
    f = write_csv(tmp_path / "a.csv", POINT_HEADER, GOOD_ROWS)
    plan = plan_files(p, [f], per_file={f: {"mapping": {"columns": {"地面高程": None}}}})
    fp = plan.plans[0][0]
    assert "地面高程" not in fp.mapping["columns"]
    doc = mapping_document(fp, plan.sources[0]["columns"])
    assert set(doc["columns"]) == set(POINT_HEADER) and doc["columns"]["地面高程"] is None
    path = save_mapping(str(tmp_path / "m.yaml"), doc)
    assert yaml.safe_load(open(path, encoding="utf-8")) == doc
    (s,) = import_files(p, [f], mapping=path)
    assert s["mapping"]["columns"] == fp.mapping["columns"]
    assert rows(p, "SELECT count(*) FROM pipe_point WHERE ground_elev IS NOT NULL") == [(0,)]


def test_pyproj_objects_are_cached_per_thread():
    mine = coords.crs("EPSG:4547")
    assert coords.crs("EPSG:4547") is mine
    other = []
    t = threading.Thread(target=lambda: other.append(coords.crs("EPSG:4547")))
    t.start()
    t.join()
    assert other[0] is not mine and other[0] == mine
