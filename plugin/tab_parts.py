"""Pieces the Checks and Quantities tabs share: the run row (button, progress
bar, cancel) and the life of its one task, and the renovation-area list of a
project (GeoPackage or PostGIS)."""
from __future__ import annotations

import sqlite3

from qgis.PyQt.QtWidgets import QHBoxLayout, QProgressBar, QPushButton


def run_row(parent, run_text: str, run_name: str, on_run, cancel_text: str, cancel_name: str, on_cancel,
            progress_name: str):
    """(layout, run button, progress bar, cancel button); the bar and cancel start hidden."""
    row = QHBoxLayout()
    run = QPushButton(run_text, parent)
    run.setObjectName(run_name)
    run.clicked.connect(on_run)
    progress = QProgressBar(parent)
    progress.setObjectName(progress_name)
    progress.setRange(0, 100)
    cancel = QPushButton(cancel_text, parent)
    cancel.setObjectName(cancel_name)
    cancel.clicked.connect(on_cancel)
    row.addWidget(run)
    row.addWidget(progress, 1)
    row.addWidget(cancel)
    progress.hide()
    cancel.hide()
    return row, run, progress, cancel


class RunRowTask:
    """Mixin for a tab with a run row (``self.progress``, ``self.cancel_button``
    from run_row) and at most one task at a time (``self.task``); the tab has
    ``self.dock`` and ``_update_enabled()``."""

    def _start_task(self, task, on_progress) -> None:
        """Show the bar (at 0) and the cancel button, then start ``task``."""
        task.progressChanged.connect(on_progress)
        self.task = task
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._update_enabled()
        self.dock.runner.start(task)

    def _cancel_task(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _finish(self) -> None:
        """The task is over (done, failed or canceled): hide the bar and cancel."""
        self.task = None
        self.progress.hide()
        self.cancel_button.hide()
        self._update_enabled()


def project_areas(project) -> list:
    """[(uid, community)] of the project's renovation areas, by community then uid."""
    if not project:
        return []
    from ..layers.project import is_pg

    if is_pg(project):
        from .pgconn import project_areas as pg_areas

        return pg_areas(project)
    try:
        con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
        try:
            return con.execute("SELECT uid, community FROM renovation_area WHERE uid IS NOT NULL "
                               "ORDER BY community, uid").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def fill_area_combo(combo, project) -> None:
    """Keep the combo's first item (the whole project), then one item per area."""
    combo.blockSignals(True)
    try:
        while combo.count() > 1:
            combo.removeItem(1)
        for uid, community in project_areas(project):
            combo.addItem(f"{community} ({uid})" if community else uid, uid)
    finally:
        combo.blockSignals(False)
