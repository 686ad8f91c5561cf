"""The demo district (tools/demo.py): built without QGIS (no styles), measured
independently with shapely against the thresholds of standards.md."""
import json
import math
import os

import numpy as np
import pytest

from renewal_planner.layers import schema
from renewal_planner.tools import demo

pyogrio = pytest.importorskip("pyogrio")
shapely = pytest.importorskip("shapely")

THEMATIC = ["pipe_point", "pipe_segment", "planned_road", "renovation_area", "renovation_work",
            "tree", "planting_area", "parking_stall", "fire_lane", "building"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = demo.build_demo(str(out), with_styles=False)
    layers = {n: pyogrio.read_dataframe(result["project"], layer=n) for n in THEMATIC}
    return result, layers


def _by_uid(frame):
    return frame.set_index("uid")


def _width(seg):
    """Outer horizontal size (m) of a segment row."""
    w = seg["width_mm"] if seg["width_mm"] == seg["width_mm"] and seg["width_mm"] else seg["diameter_mm"]
    return 0.0 if w != w or w is None else float(w) / 1000.0


def _height(seg):
    h = seg["height_mm"] if seg["height_mm"] == seg["height_mm"] and seg["height_mm"] else seg["diameter_mm"]
    return 0.0 if h != h or h is None else float(h) / 1000.0


def _cover(seg, depth):
    """Depth of the outer top for a surveyed depth (invert: minus the size)."""
    return depth - _height(seg) if seg["depth_ref"] == "invert" else depth


def test_files_and_layers(built):
    result, layers = built
    for key in ("project", "dem", "counts", "planted", "decoys"):
        assert key in result
    assert os.path.isfile(result["project"]) and os.path.isfile(result["dem"])
    out = os.path.dirname(result["project"])
    assert os.path.isfile(os.path.join(out, "planted.json"))
    assert not [n for n in os.listdir(out) if n.startswith(".demo-build")]
    model = schema.model()
    assert sorted(THEMATIC) == sorted(lyr.name for lyr in model.thematic)
    for name in THEMATIC:
        assert len(layers[name]) > 0, name
        assert result["counts"][name] == len(layers[name])
    total = sum(result["counts"].values())
    assert 1500 < total < 8000
    for t in ("conflict", "import_batch", "import_reject"):
        assert t in pyogrio.list_layers(result["project"])[:, 0]


def test_all_classes_and_codes(built):
    _, layers = built
    model = schema.model()
    for name in ("pipe_point", "pipe_segment"):
        assert set(layers[name]["utility"]) == set(model.domain("utility").values)
    seg = layers["pipe_segment"]
    for sub, util in zip(seg["subclass"], seg["utility"]):
        assert model.subclass_parent[sub] == util
    pts = layers["pipe_point"]
    assert {"manhole", "valve", "valve_chamber", "hydrant", "inlet", "handhole"} <= set(pts["appurtenance"])
    assert {"tee", "bend", "straight", "end"} <= set(pts["feature"])
    assert set(seg["status"]) == {"existing", "planned", "abandoned"}
    # depth reference: invert for gravity drainage, top otherwise
    assert (seg.loc[seg.utility == "PS", "depth_ref"] == "invert").all()
    assert (seg.loc[seg.utility != "PS", "depth_ref"] == "top").all()
    for name, frame in layers.items():  # every coded value is in its code list
        lyr = model.layer(name)
        for f in lyr.fields:
            if f.domain and f.name in frame:
                vals = frame[f.name].dropna()
                codes = set(model.domain(f.domain).values)
                if f.multi:
                    vals = [c for v in vals for c in str(v).split(",")]
                assert set(vals) <= codes, (name, f.name)
    # some segments have survey accuracy, most do not; some have no depth
    assert 0 < seg["acc_h"].notna().sum() < len(seg) / 10
    assert (seg["depth_start"].isna() & seg["depth_end"].isna()).sum() >= 3
    assert pts["ground_elev"].isna().sum() > 20  # the DEM path


def test_uids_unique(built):
    _, layers = built
    for name, frame in layers.items():
        assert frame["uid"].notna().all()
        assert frame["uid"].is_unique, name


def test_segments_join_their_points(built):
    _, layers = built
    pts = _by_uid(layers["pipe_point"])
    seg = layers["pipe_segment"]
    assert seg["start_uid"].isin(pts.index).all() and seg["end_uid"].isin(pts.index).all()
    xy = shapely.get_coordinates(pts.geometry.values)
    px = dict(zip(pts.index, map(tuple, xy)))
    for g, a, b in zip(seg.geometry.values, seg["start_uid"], seg["end_uid"]):
        c = shapely.get_coordinates(g)
        assert np.allclose(c[0], px[a], atol=1e-6) and np.allclose(c[-1], px[b], atol=1e-6)
    # every point is used by a segment
    used = set(seg["start_uid"]) | set(seg["end_uid"])
    assert used == set(pts.index)


def test_dem(built):
    rasterio = pytest.importorskip("rasterio")
    result, layers = built
    with rasterio.open(result["dem"]) as ds:
        assert ds.crs.to_epsg() == 4547
        assert ds.dtypes[0] == "float32" and ds.nodata is not None
        t = ds.transform
        x0, y1 = t.c, t.f
        x1, y0 = t.c + t.a * ds.width, t.f + t.e * ds.height
        assert t.a <= 2.0 and -t.e <= 2.0
        z = ds.read(1, masked=True)
        assert not z.mask.any()
        assert 15 < float(z.min()) < float(z.max()) < 30
        for frame in layers.values():
            bx0, by0, bx1, by1 = frame.total_bounds
            assert x0 <= bx0 and y0 <= by0 and bx1 <= x1 and by1 <= y1
        # ground_elev of the points is the DEM (within the bilinear / cell difference)
        pts = layers["pipe_point"].dropna(subset=["ground_elev"])
        xy = shapely.get_coordinates(pts.geometry.values)
        col = np.floor((xy[:, 0] - x0) / t.a).astype(int)
        row = np.floor((xy[:, 1] - y1) / t.e).astype(int)
        assert np.abs(z[row, col] - pts["ground_elev"].to_numpy()).max() < 0.1
    assert layers["pipe_point"].crs.to_epsg() == 4547


def test_every_rule_planted(built):
    result, _ = built
    with open(os.path.join(os.path.dirname(result["project"]), "planted.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    rules = set(schema.model().domain("rule").values)
    assert rules == {p["rule_id"] for p in doc["planted"]}
    assert doc["planted"] == result["planted"] and doc["decoys"] == result["decoys"]
    assert {"possible", "certain"} == {p["certainty"] for p in doc["planted"]}
    keys = [(p["rule_id"], p["uid_a"], p["uid_b"]) for p in doc["planted"]]
    assert len(keys) == len(set(keys))
    for p in doc["planted"] + doc["decoys"]:
        if p["layer_a"] == p["layer_b"]:
            assert p["uid_a"] < p["uid_b"]
        if p["rule_id"] in ("fire_lane_width", "depth_unknown"):
            assert p["layer_b"] == "" and p["uid_b"] == ""
    # tree: a planned and an existing one; stall: a manhole and a hydrant
    assert len([p for p in doc["planted"] if p["rule_id"] == "tree_pipe_clearance"]) >= 2
    obst = {p["layer_a"] for p in doc["planted"] if p["rule_id"] == "fire_lane_obstruction"}
    assert obst == {"parking_stall", "tree", "building"}


def test_planted_uids_exist_and_are_active(built):
    result, layers = built
    idx = {n: _by_uid(f) for n, f in layers.items()}
    for p in result["planted"]:
        for la, ua in ((p["layer_a"], p["uid_a"]), (p["layer_b"], p["uid_b"])):
            if la:
                assert ua in idx[la].index, (la, ua)
                assert idx[la].loc[ua, "status"] != "abandoned"
    for p in result["decoys"]:
        assert p["uid_a"] in idx[p["layer_a"]].index


def test_deterministic(tmp_path):
    a = demo.build_demo(str(tmp_path / "a"), seed=7, with_styles=False)
    b = demo.build_demo(str(tmp_path / "b"), seed=7, with_styles=False)
    with open(tmp_path / "a" / "planted.json", "rb") as fa, open(tmp_path / "b" / "planted.json", "rb") as fb:
        assert fa.read() == fb.read()
    assert a["counts"] == b["counts"]
    ta = pyogrio.read_dataframe(a["project"], layer="tree")
    tb = pyogrio.read_dataframe(b["project"], layer="tree")
    assert ta["crown_m"].tolist() == tb["crown_m"].tolist()
    # a rebuild over an existing demo replaces it
    c = demo.build_demo(str(tmp_path / "a"), seed=8, with_styles=False)
    tc = pyogrio.read_dataframe(c["project"], layer="tree")
    assert len(tc) == len(ta) and tc["crown_m"].tolist() != ta["crown_m"].tolist()
    assert sorted(os.listdir(tmp_path / "a")) == ["demo.gpkg", "demo_dem.tif", "planted.json"]


# ---------------------------------------------------------------------------
# independent measurement of every planted case (thresholds: standards.md)
# ---------------------------------------------------------------------------
def _planted(result, rule):
    return [p for p in result["planted"] if p["rule_id"] == rule]


def _ground(pts, uid):
    return float(pts.loc[uid, "ground_elev"])


def test_planted_pipes_roads(built):
    result, layers = built
    seg, roads = _by_uid(layers["pipe_segment"]), _by_uid(layers["planned_road"])
    pur = _planted(result, "pipe_under_road")
    assert len(pur) >= 2
    for p in pur:
        road = roads.loc[p["uid_b"]]
        assert road["status"] == "planned" and road["part"] in ("carriageway", "whole")
        assert seg.loc[p["uid_a"]].geometry.intersection(road.geometry).length > 1.0
    # every active pipe inside a planned carriageway / red line is planted
    active = seg[seg.status != "abandoned"]
    planned = roads[(roads.status == "planned") & roads.part.isin(["carriageway", "whole"])]
    found = {(a, b) for a, g in zip(active.index, active.geometry.values)
             for b, r in zip(planned.index, planned.geometry.values) if g.intersection(r).length > 0}
    assert found == {(p["uid_a"], p["uid_b"]) for p in pur}
    for p in _planted(result, "crossing_angle"):
        c = shapely.get_coordinates(seg.loc[p["uid_a"]].geometry)
        ang = math.degrees(math.atan2(abs(c[1, 1] - c[0, 1]), abs(c[1, 0] - c[0, 0])))
        assert ang < 60 - 10  # the road runs east-west: angle to its edges
    for p in result["decoys"]:
        if p["rule_id"] == "pipe_under_road" and seg.loc[p["uid_a"], "status"] != "abandoned":
            g, r = seg.loc[p["uid_a"]].geometry, roads.loc[p["uid_b"]].geometry
            assert shapely.box(*g.bounds).intersects(r) and g.distance(r) > 2.0


def test_planted_cover_and_depth(built):
    result, layers = built
    seg, pts = _by_uid(layers["pipe_segment"]), _by_uid(layers["pipe_point"])
    cov = _planted(result, "cover_depth")
    assert {p["uid_b"] == "" for p in cov} == {True, False}
    for p in cov:
        s = seg.loc[p["uid_a"]]
        cover = min(_cover(s, s["depth_start"]), _cover(s, s["depth_end"]))
        need = 0.7 if p["uid_b"] else 0.6  # drainage / gas minimum (standards.md §4)
        assert cover < need - 0.15
    for p in _planted(result, "depth_unknown"):
        s = seg.loc[p["uid_a"]]
        assert s[["depth_start", "depth_end"]].isna().all()
        assert pts.loc[[s["start_uid"], s["end_uid"]], "depth"].isna().all()
    # the background: every other active, known-depth pipe has >= 1.0 m cover
    planted = {p["uid_a"] for p in cov}
    bad = []
    for uid, s in seg[seg.status != "abandoned"].iterrows():
        d0 = s["depth_start"] if s["depth_start"] == s["depth_start"] else pts.loc[s["start_uid"], "depth"]
        d1 = s["depth_end"] if s["depth_end"] == s["depth_end"] else pts.loc[s["end_uid"], "depth"]
        if d0 != d0 or d1 != d1 or uid in planted:
            continue
        if min(_cover(s, d0), _cover(s, d1)) < 1.0:
            bad.append(uid)
    assert bad == []


def test_planted_pipe_pairs(built):
    result, layers = built
    seg, pts = _by_uid(layers["pipe_segment"]), _by_uid(layers["pipe_point"])
    hz = _planted(result, "horizontal_clearance")
    assert {p["certainty"] for p in hz} == {"certain", "possible"}
    for p in hz:
        a, b = seg.loc[p["uid_a"]], seg.loc[p["uid_b"]]
        assert not a.geometry.intersects(b.geometry)
        assert not ({a.start_uid, a.end_uid} & {b.start_uid, b.end_uid})
        gap = a.geometry.distance(b.geometry) - _width(a) / 2 - _width(b) / 2
        need = 1.0  # drainage to water d<=200 / to low-pressure gas (standards.md §3)
        assert gap < need
        acc = (a["acc_h"] if a["acc_h"] == a["acc_h"] else 0.05 * 1.0) + \
              (b["acc_h"] if b["acc_h"] == b["acc_h"] else 0.05 * 1.0)
        if p["certainty"] == "certain":
            assert gap + 0.2 + acc < need
        else:
            assert gap + acc >= need
    for p in _planted(result, "vertical_clearance"):
        a, b = seg.loc[p["uid_a"]], seg.loc[p["uid_b"]]
        x = a.geometry.intersection(b.geometry)
        assert x.geom_type == "Point"

        def span(s):  # (top, bottom) elevations at the crossing
            t = s.geometry.project(x, normalized=True)
            g = (1 - t) * _ground(pts, s.start_uid) + t * _ground(pts, s.end_uid)
            d = (1 - t) * s.depth_start + t * s.depth_end
            top = g - _cover(s, d)
            return top, top - _height(s)
        (ta, ba), (tb, bb) = span(a), span(b)
        gap = max(bb - ta, ba - tb)
        assert -0.1 < gap < 0.40 - 0.2  # drainage to water 0.40 m


def test_background_pipes_keep_clear(built):
    """No accidental horizontal or vertical clearance breach in the background:
    wall to wall >= 2.0 m between pipes that neither share a point nor cross,
    >= 0.5 m between the walls at every crossing, except the planted pairs."""
    result, layers = built
    seg, pts = layers["pipe_segment"], _by_uid(layers["pipe_point"])
    seg = seg[seg.status != "abandoned"].reset_index(drop=True)
    planted = {(p["uid_a"], p["uid_b"]) for p in result["planted"]
               if p["rule_id"] in ("horizontal_clearance", "vertical_clearance")}
    g = seg.geometry.values
    tree = shapely.STRtree(g)
    i, j = tree.query(g, predicate="dwithin", distance=3.0)
    keep = i < j
    i, j = i[keep], j[keep]
    bad_h, bad_v = [], []
    for a, b in zip(i, j):
        sa, sb = seg.iloc[a], seg.iloc[b]
        key = tuple(sorted((sa.uid, sb.uid)))
        if {sa.start_uid, sa.end_uid} & {sb.start_uid, sb.end_uid} or key in planted:
            continue
        if g[a].intersects(g[b]):
            if sa[["depth_start", "depth_end"]].isna().any() or sb[["depth_start", "depth_end"]].isna().any():
                continue
            x = g[a].intersection(g[b])
            spans = []
            for s in (sa, sb):
                t = s.geometry.project(x, normalized=True)
                d = (1 - t) * s.depth_start + t * s.depth_end
                c = _cover(s, d)
                spans.append((c, c + _height(s)))
            gap = max(spans[1][0] - spans[0][1], spans[0][0] - spans[1][1])
            if gap < 0.5:
                bad_v.append((key, round(gap, 3)))
        else:
            gap = g[a].distance(g[b]) - _width(sa) / 2 - _width(sb) / 2
            if gap < 2.0:
                bad_h.append((key, round(gap, 3)))
    assert bad_h == [] and bad_v == []


def test_planted_trees_stalls_buildings(built):
    result, layers = built
    seg, pts = _by_uid(layers["pipe_segment"]), _by_uid(layers["pipe_point"])
    trees, stalls = _by_uid(layers["tree"]), _by_uid(layers["parking_stall"])
    bld = _by_uid(layers["building"])
    tp = _planted(result, "tree_pipe_clearance")
    assert {trees.loc[p["uid_a"], "status"] for p in tp} == {"planned", "existing"}
    need = {"JS": 1.5, "PS": 1.5, "RQ": 1.2}  # CJJ 75-97 table 6.2.1, tree
    for p in tp:
        s = seg.loc[p["uid_b"]]
        d = trees.loc[p["uid_a"]].geometry.distance(s.geometry) - _width(s) / 2
        assert d < need[s.utility] - 0.3
    # background trees: >= 2 m from every active pipe's edge
    act = seg[seg.status != "abandoned"]
    tg = trees.geometry.values
    sg = act.geometry.values
    ti, si = shapely.STRtree(sg).query(tg, predicate="dwithin", distance=2.5)
    bad = []
    planted = {(p["uid_a"], p["uid_b"]) for p in tp}
    widths = np.array([_width(r) for _, r in act.iterrows()])
    for a, b in zip(ti, si):
        d = tg[a].distance(sg[b]) - widths[b] / 2
        if d < 2.0 and (trees.index[a], act.index[b]) not in planted:
            bad.append((trees.index[a], act.index[b], round(d, 2)))
    assert bad == []
    # stalls: a manhole under one, a hydrant within 5 m of another; nothing else
    so = _planted(result, "stall_over_structure")
    kinds = {pts.loc[p["uid_b"], "appurtenance"] for p in so}
    assert kinds == {"manhole", "hydrant"}
    for p in so:
        pt = pts.loc[p["uid_b"]]
        st = stalls.loc[p["uid_a"]].geometry
        if pt.appurtenance == "hydrant":
            assert st.distance(pt.geometry) < 5.0 - 0.5
        else:
            assert st.intersects(pt.geometry.buffer(pt.cover_size / 2))
    app = pts[(pts.appurtenance != "none") & (pts.status != "abandoned")]
    sgeom = stalls.geometry.values
    stree = shapely.STRtree(sgeom)
    found = set()
    for uid, pt in app.iterrows():
        r = 6.0 if pt.appurtenance == "hydrant" else (pt.cover_size or 1.0) / 2 + 0.5
        for k in stree.query(pt.geometry, predicate="dwithin", distance=r):
            found.add((stalls.index[k], uid))
    assert found == {(p["uid_a"], p["uid_b"]) for p in so}
    # buildings: one pipe under, one too near; every other active pipe >= 3 m away
    bc = _planted(result, "building_clearance")
    dists = sorted(seg.loc[p["uid_a"]].geometry.distance(bld.loc[p["uid_b"]].geometry) for p in bc)
    assert dists[0] == 0.0 and 0 < dists[1] - 0.15 < 2.5 - 0.5
    bi, si = shapely.STRtree(sg).query(bld.geometry.values, predicate="dwithin", distance=3.0)
    near = {(act.index[s], bld.index[b]) for b, s in zip(bi, si)}
    assert near == {(p["uid_a"], p["uid_b"]) for p in bc}


def test_planted_fire_lanes(built):
    result, layers = built
    lanes = _by_uid(layers["fire_lane"])
    feats = {"parking_stall": _by_uid(layers["parking_stall"]), "tree": _by_uid(layers["tree"]),
             "building": _by_uid(layers["building"])}
    ob = _planted(result, "fire_lane_obstruction")
    centroid_outside = 0
    for p in ob:
        lane = lanes.loc[p["uid_b"]].geometry
        g = feats[p["layer_a"]].loc[p["uid_a"]].geometry
        if p["layer_a"] == "tree":
            assert lane.contains(g)
        else:
            assert lane.intersection(g).area > 0.1
            centroid_outside += not lane.contains(g.centroid)
    assert centroid_outside >= 2
    # nothing else stands in a lane
    found = set()
    for layer, frame in feats.items():
        act = frame[frame.status != "abandoned"]
        li, fi = shapely.STRtree(act.geometry.values).query(lanes.geometry.values, predicate="intersects")
        for a, b in zip(li, fi):
            inter = lanes.geometry.values[a].intersection(act.geometry.values[b])
            if layer == "tree" or inter.area > 0:
                found.add((layer, act.index[b], lanes.index[a]))
    assert found == {(p["layer_a"], p["uid_a"], p["uid_b"]) for p in ob}

    def passes(uid, width):
        lane = lanes.loc[uid].geometry
        obst = [g for layer, frame in feats.items() for g in frame.geometry.values
                if g.intersects(lane.buffer(3))]
        obst = [g.buffer(0.5) if g.geom_type == "Point" else g for g in obst]
        clear = lane.difference(shapely.union_all(obst)) if obst else lane
        core = clear.buffer(-width / 2)
        bare = lane.buffer(-width / 2)
        if bare.is_empty:
            return False
        return len(shapely.get_parts(core)) == len(shapely.get_parts(bare)) and \
            core.area > 0.8 * bare.area
    flagged = {p["uid_a"] for p in _planted(result, "fire_lane_width")}
    assert len(flagged) >= 2
    for uid in lanes.index:
        if uid in flagged:
            assert not passes(uid, 4.0)
        else:
            assert passes(uid, 4.2), uid
    for p in result["decoys"]:
        if p["rule_id"] == "fire_lane_obstruction":
            g, lane = feats[p["layer_a"]].loc[p["uid_a"]].geometry, lanes.loc[p["uid_b"]].geometry
            assert shapely.box(*lane.bounds).contains(g) and not g.intersects(lane)


def test_planted_works(built):
    result, layers = built
    seg, works = _by_uid(layers["pipe_segment"]), _by_uid(layers["renovation_work"])
    wp = _planted(result, "works_over_pipes")
    left = []
    for p in wp:
        s, w = seg.loc[p["uid_b"]], works.loc[p["uid_a"]]
        assert w.geometry.intersects(s.geometry)
        left.append(_cover(s, min(s.depth_start, s.depth_end)) - w.excavation_depth_m)
    assert min(left) < -0.3 and max(left) < 0.5 - 0.15
    # background works leave >= 0.8 m over every pipe they cover
    act = seg[seg.status != "abandoned"]
    wi, si = shapely.STRtree(act.geometry.values).query(works.geometry.values, predicate="intersects")
    planted = {(p["uid_a"], p["uid_b"]) for p in wp}
    for a, b in zip(wi, si):
        s, w = act.iloc[b], works.iloc[a]
        if (works.index[a], act.index[b]) in planted or s[["depth_start", "depth_end"]].isna().any():
            continue
        assert _cover(s, min(s.depth_start, s.depth_end)) - w.excavation_depth_m >= 0.8
    for p in result["decoys"]:
        if p["rule_id"] == "works_over_pipes":
            g, w = seg.loc[p["uid_b"]].geometry, works.loc[p["uid_a"]].geometry
            assert shapely.box(*w.bounds).intersects(g) and w.distance(g) > 1.0


def test_summary_lines(built):
    result, _ = built
    lines = demo.summary_lines(result)
    text = "\n".join(lines)
    assert result["project"] in text and result["dem"] in text
    for name, n in result["counts"].items():
        assert any(name in ln and str(n) in ln for ln in lines)


def test_background_sewers_show_no_reverse_slope(built):
    """The profile tool, with the demo's DEM, finds no reverse slope (倒坡) on any
    run of the demo's drainage: the sewers are graded to their outfalls."""
    from renewal_planner.tools import profile

    result, layers = built
    seg = layers["pipe_segment"]
    ps = seg[(seg.utility == "PS") & (seg.status != "abandoned")
             & seg.depth_start.notna() & seg.depth_end.notna()]
    seen, reverse, runs = set(), [], 0
    for uid in ps.uid:
        if uid in seen:
            continue
        p = profile.longitudinal_profile(result["project"], uid, dem=result["dem"])
        seen.update(p.segments["uid"])
        runs += 1
        reverse += list(p.segments.loc[p.segments["reverse"], "uid"])
    assert runs > 20 and len(seen) >= len(ps)
    assert reverse == []


def test_trunk_sewers_fall_east_at_their_design_fall(built):
    """和平大道's rain (DN800, y = 24.2) and sewage (DN600, y = 20.8) trunks drain
    east: every segment's invert (the points' ground_elev - the segment's depth)
    falls eastwards by at least SEWER_FALL for its size (1 cm of rounding
    allowed), and each manhole's outgoing pipe leaves no higher than the trunk
    pipe that enters it."""
    result, layers = built
    seg, pts = layers["pipe_segment"], _by_uid(layers["pipe_point"])
    ox, oy = demo.ORIGIN
    for y, dia in ((24.2, 800), (20.8, 600)):
        t = seg[(seg.utility == "PS") & (seg.diameter_mm == dia)]
        rows = []
        for s in t.itertuples():
            c = shapely.get_coordinates(s.geometry)
            if not np.allclose(c[:, 1], oy + y):
                continue
            g = pts.loc[[s.start_uid, s.end_uid], "ground_elev"].to_numpy(float)
            inv = g - np.array([s.depth_start, s.depth_end])
            if c[0, 0] > c[1, 0]:                  # digitised westwards: turn it round
                c, inv = c[::-1], inv[::-1]
            rows.append((c[0, 0] - ox, c[1, 0] - ox, inv[0], inv[1]))
        assert len(rows) >= 15
        rows.sort()
        fall = demo.SEWER_FALL[max(d for d in demo.SEWER_FALL if d <= dia)]
        for (xa, xb, ia, ib), nxt in zip(rows, rows[1:] + [None]):
            assert ia - ib >= fall * (xb - xa) - 0.01, (xa, ia, ib)
            if nxt is not None:
                assert nxt[0] == pytest.approx(xb)
                assert nxt[2] <= ib + 1e-9, (xb, ib, nxt[2])


class _SlopedGround:
    """Ground 20 m at x = 0, falling 1 m per km eastwards."""

    def sample(self, x, y):
        return 20.0 - 0.001 * np.asarray(x, float)


def test_grade_hand_computed():
    """A DN600 main A(0,0) - B(100,0) - C(200,0) (the last digitised C -> B) and a
    DN300 branch D(100,50) -> B, all laid at 3.0 m to the invert. The main's lower
    end C is the outfall. Inverts: A 17.0; A->B falls 0.0015 x 100: 16.85 at B;
    D 16.9, D->B falls 0.003 x 50: 16.75 at B; B->C leaves B at the lowest inlet,
    16.75 (depth 3.15), and falls 0.15 to 16.6 at C (ground 19.8: depth 3.2)."""
    net = demo.Network(np.random.default_rng(0))
    main = [(0.0, 0.0, {}), (100.0, 0.0, {}), (200.0, 0.0, {})]
    net.run("YS", main[:2], depth=3.0, size={"diameter_mm": 600})
    net.run("YS", main[:1:-1] + main[1:2], depth=3.0, size={"diameter_mm": 600})     # C -> B
    net.run("YS", [(100.0, 50.0, {}), (100.0, 0.0, {})], depth=3.0, size={"diameter_mm": 300})
    net.grade(_SlopedGround(), range(len(net.segments)))
    got = [(s["depth_start"], s["depth_end"]) for s in net.segments]
    assert got == [(3.0, 3.05), (3.2, 3.15), (3.0, 3.15)]
    assert [p["depth"] for p in net.points] == [3.0, 3.15, 3.2, 3.0]    # A, B, C, D
