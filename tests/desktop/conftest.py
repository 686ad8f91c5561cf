"""What the desktop tests share: an Xvfb display and a throwaway QGIS profile
with the plugin installed as a user would (a symlink in python/plugins,
enabled in QGIS3.ini), and the environment QGIS runs with."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sysconfig
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_display() -> int:
    for n in range(90, 200):
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            return n
    pytest.skip("no free X display number")


@pytest.fixture(scope="session")
def xvfb():
    """One Xvfb server (1600x1000) for every desktop session of the run."""
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed")
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not os.path.exists(f"/tmp/.X11-unix/X{n}"):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.skip(f"Xvfb :{n} did not start")
        time.sleep(0.1)
    yield f":{n}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _install_plugin(profiles: Path, profile: str, locale: str = "zh_CN") -> Path:
    """What a user does: the plugin folder in the profile, enabled in QGIS3.ini."""
    pdir = profiles / "profiles" / profile
    plugins = pdir / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "renewal_planner").symlink_to(ROOT, target_is_directory=True)
    (pdir / "QGIS").mkdir()
    ini = configparser.RawConfigParser(interpolation=None)
    ini.optionxform = str
    ini["PythonPlugins"] = {"renewal_planner": "true", "processing": "true"}
    ini["locale"] = {"overrideFlag": "true", "userLocale": locale, "globalLocale": locale}
    ini["qgis"] = {"checkVersion": "false", "showTips": "false"}
    with open(pdir / "QGIS" / "QGIS3.ini", "w", encoding="utf-8") as fh:
        ini.write(fh, space_around_delimiters=False)
    return pdir


def _qgis_env(display: str, home: Path, **extra) -> dict:
    """The environment of a desktop QGIS: the .venv's site-packages first
    (tests run with .venv/bin/python), a throwaway HOME, no offscreen platform."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "PYTHONPATH")}
    env.update({
        "DISPLAY": display,
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "HOME": str(home),  # nothing from the developer's own QGIS settings
        "XDG_RUNTIME_DIR": str(home),
        "LANG": "C.UTF-8",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture(scope="session")
def install_plugin():
    """``install_plugin(profiles, profile, locale="zh_CN")`` -> the profile folder."""
    return _install_plugin


@pytest.fixture(scope="session")
def qgis_env():
    """``qgis_env(display, home, **extra)`` -> the environment of a desktop QGIS."""
    return _qgis_env
