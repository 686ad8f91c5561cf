"""Cross-sections (tools/section.py) and their plots (tools/plots.py):
hand-made cases with hand-computed offsets, elevations and clearances, and
the demo district's branch street against its surveyed depths."""
import math
import pathlib
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from shapely.geometry import LineString, Point

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from engine_helpers import layer_frame, make_project  # noqa: E402

from renewal_planner.layers.errors import InputError  # noqa: E402
from renewal_planner.tools import plots  # noqa: E402
from renewal_planner.tools.section import cross_section  # noqa: E402


def pt(uid, x, y, ground, utility="JS"):
    return {"geometry": Point(x, y), "uid": uid, "utility": utility, "ground_elev": ground}


def pipe(uid, a, b, y, utility, depth, ref="top", **kw):
    d = {"geometry": LineString([(0.0, y), (20.0, y)]), "uid": uid, "utility": utility,
         "start_uid": a, "end_uid": b, "depth_start": depth, "depth_end": depth, "depth_ref": ref}
    d.update(kw)
    return d


def three_pipes(dl_y=9.0):
    """JS DN300 at y=2 (ground 10 -> 12 along it), RQ DN200 0.2 MPa at y=5,
    DL box 500x300 at ``dl_y``; a section x=10 from y=0 to y=12."""
    points = [pt("A1", 0, 2, 10.0), pt("A2", 20, 2, 12.0),
              pt("B1", 0, 5, 10.0, "RQ"), pt("B2", 20, 5, 10.0, "RQ"),
              pt("C1", 0, dl_y, 10.0, "DL"), pt("C2", 20, dl_y, 10.0, "DL")]
    pipes = [pipe("JS1", "A1", "A2", 2.0, "JS", 1.0, diameter_mm=300),
             pipe("RQ1", "B1", "B2", 5.0, "RQ", 1.2, diameter_mm=200, pressure_mpa=0.2),
             pipe("DL1", "C1", "C2", dl_y, "DL", 0.8, width_mm=500, height_mm=300, burial="ZM")]
    return points, pipes


SECTION = [(10.0, 0.0), (10.0, 12.0)]


@pytest.fixture
def three(tmp_path):
    points, pipes = three_pipes()
    return make_project(tmp_path, pipe_point=points, pipe_segment=pipes)


def by_uid(sec):
    return sec.pipes.set_index("uid")


def test_three_parallel_pipes_at_their_offsets_and_elevations(three):
    sec = cross_section(three, SECTION)
    p = by_uid(sec)
    assert list(sec.pipes["uid"]) == ["JS1", "RQ1", "DL1"]
    assert p.loc[["JS1", "RQ1", "DL1"], "offset"].tolist() == pytest.approx([2.0, 5.0, 9.0])
    # JS: ground halfway between 10 and 12 = 11; top 11 - 1.0; DN300
    assert p.loc["JS1", "ground"] == pytest.approx(11.0)
    assert p.loc["JS1", "top"] == pytest.approx(10.0)
    assert p.loc["JS1", "bottom"] == pytest.approx(9.7)
    assert p.loc["JS1", "centre"] == pytest.approx(9.85)
    assert p.loc["RQ1", ["top", "bottom"]].tolist() == pytest.approx([8.8, 8.6])
    assert p.loc["DL1", ["top", "bottom"]].tolist() == pytest.approx([9.2, 8.9])
    assert p.loc["DL1", "shape"] == "box" and p.loc["JS1", "shape"] == "circle"
    assert p.loc["DL1", ["width_m", "height_m", "span_m"]].tolist() == pytest.approx([0.5, 0.3, 0.5])
    assert p.loc["JS1", "angle_deg"] == pytest.approx(90.0)
    assert p.loc["JS1", "colour"] == "#00ffff" and p.loc["DL1", "colour"] == "#ff0000"
    assert p.loc["DL1", "label_zh"] == "电力 500×300\n埋深 0.80 m"
    assert p.loc["JS1", "label_en"].startswith("Water supply DN300") or "DN300" in p.loc["JS1", "label_en"]
    # no DEM: the ground is interpolated between the pipes' own ground at their cuts
    assert sec.ground_source == "pipe_point" and not sec.relative
    g = sec.ground.set_index("offset")["elev"]
    assert g.loc[2.0] == pytest.approx(11.0) and g.loc[5.0] == pytest.approx(10.0)
    assert g.loc[3.5] == pytest.approx(10.5)
    assert g.loc[0.0] == pytest.approx(11.0) and g.loc[12.0] == pytest.approx(10.0)


