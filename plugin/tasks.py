"""Run a Python callable in a QgsTask, with progress, cancel and error reporting.

``FunctionTask(description, fn, on_success=..., on_error=...)`` calls
``fn(feedback)`` in a worker thread, where ``feedback.set_progress(percent)``
moves the task's progress bar and ``feedback.is_canceled()`` tells the
callable to stop (it may also raise ``Canceled``). ``on_success(result)`` and
``on_error(exception)`` run back in the main thread. Keep a reference to the
task until it finishes (``TaskRunner`` does that for you).
"""
from __future__ import annotations

import traceback

from qgis.core import QgsApplication, QgsTask

from .toolbelt.log import log


class Canceled(Exception):
    """The user canceled the task."""


class Feedback:
    """What the callable sees: progress and cancel, independent of Qt."""

    def __init__(self, task: "FunctionTask"):
        self._task = task

    def set_progress(self, percent) -> None:
        try:
            self._task.setProgress(max(0.0, min(100.0, float(percent))))
        except (TypeError, ValueError):
            pass

    def is_canceled(self) -> bool:
        return self._task.isCanceled()

    def check_canceled(self) -> None:
        if self._task.isCanceled():
            raise Canceled()


class FunctionTask(QgsTask):
    def __init__(self, description: str, fn, on_success=None, on_error=None, on_canceled=None,
                 can_cancel: bool = True):
        flags = QgsTask.CanCancel if can_cancel else QgsTask.Flags()
        super().__init__(description, flags)
        self.fn = fn
        self.on_success = on_success
        self.on_error = on_error
        self.on_canceled = on_canceled
        self.result = None
        self.exception = None
        self.traceback = None

    def run(self) -> bool:  # worker thread: no widgets here
        try:
            self.result = self.fn(Feedback(self))
        except Canceled:
            return False
        except BaseException as exc:  # reported in finished(), in the main thread
            self.exception = exc
            self.traceback = traceback.format_exc()
            return False
        finally:
            # A QgsTask thread outlives its Python thread state: keep the PROJ
            # context pyproj made on it alive, or the next task on this thread
            # crashes in pyproj (layers/importer/coords.py explains).
            from ..layers.importer.coords import _pin_proj_context

            _pin_proj_context()
        return not self.isCanceled()

    def finished(self, ok: bool) -> None:  # main thread
        try:
            if ok:
                if self.on_success:
                    self.on_success(self.result)
            elif self.exception is not None:
                if self.traceback:
                    log(f"{self.description()}: {self.traceback}", "critical")
                if self.on_error:
                    self.on_error(self.exception)
            elif self.on_canceled:
                self.on_canceled()
        except Exception:  # a failing callback must never take QGIS down
            log(f"{self.description()}: {traceback.format_exc()}", "critical")


class TaskRunner:
    """Starts FunctionTasks on QGIS's task manager and keeps them alive until done."""

    def __init__(self):
        self._tasks = set()

    def start(self, task: FunctionTask) -> FunctionTask:
        self._tasks.add(task)
        task.taskCompleted.connect(lambda t=task: self._tasks.discard(t))
        task.taskTerminated.connect(lambda t=task: self._tasks.discard(t))
        QgsApplication.taskManager().addTask(task)
        return task

    def running(self) -> list:
        return list(self._tasks)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
