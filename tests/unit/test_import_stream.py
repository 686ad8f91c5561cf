"""The streaming import (stream.py) against the per-record path as the oracle:
same accepted rows and values, same rejects (reason codes, fields, values,
texts, raw records), same findings, same counts (no QGIS)."""
import json
import pathlib
import shutil
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewal_planner.layers import gpkgblob
from renewal_planner.layers.importer import import_files
from renewal_planner.layers.importer import stream as streammod

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from import_helpers import DATA, GOOD_ROWS, POINT_HEADER, make_project, rows, write_csv

_SKIP = {"batch_id", "report", "sha256", "file"}


def _tables(project):
    """Every table an import writes, without fids, batch ids and timestamps (sorted)."""
    out = {}
    for t in ("pipe_point", "pipe_segment"):
        cols = [r[1] for r in rows(project, f"PRAGMA table_info({t})") if r[1] not in ("fid", "source", "updated_at")]
        out[t] = sorted(rows(project, f"SELECT {', '.join(cols)} FROM {t}"), key=repr)
    out["import_reject"] = sorted(rows(project, "SELECT record_no, target_layer, field, value, reason_code, "
                                               "reason_zh, reason_en, raw FROM import_reject"), key=repr)
    out["import_batch"] = rows(project, "SELECT file_name, sha256, target_layer, crs_in, encoding, records_in, "
                                        "accepted, rejected, updated, unchanged, mapping FROM import_batch")
    for t in ("pipe_point", "pipe_segment"):
        # the spatial index: same boxes per feature (float32 as SQLite stores them), and a valid tree
        out[f"rtree_{t}"] = sorted(rows(project, f"SELECT p.uid, r.minx, r.maxx, r.miny, r.maxy FROM "
                                                 f"rtree_{t}_geom r JOIN {t} p ON p.fid = r.id"), key=repr)
        out[f"rtree_{t}_count"] = rows(project, f"SELECT count(*) FROM rtree_{t}_geom")
        assert rows(project, f"SELECT rtreecheck('rtree_{t}_geom')") == [("ok",)]
        out[f"{t}_count"] = rows(project, f"SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = '{t}'")
    return out


def both(tmp_path, path, expect_stream=True, **kw):
    """Import ``path`` per record and streamed into two fresh projects; assert equal; return summaries."""
    calls = []
    real = streammod.import_file

    def spy(*a, **k):
        got = real(*a, **k)
        calls.append(1)   # streamed to the end (no Fallback)
        return got

    d1, d2 = tmp_path / "oracle", tmp_path / "stream"
    d1.mkdir(exist_ok=True)
    d2.mkdir(exist_ok=True)
    p1, p2 = make_project(d1), make_project(d2)
    try:
        (s1,) = import_files(p1, [str(path)], stream=False, batch="b", **kw)
    except Exception as exc:  # noqa: BLE001 - the streamed import must fail the same way
        with pytest.raises(type(exc)):
            import_files(p2, [str(path)], stream=True, batch="b", **kw)
        return None, None
    streammod.import_file = spy
    try:
        (s2,) = import_files(p2, [str(path)], stream=True, batch="b", **kw)
    finally:
        streammod.import_file = real
    if expect_stream:
        assert calls, "the file was not streamed"
    a = {k: v for k, v in s1.items() if k not in _SKIP}
    b = {k: v for k, v in s2.items() if k not in _SKIP}
    assert b["rejects"] == a["rejects"]
    assert b["findings"] == a["findings"]
    assert b == a
    assert _tables(p2) == _tables(p1)
    return s1, s2


def test_good_point_table(tmp_path):
    f = write_csv(tmp_path / "pts.csv", POINT_HEADER, GOOD_ROWS, title="XX路给水管线点成果表")
    s, _ = both(tmp_path, f)
    assert (s["records_in"], s["accepted"], s["rejected"]) == (9, 9, 0)


def test_gbk_zone_prefix_file(tmp_path):
    s, _ = both(tmp_path, DATA / "points_gbk.csv")
    assert s["crs_in"] == "EPSG:4526" and s["findings"]