def test_clearances_between_neighbours(three):
    sec = cross_section(three, SECTION)
    c = sec.clearances.set_index(["uid_a", "uid_b"])
    assert set(c.index) == {("JS1", "RQ1"), ("RQ1", "DL1")}  # neighbours only
    assert (c["kind"] == "horizontal").all()
    # wall to wall: 3 - 0.15 - 0.1 and 4 - 0.1 - 0.25; JS-RQ <= 0.4 MPa 0.5 m, RQ-DL 1.0 m
    assert c.loc[("JS1", "RQ1"), "measured"] == pytest.approx(2.75)
    assert c.loc[("JS1", "RQ1"), "required"] == pytest.approx(0.5)
    assert c.loc[("RQ1", "DL1"), "measured"] == pytest.approx(3.65)
    assert c.loc[("RQ1", "DL1"), "required"] == pytest.approx(1.0)
    assert not c["breach"].any()
    assert "GB 50289" in c.loc[("RQ1", "DL1"), "source"]


def test_a_horizontal_breach_is_flagged(tmp_path):
    points, pipes = three_pipes(dl_y=5.9)
    path = make_project(tmp_path, pipe_point=points, pipe_segment=pipes)
    sec = cross_section(path, SECTION)
    c = sec.clearances.set_index(["uid_a", "uid_b"])
    assert c.loc[("RQ1", "DL1"), "measured"] == pytest.approx(0.55)
    assert bool(c.loc[("RQ1", "DL1"), "breach"]) and c.loc[("RQ1", "DL1"), "certainty"] == "certain"
    assert not bool(c.loc[("JS1", "RQ1"), "breach"])
    assert list(sec.breaches["uid_b"]) == ["DL1"]


def test_pipes_one_over_the_other_get_the_vertical_clearance(tmp_path):
    # PS DN400 to the invert at 3.0 (top 7.4) under a JS DN300 with top depth 2.45 (bottom 7.25):
    # they overlap by 0.15; PS-JS needs 0.40. An RQ above both at 1.2 (bottom 8.6) is 1.2 over the PS.
    points = [pt("P1", 0, 5, 10.0, "PS"), pt("P2", 20, 5, 10.0, "PS"),
              pt("J1", 0, 5.05, 10.0), pt("J2", 20, 5.05, 10.0)]
    pipes = [pipe("PS1", "P1", "P2", 5.0, "PS", 3.0, ref="invert", diameter_mm=400),
             pipe("JS1", "J1", "J2", 5.05, "JS", 2.45, diameter_mm=300),
             pipe("RQ1", None, None, 8.0, "RQ", 1.2, diameter_mm=200, pressure_mpa=0.2)]
    path = make_project(tmp_path, pipe_point=points, pipe_segment=pipes)
    sec = cross_section(path, SECTION)
    p = by_uid(sec)
    assert p.loc["PS1", ["top", "bottom"]].tolist() == pytest.approx([7.4, 7.0])
    v = sec.clearances.loc[sec.clearances["kind"] == "vertical"].set_index(["uid_a", "uid_b"])
    assert list(v.index) == [("JS1", "PS1")]            # upper first
    assert v.loc[("JS1", "PS1"), "measured"] == pytest.approx(-0.15)
    assert v.loc[("JS1", "PS1"), "required"] == pytest.approx(0.40)
    assert bool(v.loc[("JS1", "PS1"), "breach"])
    # the RQ has no ground of its own: it takes the section's ground at its cut
    assert p.loc["RQ1", "elev_from"] == "section ground"
    assert p.loc["RQ1", "top"] == pytest.approx(10.0 - 1.2)


def test_oblique_section_measures_true_offsets_and_span(three):
    # 45° across the three pipes: the offset along the section is y * sqrt(2)
    sec = cross_section(three, [(8.0, 0.0), (20.0, 12.0)])
    p = by_uid(sec)
    assert p.loc[["JS1", "RQ1", "DL1"], "offset"].tolist() == pytest.approx(
        [2 * math.sqrt(2), 5 * math.sqrt(2), 9 * math.sqrt(2)])
    assert p.loc["DL1", "span_m"] == pytest.approx(0.5 * math.sqrt(2))
    assert p.loc["JS1", "angle_deg"] == pytest.approx(45.0)
    # the clearance stays the plan distance wall to wall
    c = sec.clearances.set_index(["uid_a", "uid_b"])
    assert c.loc[("JS1", "RQ1"), "measured"] == pytest.approx(2.75)


