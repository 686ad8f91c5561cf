"""The pipe model: depth conventions, ground from points and DEM, derived
depths, CJJ 61 default accuracy, depth_unknown, and the line helpers."""
import pathlib
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from shapely.geometry import LineString, Point, box

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import MemoryContext, context, make_project, run_rule  # noqa: E402


def seg(x0=0.0, x1=10.0, y=0.0, **kw):
    d = {"geometry": LineString([(x0, y), (x1, y)]), "utility": "JS"}
    d.update(kw)
    return d


def model(tmp_path, dem=None, rules=None, **layers):
    path = make_project(tmp_path, **layers)
    return context(path, dem=dem, rules=rules).pipes


def row(pm, uid):
    f = pm.frame
    return f.loc[f["uid"] == uid].iloc[0]


# -- depth conventions, hand computed ---------------------------------------
def test_depth_reference_round_and_box(tmp_path):
    pm = model(tmp_path,
               pipe_point=[{"geometry": Point(0, 0), "uid": "P1", "utility": "JS", "ground_elev": 20.0},
                           {"geometry": Point(10, 0), "uid": "P2", "utility": "JS", "ground_elev": 21.0}],
               pipe_segment=[
                   seg(uid="TOP", diameter_mm=300, depth_start=1.0, depth_end=1.2, depth_ref="top",
                       start_uid="P1", end_uid="P2"),
                   seg(uid="INV", diameter_mm=300, depth_start=2.0, depth_end=2.0, depth_ref="invert",
                       start_uid="P1", end_uid="P2"),
                   seg(uid="CEN", diameter_mm=300, depth_start=1.5, depth_end=1.5, depth_ref="center",
                       start_uid="P1", end_uid="P2"),
                   # box B x H = 1000 x 600: the height counts vertically, the width horizontally
                   seg(uid="BOX", diameter_mm=None, width_mm=1000, height_mm=600, depth_start=2.0,
                       depth_end=2.0, depth_ref="invert", start_uid="P1", end_uid="P2"),
                   seg(uid="BOXC", width_mm=1000, height_mm=600, depth_start=1.5, depth_end=1.5,
                       depth_ref="center", start_uid="P1", end_uid="P2"),
               ])
    r = row(pm, "TOP")
    assert (r.width_m, r.height_m) == (0.3, 0.3)
    assert (r.cover_start, r.cover_end) == (1.0, 1.2)
    assert r.bottom_start == pytest.approx(1.3)
    assert row(pm, "INV").cover_start == pytest.approx(1.7)   # 2.0 - 0.3
    assert row(pm, "INV").bottom_start == pytest.approx(2.0)  # outer bottom at the invert (wall 0)
    assert row(pm, "CEN").cover_start == pytest.approx(1.35)  # 1.5 - 0.15
    assert row(pm, "CEN").bottom_start == pytest.approx(1.65)
    b = row(pm, "BOX")
    assert (b.width_m, b.height_m) == (1.0, 0.6)
    assert b.cover_start == pytest.approx(1.4)
    assert row(pm, "BOXC").cover_start == pytest.approx(1.2)
    assert row(pm, "BOXC").bottom_start == pytest.approx(1.8)

    i = int(np.nonzero(pm.frame["uid"].to_numpy() == "TOP")[0][0])
    # at the middle: ground 20.5, cover 1.1 -> top 19.4, bottom 19.1
    xy = np.array([[5.0, 0.0], [0.0, 0.0], [10.0, 0.0]])
    np.testing.assert_allclose(pm.ground_at([i] * 3, xy), [20.5, 20.0, 21.0])
    np.testing.assert_allclose(pm.top_elev_at([i] * 3, xy), [19.4, 19.0, 19.8])
    np.testing.assert_allclose(pm.bottom_elev_at([i] * 3, xy), [19.1, 18.7, 19.5])
    np.testing.assert_allclose(pm.cover_at([i] * 3, xy), [1.1, 1.0, 1.2])
    j = int(np.nonzero(pm.frame["uid"].to_numpy() == "INV")[0][0])
    # invert 2.0 below ground 20.5 -> invert 18.5, outer top 18.8
    np.testing.assert_allclose(pm.top_elev_at([j], xy[:1]), [18.8])
    assert pm.frame["depth_known"].all() and pm.frame["elev_known"].all()


def test_null_reference_follows_the_class_default(tmp_path):
    pm = model(tmp_path, pipe_segment=[
        seg(uid="PS", utility="PS", diameter_mm=500, depth_start=2.0, depth_end=2.0, depth_ref=None),
        seg(uid="DL", utility="DL", diameter_mm=500, depth_start=2.0, depth_end=2.0, depth_ref=None)])
    assert row(pm, "PS").depth_ref_used == "invert"
    assert row(pm, "PS").cover_start == pytest.approx(1.5)
    assert row(pm, "DL").depth_ref_used == "top"
    assert row(pm, "DL").cover_start == pytest.approx(2.0)


