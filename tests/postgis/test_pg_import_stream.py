"""The streamed import into a PostGIS project (stream.py + pg_stream.py) against the
per-record PostGIS path (``stream=False``) as the oracle: every written column
(geometry as EWKB), the rejects, the batch row, the history rows and the summaries;
a cancel half-way changes nothing; row-level security refuses a utility's foreign
pipes with the per-record path's message; a project holding pipes falls back."""
import pytest

from renewal_planner.layers import gpkg, pg
from renewal_planner.layers.errors import InputError
from renewal_planner.layers.importer import import_files
from renewal_planner.layers.importer import stream as streammod

from .test_pg_import import HEADER, OWNER_A, OWNER_B, _grid_rows, layer_records, pg_count, write_csv
from .test_pg_import import utilities  # noqa: F401 - fixture

psycopg = pytest.importorskip("psycopg")

_SKIP = {"batch_id", "report", "sha256", "file"}


def _q(project, query):
    p = pg.PgProject(project)
    with pg.connect(p) as con:
        con.execute(psycopg.sql.SQL("SET search_path TO {}, public").format(psycopg.sql.Identifier(p.schema)))
        return con.execute(query).fetchall()


def _tables(project):
    """Every table an import writes, without fids, batch ids and timestamps (sorted)."""
    out = {}
    for t in ("pipe_point", "pipe_segment"):
        cols = [r[0] for r in _q(project, "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                          f"'{pg.PgProject(project).schema}' AND table_name = '{t}' "
                                          "ORDER BY ordinal_position")
                if r[0] not in ("fid", "source", "updated_at", "geom")]
        out[t] = sorted(_q(project, f"SELECT {', '.join(cols)}, ST_AsEWKB(geom) FROM {t}"), key=repr)
        assert _q(project, f"SELECT count(DISTINCT source), count(DISTINCT updated_at) FROM {t} "
                           "WHERE source IS NOT NULL")[0] in ((1, 1), (0, 0))
    out["import_reject"] = sorted(_q(project, "SELECT record_no, target_layer, field, value, reason_code, "
                                              "reason_zh, reason_en, raw FROM import_reject"), key=repr)
    out["import_batch"] = _q(project, "SELECT file_name, sha256, target_layer, crs_in, encoding, records_in, "
                                      "accepted, rejected, updated, unchanged, mapping, uploaded_by FROM import_batch")
    # history: one INSERT row per written pipe, the new row as JSON (without fid and time)
    out["history"] = sorted(_q(project, "SELECT layer, op, uid, old_values, new_values - 'fid' - 'updated_at' "
                                        "- 'source', changed_by FROM history"), key=repr)
    return out


def _history_in_fid_order(project):
    for layer in ("pipe_point", "pipe_segment"):
        # the statement-level INSERT trigger writes to_jsonb(row), as the row-level one did
        assert _q(project, f"SELECT count(*), count(*) FILTER (WHERE h.new_values = to_jsonb(p)) FROM history h "
                           f"JOIN {layer} p ON p.uid = h.uid AND h.layer = '{layer}'")[0] == \
            (pg_count(project, layer),) * 2
        got = _q(project, f"SELECT p.fid FROM history h JOIN {layer} p ON p.uid = h.uid "
                          f"WHERE h.layer = '{layer}' ORDER BY h.id")
        fids = [r[0] for r in got]
        assert fids == sorted(fids) and len(fids) == pg_count(project, layer)


def both(path, make_project, monkeypatch=None, **kw):
    """Import ``path`` per record and streamed into two fresh PostGIS projects; assert equal."""
    done = []
    real = streammod.import_file

    def spy(*a, **k):
        got = real(*a, **k)
        done.append(1)    # streamed to the end (no Fallback)
        return got

    p1, p2 = make_project(prefix="oracle"), make_project(prefix="stream")
    (s1,) = import_files(p1, [str(path)], stream=False, batch="b", **kw)
    streammod.import_file = spy
    try:
        (s2,) = import_files(p2, [str(path)], stream=True, batch="b", **kw)
    finally:
        streammod.import_file = real
    assert done, "the file was not streamed"
    a = {k: v for k, v in s1.items() if k not in _SKIP}
    b = {k: v for k, v in s2.items() if k not in _SKIP}
    assert list(b["rejects"]) == list(a["rejects"])
    assert b["findings"] == a["findings"]
    b["rejects"], a["rejects"] = list(b["rejects"]), list(a["rejects"])
    assert b == a
    t1, t2 = _tables(p1), _tables(p2)
    for k in t1:
        assert t2[k] == t1[k], k
    _history_in_fid_order(p2)
    return s1, s2, p1, p2


