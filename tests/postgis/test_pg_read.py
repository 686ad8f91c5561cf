"""layers/pg.read_layer gives exactly the frame io.read_layer gives for the same
data in a GeoPackage (pyogrio through Arrow): columns and their order, dtypes,
NULLs (never '' for NULL, nor NULL for ''), dates and timestamps, geometry, CRS.

The oracle is the GeoPackage path: the same frames are written once into a new
GeoPackage project and once into a new PostGIS project, then every layer is read
back from both and compared with pandas.testing.assert_frame_equal.
"""
import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal

from renewal_planner.layers import gpkg, io, pg, schema

from .conftest import DEMO_LAYERS

psycopg = pytest.importorskip("psycopg")

HOSTILE = ["it's \"quoted\"", "tab\there", "line\nbreak\r\nCRLF", "back\\slash\\", "\\N", "a,b,,c",
           "中文名称 管线 “全角”", "", None, " lead and trail ", "\\.", "NULL", "''", '"', ",", "\r", "NaN",
           "\\x0101", "😀 emoji"]


def _hostile_frame(name, df):
    """The demo layer with hostile free text, NULL numbers, integers with and
    without NULLs, dates with NULLs (for the first rows)."""
    lyr = schema.model().layer(name)
    df = df.copy()
    n = len(df)
    if not n:
        return df
    k = min(n, len(HOSTILE))
    for f in lyr.fields:
        if f.name not in df.columns:
            continue
        if f.type == "text" and not f.domain and not f.required and not f.unique:
            vals = df[f.name].astype(object).to_numpy().copy()
            shift = sum(map(ord, f.name)) % len(HOSTILE)
            for i in range(k):
                vals[i] = HOSTILE[(i + shift) % len(HOSTILE)]
            df[f.name] = pd.Series(vals, index=df.index, dtype=object)
        elif f.type == "real" and not f.required:
            vals = df[f.name].astype("float64").to_numpy().copy()
            lo = f.min if f.min is not None else -1e6
            hi = f.max if f.max is not None else 1e6
            vals[: min(n, 3)] = [np.nan, lo + (hi - lo) / 3.0, 0.1 + 0.2 if lo <= 0.30000000000000004 <= hi
                                 else lo][: min(n, 3)]
            df[f.name] = vals
        elif f.type == "integer" and not f.required and name != "renovation_area":
            # renovation_area keeps its integers whole (int64); the others get NULLs (float64)
            lo = int(f.min) if f.min is not None else 0
            span = min(int(f.max) - lo + 1, 50) if f.max is not None else 50
            vals = pd.array([None] + [lo + i % span for i in range(1, n)], dtype="Int64")
            df[f.name] = vals
        elif f.type == "date":
            days = [None if i % 3 == 0 else dt.date(1999 + i % 30, 1 + i % 12, 1 + i % 28) for i in range(n)]
            df[f.name] = pd.Series(days, index=df.index, dtype=object)
        elif f.type == "datetime" and f.name in df.columns:
            base = pd.Timestamp("2024-02-29 23:59:59.123", tz="UTC")
            df[f.name] = pd.Series([base + pd.Timedelta(milliseconds=37 * i) for i in range(n)],
                                   index=df.index).astype("datetime64[ms, UTC]")
    return df


@pytest.fixture(scope="module")
def twin(demo_gpkg, pg_conninfo, tmp_path_factory):
    """The same hostile data as a GeoPackage project and a PostGIS project."""
    gp = str(tmp_path_factory.mktemp("twin") / "twin.gpkg")
    gpkg.create_project(gp)
    p = pg.project_string(pg_conninfo, f"read_{os.getpid()}")
    pg.init_project(p, styles=False)
    for name in DEMO_LAYERS:
        df = _hostile_frame(name, io.read_layer(demo_gpkg["project"], name))
        if not len(df):
            continue
        io.write_layer(gp, name, df, fill_defaults=False)
        io.write_layer(p, name, df, fill_defaults=False)
    batches = pd.DataFrame({
        "batch_id": ["b1", "b2", "b3"], "file_name": ["管线.shp", "", None],
        "sha256": ["ab", "\\N", "x,\"y\"\n"], "uploaded_by": [None, "张三", "o'brien"],
        "started_at": pd.Series([pd.Timestamp("2025-01-02 03:04:05.678", tz="UTC"), None,
                                 pd.Timestamp("1970-01-01", tz="UTC")]).astype("datetime64[ms, UTC]"),
        "finished_at": pd.Series([None, None, None], dtype="datetime64[ms, UTC]"),
        "records_in": pd.array([10, None, 0], dtype="Int64"),
        "accepted": pd.array([1, 2, 3], dtype="Int64"),
        "mapping": ['{"a": "b"}', None, ""]})
    import geopandas as gpd

    extra = gpd.GeoDataFrame({"uid": ["no-geom-1", "with-geom", "no-geom-2"]},
                             geometry=[None, shapely.box(500000, 3000000, 500010, 3000012), None], crs="EPSG:4547")
    extra["updated_at"] = pd.Timestamp("2025-06-01 08:00:00", tz="UTC")
    for proj in (gp, p):
        io.write_layer(proj, "import_batch", batches, fill_defaults=False)
        io.write_layer(proj, "building", extra)  # NULL geometries between WKB ones
    return gp, p


