"""What this CPU can do fast, read once from /proc/cpuinfo: the precision choice in core/runtime.py rests on it.

The development machines and users' desktops range from AVX2 laptops to AMX workstations, so nothing is assumed at
build time. bf16 counts only where the hardware has bf16 units (AMX-BF16 tiles or AVX512-BF16 dot products): on
other CPUs OpenVINO emulates bf16 and runs slower than fp32. VNNI (AVX512-VNNI, AVX-VNNI, AMX-INT8) is what makes
int8 convolutions pay.
"""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass

_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
_VNNI_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")


@dataclass(frozen=True)
class CpuFeatures:
    name: str  # "Intel(R) Xeon(R) Platinum 8480+", or platform.processor() where /proc/cpuinfo is absent
    flags: frozenset[str]

    @property
    def has_bf16(self) -> bool:
        return any(flag in self.flags for flag in _BF16_FLAGS)

    @property
    def has_vnni(self) -> bool:
        return any(flag in self.flags for flag in _VNNI_FLAGS)

    @property
    def has_amx(self) -> bool:
        return "amx_tile" in self.flags

    def units(self) -> str:
        """The widest units, in words: 'AVX-512 + AMX-BF16 + AMX-INT8', 'AVX2 + FMA'."""
        words = []
        if "avx512f" in self.flags:
            words.append("AVX-512")
        elif "avx2" in self.flags:
            words.append("AVX2" + (" + FMA" if "fma" in self.flags else ""))
        words += [label for flag, label in (("avx512_bf16", "AVX512-BF16"), ("avx512_vnni", "AVX512-VNNI"),
                                            ("avx_vnni", "AVX-VNNI"), ("amx_bf16", "AMX-BF16"),
                                            ("amx_int8", "AMX-INT8")) if flag in self.flags]
        return " + ".join(words) or "no AVX2"


def parse_cpuinfo(text: str) -> CpuFeatures:
    """The first processor's model name and flags (x86 'flags', Arm 'Features')."""
    name, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and not name:
            name = " ".join(value.split())
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
        if name and flags:
            break
    return CpuFeatures(name or platform.processor() or platform.machine() or "unknown CPU", flags)


@functools.cache
def cpu_features() -> CpuFeatures:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:  # not Linux: no flags known, so no bf16 or int8 is ever assumed
        text = ""
    return parse_cpuinfo(text)