def test_bench_table_gbk_in_chunks(tmp_path, make_project, monkeypatch):
    """The bench's GBK point table (planted bad rows, tees, connections) in chunks of 400."""
    from renewal_planner.bench import import_bench

    monkeypatch.setattr(streammod, "CHUNK", 400)
    monkeypatch.setattr(streammod, "BLOCK", 8192)
    f = import_bench.make_csv(str(tmp_path / "bench.csv"), 3000)
    s, _, _, p2 = both(f, make_project)
    assert s["rejected"] > 0 and s["findings"] and s["encoding"].upper() in ("GB18030", "GBK")
    assert s["by_layer"]["pipe_segment"]["accepted"] > 2000
    # and what the GeoPackage's streamed import writes
    g = gpkg.create_project(str(tmp_path / "g.gpkg"), crs="EPSG:4547")
    (sg,) = import_files(g, [f], stream=True, batch="b")
    assert (sg["accepted"], sg["rejected"], sg["merged"]) == (s["accepted"], s["rejected"], s["merged"])
    for layer in ("pipe_point", "pipe_segment"):
        assert layer_records(p2, layer) == layer_records(g, layer)


def test_messy_table(tmp_path, make_project):
    from .test_pg_import import MESSY

    rows = [r[:] for r in MESSY] + [["JS9", "", "三通", "", "3379600", "501620", "", "", "JS9, JS1；JS5", "4孔2根",
                                     "", OWNER_A],
                                    ["JS10", "雨水", "", "", "", "501620", "", "", "JS1", "800×600", "", ""],
                                    ["JS11", "JS", "", "", "3379620", "501620", "", "", "JS12", "DN0", "", ""]]
    f = write_csv(tmp_path / "messy.csv", rows)
    s, _, _, _ = both(f, make_project)
    assert s["rejected"] > 5


def test_bench_shapefile_gbk(tmp_path, make_project):
    from renewal_planner.bench.import_bench import make_shp

    f = make_shp(str(tmp_path / "src" / "lines.shp"), 600)
    s, _, _, _ = both(f, make_project)
    assert s["rejected"] >= 2 and s["accepted"] + s["rejected"] == 600


def test_messy_shapefile(tmp_path, make_project):
    import geopandas as gpd
    import shapely

    ln = shapely.LineString
    geoms = [ln([(500000, 3380000), (500010, 3380000)]),
             ln([(500000, 3380000), (500010, 3380000)]),                       # same line: duplicate uid
             shapely.MultiLineString([[(500020, 3380000), (500030, 3380000)]]),
             shapely.MultiLineString([[(500040, 3380000), (500050, 3380000)],
                                      [(500050, 3380000), (500060, 3380010)]]),
             shapely.MultiLineString([[(500070, 3380000), (500080, 3380000)],
                                      [(500090, 3380000), (500095, 3380010)]]),  # does not merge
             ln([(500100, 3380000), (500100, 3380000)]),                       # zero length
             ln([(100, 200), (110, 200)]),                                     # outside the CRS area
             ln([(500200, 3380000), (500210, 3380000), (500215, 3380020)]),
             ln([(500300, 3380000), (500310, 3380000)])]
    props = {"管线类别": ["JS", "给水", "YS", "ZZ", "", "RQ", "DL", None, "电力"],
             "管径": ["DN300", "De110", "Φ600", "800×600", "4孔2根", "x", "300", None, "DN-5"],
             "起点埋深": [1.2, None, -1.0, 2.0, 1.5, 1.0, 0.8, 1.1, 99999.0],
             "材质": ["PE", None, "钢", "？", "PVC", "PE", "PE", "PE", "O'Brien \"x\",\n y"],
             "建设年代": [1990, 2000, 3000, 2010, 1985, 1999, 2001, 2002, 2003]}
    path = str(tmp_path / "src.shp")
    gpd.GeoDataFrame(props, geometry=geoms, crs="EPSG:4547").to_file(path, driver="ESRI Shapefile",
                                                                     encoding="GBK", engine="pyogrio")
    s, _, _, _ = both(path, make_project)
    assert s["records_in"] == 9 and s["rejected"] >= 5