def test_invert_wall_from_a_profile(tmp_path):
    from renewal_planner.tools.ruleset import load_rules

    prof = tmp_path / "wall.yaml"
    prof.write_text("general:\n  invert_wall_m: 0.05\n", encoding="utf-8")
    pm = model(tmp_path, rules=load_rules(str(prof)), pipe_segment=[
        seg(uid="INV", utility="PS", diameter_mm=400, depth_start=2.0, depth_end=2.0, depth_ref="invert")])
    r = row(pm, "INV")
    assert r.cover_start == pytest.approx(1.55)   # 2.0 - 0.4 - 0.05
    assert r.bottom_start == pytest.approx(2.05)  # invert + wall below


# -- ground from the DEM -------------------------------------------------------
def write_dem(path, origin=(0.0, 100.0), size=1.0, shape=(100, 100), func=None, nodata=-9999.0):
    import rasterio
    from affine import Affine

    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    x = origin[0] + (cols + 0.5) * size
    y = origin[1] - (rows + 0.5) * size
    z = func(x, y).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1,
                       dtype="float32", crs="EPSG:4547", transform=Affine(size, 0.0, origin[0], 0.0, -size, origin[1]),
                       nodata=nodata) as ds:
        ds.write(z, 1)
    return str(path)


def test_ground_from_dem_and_points_first(tmp_path):
    # ground = 50 + x/10 at cell centres; cells 1 m, so (10.5, 5.5) -> 51.05
    dem = write_dem(tmp_path / "dem.tif", func=lambda x, y: 50 + x / 10.0)
    pm = model(tmp_path, dem=dem,
               pipe_point=[{"geometry": Point(10.5, 20.5), "uid": "P1", "utility": "JS", "ground_elev": 70.0}],
               pipe_segment=[
                   {"geometry": LineString([(10.5, 5.5), (30.5, 5.5)]), "uid": "D", "utility": "JS",
                    "diameter_mm": 200, "depth_start": 1.0, "depth_end": 1.0},
                   {"geometry": LineString([(10.5, 20.5), (30.5, 20.5)]), "uid": "PD", "utility": "JS",
                    "diameter_mm": 200, "depth_start": 1.0, "depth_end": 1.0, "start_uid": "P1"},
                   {"geometry": LineString([(150.0, 5.0), (160.0, 5.0)]), "uid": "OUT", "utility": "JS",
                    "diameter_mm": 200, "depth_start": 1.0, "depth_end": 1.0},
               ])
    d = row(pm, "D")
    assert d.ground_start == pytest.approx(51.05, abs=1e-4)
    assert d.ground_end == pytest.approx(53.05, abs=1e-4)
    pd_ = row(pm, "PD")
    assert pd_.ground_start == 70.0                      # the point's surveyed ground wins
    assert pd_.ground_end == pytest.approx(53.05, abs=1e-4)  # the DEM where no point
    out = row(pm, "OUT")
    assert np.isnan(out.ground_start) and not out.elev_known
    assert out.depth_known  # the depth is known without a ground elevation
    i = int(np.nonzero(pm.frame["uid"].to_numpy() == "D")[0][0])
    assert pm.top_elev_at([i], [[20.5, 5.5]])[0] == pytest.approx(52.05 - 1.0, abs=1e-4)
    k = int(np.nonzero(pm.frame["uid"].to_numpy() == "OUT")[0][0])
    assert np.isnan(pm.top_elev_at([k], [[155.0, 5.0]])[0])
    assert pm.cover_at([k], [[155.0, 5.0]])[0] == pytest.approx(1.0)


# -- derived depths and unknown depths ------------------------------------------
def test_missing_depths_are_derived_or_reported(tmp_path):
    path = make_project(tmp_path,
                        pipe_point=[{"geometry": Point(0, 50), "uid": "Q1", "utility": "JS", "depth": 1.4,
                                     "ground_elev": 30.0},
                                    {"geometry": Point(10, 50), "uid": "Q2", "utility": "JS", "ground_elev": 31.0}],
                        pipe_segment=[
                            seg(uid="ONE", diameter_mm=200, depth_start=1.3),            # end copied
                            seg(y=50, uid="PT", diameter_mm=200, depth_end=1.0,
                                start_uid="Q1", end_uid="Q2"),                          # point depth
                            seg(y=20, uid="NONE", diameter_mm=200),                      # unknown
                            seg(y=30, uid="AIR", diameter_mm=200, burial="JK"),           # overhead: exempt
                        ])
    pm = context(path).pipes
    assert (row(pm, "ONE").cover_start, row(pm, "ONE").cover_end) == (1.3, 1.3)
    pt = row(pm, "PT")
    assert (pt.cover_start, pt.cover_end) == (1.4, 1.0)
    assert (pt.ground_start, pt.ground_end) == (30.0, 31.0)
    none = row(pm, "NONE")
    assert not none.depth_known and np.isnan(none.cover_start)
    assert none.acc_v == pytest.approx(0.075)  # H = acc_min_depth_m = 1
    f = run_rule(path, "depth_unknown")
    assert list(f["uid_a"]) == ["NONE"]
    assert f["layer_a"].iloc[0] == "pipe_segment" and f["uid_b"].iloc[0] == ""
    assert np.isnan(f["measured"].iloc[0]) and f["certainty"].iloc[0] == "certain"
    assert f["severity"].iloc[0] == "warning"
    assert f.geometry.iloc[0].equals(LineString([(0, 20), (10, 20)]))


