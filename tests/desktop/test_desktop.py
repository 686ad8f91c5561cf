"""The real QGIS desktop under Xvfb, with the plugin installed as a user would.

A throwaway profile (--profiles-path in tmp) gets the repository root as
python/plugins/renewal_planner (a symlink) and [PythonPlugins]
renewal_planner=true in QGIS3.ini; QGIS runs in Chinese (locale override) with
PYTHONPATH = .venv's site-packages first and ``--code startup.py``, which
writes a JSON report and a screenshot. Also: the `make package` zip layout.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def desktop(xvfb, tmp_path_factory, install_plugin, qgis_env):
    qgis = shutil.which("qgis")
    if not qgis:
        pytest.skip("no qgis binary")
    tmp = tmp_path_factory.mktemp("desktop")
    profiles = tmp / "profiles"
    install_plugin(profiles, "rp_test")
    work = tmp / "work"
    work.mkdir()
    env = qgis_env(xvfb, tmp, RP_STARTUP_JSON=tmp / "report.json", RP_STARTUP_PNG=tmp / "screenshot.png",
                   RP_STARTUP_WORK=work, RP_STARTUP_TIMEOUT=400)
    log = tmp / "qgis.log"
    with open(log, "wb") as fh:
        proc = subprocess.run([qgis, "--profiles-path", str(profiles), "--profile", "rp_test",
                               "--nologo", "--code", str(HERE / "startup.py")],
                              env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=540)
    report_path = tmp / "report.json"
    assert report_path.exists(), f"QGIS exited {proc.returncode} without a report:\n{log.read_text()[-4000:]}"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["_tmp"] = str(tmp)
    report["_png"] = str(tmp / "screenshot.png")
    # keep the latest picture for a person to look at (docs/screenshot.png is committed by hand)
    shutil.copy(tmp / "screenshot.png", ROOT / "build" / "desktop-screenshot.png") if (
        (ROOT / "build").is_dir() and (tmp / "screenshot.png").exists()) else None
    return report


def test_no_step_failed(desktop):
    assert desktop["errors"] == {}, "\n".join(desktop["errors"].values())


def test_plugin_loaded_from_the_profile_with_the_venv_stack(desktop):
    assert "renewal_planner" in desktop["plugins"]
    assert "renewal_planner" in desktop["active_plugins"]
    assert desktop["plugin_class"] == "RenewalPlannerPlugin"
    assert "/profiles/rp_test/python/plugins/renewal_planner/" in desktop["plugin_module_file"]
    assert desktop["dependency_problems"] == []  # .venv first on PYTHONPATH
    assert int(desktop["shapely_version"].split(".")[0]) >= 2


def test_dock_opens_in_chinese(desktop):
    assert desktop["locale"].startswith("zh")
    assert desktop["action_exists"] and desktop["dock_exists"] and desktop["dock_visible"]
    assert desktop["action_in_plugins_menu"]
    assert desktop["dock_title"] == "城市更新规划助手 / Renewal Planner"
    assert desktop["buttons"]["newProjectButton"] == ["新建项目…", True]
    assert desktop["buttons"]["openProjectButton"] == ["打开项目…", True]
    assert desktop["buttons"]["openDemoButton"][0] == "打开示范项目"


def test_provider_and_init_algorithm_in_the_desktop(desktop):
    assert desktop["provider"] == "Renewal Planner"
    assert {"renewal_planner:demo", "renewal_planner:init", "renewal_planner:check"} <= set(desktop["algorithms"])
    assert desktop["init_exists"] is True
    assert desktop["init_result"].endswith("init.gpkg")


def test_project_layers_open_styled_in_groups(desktop):
    if desktop.get("demo_available"):
        assert desktop.get("demo_finished") is True
    assert desktop["layers"] >= 5
    assert desktop["valid_layers"] == desktop["layers"]
    assert len(desktop["groups"]) >= 2
    assert desktop["project_label"].endswith(".gpkg")
    if desktop.get("demo_available"):
        assert desktop["features"] > 0


def test_unload_removes_everything_and_reload_restores_it(desktop):
    loaded, unloaded = desktop["counts_loaded"], desktop["counts_unloaded"]
    assert unloaded == {"actions": loaded["actions"] - 1, "docks": loaded["docks"] - 1,
                        "providers": loaded["providers"] - 1}
    assert desktop["provider_after_unload"] is False
    assert desktop["dock_after_unload"] is False
    assert desktop["counts_reloaded"] == loaded


def test_screenshot_shows_the_window(desktop):
    assert desktop["screenshot"] is True
    from qgis.PyQt.QtGui import QImage

    img = QImage(desktop["_png"])
    assert img.width() >= 800 and img.height() >= 500
    # not a blank picture: many distinct colours
    colours = {img.pixel(x, y) for x in range(0, img.width(), 23) for y in range(0, img.height(), 19)}
    assert len(colours) > 20


def test_package_zip_layout(tmp_path):
    if not shutil.which("lrelease") and not os.path.exists("/usr/lib/qt5/bin/lrelease"):
        pytest.skip("no lrelease")
    out = subprocess.run(["bash", str(ROOT / "scripts" / "package.sh"), str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    version = __import__("renewal_planner").__version__
    zpath = tmp_path / f"renewal_planner-{version}.zip"
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        meta = zf.read("renewal_planner/metadata.txt").decode("utf-8")
    assert all(n.startswith("renewal_planner/") for n in names)
    for needed in ("__init__.py", "metadata.txt", "LICENSE", "plugin/main.py", "plugin/provider.py",
                   "plugin/dock.py", "layers/model.yaml", "icons/renewal_planner.svg",
                   "i18n/renewal_planner_zh.qm"):
        assert f"renewal_planner/{needed}" in names, needed
    for banned in (".venv/", "tests/", ".git/", "__pycache__", ".pyc", "demo-out/", "scripts/", ".ci/"):
        assert not any(banned in n for n in names), banned
    assert f"\nversion={version}\n" in meta
    assert "hasProcessingProvider=yes" in meta
    assert "qgisMinimumVersion=3.22" in meta


@pytest.mark.skipif(not shutil.which("qgis_process"), reason="no qgis_process")
def test_qgis_process_runs_init_headless(tmp_path):
    """qgis_process with the plugin enabled in a profile: `run renewal_planner:init`."""
    config = tmp_path / "cfg"
    pdir = config / "profiles" / "default"
    (pdir / "python" / "plugins").mkdir(parents=True)
    (pdir / "python" / "plugins" / "renewal_planner").symlink_to(ROOT, target_is_directory=True)
    # Debian's /usr/bin/qgis_process wrapper passes --noversioncheck, which the
    # 3.22 binary rejects: call the binary behind it when it is there.
    exe = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"QT_QPA_PLATFORM": "offscreen", "QGIS_CUSTOM_CONFIG_PATH": str(config),
                "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
                "PYTHONPATH": sysconfig.get_paths()["purelib"]})
    enable = subprocess.run([exe, "plugins", "enable", "renewal_planner"], env=env,
                            capture_output=True, text=True, timeout=180)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    target = tmp_path / "headless.gpkg"
    run = subprocess.run([exe, "run", "renewal_planner:init", "--", f"PROJECT={target}", "CRS=EPSG:4549"],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert target.exists() and target.read_bytes()[:16] == b"SQLite format 3\x00"
    bad = subprocess.run([exe, "run", "renewal_planner:init", "--", f"PROJECT={tmp_path / 'b.gpkg'}",
                          "CRS=EPSG:4326"], env=env, capture_output=True, text=True, timeout=180)
    assert bad.returncode != 0
    assert "not projected" in (bad.stdout + bad.stderr)
    assert not (tmp_path / "b.gpkg").exists()
