"""The rule that picks a CPU backend and precision per CPU and per model (core/runtime_choice.py)."""

from __future__ import annotations

import pytest

from imagestudio.core.cpu_features import CpuFeatures, parse_cpuinfo
from imagestudio.core.errors import DeviceError
from imagestudio.core.runtime_choice import (
    MAX_AUTO_LOSS_DB,
    CpuChoice,
    CpuRequest,
    check_request,
    choose,
    requested,
    set_requested,
)

SAPPHIRE_RAPIDS = CpuFeatures("Intel(R) Xeon(R) Processor", frozenset(
    "fma avx avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8".split()))
ZEN4 = CpuFeatures("AMD EPYC 9R14", frozenset("fma avx avx2 avx512f avx512_vnni avx512_bf16".split()))
CASCADE_LAKE = CpuFeatures("Intel(R) Xeon(R) Gold 6248", frozenset("fma avx avx2 avx512f avx512_vnni".split()))
AVX2_LAPTOP = CpuFeatures("Intel(R) Core(TM) i5-8250U", frozenset("fma avx avx2".split()))
UNKNOWN = CpuFeatures("unknown CPU", frozenset())  # not Linux: no flags read


def _ov_ok() -> None:
    return None


def _ov_missing() -> str:
    return "OpenVINO is not installed (pip install openvino)"


def _pick(cpu: CpuFeatures, backend: str = "auto", precision: str = "auto", losses: dict | None = None,
          int8: bool = False, openvino=_ov_ok) -> CpuChoice:
    return choose(CpuRequest(backend, precision), cpu, {"bf16": 0.01} if losses is None else losses, int8, openvino)


@pytest.mark.parametrize("cpu", [SAPPHIRE_RAPIDS, ZEN4])
def test_auto_picks_openvino_bf16_on_cpus_with_bf16_units_when_the_card_allows(cpu):
    assert _pick(cpu) == CpuChoice("openvino", "bf16")


@pytest.mark.parametrize("cpu", [CASCADE_LAKE, AVX2_LAPTOP, UNKNOWN])
def test_auto_is_todays_onnxruntime_fp32_path_without_bf16_units(cpu):
    asked = []
    choice = _pick(cpu, openvino=lambda: asked.append(1))
    assert choice == CpuChoice("onnxruntime", "fp32")
    assert not asked  # OpenVINO is not even loaded where it could not be picked


@pytest.mark.parametrize("losses", [{}, {"bf16": MAX_AUTO_LOSS_DB + 0.001}, {"bf16": float("nan")}])
def test_auto_keeps_fp32_when_the_card_has_no_loss_or_too_much(losses):
    assert _pick(SAPPHIRE_RAPIDS, losses=losses) == CpuChoice("onnxruntime", "fp32")


def test_auto_accepts_exactly_the_threshold():
    assert _pick(SAPPHIRE_RAPIDS, losses={"bf16": MAX_AUTO_LOSS_DB}).precision == "bf16"


def test_auto_without_openvino_falls_back_to_onnxruntime_fp32_silently():
    assert _pick(SAPPHIRE_RAPIDS, openvino=_ov_missing) == CpuChoice("onnxruntime", "fp32")


def test_int8_needs_a_file_vnni_and_a_small_loss():
    losses = {"int8": 0.02}
    assert _pick(CASCADE_LAKE, losses=losses, int8=True) == CpuChoice("openvino", "int8")
    assert _pick(CASCADE_LAKE, losses=losses, int8=False).precision == "fp32"
    assert _pick(AVX2_LAPTOP, losses=losses, int8=True).precision == "fp32"
    assert _pick(CASCADE_LAKE, losses={"int8": 0.2}, int8=True).precision == "fp32"
    assert _pick(CASCADE_LAKE, losses=losses, int8=True, openvino=_ov_missing) == CpuChoice("onnxruntime", "int8")


def test_explicit_bf16_on_a_cpu_without_bf16_units_runs_fp32_and_says_why():
    choice = _pick(AVX2_LAPTOP, precision="bf16")
    assert choice.precision == "fp32" and "no bf16 units" in choice.notice and "AVX2" in choice.notice


def test_explicit_bf16_ignores_the_cards_loss():
    assert _pick(SAPPHIRE_RAPIDS, precision="bf16", losses={}) == CpuChoice("openvino", "bf16")


def test_explicit_int8_without_a_variant_runs_fp32_and_says_why():
    choice = _pick(SAPPHIRE_RAPIDS, precision="int8")
    assert choice.precision == "fp32" and "no int8 variant" in choice.notice


def test_explicit_fp32_and_backends():
    assert _pick(SAPPHIRE_RAPIDS, precision="fp32") == CpuChoice("onnxruntime", "fp32")
    assert _pick(SAPPHIRE_RAPIDS, backend="openvino", precision="fp32") == CpuChoice("openvino", "fp32")
    assert _pick(SAPPHIRE_RAPIDS, backend="openvino") == CpuChoice("openvino", "bf16")
    assert _pick(AVX2_LAPTOP, backend="openvino") == CpuChoice("openvino", "fp32")
    assert _pick(SAPPHIRE_RAPIDS, backend="onnxruntime") == CpuChoice("onnxruntime", "fp32")


def test_an_explicit_openvino_backend_that_is_missing_is_refused_in_one_line():
    with pytest.raises(DeviceError, match="OpenVINO backend was requested but OpenVINO is not installed"):
        _pick(SAPPHIRE_RAPIDS, backend="openvino", openvino=_ov_missing)


@pytest.mark.parametrize(("backend", "precision", "device", "message"), [
    ("onnxruntime", "bf16", "auto", "onnxruntime has no bf16 path"),
    ("openvino", "auto", "cuda", "OpenVINO runs models on the CPU"),
    ("tensorrt", "auto", "auto", "unknown backend 'tensorrt'"),
    ("auto", "fp8", "auto", "unknown precision 'fp8'"),
])
def test_contradictions_and_unknown_names_are_refused(backend, precision, device, message):
    with pytest.raises(DeviceError, match=message):
        check_request(backend, precision, device)


def test_the_request_lives_in_the_environment(monkeypatch):
    assert requested() == CpuRequest("auto", "auto")
    set_requested("openvino", "fp32")
    assert requested() == CpuRequest("openvino", "fp32")
    monkeypatch.setenv("IMAGESTUDIO_PRECISION", "fp64")
    with pytest.raises(DeviceError, match="IMAGESTUDIO_BACKEND/IMAGESTUDIO_PRECISION: unknown precision 'fp64'"):
        requested()


def test_cpuinfo_flags_and_name_are_read():
    text = "processor\t: 0\nmodel name\t: Intel(R)   Xeon(R) Processor\nflags\t\t: fpu avx2 fma amx_bf16 amx_tile\n" \
           "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n"
    cpu = parse_cpuinfo(text)
    assert cpu.name == "Intel(R) Xeon(R) Processor" and cpu.has_bf16 and cpu.has_amx and not cpu.has_vnni
    assert cpu.units() == "AVX2 + FMA + AMX-BF16"
    assert not parse_cpuinfo("").has_bf16
