"""What the CLI shows on the terminal and how it reacts to signals: the progress bar, the core's notices as one
line each, Ctrl-C (cancel at the next tile) and SIGTERM/SIGHUP (stop at once, cleaning up)."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from imagestudio.core.progress import Task

PROG = "imagestudio"
EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130  # the shell's convention for "stopped by SIGINT"
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived. A BaseException, like KeyboardInterrupt, so that no `except Exception` turns it
    into an ordinary error: it unwinds every `finally` (a save in progress removes its temporary file) up to main."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class ProgressBar:
    """A plain-text bar on stderr: redrawn in place on a terminal, a line per tenth when piped to a log."""

    def __init__(self, label: str, stream: TextIO, enabled: bool = True) -> None:
        self.label, self.stream, self.enabled = label, stream, enabled
        self.live = enabled and stream.isatty()
        self._last_draw = 0.0
        self._last_tenth = -1
        self._drawn = False

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        percent = int(round(100 * min(max(fraction, 0.0), 1.0)))
        if self.live:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and fraction < 1.0:
                return
            self._last_draw = now
            filled = percent * 30 // 100
            line = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {message}"
            width = _terminal_width(self.stream)
            self.stream.write("\r" + line[: width - 1].ljust(width - 1))
            self._drawn = True
        elif percent // 10 > self._last_tenth:
            self._last_tenth = percent // 10
            self.stream.write(f"{self.label}: {percent}% {message}\n")
        self.stream.flush()

    def clear(self) -> None:
        """Ends the bar's line so that other output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 80


class NoticeHandler(logging.Handler):
    """Shows the core's warnings (CUDA fallback, out-of-memory retries) as `imagestudio: ...` lines."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.WARNING)
        self.stream = stream
        self.bar: ProgressBar | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.bar is not None:
            self.bar.clear()
        self.stream.write(f"{PROG}: {one_line(record.getMessage())}\n")
        self.stream.flush()

    def finish_line(self) -> None:
        """Ends a progress bar's line before a closing message."""
        if self.bar is not None:
            self.bar.clear()


@contextmanager
def cancel_on_sigint(task: Task) -> Iterator[None]:
    """First Ctrl-C asks the work to stop at the next tile; a second one interrupts at once. SIGTERM and SIGHUP
    cancel the work and interrupt at once (raising Terminated), so that a save in progress cleans up after itself;
    the default action would kill the process and leave the save's temporary file behind."""

    def on_interrupt(signum: int, frame: object) -> None:
        task.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_terminate(signum: int, frame: object) -> None:
        task.cancel()
        raise Terminated(signum)

    previous = {signal.SIGINT: signal.signal(signal.SIGINT, on_interrupt)}
    for signum in _STOP_SIGNALS:
        previous[signum] = signal.signal(signum, on_terminate)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def one_line(exc: BaseException | str) -> str:
    """One line for the terminal: whitespace runs collapsed, other control characters (an escape sequence in a
    model's name, say) shown escaped, never sent to the terminal."""
    text = " ".join(str(exc).split()) or (type(exc).__name__ if isinstance(exc, BaseException) else "")
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