def test_default_accuracy_cjj61(tmp_path):
    pm = model(tmp_path, pipe_segment=[
        seg(uid="DEEP", diameter_mm=400, depth_start=2.0, depth_end=3.0),   # centre depth 3.2
        seg(uid="SHALLOW", diameter_mm=200, depth_start=0.3, depth_end=0.3),  # H 0.4 -> at least 1
        seg(uid="OWN", diameter_mm=200, depth_start=1, depth_end=1, acc_h=0.02, acc_v=0.03)])
    assert row(pm, "DEEP").acc_h == pytest.approx(0.05 * 3.2)
    assert row(pm, "DEEP").acc_v == pytest.approx(0.075 * 3.2)
    assert row(pm, "SHALLOW").acc_h == pytest.approx(0.05)
    assert row(pm, "SHALLOW").acc_v == pytest.approx(0.075)
    assert (row(pm, "OWN").acc_h, row(pm, "OWN").acc_v) == (0.02, 0.03)


def test_abandoned_pipes_take_no_part(tmp_path):
    path = make_project(tmp_path, pipe_segment=[seg(uid="A", status="abandoned"), seg(uid="B")])
    assert list(context(path).pipes.frame["uid"]) == ["B"]
    assert list(run_rule(path, "depth_unknown")["uid_a"]) == ["B"]


# -- line helpers against shapely scalar operations -------------------------------
coord = st.floats(-20, 20, allow_nan=False).map(lambda v: round(v, 2))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.tuples(coord, coord), min_size=2, max_size=4), min_size=1, max_size=4),
       st.lists(st.tuples(coord, coord, st.floats(1, 15), st.floats(1, 15)), min_size=1, max_size=3))
def test_split_matches_shapely_intersection(line_coords, boxes):
    import shapely
    from renewal_planner.tools.engine.pipes import LineIndex, split_lines_by_polygons

    lines = [LineString(c) for c in line_coords]
    # (a line retracing itself is not a pipe; the overlay oracle would dissolve it)
    lines = np.array([ln for ln in lines if ln.length > 0.05 and ln.is_simple], dtype=object)
    if len(lines) == 0:
        return
    polys = np.array([box(x, y, x + w, y + h).union(box(x + w / 2, y - 3, x + w / 2 + 1, y + h + 3))
                      for x, y, w, h in boxes], dtype=object)
    li = LineIndex(lines)
    sp = split_lines_by_polygons(lines, polys, li)
    got = {}
    for p, q in zip(sp["in_pair"], sp["in_piece"]):
        k = (sp["pairs_line"][p], sp["pairs_poly"][p])
        ln = sp["piece_line"][q]
        got[k] = got.get(k, 0.0) + (sp["piece_tb"][q] - sp["piece_ta"][q]) * li.length[ln]
    for i, ln in enumerate(lines):
        for j, pg in enumerate(polys):
            # inside = the interior: a stretch running exactly along an edge is outside
            want = shapely.intersection(ln, pg).length - shapely.intersection(ln, pg.boundary).length
            assert got.get((i, j), 0.0) == pytest.approx(want, abs=1e-6)
    # substrings: the pieces put together are the line
    if len(sp["piece_line"]):
        subs = li.substrings(sp["piece_line"], sp["piece_ta"], sp["piece_tb"])
        for i in np.unique(sp["piece_line"]):
            total = sum(s.length for s, ln in zip(subs, sp["piece_line"]) if ln == i)
            assert total == pytest.approx(lines[i].length, abs=1e-6)


def test_memory_context_matches_project(tmp_path):
    rows = [seg(uid="A", diameter_mm=300, depth_start=1, depth_end=2)]
    a = context(make_project(tmp_path, pipe_segment=rows)).pipes.frame
    b = MemoryContext(pipe_segment=rows).pipes.frame
    for c in ("width_m", "height_m", "acc_h", "acc_v", "cover_start", "cover_end"):
        assert a[c].iloc[0] == pytest.approx(b[c].iloc[0])


