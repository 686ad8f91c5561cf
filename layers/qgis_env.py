"""Start QGIS's core library headless, once, when no QGIS is running yet.

Inside the desktop or a pytest-qgis session a QgsApplication exists already
and is used as it is. No qgis.gui here: this runs from the command line too.
"""
from __future__ import annotations

import atexit
import os

_app = None


def qgis_app():
    """Return the running QgsApplication, starting a headless one if needed."""
    global _app
    try:
        from qgis.core import QgsApplication
    except ImportError:
        from .errors import MissingDependency

        raise MissingDependency("qgis (PyQGIS)", "", "This command",
                                found=None) from None
    app = QgsApplication.instance()
    if app is not None:
        return app
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "XDG_RUNTIME_DIR" not in os.environ:  # keeps Qt quiet on a headless machine
        import tempfile

        runtime = os.path.join(tempfile.gettempdir(), f"runtime-{os.getuid()}")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = runtime
    _app = QgsApplication([], False)
    _app.initQgis()
    atexit.register(_exit)
    return _app


def _exit():
    global _app
    if _app is not None:
        try:
            _app.exitQgis()
        except Exception:
            pass
        _app = None
