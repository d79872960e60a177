"""The CPU's theoretical fp32 peak: cores × clock × FLOPs per cycle, from /proc/cpuinfo (and lscpu for the clock).

FLOPs per cycle per core come from the widest vector unit the flags announce, assuming two vector FMA units per core
(true of every AMD Zen and Intel Core/Xeon Gold-or-better core of the last decade; one-FMA AVX-512 parts such as
some Xeon Silver/Bronze reach half):
- avx512f: 16 fp32 lanes × 2 (multiply + add) × 2 units = 64
- avx2 + fma: 8 lanes × 2 × 2 units = 32
- avx without fma: 8-lane multiply and 8-lane add per cycle = 16
- sse2: 4-lane multiply and 4-lane add = 8

bf16 and int8 have their own units, so each precision has its own peak (`CpuPeak.for_precision`):
- amx_bf16: one AMX tile unit per core, 1024 bf16 FLOPs per cycle (16×32 · 32×16 TDPBF16PS per 16 cycles);
  avx512_bf16 without AMX: VDPBF16PS, 32 bf16 pairs × 2 FLOPs × 2 units = 128
- amx_int8: 2048 int8 ops per cycle; avx512_vnni: VPDPBUSD, 64 int8 MACs × 2 × 2 units = 256; avx_vnni (256-bit) 128
Those are Intel's published per-core rates for Sapphire Rapids; sustained AMX clocks are lower than the AVX clock.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuPeak:
    model: str
    cores: int  # logical CPUs this process may use
    threads_per_core: int
    mhz: float
    clock_source: str
    vector: str
    flops_per_cycle: int
    flags: frozenset[str] = frozenset()

    @property
    def gflops(self) -> float:
        return self.cores * self.mhz * 1e-3 * self.flops_per_cycle

    def for_precision(self, precision: str) -> tuple[str, int, float]:
        """(units, FLOPs per cycle per core, GFLOP/s) of the units a precision runs on here."""
        units, per_cycle = precision_unit(self.flags, precision) or (self.vector, self.flops_per_cycle)
        return units, per_cycle, self.cores * self.mhz * 1e-3 * per_cycle

    def formula(self) -> str:
        return (f"{self.cores} cores × {self.mhz / 1000:.2f} GHz × {self.flops_per_cycle} FLOPs/cycle "
                f"({self.vector}) = {self.gflops:.0f} GFLOP/s")


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def vector_unit(flags: set[str]) -> tuple[str, int]:
    if "avx512f" in flags:
        return "AVX-512 + FMA, 2 FMA units assumed", 64
    if "avx2" in flags and "fma" in flags:
        return "AVX2 + FMA, 2 FMA units assumed", 32
    if "avx" in flags:
        return "AVX, no FMA: 1 multiply + 1 add per cycle", 16
    return "SSE2: 1 multiply + 1 add per cycle", 8


def precision_unit(flags: set[str] | frozenset[str], precision: str) -> tuple[str, int] | None:
    """The bf16 or int8 units the flags announce, or None (fp32, or a CPU without them: the vector unit)."""
    if precision == "bf16":
        if "amx_bf16" in flags:
            return "AMX-BF16 tiles", 1024
        if "avx512_bf16" in flags:
            return "AVX512-BF16 (VDPBF16PS), 2 units assumed", 128
    if precision == "int8":
        if "amx_int8" in flags:
            return "AMX-INT8 tiles", 2048
        if "avx512_vnni" in flags:
            return "AVX512-VNNI (VPDPBUSD), 2 units assumed", 256
        if "avx_vnni" in flags:
            return "AVX-VNNI (256-bit), 2 units assumed", 128
    return None


def clock_mhz(cpuinfo: str, lscpu: str) -> tuple[float, str]:
    """The highest clock known: lscpu's 'CPU max MHz' when the (virtual) machine tells it, else /proc/cpuinfo's
    'cpu MHz' (under a hypervisor usually the nominal clock, so the peak may be understated by the turbo)."""
    match = re.search(r"CPU max MHz:\s*([\d.]+)", lscpu)
    if match and float(match.group(1)) > 0:
        return float(match.group(1)), "lscpu 'CPU max MHz'"
    values = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.M)]
    if values:
        return max(values), "/proc/cpuinfo 'cpu MHz' (no max clock reported: turbo not counted)"
    return float("nan"), "unknown"


def cpu_peak(cores: int | None = None) -> CpuPeak:
    info, lscpu = _cpuinfo(), _lscpu()
    flags_line = re.search(r"^flags\s*:\s*(.*)$", info, re.M)
    flags = set(flags_line.group(1).split()) if flags_line else set()
    model = re.search(r"^model name\s*:\s*(.*)$", info, re.M)
    threads = re.search(r"Thread\(s\) per core:\s*(\d+)", lscpu)
    mhz, source = clock_mhz(info, lscpu)
    vector, per_cycle = vector_unit(flags)
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
    return CpuPeak(model.group(1).strip() if model else "unknown CPU", cores, int(threads.group(1)) if threads else 1,
                   mhz, source, vector, per_cycle, frozenset(flags))
