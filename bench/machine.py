"""What machine a benchmark ran on: cores, CPU model, date — printed with every table."""

from __future__ import annotations

import os
import platform
import time


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

