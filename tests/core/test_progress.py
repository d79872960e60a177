"""CancelToken and the Progress callback type: plain Python, safe across threads."""

from __future__ import annotations

import threading

import pytest

from imagestudio.core.errors import Cancelled, ImageStudioError
from imagestudio.core.progress import CancelToken, Progress


def test_a_new_token_is_not_cancelled() -> None:
    token = CancelToken()
    assert token.cancelled is False
    token.raise_if_cancelled()  # does nothing


def test_cancel_is_sticky_and_raises_cancelled() -> None:
    token = CancelToken()
    token.cancel()
    token.cancel()  # cancelling twice is harmless
    assert token.cancelled is True
    with pytest.raises(Cancelled, match="Cancelled"):
        token.raise_if_cancelled()
    assert issubclass(Cancelled, ImageStudioError)
    assert "cancelled=True" in repr(token)


def test_cancel_from_another_thread_stops_a_worker_between_units() -> None:
    token = CancelToken()
    started, finished = threading.Event(), threading.Event()
    outcome: list[str] = []
    reports: list[tuple[float, str]] = []
    report: Progress = lambda fraction, message: reports.append((fraction, message))  # noqa: E731

    def worker() -> None:
        try:
            for unit in range(1_000_000):
                token.raise_if_cancelled()
                report(unit / 1_000_000, f"unit {unit}")
                started.set()
            outcome.append("ran to the end")
        except Cancelled:
            outcome.append("cancelled")
        finally:
            finished.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(5)
    token.cancel()
    assert finished.wait(5)
    thread.join(5)
    assert outcome == ["cancelled"]
    assert reports and all(0.0 <= fraction < 1.0 for fraction, _ in reports)
