"""Which models really ran, recorded where they run, so no caller has to guess.

The History panel, the status bar and the CLI used to infer the models of an Enhance from its parameters and named
low light when it had not run. Now the code that runs a model (tiling, the curve low light, generation) records the
card and the session's real provider, backend, precision and device in the current recording, if there is one:

    with recording_models() as ran:
        result = pipeline.run(image)
    [r.card.name for r in ran]

A contextvar keeps recordings apart per thread (each worker has its own), and nesting is allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from imagestudio.core.models import ModelCard
from imagestudio.core.runtime import BACKEND_WORDS, ModelSession


@dataclass(frozen=True)
class ModelRun:
    card: ModelCard
    provider: str  # what really ran it, e.g. "CPUExecutionProvider", "OpenVINO CPU"
    device: str  # "cuda" | "cpu"
    notice: str | None = None  # why the requested device, backend or precision was not used
    backend: str = "onnxruntime"  # "onnxruntime" | "openvino"
    precision: str = "fp32"  # "fp32" | "bf16" | "int8"

    def runtime_words(self) -> str:
        """'OpenVINO bf16 on the CPU', 'onnxruntime fp32 on CUDA'."""
        where = "CUDA" if self.device == "cuda" else "the CPU"
        return f"{BACKEND_WORDS.get(self.backend, self.backend)} {self.precision} on {where}"


_current: ContextVar[tuple[list[ModelRun], ...]] = ContextVar("imagestudio_models_ran", default=())


@contextmanager
def recording_models() -> Iterator[list[ModelRun]]:
    """Collects every model run inside the block, in order, each model and device once."""
    ran: list[ModelRun] = []
    token = _current.set(_current.get() + (ran,))
    try:
        yield ran
    finally:
        _current.reset(token)


def record_session_run(card: ModelCard, session: ModelSession) -> None:
    """Records that `card` ran in `session`, with what the session really is."""
    record_model_run(card, session.provider, session.device, session.notice, backend=session.backend,
                     precision=session.precision)


def record_model_run(card: ModelCard, provider: str, device: str, notice: str | None = None, *,
                     backend: str = "onnxruntime", precision: str = "fp32") -> None:
    run = ModelRun(card, provider, device, notice, backend, precision)
    for ran in _current.get():
        if not any(r.card.path == card.path and r.device == device for r in ran):
            ran.append(run)
