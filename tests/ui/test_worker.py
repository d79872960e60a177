"""The worker bridge: signal order, results, errors and cancellation, across a real thread pool."""

from __future__ import annotations

import threading

import pytest

from imagestudio.core.errors import Cancelled, ImageLoadError
from imagestudio.ui.worker import Job, JobRunner


@pytest.fixture
def runner(qtbot) -> JobRunner:
    runner = JobRunner()
    yield runner
    runner.cancel_all()
    runner.wait()


def test_progress_then_result_then_done_in_order(qtbot, runner):
    def work(task):
        task.report(0.5, "half")
        return 42

    job = Job("answer", work)
    results = []
    job.succeeded.connect(results.append)
    with qtbot.waitSignals([job.progressed, job.succeeded, job.done], order="strict", timeout=5000):
        runner.submit(job)
    assert results == [42]
    qtbot.waitUntil(lambda: not runner.busy)


def test_a_user_error_becomes_failed_with_its_message(qtbot, runner):
    def work(task):
        raise ImageLoadError("'x.png' is not an image")

    job = Job("load", work)
    failures = []
    job.failed.connect(lambda error, details: failures.append((error, details)))
    with qtbot.waitSignals([job.failed, job.done], order="strict", timeout=5000):
        runner.submit(job)
    [(error, details)] = failures
    assert isinstance(error, ImageLoadError) and "not an image" in str(error)
    assert "Traceback" in details


def test_cancel_stops_at_the_next_check_and_reports_cancelled(qtbot, runner):
    started = threading.Event()

    def work(task):
        started.set()
        while True:  # a long loop that checks the token between units of work, as the core does per tile
            task.check()
            threading.Event().wait(0.005)

    job = Job("forever", work)
    succeeded = []
    job.succeeded.connect(succeeded.append)
    with qtbot.waitSignals([job.cancelled, job.done], order="strict", timeout=5000):
        runner.submit(job)
        assert started.wait(5)
        job.cancel()
    assert not succeeded


def test_a_result_that_arrives_after_cancel_is_dropped(qtbot, runner):
    def work(task):
        task.cancel()  # as if the user pressed Cancel just after the last check
        return "late"

    job = Job("late", work)
    with qtbot.waitSignals([job.cancelled, job.done], order="strict", timeout=5000):
        runner.submit(job)


def test_busy_is_reported_once_per_burst(qtbot, runner):
    changes = []
    runner.busy_changed.connect(changes.append)
    gate = threading.Event()
    jobs = [Job(f"j{i}", lambda task: gate.wait(5)) for i in range(2)]
    for job in jobs:
        runner.submit(job)
    assert runner.busy
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert changes == [True, False]


def test_cancelled_is_a_user_error_type():
    assert issubclass(Cancelled, Exception)


def test_call_when_idle_waits_for_the_running_job_and_keeps_order(qtbot, runner):
    release = threading.Event()
    calls: list[str] = []
    runner.start("long", lambda task: release.wait(5))
    runner.call_when_idle(lambda: calls.append(f"first, busy={runner.busy}"))
    runner.call_when_idle(lambda: calls.append("second"))
    qtbot.wait(50)
    assert calls == [] and runner.queued == 2, "nothing runs while the job does"
    release.set()
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=5000)
    assert calls == ["first, busy=False", "second"] and runner.queued == 0


def test_a_queued_call_that_starts_a_job_holds_the_next_one(qtbot, runner):
    calls: list[str] = []
    release = threading.Event()

    def start_another() -> None:
        calls.append("start")
        runner.start("second job", lambda task: release.wait(5))

    runner.call_when_idle(start_another)  # idle now: runs on the next turn of the event loop
    runner.call_when_idle(lambda: calls.append("after the second job"))
    qtbot.waitUntil(lambda: calls == ["start"], timeout=5000)
    qtbot.wait(50)
    assert calls == ["start"] and runner.busy
    release.set()
    qtbot.waitUntil(lambda: calls == ["start", "after the second job"], timeout=5000)
