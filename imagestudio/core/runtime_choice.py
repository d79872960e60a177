"""Which CPU backend and precision a model runs with: the rule, kept apart from the sessions it picks for.

`auto` (the default) picks, per CPU and per model:
- OpenVINO bf16 where the CPU has bf16 units (AMX-BF16 or AVX512-BF16) and the model's card says its measured loss
  in bf16 is at most MAX_AUTO_LOSS_DB (measured on Sapphire Rapids: ×2–6 over onnxruntime fp32);
- int8 where the card names an int8 file beside the model (export writes one only where it measured faster), the
  card's int8 loss is within MAX_AUTO_LOSS_DB and the CPU has VNNI;
- otherwise fp32 through onnxruntime: today's path, so a CPU without bf16 (an AVX2 laptop) is never slower.
An explicit precision or backend is honoured where the hardware and files allow; where they do not, the model runs
fp32 and says why (a notice, as for a CUDA fallback). A contradiction no model can satisfy (bf16 through
onnxruntime, OpenVINO on CUDA) is refused up front.

The request is process-wide (the CLI's --backend/--precision, the GUI's setting) and lives in the environment, so
batch worker processes started from here inherit it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

from imagestudio.core.cpu_features import CpuFeatures
from imagestudio.core.errors import DeviceError

BACKENDS = ("auto", "onnxruntime", "openvino")
PRECISIONS = ("auto", "fp32", "bf16", "int8")
BACKEND_ENV = "IMAGESTUDIO_BACKEND"
PRECISION_ENV = "IMAGESTUDIO_PRECISION"
# Loss in dB of the card's fidelity protocol (export measures it) that auto accepts for a faster precision.
MAX_AUTO_LOSS_DB = 0.05


@dataclass(frozen=True)
class CpuRequest:
    backend: str = "auto"
    precision: str = "auto"


@dataclass(frozen=True)
class CpuChoice:
    backend: str  # "onnxruntime" | "openvino"
    precision: str  # "fp32" | "bf16" | "int8"
    notice: str | None = None  # set when the request could not be honoured


def check_request(backend: str, precision: str, device: str = "auto") -> CpuRequest:
    """A valid request, or DeviceError in one line naming what is allowed."""
    if backend not in BACKENDS:
        raise DeviceError(f"unknown backend {backend[:40]!r} — choose one of {', '.join(BACKENDS)}")
    if precision not in PRECISIONS:
        raise DeviceError(f"unknown precision {precision[:40]!r} — choose one of {', '.join(PRECISIONS)}")
    if backend == "onnxruntime" and precision == "bf16":
        raise DeviceError("onnxruntime has no bf16 path on the CPU; use --backend openvino (or auto) for bf16")
    if backend == "openvino" and device == "cuda":
        raise DeviceError("OpenVINO runs models on the CPU here; use --device cpu (or auto), or --backend "
                          "onnxruntime for CUDA")
    return CpuRequest(backend, precision)


def requested() -> CpuRequest:
    """The process-wide request, from the environment (a bad value there is refused, not ignored)."""
    backend = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
    precision = os.environ.get(PRECISION_ENV, "").strip().lower() or "auto"
    try:
        return check_request(backend, precision)
    except DeviceError as exc:
        raise DeviceError(f"{BACKEND_ENV}/{PRECISION_ENV}: {exc}") from None


def set_requested(backend: str = "auto", precision: str = "auto") -> CpuRequest:
    """Sets the process-wide request (checked first); sessions made from now on follow it."""
    request = check_request(backend, precision)
    os.environ[BACKEND_ENV] = request.backend
    os.environ[PRECISION_ENV] = request.precision
    return request


def _within(losses: dict[str, float], precision: str) -> bool:
    loss = losses.get(precision)
    return loss is not None and math.isfinite(loss) and loss <= MAX_AUTO_LOSS_DB


def choose(request: CpuRequest, cpu: CpuFeatures, losses: dict[str, float], has_int8_file: bool,
           openvino_missing: Callable[[], str | None]) -> CpuChoice:
    """The backend and precision for one model on this CPU. `losses`: the card's measured loss per precision (dB);
    `openvino_missing()`: why OpenVINO cannot be used (None when it can), asked only when OpenVINO could be picked,
    so that a CPU without bf16 never even loads it."""
    if request.backend == "openvino" and (missing := openvino_missing()):
        raise DeviceError(f"the OpenVINO backend was requested but {missing}")
    fp32_backend = "openvino" if request.backend == "openvino" else "onnxruntime"

    def openvino_ok() -> bool:
        return request.backend != "onnxruntime" and openvino_missing() is None

    def fp32(notice: str | None = None) -> CpuChoice:
        return CpuChoice(fp32_backend, "fp32", notice)

    if request.precision == "fp32":
        return fp32()
    if request.precision == "bf16":
        if not cpu.has_bf16:
            return fp32(f"bf16 was requested but this CPU has no bf16 units (AMX or AVX512-BF16): {cpu.units()}; "
                        "running fp32")
        if not openvino_ok():
            return fp32(f"bf16 was requested but {openvino_missing()}; running fp32")
        return CpuChoice("openvino", "bf16")
    if request.precision == "int8":
        if not has_int8_file:
            return fp32("int8 was requested but this model has no int8 variant; running fp32")
        return CpuChoice("openvino" if openvino_ok() else "onnxruntime", "int8")
    # auto
    if cpu.has_bf16 and _within(losses, "bf16") and openvino_ok():
        return CpuChoice("openvino", "bf16")
    if has_int8_file and cpu.has_vnni and _within(losses, "int8"):
        return CpuChoice("openvino" if openvino_ok() else "onnxruntime", "int8")
    return fp32()
