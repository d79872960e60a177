"""Measuring helpers: each child's peak memory is its own, and repeats stop at the budget (no timed assertions)."""

from __future__ import annotations

from pathlib import Path

from measure import MIB, repeat, run_child
from speed_worker import input_size

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _child(megabytes: int) -> str:
    return (f"import sys; sys.path.insert(0, {str(BENCH)!r}); from measure import emit; "
            f"b = b'1' * ({megabytes} * 2**20); emit({{'ok': 1}})")


def test_each_child_reports_its_own_peak_memory() -> None:
    ballast = b"1" * (300 * MIB)  # a fat parent: ru_maxrss would hand its high-water mark to every child
    big = run_child(["-c", _child(250)])
    small = run_child(["-c", _child(0)])
    assert big.returncode == 0 and big.result["ok"] == 1
    assert big.peak_rss > 250 * MIB
    assert small.peak_rss < 150 * MIB < len(ballast)  # its own peak, not the parent's or the largest child's


def test_a_failing_child_keeps_its_error() -> None:
    child = run_child(["-c", "raise SystemExit('no model here')"])
    assert child.returncode == 1 and child.result == {} and "no model here" in child.stderr_tail


def test_repeat_runs_at_least_once_and_at_most_runs() -> None:
    assert repeat(lambda: None, runs=4).runs == 4
    assert repeat(lambda: None, runs=4, budget_s=0.0).runs == 1


def test_input_size_gives_the_output_megapixels() -> None:
    width, height = input_size(16.0, scale=4, multiple=1)
    assert abs(width * height * 16 / 1e6 - 16.0) < 0.1
    width, height = input_size(1.0, scale=1, multiple=4)
    assert width % 4 == 0 and height % 4 == 0 and abs(width * height / 1e6 - 1.0) < 0.01
