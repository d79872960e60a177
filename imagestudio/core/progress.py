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
    """What every share of one job has in common: its cancel token, its pause state and where progress goes."""

    def __init__(self, on_progress: Progress | None, cancel: CancelToken | None) -> None:
        self.on_progress = on_progress
        self.token = cancel if cancel is not None else CancelToken()
        self.running = threading.Event()
        self.running.set()


class Task:
    """Progress, cancel and pause of one job, or of a share of it (`sub`).

    `report` maps the share's own 0..1 into its span of the job and prefixes its label; `check` waits while the job
    is paused and raises `Cancelled` once it is cancelled — long steps call it between units of work (tiles,
    curve steps, batches of samples), which is also where a pause takes hold."""

    def __init__(self, on_progress: Progress | None = None, cancel: CancelToken | None = None) -> None:
        self._control = _Control(on_progress, cancel)
        self._parent: Task | None = None
        self._start, self._end, self._label = 0.0, 1.0, ""

    def sub(self, start: float, end: float, label: str = "") -> Task:
        """The share [start, end] of this task's progress, its messages prefixed with `label`; same cancel/pause."""
        child = Task.__new__(Task)
        child._control = self._control
        child._parent = self
        child._start, child._end, child._label = float(start), float(end), label
        return child

    def reporting_to(self, on_progress: Progress) -> Task:
        """The same job (cancel, pause) reporting to `on_progress` instead: a batch's per-file progress."""
        other = Task.__new__(Task)
        other._control = _Control.__new__(_Control)
        other._control.__dict__.update(self._control.__dict__, on_progress=on_progress)
        other._control.running = self._control.running  # shared, not copied: pausing one pauses both
        other._parent, other._start, other._end, other._label = None, 0.0, 1.0, ""
        return other

    def report(self, fraction: float, message: str) -> None:
        if self._parent is None:
            if self._control.on_progress is not None:
                self._control.on_progress(min(max(float(fraction), 0.0), 1.0), message)
            return
        share = self._start + (self._end - self._start) * min(max(float(fraction), 0.0), 1.0)
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
