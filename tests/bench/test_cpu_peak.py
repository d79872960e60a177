"""The CPU peak formula's parts: vector width from the flags, clock from lscpu or /proc/cpuinfo."""

from __future__ import annotations

from cpu_peak import CpuPeak, clock_mhz, vector_unit


def test_vector_width_from_flags() -> None:
    assert vector_unit({"avx512f", "avx2", "fma"})[1] == 64
    assert vector_unit({"avx2", "fma", "avx"})[1] == 32
    assert vector_unit({"avx"})[1] == 16
    assert vector_unit({"sse2"})[1] == 8


def test_clock_prefers_the_max_clock() -> None:
    cpuinfo = "cpu MHz\t\t: 2445.4\ncpu MHz\t\t: 2500.0\n"
    assert clock_mhz(cpuinfo, "CPU max MHz:   3500.0000\n")[0] == 3500.0
    assert clock_mhz(cpuinfo, "")[0] == 2500.0


def test_peak_is_cores_times_clock_times_flops_per_cycle() -> None:
    peak = CpuPeak("x", cores=2, threads_per_core=1, mhz=2500.0, clock_source="", vector="", flops_per_cycle=32)
    assert peak.gflops == 2 * 2.5 * 32
