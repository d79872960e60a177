"""The one place that creates inference sessions: onnxruntime (CUDA or CPU) and, on the CPU, OpenVINO.

Device "auto" tries CUDA, then the CPU; every session reports the provider that really runs it
(`session.get_providers()[0]`), because onnxruntime silently falls back to the CPU when CUDA cannot load.
On the CPU the backend and precision are chosen per CPU and per model by core/runtime_choice.py (OpenVINO bf16 where
the CPU has bf16 units and the card's measured loss allows it, else onnxruntime fp32 as before); each session says
which backend, precision and device really run it.
Whether CUDA works is decided once per process: asking onnxruntime-gpu for CUDA on a machine without it prints a
screen of C++ errors every time, so after the first failure we stop asking.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from imagestudio.core.card_values import card_int8_file, card_precision_loss
from imagestudio.core.cpu_features import cpu_features
from imagestudio.core.errors import DeviceError, DeviceOutOfMemoryError, ModelError, UnsupportedModelError
from imagestudio.core.onnx_metadata import read_metadata_props
from imagestudio.core.openvino_session import OpenVinoEngine, openvino_missing
from imagestudio.core.runtime_choice import CpuChoice, CpuRequest, check_request, choose, requested

log = logging.getLogger(__name__)

# Where models may run, in the order "auto" tries them; every list and check of devices reads this.
DEVICES = ("auto", "cuda", "cpu")
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"

# onnxruntime's default (warning) level reports graph-partitioning details nobody can act on; keep errors only.
_ORT_ERROR = 3
_ORT_FATAL = 4
ort.set_default_logger_severity(_ORT_ERROR)

# Caps the memory CPU sessions may take (megabytes): past it a run fails as out-of-memory and tiling retries
# with smaller tiles, instead of the machine swapping. Read when the first session is created.
CPU_MEMORY_LIMIT_ENV = "IMAGESTUDIO_CPU_MEMORY_LIMIT_MB"
_MAX_MEMORY_LIMIT_MB = 1 << 24  # 16 TB: onnxruntime's arena size is a size_t of bytes

# Sessions hold weights and arena memory; a handful covers a pipeline (low-light, denoise, upscale) on two devices.
_SESSION_CACHE_SIZE = 8

# Tiles change shape from image to image: an exhaustive cuDNN search per new shape would cost more than it saves,
# and growing the arena only by what is asked keeps the halve-the-tile retry meaningful after an out-of-memory.
_CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC", "arena_extend_strategy": "kSameAsRequested"}

# Substrings onnxruntime (CUDA, cuDNN, cuBLAS, the CPU allocator) puts in out-of-memory failures.
_OOM_MARKERS = (
    "out of memory",
    "failed to allocate memory",
    "alloc_failed",
    "cudaerrormemoryallocation",
    "bad_alloc",
    "available memory",
)


@dataclass
class CudaStatus:
    usable: bool
    reason: str  # why not, in words a person understands; empty when usable


_cuda_status: CudaStatus | None = None
_cuda_lock = threading.Lock()
_cuda_notice_logged = False  # the fallback is said once per process, not once per model


def _nvidia_driver_present() -> bool:
    """True when the NVIDIA driver library loads; without it CUDA cannot work and onnxruntime need not be asked."""
    names = ["nvcuda.dll"] if sys.platform == "win32" else ["libcuda.so.1", "libcuda.so"]
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def cuda_status() -> CudaStatus:
    """What is known about CUDA in this process, without building a session."""
    global _cuda_status
    with _cuda_lock:
        if _cuda_status is None:
            if CUDA_PROVIDER not in ort.get_available_providers():
                _cuda_status = CudaStatus(False, "this onnxruntime build has no CUDA support")
            elif sys.platform == "darwin" or not _nvidia_driver_present():
                _cuda_status = CudaStatus(False, "no NVIDIA GPU driver was found")
            else:
                # Driver present: the first real session decides whether the CUDA/cuDNN libraries load.
                _cuda_status = CudaStatus(True, "")
        return _cuda_status


def _mark_cuda_unusable(reason: str) -> None:
    global _cuda_status
    with _cuda_lock:
        _cuda_status = CudaStatus(False, reason)


def expected_provider(device: str = "auto") -> str:
    """The provider a new session for `device` would most likely get (the truth is on each ModelSession)."""
    check_device(device)
    if device != "cpu" and cuda_status().usable:
        return CUDA_PROVIDER
    return CPU_PROVIDER


def check_device(device: str) -> None:
    if device not in DEVICES:
        raise DeviceError(f"unknown device '{device}' — choose one of {', '.join(DEVICES)}")


THREADS_ENV = "IMAGESTUDIO_THREADS"
_threads_capped_logged = False


def cpu_count() -> int:
    """The cores this process may use (its affinity mask on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def thread_count() -> int:
    """CPU threads for one session: every core this process may use, or IMAGESTUDIO_THREADS (a whole number from 1,
    capped to the cores there are: more threads than cores only make each one slower). Anything else in it is
    refused with DeviceError rather than silently ignored."""
    global _threads_capped_logged
    cores = cpu_count()
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return cores
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise DeviceError(f"{THREADS_ENV} must be a whole number of threads from 1 to {cores}, not {shown!r}")
    requested = int(text)
    if requested > cores:
        if not _threads_capped_logged:
            _threads_capped_logged = True
            log.warning("%s=%d is more than the %d cores this process may use; using %d", THREADS_ENV, requested,
                        cores, cores)
        return cores
    return requested


_cpu_arena_registered = False
_cpu_arena_lock = threading.Lock()


def _use_capped_cpu_arena(options: ort.SessionOptions) -> None:
    """Shares one size-capped CPU arena among sessions when CPU_MEMORY_LIMIT_ENV is set."""
    global _cpu_arena_registered
    text = os.environ.get(CPU_MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not 1 <= int(text) <= _MAX_MEMORY_LIMIT_MB:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise DeviceError(f"{CPU_MEMORY_LIMIT_ENV} must be a whole number of megabytes from 1 to "
                          f"{_MAX_MEMORY_LIMIT_MB}, not {shown!r}")
    with _cpu_arena_lock:
        if not _cpu_arena_registered:
            # The arena belongs to onnxruntime's process-wide environment: it can be registered only once.
            memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(memory, ort.OrtArenaCfg(int(text) << 20, -1, -1, -1))
            _cpu_arena_registered = True
    options.add_session_config_entry("session.use_env_allocators", "1")


def _session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    _use_capped_cpu_arena(options)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # One tile at a time: parallelism lives inside each operator, not across them.
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = thread_count()
    options.inter_op_num_threads = 1
    # A failing run becomes one of our exceptions with the reason; onnxruntime printing it as well is noise.
    options.log_severity_level = _ORT_FATAL
    return options


BACKEND_WORDS = {"onnxruntime": "onnxruntime", "openvino": "OpenVINO"}
OPENVINO_PROVIDER = "OpenVINO CPU"  # the `provider` of an OpenVINO session (onnxruntime's names for its own)


@dataclass
class ModelSession:
    """A session for one model (onnxruntime or OpenVINO), and the truth about where and how it runs."""

    path: Path
    device: str  # "cuda" | "cpu": where it really runs
    provider: str  # session.get_providers()[0], or OPENVINO_PROVIDER
    input_name: str
    output_names: list[str]
    input_shape: list[int | str | None]
    output_shape: list[int | str | None]
    input_type: str
    input_count: int
    _session: Any = field(repr=False)  # ort.InferenceSession or OpenVinoEngine
    notice: str | None = None  # set when the requested device, backend or precision could not be used
    backend: str = "onnxruntime"  # "onnxruntime" | "openvino"
    precision: str = "fp32"  # "fp32" | "bf16" | "int8": what really computes

    def describe(self) -> str:
        """'OpenVINO bf16 on the CPU', 'onnxruntime fp32 on CUDA'."""
        where = "CUDA" if self.device == "cuda" else "the CPU"
        return f"{BACKEND_WORDS.get(self.backend, self.backend)} {self.precision} on {where}"

    def run(self, x: np.ndarray) -> np.ndarray:
        """Runs the model on one NCHW float32 batch and returns its first output."""
        try:
            if self.backend == "openvino":
                return self._session.run(x)
            return self._session.run(self.output_names[:1], {self.input_name: x})[0]
        except MemoryError as exc:
            raise DeviceOutOfMemoryError(f"out of memory running {self.path.name} on {self.device}") from exc
        except Exception as exc:  # onnxruntime raises its own Fail/RuntimeException types
            text = str(exc)
            if any(marker in text.lower() for marker in _OOM_MARKERS):
                raise DeviceOutOfMemoryError(f"out of memory running {self.path.name} on {self.device}") from exc
            first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
            raise ModelError(f"model {self.path.name} failed on input {tuple(x.shape)}: {first_line}") from exc

    def metadata(self) -> dict[str, str]:
        if self.backend == "openvino":
            return read_metadata_props(self.path)
        return dict(self._session.get_modelmeta().custom_metadata_map)


_sessions: OrderedDict[tuple[str, int, str, str, str], ModelSession] = OrderedDict()
_sessions_lock = threading.Lock()


def get_session(path: Path, device: str = "auto", *, backend: str | None = None,
                precision: str | None = None) -> ModelSession:
    """A session for `path` on `device` ("auto": CUDA, then CPU), cached per (path, mtime, device, request).

    `backend` and `precision` ("auto" or a name, see core/runtime_choice.py) default to the process-wide request
    (the CLI's --backend/--precision, the GUI's setting)."""
    check_device(device)
    base = requested()
    request = check_request(backend or base.backend, precision or base.precision, device)
    path = Path(path).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ModelError(f"model file '{path}' cannot be read: {exc.strerror or exc}") from exc
    key = (str(path), mtime, device, request.backend, request.precision)
    with _sessions_lock:
        if key in _sessions:
            _sessions.move_to_end(key)
            return _sessions[key]
    session = _create_session(path, device, request)
    with _sessions_lock:
        _sessions[key] = session
        while len(_sessions) > _SESSION_CACHE_SIZE:
            _sessions.popitem(last=False)
    return session


def clear_session_cache() -> None:
    with _sessions_lock:
        _sessions.clear()


def _create_session(path: Path, device: str, request: CpuRequest = CpuRequest()) -> ModelSession:
    notice = None
    # An explicit OpenVINO request means the CPU (check_request refuses it together with device "cuda").
    want_cuda = device in ("auto", "cuda") and request.backend != "openvino" and cuda_status().usable
    if not want_cuda:
        cpu_session = _create_cpu_session(path, request)
        if device == "cuda":
            notice = f"CUDA was requested but cannot be used ({cuda_status().reason}); running on the CPU"
            _log_notice_once(notice)
            cpu_session.notice = "; ".join(n for n in (notice, cpu_session.notice) if n)
        return cpu_session

    try:
        session = _build(path, [(CUDA_PROVIDER, _CUDA_OPTIONS), CPU_PROVIDER], quiet=True)
    except UnsupportedModelError:  # CUDA's own start-up failed, or the model is bad: the CPU tells which
        session = _build(path, [CPU_PROVIDER], quiet=False)
    provider = session.get_providers()[0]
    if provider != CUDA_PROVIDER:
        reason = "the CUDA or cuDNN libraries onnxruntime needs could not be loaded"
        _mark_cuda_unusable(reason)
        if device == "cuda":
            notice = f"CUDA was requested but cannot be used ({reason}); running on the CPU"
            _log_notice_once(notice)
        # CUDA did not load: the CPU's own choice of backend and precision applies, as on a machine without it.
        cpu_session = _create_cpu_session(path, request)
        cpu_session.notice = "; ".join(n for n in (notice, cpu_session.notice) if n) or None
        return cpu_session
    if request.precision not in ("auto", "fp32"):
        notice = f"{request.precision} is a CPU precision here; CUDA runs fp32"
        _log_notice_text(notice)
    return _ort_model_session(path, session, notice)


def _ort_model_session(path: Path, session: ort.InferenceSession, notice: str | None,
                       precision: str = "fp32") -> ModelSession:
    provider = session.get_providers()[0]
    inputs, outputs = session.get_inputs(), session.get_outputs()
    return ModelSession(
        path=path,
        device="cuda" if provider == CUDA_PROVIDER else "cpu",
        provider=provider,
        input_name=inputs[0].name,
        output_names=[o.name for o in outputs],
        input_shape=list(inputs[0].shape),
        output_shape=list(outputs[0].shape),
        input_type=inputs[0].type,
        input_count=len(inputs),
        notice=notice,
        _session=session,
        backend="onnxruntime",
        precision=precision,
    )


def _cpu_choice(path: Path, request: CpuRequest) -> tuple[CpuChoice, Path]:
    """The backend and precision for `path` on this CPU, and the file to load (the int8 variant for int8)."""
    try:
        meta = read_metadata_props(path)
    except ModelError:  # an unreadable card: the session build below says what is wrong with the file
        meta = {}
    int8_file = card_int8_file(meta, path)
    choice = choose(request, cpu_features(), card_precision_loss(meta, path), int8_file is not None,
                    openvino_missing)
    return choice, (int8_file if choice.precision == "int8" and int8_file is not None else path)


def _create_cpu_session(path: Path, request: CpuRequest) -> ModelSession:
    choice, file = _cpu_choice(path, request)
    notice = choice.notice
    if choice.backend == "openvino":
        try:
            return _openvino_model_session(path, file, choice.precision, notice)
        except UnsupportedModelError as exc:
            if request.backend == "openvino":
                raise
            # Auto picked OpenVINO for speed; a model it cannot compile still runs as it always did.
            notice = f"OpenVINO could not run {path.name} ({exc}); running onnxruntime fp32"
            file, choice = path, CpuChoice("onnxruntime", "fp32", notice)
    if notice:
        _log_notice_text(notice)
    session = _build(file, [CPU_PROVIDER], quiet=False)
    return _ort_model_session(path, session, notice, precision=choice.precision)


def _openvino_model_session(path: Path, file: Path, precision: str, notice: str | None) -> ModelSession:
    try:
        engine = OpenVinoEngine(file, precision, thread_count())
    except MemoryError as exc:
        raise DeviceOutOfMemoryError(f"out of memory loading model {path.name}") from exc
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses with a C++ message
        text = str(exc).strip()
        if any(marker in text.lower() for marker in _OOM_MARKERS):
            raise DeviceOutOfMemoryError(f"out of memory loading model {path.name}") from exc
        reason = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
        raise UnsupportedModelError(f"OpenVINO cannot load '{path.name}': {reason[:200]}") from exc
    if notice:
        _log_notice_text(notice)
    return ModelSession(
        path=path,
        device="cpu",
        provider=OPENVINO_PROVIDER,
        input_name=engine.input_name,
        output_names=engine.output_names,
        input_shape=engine.input_shape,
        output_shape=engine.output_shape,
        input_type=engine.input_type,
        input_count=engine.input_count,
        notice=notice,
        _session=engine,
        backend="openvino",
        precision=precision,
    )


_logged_notices: set[str] = set()


def _log_notice_text(notice: str) -> None:
    """A backend or precision notice, said once per process (per distinct text), like the CUDA one."""
    with _cuda_lock:
        first = notice not in _logged_notices
        _logged_notices.add(notice)
    if first:
        log.warning(notice)


def _log_notice_once(notice: str) -> None:
    global _cuda_notice_logged
    with _cuda_lock:
        first = not _cuda_notice_logged
        _cuda_notice_logged = True
    if first:
        log.warning(notice)


def _build(path: Path, providers: list, *, quiet: bool) -> ort.InferenceSession:
    # While CUDA may fail to load, silence the process-wide logger: the failure is reported once, by us.
    if quiet:
        ort.set_default_logger_severity(_ORT_FATAL)
    try:
        return ort.InferenceSession(str(path), sess_options=_session_options(), providers=providers)
    except Exception as exc:
        text = str(exc).strip()
        if any(marker in text.lower() for marker in _OOM_MARKERS):
            raise DeviceOutOfMemoryError(f"out of memory loading model {path.name}") from exc
        reason = text.splitlines()[-1] if text else type(exc).__name__
        raise UnsupportedModelError(f"'{path.name}' is not a usable ONNX model: {reason}") from exc
    finally:
        if quiet:
            ort.set_default_logger_severity(_ORT_ERROR)
