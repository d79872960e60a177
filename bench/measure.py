"""Measuring helpers shared by the benchmarks: medians of repeated runs, child processes with their own peak memory,
photo-like test pixels, and Markdown tables.

Peak memory of a child: Linux's ru_maxrss is no good for it. `RUSAGE_CHILDREN` gives the largest peak of *all*
children so far, and even one child's own ru_maxrss (from `os.wait4`) starts at the *parent's* high-water mark,
carried through fork and exec (a 10 MB child of a 400 MB parent reports 400 MB; tests/bench/test_measure.py shows it).
So each child reports VmHWM from /proc/self/status — the high-water mark of the memory map its exec created — and
ru_maxrss from wait4 is only the fallback for a child that died before reporting.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20


@dataclass
class Timing:
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def runs(self) -> int:
        return len(self.times)


def repeat(work: Callable[[], object], runs: int, budget_s: float = float("inf")) -> Timing:
    """Runs `work` up to `runs` times; stops early (after at least one) once another run would pass `budget_s`.

    Big images take long enough that one run's noise is small next to it; the row says how many runs it got.
    """
    timing = Timing()
    spent = 0.0
    while timing.runs < runs:
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
        timing.times.append(elapsed)
        spent += elapsed
        if spent + elapsed > budget_s:
            break
    return timing


def rss_now() -> int:
    """This process's resident memory now, in bytes (Linux; 0 elsewhere)."""
    return _status_kib("VmRSS") * 1024


def _status_kib(field: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_self() -> int:
    """This process's peak resident memory since it started (exec), in bytes."""
    hwm = _status_kib("VmHWM")
    if hwm:
        return hwm * 1024
    import resource  # not Linux: ru_maxrss is the best there is (bytes on macOS, but no /proc either)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class ChildResult:
    returncode: int
    result: dict  # the JSON object the child printed last on stdout ({} when none)
    peak_rss: int  # bytes, this child alone: its VmHWM report, else wait4's ru_maxrss (which may be the parent's)
    seconds: float  # wall time, process start to exit
    stderr_tail: str


def run_child(argv: Sequence[str], env: dict[str, str] | None = None, timeout_s: float | None = None) -> ChildResult:
    """Runs `python argv...`; the child's last stdout line that parses as a JSON object is its result."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, cwd=ROOT)
    output: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=name, s=stream: output.__setitem__(n, s.read()), daemon=True)
               for name, stream in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    killer = threading.Timer(timeout_s, proc.kill) if timeout_s else None
    if killer:
        killer.start()
    # wait4 rather than Popen.wait: it hands back this child's own rusage, its peak RSS included.
    _, status, usage = os.wait4(proc.pid, 0)
    if killer:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    for reader in readers:
        reader.join()
    seconds = time.perf_counter() - started
    stdout, stderr = output.get("out", ""), output.get("err", "")
    if proc.returncode in (-9, 137) and timeout_s and seconds >= timeout_s:
        stderr += f"\n(killed after {timeout_s:.0f} s)"
    result: dict = {}
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    peak = int(result.get("peak_rss", 0)) or usage.ru_maxrss * 1024
    return ChildResult(proc.returncode, result, peak, seconds,
                       "\n".join(stderr.strip().splitlines()[-6:]))


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth shapes plus fine noise in [0, 1]: a conv net's speed does not depend on content; this keeps values sane."""
    y = np.arange(height, dtype=np.float32)[:, None, None]
    x = np.arange(width, dtype=np.float32)[None, :, None]
    tint = np.array([1.0, 0.8, 0.6], np.float32)
    out = 0.5 + 0.25 * np.sin(x / 37) * np.cos(y / 23) * tint
    out = out + np.random.default_rng(seed).normal(0, 0.02, (height, width, 3)).astype(np.float32)
    return np.clip(out, 0, 1).astype(np.float32)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> list[str]:
    """`align`: one character per column, 'l' or 'r' (default: left)."""
    align = align or "l" * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def emit(result: dict) -> None:
    """What a child prints last: one JSON line (the parent reads the last line that parses)."""
    result.setdefault("peak_rss", peak_rss_self())
    print(json.dumps(result), flush=True)