# -- box joins, sub-indexes, ragged stretches ------------------------------------
def _brute_pairs(lo, hi, lo2=None, hi2=None):
    if lo2 is None:
        return {(i, j) for i in range(len(lo)) for j in range(i + 1, len(lo))
                if lo[i, 0] <= hi[j, 0] and lo[j, 0] <= hi[i, 0] and lo[i, 1] <= hi[j, 1] and lo[j, 1] <= hi[i, 1]}
    return {(i, j) for i in range(len(lo)) for j in range(len(lo2))
            if lo[i, 0] <= hi2[j, 0] and lo2[j, 0] <= hi[i, 0] and lo[i, 1] <= hi2[j, 1] and lo2[j, 1] <= hi[i, 1]}


box_st = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 12), st.integers(0, 12)),
                  min_size=1, max_size=40)


def _boxes(b, scale):
    a = np.asarray(b, float) * scale
    return a[:, :2], a[:, :2] + a[:, 2:]


@settings(max_examples=50, deadline=None)
@given(box_st, box_st, st.sampled_from([1.0, 0.37, 25.0]), st.integers(1, 50))
def test_grid_join_matches_brute_force(b1, b2, scale, chunk):
    # integer corners: many exact touches (closed boxes: touching counts) and ties
    from renewal_planner.tools.engine.pipes import GridJoin

    lo, hi = _boxes(b1, scale)
    lo2, hi2 = _boxes(b2, scale)
    got = [p for i, j in GridJoin(lo, hi).pairs(chunk) for p in zip(i, j)]
    got = [(min(p), max(p)) for p in got]
    assert len(got) == len(set(got))  # each pair once
    assert set(got) == _brute_pairs(lo, hi)
    got = [p for i, j in GridJoin(lo, hi, lo2, hi2).pairs(chunk) for p in zip(i, j)]
    assert len(got) == len(set(got))
    assert set(got) == _brute_pairs(lo, hi, lo2, hi2)


def test_grid_join_many_against_few():
    # the unbalanced join first drops the many boxes far from all of the few
    from renewal_planner.tools.engine.pipes import GridJoin, _near_boxes

    rng = np.random.default_rng(7)
    lo = rng.uniform(0, 1000, (3000, 2))
    hi = lo + rng.exponential(4, (3000, 2))
    lo2 = np.array([[100.0, 100.0], [500.0, 0.0], [hi[0, 0], hi[0, 1]]])  # the last touches box 0
    hi2 = lo2 + np.array([[50.0, 300.0], [5.0, 1000.0], [0.0, 0.0]])
    near = _near_boxes(lo, hi, lo2, hi2)
    want = _brute_pairs(lo, hi, lo2, hi2)
    assert all(near[i] for i, _ in want) and near.sum() < 1000
    got = {p for i, j in GridJoin(lo, hi, lo2, hi2).pairs(97) for p in zip(i, j)}
    assert got == want and (0, 2) in got
    got = {(j, i) for i, j in GridJoin(lo2, hi2, lo, hi).pairs(97) for i, j in zip(i, j)}
    assert got == want


def test_line_index_take_and_multi_substrings():
    import shapely
    from renewal_planner.tools.engine.pipes import LineIndex

    lines = np.array([LineString([(0, 0), (10, 0), (10, 10)]), LineString([(5, 5), (6, 5)]),
                      LineString([(0, 0), (0, 3), (4, 3), (4, 0)])], dtype=object)
    li = LineIndex(lines)
    assert li.length == pytest.approx([20.0, 1.0, 10.0])
    sub = li.take([2, 0])
    assert sub.length == pytest.approx([10.0, 20.0])
    ref = LineIndex(lines[[2, 0]])
    assert np.allclose(sub.coords, ref.coords) and np.allclose(sub.t, ref.t)
    assert np.array_equal(sub.start, ref.start) and np.array_equal(sub.end, ref.end)
    assert np.allclose(sub.point_at([0, 1], [0.5, 0.75]), [[2.0, 3.0], [10.0, 5.0]])
    # two stretches of line 1 (sub) in one group, one of line 0 in another
    g = sub.multi_substrings([1, 1, 0], [0.0, 0.75, 0.1], [0.25, 1.0, 0.9], [0, 0, 1], 2)
    assert g[0].geom_type == "MultiLineString" and len(g[0].geoms) == 2
    assert g[0].equals(shapely.MultiLineString([[(0, 0), (5, 0)], [(10, 5), (10, 10)]]))
    # the substring from 0.1 to 0.9 of the U keeps its two inner corners
    assert np.allclose(np.asarray(g[1].geoms[0].coords), [(0, 1), (0, 3), (4, 3), (4, 1)])
    assert [s.length for s in sub.substrings([0, 1], [0.0, 0.2], [1.0, 0.3])] == pytest.approx([10.0, 2.0])
