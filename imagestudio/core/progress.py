"""Progress reporting and cancellation for long operations: plain Python, usable from any thread, no Qt."""

from __future__ import annotations

import threading
from collections.abc import Callable

from imagestudio.core.errors import Cancelled

# progress(fraction, message): fraction in [0, 1], message a few words ("Upscaling tile 3 of 12").
Progress = Callable[[float, str], None]


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
