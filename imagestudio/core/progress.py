"""One `Task` per job carries progress, cancel and pause through the core: plain Python, any thread, no Qt.

The caller (GUI worker, CLI, batch runner) makes the root task; every core function takes `task` and hands a
`task.sub(start, end, label)` share of it to the steps it calls, so no function checks for missing callbacks.
`NO_TASK` is for callers that want neither progress nor cancel (tests, scripts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from imagestudio.core.errors import Cancelled

# progress(fraction, message): fraction in [0, 1], message a few words ("Upscaling tile 3 of 12").
Progress = Callable[[float, str], None]

_PAUSE_POLL_S = 0.1  # a paused task wakes this often to notice a cancel


class CancelToken:
    """Set once from any thread (the GUI's Cancel button); checked by the worker between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise Cancelled if cancel() was called; cheap enough to call between every tile."""
        if self._event.is_set():
            raise Cancelled("Cancelled by the user")

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"


class _Control:
    """What every share of one job has in common: its cancel token and its pause state."""

    def __init__(self, cancel: CancelToken | None) -> None:
        self.token = cancel if cancel is not None else CancelToken()
        self.running = threading.Event()
        self.running.set()


class Task:
    """Progress, cancel and pause of one job, or of a share of it (`sub`).

    `report` maps the share's own 0..1 into its span of the job and prefixes its label; `check` waits while the job
    is paused and raises `Cancelled` once it is cancelled — long steps call it between units of work (tiles,
    curve steps, batches of samples), which is also where a pause takes hold."""

    def __init__(self, on_progress: Progress | None = None, cancel: CancelToken | None = None) -> None:
        self._control = _Control(cancel)
        self._on_progress = on_progress  # the root's sink; a share reports through its parent instead
        self._parent: Task | None = None
        self._start, self._end, self._label = 0.0, 1.0, ""

    def _share(self, parent: Task | None, on_progress: Progress | None, start: float, end: float,
               label: str) -> Task:
        """Another view of this job (same control): a share of `parent`, or a root reporting to `on_progress`."""
        view = Task.__new__(Task)
        view._control, view._on_progress, view._parent = self._control, on_progress, parent
        view._start, view._end, view._label = float(start), float(end), label
        return view

    def sub(self, start: float, end: float, label: str = "") -> Task:
        """The share [start, end] of this task's progress, its messages prefixed with `label`; same cancel/pause."""
        return self._share(self, None, start, end, label)

    def reporting_to(self, on_progress: Progress) -> Task:
        """The same job (cancel, pause) reporting to `on_progress` instead: a batch's per-file progress."""
        return self._share(None, on_progress, 0.0, 1.0, "")

    def report(self, fraction: float, message: str) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self._parent is None:
            if self._on_progress is not None:
                self._on_progress(fraction, message)
            return
        share = self._start + (self._end - self._start) * fraction
        self._parent.report(share, f"{self._label}: {message}" if self._label else message)

    def check(self) -> None:
        """Wait while paused; raise Cancelled if the job was cancelled (also while paused)."""
        control = self._control
        while not control.running.is_set():
            control.token.raise_if_cancelled()
            control.running.wait(_PAUSE_POLL_S)
        control.token.raise_if_cancelled()

    @property
    def token(self) -> CancelToken:
        return self._control.token

    @property
    def cancelled(self) -> bool:
        return self._control.token.cancelled

    def cancel(self) -> None:
        self._control.token.cancel()
        self._control.running.set()  # a paused job wakes up to stop

    def pause(self) -> None:
        self._control.running.clear()

    def resume(self) -> None:
        self._control.running.set()

    @property
    def paused(self) -> bool:
        return not self._control.running.is_set()

    def wait_resumed(self, timeout: float) -> bool:
        """Block up to `timeout` seconds while paused; True once running (for loops that also watch other flags)."""
        return self._control.running.wait(timeout)

    def __repr__(self) -> str:
        return f"Task(span={self._start:g}..{self._end:g}, cancelled={self.cancelled}, paused={self.paused})"


class _NoTask(Task):
    """Reports nowhere and is never cancelled or paused: shared by every caller, so it refuses to be."""

    def cancel(self) -> None:
        raise TypeError("NO_TASK is shared and cannot be cancelled; make a Task() for a job that can be")

    def pause(self) -> None:
        raise TypeError("NO_TASK is shared and cannot be paused; make a Task() for a job that can be")

    def sub(self, start: float, end: float, label: str = "") -> Task:
        return self  # nothing to report, so a share is the same no-op

    def reporting_to(self, on_progress: Progress) -> Task:
        return Task(on_progress)  # a fresh job of its own: the shared no-op must stay uncancellable


NO_TASK: Task = _NoTask()