def _snapshot(project):
    return {t: sorted(_q(project, f"SELECT * FROM {t}"), key=repr)
            for t in ("pipe_point", "pipe_segment", "import_batch", "import_reject", "history")}


@pytest.mark.parametrize("stop_at", ["points", "connections"])
def test_cancel_mid_stream_changes_nothing(tmp_path, make_project, monkeypatch, stop_at):
    from renewal_planner.bench import import_bench

    monkeypatch.setattr(streammod, "CHUNK", 300)
    monkeypatch.setattr(streammod, "BLOCK", 8192)
    f = import_bench.make_csv(str(tmp_path / "bench.csv"), 3000)
    p = make_project(prefix="cancel")
    before = _snapshot(p)
    seen = []
    with pytest.raises(InputError, match="cancelled"):
        import_files(p, [f], stream=True, progress=lambda fr, m: seen.append(m),
                     is_cancelled=lambda: seen.count(stop_at) >= 3)
    assert seen.count(stop_at) >= 3
    assert _snapshot(p) == before
    (s,) = import_files(p, [f], stream=True)    # the project takes the file afterwards (lock released)
    assert s["accepted"] == pg_count(p, "pipe_point") + pg_count(p, "pipe_segment") - s["merged"]
    assert pg_count(p, "history") == pg_count(p, "pipe_point") + pg_count(p, "pipe_segment")


def test_database_error_mid_stream_rolls_back(tmp_path, make_project, monkeypatch):
    """A COPY refused by the server (a planted duplicate uid in the second chunk of points)
    reaches the import as the per-record path's InputError; nothing stays."""
    from renewal_planner.bench import import_bench

    monkeypatch.setattr(streammod, "CHUNK", 300)
    monkeypatch.setattr(streammod, "BLOCK", 8192)
    f = import_bench.make_csv(str(tmp_path / "bench.csv"), 2000)
    p = make_project(prefix="fail")
    before = _snapshot(p)
    real = pg.arrow_csv          # what pg_stream writes each chunk's COPY with
    calls = []

    def spoiled(cols, data):
        calls.append(1)
        out = real(cols, data)
        if len(calls) == 2:
            lines = out.split(b"\n")
            lines[-2] = lines[0]             # the first row again: the same uid twice
            out = b"\n".join(lines)
        return out

    monkeypatch.setattr(pg, "arrow_csv", spoiled)
    with pytest.raises(InputError, match="refused the import, nothing was written"):
        import_files(p, [f], stream=True)
    assert _snapshot(p) == before