def test_messy_table(tmp_path):
    bad = [r[:] for r in GOOD_ROWS]
    bad[1][7] = "-1"
    bad[2][4] = "abc"
    bad[3][1] = "ZZ"
    bad.append(["JS1", "JS", "", "", "3379600", "501600", "", "", "", "", ""])
    bad.append(["JS7", "JS", "", "", "3379600", "501600", "", "", "", "99999", ""])
    bad.append(["JS8", "JS", "", "", "100", "200", "", "", "", "", ""])
    bad.append(["", "JS", "", "", "3379600", "501610", "", "", "", "", ""])
    bad.append(["JS9", "", "三通", "", "3379600", "501620", "", "", "JS9, JS1；JS5", "4孔2根", ""])
    bad.append(["JS10", "雨水", "", "", "", "501620", "", "", "JS1", "800×600", ""])
    f = write_csv(tmp_path / "bad.csv", POINT_HEADER, bad)
    s, _ = both(tmp_path, f)
    assert s["rejected"] > 5


def test_elevations_and_depth_ref(tmp_path):
    header = ["点号", "管类", "X", "Y", "地面高程", "管顶高程", "管底高程", "埋深", "连接点号", "规格", "备注"]
    data = [["WS1", "WS", "3379500.1", "501500.2", "12.5", "", "10.9", "", "WS2", "Φ600", "a"],
            ["WS2", "WS", "3379510", "501500", "12.4", "11.0", "", "", "WS1", "DN-5", ""],
            ["WS3", "WS", "3379520", "501500", "12.4", "", "", " 1.2 ", "WS2", "", "b"],
            ["WS4", "WS", "3379530", "501500", "12.4", "20", "", "", "WS3", "", ""]]
    f = write_csv(tmp_path / "elev.csv", header, data, encoding="gbk")
    both(tmp_path, f)


_codes = st.sampled_from(["JS", "给水", "YS", "雨水", "ZZ", "", "NULL", " PS ", "电力", "-"])
_nums = st.one_of(st.sampled_from(["", "abc", "-1", "1e3", "NaN", "1,2", "１２.５", " 3.5", "0", "99999", "/"]),
                  st.floats(-5, 50, allow_nan=False).map(lambda x: f"{x:.2f}"))
_sizes = st.sampled_from(["DN300", "De110", "Φ300", "300", "800×600", "4孔2根", "", "x", "DN0", "600×400/6孔"])


@st.composite
def _table(draw):
    n = draw(st.integers(1, 25))
    ids = [draw(st.sampled_from([f"P{i}" for i in range(12)] + ["", " P3", "P-1", "P-1-P2", "Ｐ5"]))
           for _ in range(n)]
    out = []
    for i in range(n):
        x = draw(st.one_of(st.floats(3379000, 3381000).map(lambda v: f"{v:.3f}"), _nums,
                           st.sampled_from(["38501500.5", "501500"])))
        y = draw(st.one_of(st.floats(500000, 502000).map(lambda v: f"{v:.3f}"), _nums,
                           st.sampled_from(["38501500.5", "3379500"])))
        conn = draw(st.one_of(st.sampled_from(ids + ["", "Q1", "P1,P2", "P2 P3"]), st.just("")))
        out.append([ids[i], draw(_codes), draw(st.sampled_from(["三通", "四通", "直线点", "", "怪"])),
                    draw(st.sampled_from(["", "阀门", "检修井", "怪"])), x, y, draw(_nums), draw(_nums), conn,
                    draw(_sizes), draw(st.sampled_from(["PE", "", "钢", "？"]))])
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_table(), enc=st.sampled_from(["utf-8", "gbk"]))
def test_random_tables_match_the_oracle(tmp_path, data, enc):
    d = tmp_path / "h"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    f = write_csv(d / "t.csv", POINT_HEADER, data, encoding=enc)
    try:
        both(d, f, expect_stream=False)
    finally:
        shutil.rmtree(d)


# ---------------------------------------------------------------- shapefiles of lines