def _frames_equal(a, b, name):
    assert type(a) is type(b), name
    assert list(a.columns) == list(b.columns), name
    geo = getattr(a, "_geometry_column_name", None) if hasattr(a, "geometry") else None
    if geo is not None and geo in a.columns:
        assert a.crs == b.crs, name
        ga, gb = a.geometry.to_numpy(), b.geometry.to_numpy()
        assert len(ga) == len(gb), name
        assert bool(np.all(shapely.equals_exact(ga, gb, 0) | (shapely.is_missing(ga) & shapely.is_missing(gb)))), \
            name
        assert (shapely.to_wkb(ga) == shapely.to_wkb(gb)).all(), name
        a, b = pd.DataFrame(a.drop(columns=[geo])), pd.DataFrame(b.drop(columns=[geo]))
    assert_frame_equal(a, b, check_exact=True, obj=name)


def test_every_layer_reads_identical(twin):
    gp, p = twin
    assert set(io.list_layers(gp)) >= set(DEMO_LAYERS)
    seen_text = set()
    for name in list(DEMO_LAYERS) + ["conflict", "import_batch", "import_reject"]:
        a, b = io.read_layer(gp, name), io.read_layer(p, name)
        _frames_equal(a, b, name)
        for c in ("note", "owner", "material", "file_name", "sha256", "uploaded_by"):
            if c in b.columns:
                seen_text.update(x for x in b[c].tolist() if isinstance(x, str))
    # the hostile values made the trip (and '' stayed '' while NULL stayed NULL)
    assert set(h for h in HOSTILE if h is not None) <= seen_text and "" in seen_text


def test_small_blocks_read_identical(twin, monkeypatch):
    """Rows parsed in many blocks (while the next arrive) give the same frames."""
    gp, p = twin
    monkeypatch.setattr(pg, "_READ_BLOCK", 1500)
    for name in ("pipe_segment", "building", "import_batch", "planting_area"):
        _frames_equal(io.read_layer(gp, name), io.read_layer(p, name), name)


def test_dtypes_and_nulls_as_written(twin):
    _, p = twin
    b = io.read_layer(p, "import_batch")
    assert list(b["batch_id"]) == ["b1", "b2", "b3"]
    assert b["file_name"].tolist()[:2] == ["管线.shp", ""] and pd.isna(b["file_name"].iloc[2])
    assert b["sha256"].tolist() == ["ab", "\\N", "x,\"y\"\n"]
    assert str(b["started_at"].dtype) == "datetime64[ms, UTC]"
    assert b["started_at"].iloc[0] == pd.Timestamp("2025-01-02 03:04:05.678", tz="UTC")
    assert pd.isna(b["started_at"].iloc[1])
    assert str(b["finished_at"].dtype) == "datetime64[ms]"  # all NULL: no time zone, as GDAL gives it
    assert str(b["records_in"].dtype) == "float64" and str(b["accepted"].dtype) == "int64"
    seg = io.read_layer(p, "pipe_segment")
    assert str(seg["survey_date"].dtype) == "datetime64[ms]"
    assert pd.isna(seg["survey_date"].iloc[0]) and seg["survey_date"].iloc[1] == pd.Timestamp("2000-02-02")
    assert np.isnan(seg["diameter_mm"].iloc[0])
    area = io.read_layer(p, "renovation_area")
    assert str(area["year"].dtype) == "int64"
    bld = io.read_layer(p, "building").set_index("uid")
    assert bld.geometry["no-geom-1"] is None and bld.geometry["no-geom-2"] is None
    assert bld.geometry["with-geom"].equals_exact(shapely.box(500000, 3000000, 500010, 3000012), 0)


