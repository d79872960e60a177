"""The CPU peak formula's parts: vector width from the flags, clock from lscpu or /proc/cpuinfo."""

from __future__ import annotations

from cpu_peak import CpuPeak, clock_mhz, narrow_units, precision_unit, vector_unit


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


def test_each_precision_has_the_peak_of_its_own_units() -> None:
    amx = frozenset({"avx512f", "avx2", "fma", "avx512_bf16", "amx_bf16", "amx_int8", "avx512_vnni"})
    peak = CpuPeak("x", cores=2, threads_per_core=1, mhz=2000.0, clock_source="", vector="AVX-512",
                   flops_per_cycle=64, flags=amx)
    assert peak.for_precision("fp32")[1:] == (64, 2 * 2.0 * 64)
    assert peak.for_precision("bf16")[:2] == ("AMX-BF16 tiles", 1024)
    assert peak.for_precision("int8")[:2] == ("AMX-INT8 tiles", 2048)
    assert precision_unit({"avx512_bf16"}, "bf16")[1] == 128
    assert precision_unit({"avx512_vnni"}, "int8")[1] == 256
    assert precision_unit({"avx_vnni"}, "int8")[1] == 128
    # An AVX2 laptop: no bf16 or int8 units, so those precisions only have the fp32 vector peak.
    laptop = CpuPeak("y", cores=4, threads_per_core=2, mhz=3000.0, clock_source="", vector="AVX2", flops_per_cycle=32,
                     flags=frozenset({"avx2", "fma"}))
    assert precision_unit(laptop.flags, "bf16") is None
    assert laptop.for_precision("bf16")[1] == 32


def _cpuinfo(vendor: str, family: int, model: int) -> str:
    return f"vendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n"


def test_half_width_amd_cores_get_half_the_rates() -> None:
    avx512 = frozenset({"avx512f", "avx2", "fma", "avx512_bf16", "avx512_vnni"})
    # Zen 5 server/desktop (this machine: family 26, model 2) runs AVX-512 at full width; Zen 4 does not.
    assert narrow_units(_cpuinfo("AuthenticAMD", 26, 2), avx512) == ""
    assert "Zen 4" in narrow_units(_cpuinfo("AuthenticAMD", 25, 17), avx512)
    assert "Zen 5 mobile" in narrow_units(_cpuinfo("AuthenticAMD", 26, 0x24), avx512)
    assert "Zen 1" in narrow_units(_cpuinfo("AuthenticAMD", 23, 1), {"avx2", "fma"})
    assert narrow_units(_cpuinfo("AuthenticAMD", 23, 0x31), {"avx2", "fma"}) == ""  # Zen 2: 256-bit pipes
    assert narrow_units(_cpuinfo("GenuineIntel", 6, 143), avx512) == ""
    assert vector_unit(avx512, narrow=True)[1] == 32
    assert vector_unit({"avx2", "fma"}, narrow=True)[1] == 16
    zen4 = CpuPeak("zen4", cores=2, threads_per_core=1, mhz=2000.0, clock_source="", vector="AVX-512",
                   flops_per_cycle=32, flags=avx512, narrow="AMD Zen 4")
    assert zen4.for_precision("bf16")[1] == 64
    assert zen4.for_precision("int8")[1] == 128
