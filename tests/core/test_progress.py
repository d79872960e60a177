"""CancelToken, the Progress callback type and Task: plain Python, safe across threads."""

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


# --- Task: the one object that carries progress, cancel and pause through the core --------------------------------

from imagestudio.core.progress import NO_TASK, Task  # noqa: E402


def test_sub_tasks_map_their_share_and_prefix_their_label() -> None:
    reports: list[tuple[float, str]] = []
    task = Task(lambda fraction, message: reports.append((fraction, message)))
    step = task.sub(0.5, 1.0, "Upscale")
    step.sub(0.0, 0.5, "pass 1").report(0.5, "tile 1 of 2")
    step.report(2.0, "done")  # clamped to the share's end
    task.report(-1.0, "start")  # and to [0, 1] at the top
    assert reports == [(0.625, "Upscale: pass 1: tile 1 of 2"), (1.0, "Upscale: done"), (0.0, "start")]


def test_a_cancel_anywhere_stops_every_share() -> None:
    task = Task()
    share = task.sub(0.2, 0.4, "Denoise")
    share.check()
    share.cancel()
    assert task.cancelled and task.token.cancelled
    with pytest.raises(Cancelled):
        task.check()


def test_check_waits_while_paused_and_goes_on_when_resumed() -> None:
    task = Task()
    passed = threading.Event()

    def worker() -> None:
        task.sub(0.0, 0.5).check()
        passed.set()

    task.pause()
    thread = threading.Thread(target=worker)
    thread.start()
    assert not passed.wait(0.3), "a paused task must hold the worker at its next check"
    assert task.paused
    task.resume()
    assert passed.wait(5)
    thread.join(5)


def test_cancel_while_paused_wakes_the_worker_with_cancelled() -> None:
    task = Task()
    outcome: list[str] = []
    task.pause()

    def worker() -> None:
        try:
            task.check()
            outcome.append("went on")
        except Cancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=worker)
    thread.start()
    threading.Timer(0.2, task.cancel).start()
    thread.join(5)
    assert outcome == ["cancelled"] and not task.paused


def test_reporting_elsewhere_keeps_the_same_cancel_and_pause() -> None:
    task = Task(lambda fraction, message: None)
    seen: list[str] = []
    per_file = task.reporting_to(lambda fraction, message: seen.append(message))
    per_file.report(0.5, "tile 1 of 2")
    task.pause()
    assert per_file.paused and not per_file.wait_resumed(0.01)
    task.cancel()
    assert per_file.cancelled and seen == ["tile 1 of 2"]


def test_the_shared_no_op_task_reports_nowhere_and_refuses_to_be_stopped() -> None:
    NO_TASK.report(0.5, "ignored")
    NO_TASK.sub(0.0, 0.5, "x").check()
    with pytest.raises(TypeError):
        NO_TASK.cancel()
    with pytest.raises(TypeError):
        NO_TASK.sub(0.1, 0.2).pause()
    assert not NO_TASK.cancelled and not NO_TASK.paused
