"""Shared pytest set-up for the headless QGIS tests."""
import gc
import sys


def pytest_runtest_logreport(report):
    """Drop the last failure's traceback once reported.

    pytest keeps it in ``sys.last_traceback`` with its frames' locals (QGIS
    layers, renderers); released only at interpreter exit, after QGIS has
    exited, they crash the process (exit 139) and hide the test summary.
    """
    if report.when == "call" and report.failed:
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, name):
                setattr(sys, name, None)
        gc.collect()