def test_frames_give_the_same_section_as_the_project(three):
    points, pipes = three_pipes()
    frames = {"pipe_point": _with_model_fields(layer_frame("pipe_point", points), "pipe_point"),
              "pipe_segment": _with_model_fields(layer_frame("pipe_segment", pipes), "pipe_segment")}
    a = cross_section(three, SECTION)
    b = cross_section(frames, SECTION)
    assert list(a.pipes["uid"]) == list(b.pipes["uid"])
    np.testing.assert_allclose(a.pipes[["offset", "top", "bottom"]].to_numpy(float),
                               b.pipes[["offset", "top", "bottom"]].to_numpy(float))


def _with_model_fields(df, name):
    from renewal_planner.layers import schema

    for fld in schema.model().layer(name).fields:
        if fld.name not in df.columns:
            df[fld.name] = fld.default
    return df


def test_dem_gives_the_ground_line(tmp_path, three):
    import rasterio
    from rasterio.transform import from_origin

    dem = str(tmp_path / "dem.tif")
    with rasterio.open(dem, "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
                       crs="EPSG:4547", transform=from_origin(-5, 25, 1, 1), nodata=-9999) as ds:
        ds.write(np.full((1, 40, 40), 20.0, dtype="float32"))
    sec = cross_section(three, SECTION, dem=dem)
    assert sec.ground_source == "dem"
    assert np.allclose(sec.ground["elev"], 20.0)
    # the pipes keep the ground of their surveyed points (the DEM fills only what is missing)
    assert by_uid(sec).loc["JS1", "top"] == pytest.approx(10.0)


def test_no_ground_at_all_draws_by_depth(tmp_path):
    pipes = [pipe("JS1", None, None, 2.0, "JS", 1.0, diameter_mm=300)]
    path = make_project(tmp_path, pipe_segment=pipes)
    sec = cross_section(path, SECTION)
    assert sec.relative and sec.ground_source == "none"
    assert by_uid(sec).loc["JS1", ["top", "bottom"]].tolist() == pytest.approx([-1.0, -1.3])


def test_bad_input_is_refused(three):
    with pytest.raises(InputError, match="cuts no pipe"):
        cross_section(three, [(30.0, 0.0), (30.0, 12.0)])
    with pytest.raises(InputError, match="zero length"):
        cross_section(three, [(10.0, 0.0), (10.0, 0.0)])
    with pytest.raises(InputError, match="at most"):
        cross_section(three, [(10.0, 0.0), (10.0, 5000.0)])


# -- plots ------------------------------------------------------------------
def _artists(fig):
    ax = fig.axes[0]
    return {a.get_gid(): a for a in list(ax.patches) + list(ax.lines) + list(ax.texts) if a.get_gid()}


def test_plot_puts_the_pipes_at_their_offsets_and_marks_breaches(tmp_path):
    points, pipes = three_pipes(dl_y=5.9)
    path = make_project(tmp_path, pipe_point=points, pipe_segment=pipes)
    sec = cross_section(path, SECTION)
    fig = plots.plot_cross_section(sec)
    art = _artists(fig)
    js, rq, dl = art["pipe:JS1"], art["pipe:RQ1"], art["pipe:DL1"]
    assert js.center == pytest.approx((2.0, 9.85)) and js.width == pytest.approx(0.3)
    assert rq.center == pytest.approx((5.0, 8.7))
    assert dl.get_x() + dl.get_width() / 2 == pytest.approx(5.9) and dl.get_y() == pytest.approx(8.9)
    breach = art["breach:horizontal:RQ1:DL1"]
    assert breach.get_color() == pytest.approx(tuple(v / 255 for v in (220, 20, 20)))
    assert breach.get_xdata() == pytest.approx([5.1, 5.65])
    assert "clearance:horizontal:JS1:RQ1" in art and "breach:horizontal:JS1:RQ1" not in art
    assert "0.55 < 1.00" in art["breach:horizontal:RQ1:DL1:text"].get_text()
    assert art["label:RQ1"].get_text() == "燃气 DN200\n埋深 1.20 m"

    svg = plots.export(fig, str(tmp_path / "s.svg"))
    root = ET.parse(svg).getroot()
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert {"pipe:JS1", "pipe:RQ1", "pipe:DL1", "breach:horizontal:RQ1:DL1"} <= ids
    text = open(svg, encoding="utf-8").read()
    assert "燃气 DN200" in text and "0.55 &lt; 1.00" in text and "横断面" in text
    for ext in ("png", "pdf"):
        out = plots.export(fig, str(tmp_path / f"s.{ext}"))
        head = open(out, "rb").read(8)
        assert head.startswith(b"\x89PNG" if ext == "png" else b"%PDF")
    with pytest.raises(InputError, match="png, .svg or .pdf"):
        plots.export(fig, str(tmp_path / "s.jpg"))