def test_filtered_reads_identical(twin):
    gp, p = twin
    seg = io.read_layer(gp, "pipe_segment")
    x0, y0, x1, y1 = seg.total_bounds
    bbox = (x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.3, x0 + (x1 - x0) * 0.6, y0 + (y1 - y0) * 0.6)
    for name in ("pipe_segment", "pipe_point", "tree", "building"):
        kw = dict(bbox=bbox, columns=["owner", "uid", "survey_date", "note", "status"], active_only=True)
        a, b = io.read_layer(gp, name, **kw), io.read_layer(p, name, **kw)
        assert 0 < len(b) < len(io.read_layer(p, name)), name
        a, b = a.sort_values("uid").reset_index(drop=True), b.sort_values("uid").reset_index(drop=True)
        _frames_equal(a, b, name)
    a = io.read_layer(gp, "pipe_point", where="note IS NULL")
    b = io.read_layer(p, "pipe_point", where="note IS NULL")
    _frames_equal(a, b, "where")
    # an empty result keeps the columns and dtypes
    a = io.read_layer(gp, "tree", where="uid = 'no such uid'")
    b = io.read_layer(p, "tree", where="uid = 'no such uid'")
    assert len(b) == 0
    _frames_equal(a, b, "empty")


def test_bbox_read_is_exact_intersection(make_project, tmp_path):
    """A segment whose box meets the bbox but whose line does not is not read
    (GDAL's spatial filter); one touching the bbox is."""
    p = make_project(prefix="bbox")
    gp = str(tmp_path / "b.gpkg")
    gpkg.create_project(gp)
    import geopandas as gpd

    lines = [shapely.LineString([(500000, 3000000), (500100, 3000100)]),   # box overlaps, line misses
             shapely.LineString([(500090, 3000000), (500100, 3000005)]),   # inside the second bbox
             shapely.LineString([(500040, 3000010), (500050, 3000010)])]   # touches its left edge
    df = gpd.GeoDataFrame({"uid": ["miss", "in", "touch"], "utility": ["JS"] * 3}, geometry=lines,
                          crs="EPSG:4547")
    for proj in (gp, p):
        io.write_layer(proj, "pipe_segment", df)
    bbox = (500010, 3000060, 500030, 3000080)
    assert io.read_layer(p, "pipe_segment", bbox=bbox)["uid"].tolist() == \
        io.read_layer(gp, "pipe_segment", bbox=bbox)["uid"].tolist() == []
    bbox = (500050, 3000000, 500100, 3000040)
    assert io.read_layer(p, "pipe_segment", bbox=bbox)["uid"].tolist() == \
        io.read_layer(gp, "pipe_segment", bbox=bbox)["uid"].tolist() == ["in", "touch"]


def test_area_read_uses_the_gist_index(twin):
    _, p = twin
    s = pg.PgProject(p).schema
    with pg.connect(p, autocommit=True) as con:
        con.execute(f'ANALYZE "{s}".pipe_segment')
    plan = pg.explain_read(p, "pipe_segment", bbox=(0, 0, 1, 1))
    assert "pipe_segment_geom_gist" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_read_in_a_session_leaves_the_settings(twin):
    _, p = twin
    with pg.session(p) as con:
        tz = con.execute("SELECT current_setting('TimeZone')").fetchone()[0]
        con.execute("SET LOCAL TimeZone = 'Asia/Shanghai'")
        io.read_layer(p, "import_batch")
        assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Asia/Shanghai"
    assert tz



def test_a_failed_read_is_an_input_error_and_the_session_goes_on(twin):
    from renewal_planner.layers.errors import InputError

    _, p = twin
    with pytest.raises(InputError, match="refused"):
        io.read_layer(p, "tree", where="no_such_column = 1")
    with pg.session(p):
        with pytest.raises(InputError, match="refused"):
            io.read_layer(p, "tree", where="1/0 = 1")  # fails while the rows are sent
        assert len(io.read_layer(p, "tree")) > 0
    assert len(io.read_layer(p, "tree")) > 0
