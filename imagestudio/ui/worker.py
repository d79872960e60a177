"""Runs a core function on a thread pool and turns its progress, result, cancellation and errors into signals.

A job function takes the job's `Task` (the core's progress, cancel and pause, `core/progress.py`) and returns its
result. The GUI thread only receives queued signals; it never waits on the work.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from imagestudio.core.errors import Cancelled
from imagestudio.core.progress import Task

log = logging.getLogger(__name__)

JobFunction = Callable[[Task], Any]

# Progress callbacks may arrive per tile; more than ~30 updates a second only floods the event queue.
_PROGRESS_INTERVAL_S = 0.03


class Job(QObject):
    """One run. Signals arrive in this order: progressed*, then exactly one of succeeded/failed/cancelled, then done."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object, str)  # the exception, and its traceback text for the details pane
    cancelled = Signal()
    done = Signal(object)  # the job itself, so one slot can serve many jobs
    paused_changed = Signal(bool)

    def __init__(self, label: str, function: JobFunction, *, pausable: bool = False) -> None:
        super().__init__()
        self.label = label
        self.task = Task(self._report)
        # Pausable: the work checks its task between units (tiles, curve steps), where a pause takes hold. A load
        # or a save is one call that would not stop, so a Pause button for it would only mislead.
        self.pausable = pausable
        self._function = function
        self._last_progress = 0.0

    def cancel(self) -> None:
        self.task.cancel()
        self.paused_changed.emit(False)

    def pause(self) -> None:
        if self.pausable and not self.task.cancelled and not self.task.paused:
            self.task.pause()
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self.task.paused:
            self.task.resume()
            self.paused_changed.emit(False)

    @property
    def is_cancelled(self) -> bool:
        return self.task.cancelled

    @property
    def is_paused(self) -> bool:
        return self.task.paused

    def _report(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress < _PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self.progressed.emit(float(fraction), message)

    def execute(self) -> None:
        """Runs on a pool thread."""
        try:
            result = self._function(self.task)
            if self.task.cancelled:  # cancelled after the last check: the user asked, so drop the result
                raise Cancelled(f"{self.label} was cancelled")
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - reported to the user as a dialog, with the traceback logged
            details = traceback.format_exc()
            if not _is_user_error(exc):
                log.error("%s failed unexpectedly:\n%s", self.label, details)
            self.failed.emit(exc, details)
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit(self)


def _is_user_error(exc: BaseException) -> bool:
    from imagestudio.core.errors import ImageStudioError

    return isinstance(exc, ImageStudioError)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        self._job.execute()


class JobRunner(QObject):
    """Starts jobs on a thread pool and keeps them alive until they finish; one long edit at a time."""

    busy_changed = Signal(bool)
    job_started = Signal(object)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._jobs: set[Job] = set()
        self._when_idle: list[Callable[[], object]] = []

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def start(self, label: str, function: JobFunction) -> Job:
        return self.submit(Job(label, function))

    def submit(self, job: Job) -> Job:
        """Runs a job made beforehand, e.g. once a caller has connected to all of its signals."""
        was_busy = self.busy
        self._jobs.add(job)
        # A bound method of this QObject, not a lambda: the call is queued to the GUI thread.
        job.done.connect(self._forget)
        self.job_started.emit(job)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Runnable(job))
        return job

    def call_when_idle(self, callback: Callable[[], object]) -> None:
        """Runs `callback` on the GUI thread once no job is running (soon, if none is): a save's follow-up, or an
        Open queued behind a running job. Callbacks run in the order given; one that starts a job holds the rest."""
        self._when_idle.append(callback)
        if not self.busy:
            QTimer.singleShot(0, self._run_when_idle)

    @property
    def queued(self) -> int:
        return len(self._when_idle)

    def clear_queue(self) -> None:
        self._when_idle.clear()

    def _run_when_idle(self) -> None:
        while self._when_idle and not self.busy:
            self._when_idle.pop(0)()

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    @Slot(bool)
    def pause_all(self, paused: bool) -> None:
        """Pause (or resume) the running jobs that can pause; the others run on."""
        for job in list(self._jobs):
            if paused:
                job.pause()
            else:
                job.resume()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Used on quit: cancel, then let the pool finish so no thread outlives the window."""
        return self._pool.waitForDone(timeout_ms)

    @Slot(object)
    def _forget(self, job: Job) -> None:
        self._jobs.discard(job)
        if not self._jobs:
            self.busy_changed.emit(False)
            self._run_when_idle()