def test_a_cjk_font_is_used():
    name = plots.setup_fonts()
    assert "CJK" in name or "Hei" in name


# -- the demo district ------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from renewal_planner.tools.demo import ORIGIN, build_demo

    out = build_demo(str(tmp_path_factory.mktemp("demo")), with_styles=False)
    out["origin"] = ORIGIN
    return out


def test_demo_branch_street_section_shows_its_pipes_at_the_surveyed_depths(demo):
    """翠柳街 (x 288-312) at y = 200: its six mains, at their surveyed depths."""
    from renewal_planner.layers import io

    x0, y0 = demo["origin"]
    line = [(x0 + 284.0, y0 + 200.0), (x0 + 316.0, y0 + 200.0)]
    sec = cross_section(demo["project"], line)
    p = sec.pipes
    assert list(p["utility"]) == ["DL", "TX", "RQ", "JS", "PS", "PS"]
    # the branch street's documented layout: x = 289, 292, 294.8, 297.5, 300.4, 303.4
    assert p["offset"].tolist() == pytest.approx([5.0, 8.0, 10.8, 13.5, 16.4, 19.4])
    # an independent oracle: the surveyed point depths and ground elevations of the
    # cut segments' ends, interpolated to y = 200, converted by their reference
    pts = io.read_layer(demo["project"], "pipe_point").set_index("uid")
    seg = io.read_layer(demo["project"], "pipe_segment").set_index("uid")
    for _, r in p.iterrows():
        s = seg.loc[r["uid"]]
        a, b = pts.loc[s["start_uid"]], pts.loc[s["end_uid"]]
        ya, yb = a.geometry.y, b.geometry.y
        w = (y0 + 200.0 - ya) / (yb - ya)
        ground = a["ground_elev"] + w * (b["ground_elev"] - a["ground_elev"])
        depth = a["depth"] + w * (b["depth"] - a["depth"])
        size = (s["height_mm"] if s["height_mm"] == s["height_mm"] else s["diameter_mm"]) / 1000.0
        top = ground - depth + (size if s["depth_ref"] == "invert" else 0.0)
        assert r["top"] == pytest.approx(top, abs=1e-6), r["uid"]
        assert r["bottom"] == pytest.approx(top - size, abs=1e-6), r["uid"]
    cover = p.set_index("utility")["cover"]
    assert cover.loc["DL"] == pytest.approx(1.3) and cover.loc["JS"] == pytest.approx(1.3)
    # the sewers: their segments' depths at y = 200 less the size; graded (tools/demo.py), so
    # at or below the depths they were laid at, rain DN600 at 3.0 m and sewage DN400 at 4.4 m
    want = []
    for uid in p.loc[p["utility"] == "PS", "uid"]:
        s = seg.loc[uid]
        a, b = pts.loc[s["start_uid"]], pts.loc[s["end_uid"]]
        w = (y0 + 200.0 - a.geometry.y) / (b.geometry.y - a.geometry.y)
        want.append(s["depth_start"] + w * (s["depth_end"] - s["depth_start"]) - s["diameter_mm"] / 1000.0)
    assert cover.loc["PS"].tolist() == pytest.approx(want, abs=1e-6)
    assert all(np.array(sorted(want)) >= np.array([3.0 - 0.6, 4.4 - 0.4]) - 1e-9)
    # designed >= 2.5 m apart wall to wall: no breach
    assert len(sec.clearances) == 5 and not sec.clearances["breach"].any()
    assert sec.clearances["measured"].min() >= 2.5 - 1e-9


def test_demo_section_with_the_dem(demo):
    x0, y0 = demo["origin"]
    # 中北路: its survey has no ground elevations: the pipes take the DEM's
    line = [(x0 + 300.0, y0 + 465.0), (x0 + 300.0, y0 + 500.0)]
    sec = cross_section(demo["project"], line, dem=demo["dem"])
    assert sec.ground_source == "dem"
    p = sec.pipes
    assert len(p) == 5 and set(p["utility"]) == {"DL", "TX", "JS", "PS", "GY"}
    assert np.isfinite(p["top"]).all() and (p["elev_from"] == "pipe").all()
    g = np.interp(p["offset"], sec.ground["offset"], sec.ground["elev"])
    assert np.abs(p["ground"].to_numpy() - g).max() < 0.05  # the DEM at the cut (1 m cells)
