"""The rules file: every value sourced, profiles override, bad files refused."""
import numpy as np
import pytest
import yaml

from renewal_planner.layers.errors import InputError
from renewal_planner.tools import ruleset
from renewal_planner.tools.engine.registry import RULES


def test_every_value_has_a_source_and_confidence():
    doc = yaml.safe_load(open(ruleset.DEFAULT_RULES, encoding="utf-8"))
    seen = 0

    def walk(node, where):
        nonlocal seen
        if isinstance(node, dict) and "value" in node:
            assert node.get("source"), where
            assert node.get("confidence") in ruleset.CONFIDENCES, where
            seen += 1
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    walk(doc, "rules")
    assert seen > 80
    # every rule of rules.md (and ours) has a section with a severity
    for rid in RULES:
        assert any(k.startswith("severity") for k in doc[rid]), rid


def test_confirmed_figures_from_the_standards():
    r = ruleset.load_rules()
    assert r.get("crossing_angle", "min_angle_deg") == ruleset.Value(60.0, "GB 50289-2016 §4.1.7", "high")
    assert r.value("cover_depth", "min_cover", "PS") == [0.6, 0.7]
    assert r.value("cover_depth", "min_cover", "RQ") == [0.6, 0.9]
    assert r.get("cover_depth", "min_cover", "JS").confidence == "unconfirmed"
    # drainage row of GB 50289-2016 table 4.1.9, both pair orders, with the splits
    cls_a = ["PS", "JS", "PS", "RQ", "PS", "PS", "PS", "PS", "DL"]
    cls_b = ["JS", "PS", "RQ", "PS", "RQ", "RQ", "RQ", "TX", "PS"]
    d = [150, 150, 0, 0, 0, 0, 0, 0, 0]
    p = [0, 0, 0.005, 0.3, 0.6, 1.2, np.nan, 0, 0]
    v, i = r.lookup("horizontal_clearance", "pairs", cls_a, cls_b,
                    attrs_a={"diameter_mm": [300, 150, 0, 0, 0, 0, 0, 0, 0],
                             "pressure_mpa": [0, 0, 0, 0.3, 0, 0, 0, 0, 0]},
                    attrs_b={"diameter_mm": d, "pressure_mpa": p})
    assert v.tolist() == [1.0, 1.0, 1.0, 1.2, 1.5, 2.0, 2.0, 1.0, 0.5]
    assert all(r.entry_source("horizontal_clearance", k).endswith("[high]") for k in i)
    # vertical, telecom in duct vs direct
    v, _ = r.lookup("vertical_clearance", "pairs", ["PS", "PS", "TX"], ["TX", "TX", "PS"],
                    attrs_b={"burial": ["GK", "ZM", None]}, attrs_a={"burial": [None, None, "GM"]})
    assert v.tolist() == [0.15, 0.50, 0.15]


def test_profile_overrides_and_marks_local(tmp_path):
    f = tmp_path / "city.yaml"
    f.write_text("profile: wuhan-2025\n"
                 "stall_over_structure:\n  hydrant_distance_m: 30\n"
                 "horizontal_clearance:\n  pairs:\n    - {a: PS, b: JS, value: 2.0}\n"
                 "cover_depth:\n  min_cover:\n    JS: {value: [0.8, 1.0], source: 武汉市规定, confidence: high}\n",
                 encoding="utf-8")
    r = ruleset.load_rules(str(f))
    assert r.profile == "wuhan-2025"
    assert r.get("stall_over_structure", "hydrant_distance_m") == ruleset.Value(30, "local", "local")
    assert r.get("cover_depth", "min_cover", "JS").source == "武汉市规定"
    v, i = r.lookup("horizontal_clearance", "pairs", ["JS", "PS"], ["PS", "RQ"])
    assert v.tolist() == [2.0, 2.0]  # local entry first; PS-RQ unknown pressure: conservative 2.0
    assert r.entry_source("horizontal_clearance", i[0]) == "local [local]"
    # the defaults are untouched by loading a profile
    assert ruleset.load_rules().value("stall_over_structure", "hydrant_distance_m") == 5.0


@pytest.mark.parametrize("text, msg", [
    ("tree_pipe_clearence: {severity: error}", "unknown rule or section 'tree_pipe_clearence'"),
    ("works_over_pipes: {margin_m: -0.5}", "works_over_pipes.margin_m: negative"),
    ("works_over_pipes: {margn_m: 0.5}", "works_over_pipes.margn_m: unknown key"),
    ("cover_depth: {min_cover: {PS: [0.6, -0.7]}}", "negative"),
    ("cover_depth: {min_cover: {XX: [0.6, 0.7]}}", "cover_depth.min_cover.XX: unknown key"),
    ("horizontal_clearance: {pairs: [{a: PS, b: JX, value: 1}]}", "unknown utility class 'JX'"),
    ("horizontal_clearance: {pairs: [{a: PS, b: JS, valeu: 1}]}", "needs a value"),
    ("crossing_angle: {severity: fatal}", "severity must be"),
    ("pipe_under_road: [", "not valid YAML at line"),
])
def test_bad_profiles_name_the_place(tmp_path, text, msg):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(InputError) as exc:
        ruleset.load_rules(str(f))
    assert msg in str(exc.value)
    assert str(f) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_shipped_profile_loads():
    import os

    prof = os.path.join(os.path.dirname(ruleset.DEFAULT_RULES), "..", "profiles", "road-traffic-30m.yaml")
    assert ruleset.load_rules(prof).value("stall_over_structure", "hydrant_distance_m") == 30.0
