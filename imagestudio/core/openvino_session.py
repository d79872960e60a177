"""OpenVINO's CPU runtime for the same .onnx files: compiled once per (model, precision), run like onnxruntime.

Only core/runtime.py builds these. OpenVINO is optional (PyPI `openvino`): without it every model runs through
onnxruntime as before. The precision is set explicitly every time, because OpenVINO's own default on a CPU with AMX
is bf16: "fp32" must mean fp32.
"""

from __future__ import annotations

import functools
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}  # int8: the quantized file; the rest stays f32
_ONNX_TYPES = {"f32": "tensor(float)", "f16": "tensor(float16)", "f64": "tensor(double)", "u8": "tensor(uint8)",
               "i64": "tensor(int64)", "i32": "tensor(int32)"}


TELEMETRY_MODULE = "openvino_telemetry"


def import_openvino() -> Any:
    """`import openvino`, without its telemetry: on import, OpenVINO's converter sends a usage event to Intel's
    analytics from a child process unless a consent file says no (opt-out). A photo app must not phone home, so the
    telemetry package is hidden while OpenVINO loads and OpenVINO falls back to its own no-op stub."""
    hide = TELEMETRY_MODULE not in sys.modules
    if hide:
        sys.modules[TELEMETRY_MODULE] = None  # type: ignore[assignment]  # makes `import openvino_telemetry` fail
    try:
        import openvino
    finally:
        if hide:
            del sys.modules[TELEMETRY_MODULE]
    return openvino


@functools.cache
def openvino_missing() -> str | None:
    """Why OpenVINO cannot be used here, or None when it can."""
    try:
        import_openvino()
    except ImportError:
        return "OpenVINO is not installed (pip install openvino)"
    except Exception as exc:  # a broken install (missing shared library): said, never a crash
        return f"OpenVINO could not be loaded ({type(exc).__name__}: {str(exc).strip()[:120]})"
    try:
        if "CPU" not in _core().available_devices:
            return "OpenVINO found no CPU plugin"
    except Exception as exc:
        return f"OpenVINO could not start ({str(exc).strip().splitlines()[0][:120] if str(exc).strip() else exc})"
    return None


@functools.cache
def _core() -> Any:
    return import_openvino().Core()


def openvino_version() -> str:
    return str(import_openvino().get_version())


def _shape(port: Any) -> list[int | str | None]:
    return [dim.get_length() if dim.is_static else None for dim in port.get_partial_shape()]


class OpenVinoEngine:
    """A compiled model and one infer request per thread (a request is not thread-safe; the compiled model is)."""

    def __init__(self, path: Path, precision: str, threads: int) -> None:
        config = {
            "INFERENCE_PRECISION_HINT": PRECISION_HINTS[precision],
            "INFERENCE_NUM_THREADS": threads,
            # One tile at a time, as with onnxruntime: parallelism inside each operator, one stream.
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
        }
        core = _core()
        self._compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self._local = threading.local()
        inputs, outputs = self._compiled.inputs, self._compiled.outputs
        self.input_name = inputs[0].get_any_name()
        self.output_names = [o.get_any_name() for o in outputs]
        self.input_shape = _shape(inputs[0])
        self.output_shape = _shape(outputs[0])
        self.input_type = _ONNX_TYPES.get(inputs[0].get_element_type().get_type_name(), "tensor(unknown)")
        self.input_count = len(inputs)
        self.precision_used = str(self._compiled.get_property("INFERENCE_PRECISION_HINT"))

    def run(self, x: np.ndarray) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        # share_outputs=False (the default) copies the output: the next tile may reuse the request's buffer.
        return request.infer({0: x})[0]