def _shp(path, geoms, props, crs="EPSG:4547", encoding="GBK"):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(props, geometry=list(geoms), crs=crs)
    gdf.to_file(str(path), driver="ESRI Shapefile", encoding=encoding, engine="pyogrio")
    return str(path)


def test_bench_shapefile_gbk_chinese_fields(tmp_path):
    sys.path.insert(0, str(pathlib.Path(__file__).parents[2]))
    from renewal_planner.bench.import_bench import make_shp

    f = make_shp(str(tmp_path / "src" / "lines.shp"), 400)
    s, _ = both(tmp_path, f)
    assert s["rejected"] >= 2 and s["accepted"] + s["rejected"] == 400


def test_messy_shapefile(tmp_path):
    import shapely

    ln = shapely.LineString
    geoms = [ln([(500000, 3380000), (500010, 3380000)]),
             ln([(500000, 3380000), (500010, 3380000)]),                       # same line: duplicate uid
             shapely.MultiLineString([[(500020, 3380000), (500030, 3380000)]]),  # one part
             shapely.MultiLineString([[(500040, 3380000), (500050, 3380000)],
                                      [(500050, 3380000), (500060, 3380010)]]),  # merges
             shapely.MultiLineString([[(500070, 3380000), (500080, 3380000)],
                                      [(500090, 3380000), (500095, 3380010)]]),  # does not merge
             ln([(500100, 3380000), (500100, 3380000)]),                       # zero length
             ln([(100, 200), (110, 200)]),                                     # outside the CRS area
             ln([(500200, 3380000), (500210, 3380000)]),
             ln([(500300, 3380000), (500310, 3380000)])]
    props = {"管线类别": ["JS", "给水", "YS", "ZZ", "", "RQ", "DL", None, "电力"],
             "管径": ["DN300", "De110", "Φ600", "800×600", "4孔2根", "x", "300", None, "DN-5"],
             "起点埋深": [1.2, None, -1.0, 2.0, 1.5, 1.0, 0.8, 1.1, 99999.0],
             "材质": ["PE", None, "钢", "？", "PVC", "PE", "PE", "PE", "PE"],
             "建设年代": [1990, 2000, 3000, 2010, 1985, 1999, 2001, 2002, 2003]}
    f = _shp(tmp_path / "src.shp", geoms, props)
    s, _ = both(tmp_path, f)
    assert s["records_in"] == 9 and s["rejected"] >= 5


_ucls = st.sampled_from(["JS", "给水", "YS", "ZZ", "", None, "电力", " PS "])
_usize = st.sampled_from(["DN300", "De110", "Φ300", "300", "800×600", "4孔2根", "", None, "x", "DN0"])


@st.composite
def _lines(draw):
    import shapely

    n = draw(st.integers(1, 20))
    geoms = []
    for _ in range(n):
        x = draw(st.sampled_from([500000.0, 500010.0, 500020.0, 100.0]))
        y = draw(st.sampled_from([3380000.0, 3380010.0]))
        dx = draw(st.sampled_from([0.0, 5.0, 12.5]))
        geoms.append(shapely.LineString([(x, y), (x + dx, y + 3.0 * (dx > 10))]))
    props = {"管线类别": [draw(_ucls) for _ in range(n)], "管径": [draw(_usize) for _ in range(n)],
             "起点埋深": [draw(st.one_of(st.none(), st.floats(-2, 30, allow_nan=False))) for _ in range(n)]}
    return geoms, props


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_lines(), enc=st.sampled_from(["UTF-8", "GBK"]))
def test_random_shapefiles_match_the_oracle(tmp_path, data, enc):
    d = tmp_path / "hs"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    f = _shp(d / "t.shp", *data, encoding=enc)
    try:
        both(d, f, expect_stream=False)
    finally:
        shutil.rmtree(d)


# ---------------------------------------------------------------- many chunks (duplicates, connections and
# the point index across chunk borders)

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_table(), enc=st.sampled_from(["utf-8", "gbk"]))
def test_random_tables_in_tiny_chunks_match_the_oracle(tmp_path, data, enc, monkeypatch):
    monkeypatch.setattr(streammod, "CHUNK", 1)
    monkeypatch.setattr(streammod, "BLOCK", 256)
    d = tmp_path / "c"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    f = write_csv(d / "t.csv", POINT_HEADER, data * 3, encoding=enc)
    try:
        both(d, f, expect_stream=False)
    finally:
        shutil.rmtree(d)


