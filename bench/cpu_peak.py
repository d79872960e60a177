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

Some AMD cores run 512-bit (or 256-bit) instructions through half-width pipes, at half those rates (`narrow_units`):
Zen 1/Zen+ (family 23, models below 0x30: 128-bit FMA pipes), Zen 4 (family 25 with AVX-512: two 256-bit halves per
instruction) and the mobile Zen 5 parts (family 26, models 0x20–0x2F and 0x60–0x7F). Server and desktop Zen 5 run
AVX-512 at full width: on the AMD EPYC (family 26, model 2) of 2026-12-02 a one-core loop of independent
instructions, timed in CPU time against a dependent integer-add chain (one per cycle), retired 2.0 zmm FMAs,
1.9 VDPBF16PS and 1.5–2.0 VPDPBUSD per cycle (bench/unit_rates.c): 64, 128 and 256 ops per cycle, as assumed
above.
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
    narrow: str = ""  # why this core's vector pipes run at half the rates above ("" when they do not)

    @property
    def gflops(self) -> float:
        return self.cores * self.mhz * 1e-3 * self.flops_per_cycle

    def for_precision(self, precision: str) -> tuple[str, int, float]:
        """(units, FLOPs per cycle per core, GFLOP/s) of the units a precision runs on here."""
        units, per_cycle = precision_unit(self.flags, precision, bool(self.narrow)) or (self.vector,
                                                                                         self.flops_per_cycle)
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


def vector_unit(flags: set[str] | frozenset[str], narrow: bool = False) -> tuple[str, int]:
    """(the widest fp32 unit, FLOPs per cycle per core); `narrow`: half-width pipes (narrow_units)."""
    half = ", half-width pipes" if narrow else ""
    if "avx512f" in flags:
        return f"AVX-512 + FMA, 2 FMA units assumed{half}", 32 if narrow else 64
    if "avx2" in flags and "fma" in flags:
        return f"AVX2 + FMA, 2 FMA units assumed{half}", 16 if narrow else 32
    if "avx" in flags:
        return "AVX, no FMA: 1 multiply + 1 add per cycle", 16
    return "SSE2: 1 multiply + 1 add per cycle", 8


def precision_unit(flags: set[str] | frozenset[str], precision: str,
                   narrow: bool = False) -> tuple[str, int] | None:
    """The bf16 or int8 units the flags announce, or None (fp32, or a CPU without them: the vector unit)."""
    half, divide = (", half-width pipes", 2) if narrow else ("", 1)
    if precision == "bf16":
        if "amx_bf16" in flags:
            return "AMX-BF16 tiles", 1024
        if "avx512_bf16" in flags:
            return f"AVX512-BF16 (VDPBF16PS), 2 units assumed{half}", 128 // divide
    if precision == "int8":
        if "amx_int8" in flags:
            return "AMX-INT8 tiles", 2048
        if "avx512_vnni" in flags:
            return f"AVX512-VNNI (VPDPBUSD), 2 units assumed{half}", 256 // divide
        if "avx_vnni" in flags:
            return "AVX-VNNI (256-bit), 2 units assumed", 128
    return None


def narrow_units(cpuinfo: str, flags: set[str] | frozenset[str]) -> str:
    """Why this CPU's widest instructions run at half rate (AMD cores with half-width pipes), or ""."""
    if "AuthenticAMD" not in cpuinfo:
        return ""
    family = re.search(r"^cpu family\s*:\s*(\d+)", cpuinfo, re.M)
    model = re.search(r"^model\s*:\s*(\d+)", cpuinfo, re.M)
    if not family or not model:
        return ""
    family_id, model_id = int(family.group(1)), int(model.group(1))
    if family_id == 23 and model_id < 0x30:
        return "AMD Zen 1/Zen+: 128-bit FMA pipes"
    if family_id == 25 and "avx512f" in flags:
        return "AMD Zen 4: AVX-512 as two 256-bit halves"
    if family_id == 26 and (0x20 <= model_id <= 0x2F or 0x60 <= model_id <= 0x7F):
        return "AMD Zen 5 mobile: AVX-512 as two 256-bit halves"
    return ""


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
    narrow = narrow_units(info, flags)
    vector, per_cycle = vector_unit(flags, bool(narrow))
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
    return CpuPeak(model.group(1).strip() if model else "unknown CPU", cores, int(threads.group(1)) if threads else 1,
                   mhz, source, vector, per_cycle, frozenset(flags), narrow)