def test_utility_streams_own_pipes_and_is_refused_foreign_ones(tmp_path, utilities, make_project,  # noqa: F811
                                                               monkeypatch):
    """Row-level security: a utility's own delivery streams (INSERT ... SELECT under the
    policies); a delivery with another owner's pipes or none is refused with the per-record
    path's message, nothing written."""
    p, pa, pb, ua, ub = utilities
    monkeypatch.setattr(streammod, "CHUNK", 7)
    mixed = _grid_rows("JS", OWNER_A, 25, 0) + _grid_rows("RQ", OWNER_B, 9, 50) + _grid_rows("JT", OWNER_A, 4, 80)
    f = write_csv(tmp_path / "mixed.csv", mixed)
    with pytest.raises(InputError) as per_record:
        import_files(pa, [f], stream=False)
    with pytest.raises(InputError) as streamed:
        import_files(pa, [f], stream=True)
    assert str(streamed.value) == str(per_record.value)
    assert "RQ1" in str(streamed.value) and "9 such record(s)" in str(streamed.value)
    f2 = write_csv(tmp_path / "noowner.csv", [r[:-1] for r in _grid_rows("JS", OWNER_A, 3, 0)], header=HEADER[:-1])
    with pytest.raises(InputError) as per_record:
        import_files(pa, [f2], stream=False)
    with pytest.raises(InputError) as streamed:
        import_files(pa, [f2], stream=True)
    assert str(streamed.value) == str(per_record.value)
    for t in ("pipe_point", "pipe_segment", "import_batch", "import_reject", "history"):
        assert pg_count(p, t) == 0, t
    # own pipes: streamed in chunks through the policies, as the project owner's per-record import writes them
    own = write_csv(tmp_path / "own.csv", _grid_rows("JS", OWNER_A, 40, 0))
    done = []
    real = streammod.import_file
    monkeypatch.setattr(streammod, "import_file", lambda *a, **k: (real(*a, **k), done.append(1))[0])
    (s,) = import_files(pa, [own], stream=True, batch="b")
    assert done and (s["accepted"], s["rejected"]) == (79, 0)
    monkeypatch.setattr(streammod, "import_file", real)
    oracle = make_project(prefix="oracle")
    import_files(oracle, [own], stream=False, batch="b")
    got, want = _tables(p), _tables(oracle)
    assert [r[:-1] for r in got.pop("import_batch")] == [r[:-1] for r in want.pop("import_batch")]
    assert _q(p, "SELECT uploaded_by FROM import_batch") == [(ua,)]
    assert {r[-1] for r in got["history"]} == {ua}
    got["history"] = [r[:-1] for r in got["history"]]
    want["history"] = [r[:-1] for r in want["history"]]
    assert got == want
    # the other utility cannot take them over: the project holds pipes, so per record (updates)
    grab = write_csv(tmp_path / "grab.csv", [r[:-1] + [OWNER_B] for r in _grid_rows("JS", OWNER_A, 40, 0)])
    with pytest.raises(InputError, match=f"belongs to owner '{OWNER_A}'"):
        import_files(pb, [grab], stream=True)


def test_viewer_refused_as_per_record(tmp_path, pg_conninfo, make_project):
    from .conftest import as_user

    p = make_project(prefix="imp")
    tag = pg.PgProject(p).schema.split("_", 1)[1]
    pg.grant(p, f"v_{tag}", "viewer")
    pv = pg.project_string(as_user(pg_conninfo, f"v_{tag}"), pg.PgProject(p).schema)
    f = write_csv(tmp_path / "pts.csv", _grid_rows("JS", OWNER_A, 5, 0))
    with pytest.raises(InputError, match="refused the import, nothing was written: permission denied"):
        import_files(pv, [f], stream=True)
    assert pg_count(p, "pipe_point") == 0


def test_project_with_pipes_falls_back_to_per_record(tmp_path, make_project, monkeypatch):
    p = make_project(prefix="again")
    f = write_csv(tmp_path / "a.csv", _grid_rows("JS", OWNER_A, 20, 0))
    (s1,) = import_files(p, [f], stream=True)
    assert s1["inserted"] == 39
    changed = _grid_rows("JS", OWNER_A, 20, 0)
    changed[3][7] = "2.00"
    write_csv(tmp_path / "a.csv", changed)
    done = []
    real = streammod.import_file
    monkeypatch.setattr(streammod, "import_file", lambda *a, **k: (real(*a, **k), done.append(1))[0])
    (s2,) = import_files(p, [f], stream=True)
    assert (s2["updated"], s2["inserted"]) == (3, 0)     # the point and its two segments, by uid
    assert pg_count(p, "pipe_point") == 20 and pg_count(p, "import_batch") == 2
    assert _q(p, "SELECT depth FROM pipe_point WHERE uid = 'JS4'") == [(2.0,)]


def test_large_files_stream_by_default(tmp_path, make_project, monkeypatch):
    """stream=None: a PostGIS import streams files from PG_STREAM_MIN_BYTES (small ones go per record)."""
    from renewal_planner.layers import importer

    monkeypatch.setattr(importer, "PG_STREAM_MIN_BYTES", 1000)
    f = write_csv(tmp_path / "a.csv", _grid_rows("JS", OWNER_A, 30, 0))
    done = []
    real = streammod.import_file
    monkeypatch.setattr(streammod, "import_file", lambda *a, **k: (real(*a, **k), done.append(1))[0])
    p = make_project(prefix="dflt")
    (s,) = import_files(p, [f])
    assert done and s["inserted"] == 59