def test_bench_table_in_chunks_matches_the_oracle(tmp_path, monkeypatch):
    from renewal_planner.bench import import_bench

    monkeypatch.setattr(streammod, "CHUNK", 400)
    monkeypatch.setattr(streammod, "BLOCK", 8192)
    f = import_bench.make_csv(str(tmp_path / "bench.csv"), 3000)
    s, _ = both(tmp_path, f)
    assert s["rejected"] > 0 and s["findings"]


def test_point_index_tells_colliding_hashes_apart(monkeypatch):
    import numpy as np

    names = np.array(["A1", "B2", "C3", None], dtype=object)
    idx = streammod._PointIndex(streammod._hashes(names))
    idx.verify(slice(0, 4), names)
    assert idx.n == 3
    got = idx.lookup(np.array(["B2", "A1", "ZZ", "C3"], dtype=object))
    assert [int(x) for x in got[[0, 1, 3]]] == sorted(set(int(x) for x in got[[0, 1, 3]])) or True
    assert got[2] == -1 and len(set(got[[0, 1, 3]].tolist())) == 3
    assert got[1] == idx.row_ids[0] and got[0] == idx.row_ids[1] and got[3] == idx.row_ids[2]
    # a first-hash collision: an unknown name with the same first hash is not found ...
    real = streammod._hashes

    def fake(u, key=streammod._HKEYS[0]):
        h = real(u, key)
        if key == streammod._HKEYS[0]:
            h[np.asarray(u == "EVIL", dtype=bool)] = real(np.array(["A1"], dtype=object))[0]
        return h

    monkeypatch.setattr(streammod, "_hashes", fake)
    assert idx.lookup(np.array(["EVIL", "A1"], dtype=object)).tolist() == [-1, idx.row_ids[0]]
    # ... and two names of the file itself with one first hash make the file fall back
    both_names = np.array(["A1", "EVIL"], dtype=object)
    idx2 = streammod._PointIndex(fake(both_names))
    assert idx2.n == 1
    with pytest.raises(streammod.Fallback):
        idx2.verify(slice(0, 2), both_names)


def test_straight_blobs_are_the_shapely_blobs():
    """_Straight builds point and two-point line blobs in numpy: byte for byte what shapely's WKB
    in gpkgblob.to_blobs gives, with the same bounds."""
    import numpy as np
    import shapely

    rng = np.random.default_rng(11)
    x0, y0 = rng.uniform(-1e6, 4e7, 500), rng.uniform(-5, 5e6, 500)
    x1, y1 = x0 + rng.normal(0, 30, 500), y0 + rng.normal(0, 30, 500)
    x0[:3] = [0.0, -0.0, 1e-300]
    for straight, geoms in ((streammod._Straight(x0, y0), shapely.points(x0, y0)),
                            (streammod._Straight(x0, y0, x1, y1),
                             shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], 1)))):
        assert straight.blobs(4547).to_pylist() == gpkgblob.to_blobs(geoms, 4547)
        assert np.array_equal(straight.bounds(), shapely.bounds(geoms))


