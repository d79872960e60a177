"""What machine a benchmark ran on: cores, CPU model, date — printed with every table."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def describe() -> str:
    return (f"{time.strftime('%Y-%m-%d')}, {cpu_model()}, {os.cpu_count()} logical cores, "
            f"Python {platform.python_version()}, {platform.system()} {platform.machine()}")


def _other_training_jobs() -> int:
    """Processes running `python -m training ...` (this project's training jobs), which take cores from a bench."""
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-m" in argv and b"training" in argv:
            count += 1
    return count


def load_note() -> str:
    """One sentence on what else ran: a loaded machine makes every figure slower, ours and the peers' alike."""
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    jobs = _other_training_jobs()
    if load < 0.5 * cores and not jobs:
        return f"The machine was otherwise idle (1-minute load average {load:.1f} on {cores} cores at the start)."
    busy = f"; {jobs} training process{'es' if jobs != 1 else ''} running" if jobs else ""
    return (f"**The machine was loaded** (1-minute load average {load:.1f} on {cores} cores at the start{busy}): "
            "absolute figures are slower than on an idle machine; ratios between rows measured alike hold better.")