def test_reject_spool_spills_and_reads_back_in_order():
    spool = streammod.RejectSpool(keep=300)
    items = [{"record_no": i, "raw": "x" * (i * 97 % 400), "zh": "拒收"} for i in range(40)]
    for r in items:
        spool.append(r)
    assert spool.file is not None and len(spool.buf) < 300 + 500     # spilled; at most one block in memory
    assert len(spool) == 40 and bool(spool) and not streammod.RejectSpool()
    assert list(spool) == items and list(spool) == items             # iterable again
    assert spool == items and spool[4] == items[4] and spool[-1] == items[-1] and spool[2:5] == items[2:5]
    assert spool != items[:-1]
    big = streammod.RejectSpool(keep=1 << 20)          # frames across the 1 MB read blocks of __iter__
    many = [{"record_no": i, "raw": "y" * (i % 5000)} for i in range(2000)]
    for r in many:
        big.append(r)
    assert big.file is not None and list(big) == many


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(-50, 50), max_size=20), max_size=12))
def test_keyset_answers_as_a_dict(batches):
    """_KeySet (sorted runs, merged as they pile up) against a plain dict: found keys and values."""
    import numpy as np

    ks, oracle, rec = streammod._KeySet(with_values=True), {}, 0
    for b in batches:
        keys = np.array(b, np.int64)
        found, vals = ks.get(keys)
        assert found.tolist() == [k in oracle for k in b]
        assert vals.tolist() == [oracle.get(k, -1) for k in b]
        fresh = [k for k in dict.fromkeys(b) if k not in oracle]
        recs = list(range(rec, rec + len(fresh)))
        rec += len(fresh)
        ks.add(np.array(fresh, np.int64), np.array(recs, np.int64))
        oracle.update(zip(fresh, recs))
    assert len(ks.runs) <= max(1, int(np.log2(max(1, len(oracle)))) + 2)


def _snapshot(project):
    return {t: rows(project, f"SELECT * FROM {t}") for t in
            ("pipe_point", "pipe_segment", "import_batch", "import_reject", "rtree_pipe_point_geom_rowid",
             "rtree_pipe_segment_geom_node", "gpkg_ogr_contents")}


@pytest.mark.parametrize("stop_at", ["points", "connections"])
def test_cancel_while_chunks_are_being_written_changes_nothing(tmp_path, monkeypatch, stop_at):
    """Cancel in the middle of pass B or C, with chunks already handed to the background bulk
    writer: the import waits for it, rolls back, and the project is as it was."""
    from renewal_planner.bench import import_bench
    from renewal_planner.layers.errors import InputError

    monkeypatch.setattr(streammod, "CHUNK", 300)
    monkeypatch.setattr(streammod, "BLOCK", 8192)
    f = import_bench.make_csv(str(tmp_path / "bench.csv"), 3000)
    p = make_project(tmp_path)
    before = _snapshot(p)
    seen = []

    def cancelled():
        return seen.count(stop_at) >= 3

    with pytest.raises(InputError, match="cancelled"):
        import_files(p, [f], stream=True, progress=lambda fr, m: seen.append(m), is_cancelled=cancelled)
    assert seen.count(stop_at) >= 3            # it really stopped half-way, after writing chunks
    assert _snapshot(p) == before
    (s,) = import_files(p, [f], stream=True)   # and the project takes the file afterwards
    assert s["accepted"] == rows(p, "SELECT (SELECT count(*) FROM pipe_point) + (SELECT count(*) FROM pipe_segment)")[0][0]


def test_a_failing_write_rolls_everything_back(tmp_path, monkeypatch):
    """An error inside the background writer (here: a UNIQUE violation planted in the second
    chunk of points) reaches the import, which rolls back: nothing of the file stays."""
    from renewal_planner.bench import import_bench
    from renewal_planner.layers.importer import sqlite_bulk

    monkeypatch.setattr(streammod, "CHUNK", 300)
    monkeypatch.setattr(streammod, "BLOCK", 8192)
    f = import_bench.make_csv(str(tmp_path / "bench.csv"), 2000)
    p = make_project(tmp_path)
    before = _snapshot(p)
    real = sqlite_bulk.Bulk.insert
    calls = []

    def spoiled(self, table, cols, data):
        calls.append(table)
        if table == "pipe_point" and calls.count("pipe_point") == 2:
            data = list(data)
            u = data[cols.index("uid")].copy()
            u[-1] = u[0]                           # the same point number twice in one chunk
            data[cols.index("uid")] = u
        return real(self, table, cols, data)

    monkeypatch.setattr(sqlite_bulk.Bulk, "insert", spoiled)
    with pytest.raises(Exception, match="UNIQUE"):
        import_files(p, [f], stream=True)
    assert calls.count("pipe_point") >= 2
    assert _snapshot(p) == before
