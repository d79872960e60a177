"""What the Enhance menu offers and how one edit runs: core pipeline steps with their models pinned.

No widgets here. An edit is a list of core `Step`s, run by the core in one call that pins each step's model to a
named one and reports what really ran, so the history records exactly that (name and sha256) and can be replayed
elsewhere as a Pipeline preset. Which models an operation takes is the core's to say (`Operation.models`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from imagestudio.core.image import Image
from imagestudio.core.ops import ModelSlot
from imagestudio.core.pipeline import OPERATIONS, Pipeline, Step
from imagestudio.core.runtime import BACKEND_WORDS
from imagestudio.core.progress import Task
from imagestudio.ui.display import DisplayImage, build_display


@dataclass(frozen=True)
class OperationSpec:
    """One entry of the Enhance menu and toolbar."""

    key: str
    op: str  # the core pipeline's operation name
    title: str
    tip: str
    shortcut: str
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters the entry itself sets

    def _model_slot(self) -> ModelSlot | None:
        """The one model its options offer a choice of (None: Enhance picks several), as the core declares it."""
        params = OPERATIONS[self.op].params_type(**self.fixed)
        return next((slot for slot in OPERATIONS[self.op].models(params) if slot.field == "model"), None)

    @property
    def task(self) -> str | None:
        slot = self._model_slot()
        return None if slot is None else slot.task

    @property
    def scale(self) -> int:
        slot = self._model_slot()
        return 1 if slot is None else slot.scale

    @property
    def has_strength(self) -> bool:
        return any(f.name == "strength" for f in dataclasses.fields(OPERATIONS[self.op].params_type))


OPERATION_SPECS: tuple[OperationSpec, ...] = (
    OperationSpec("enhance", "enhance", "Enhance", "One click: brighten if dark, denoise as needed, upscale",
                  "Ctrl+E"),
    OperationSpec("upscale2", "upscale", "Upscale ×2", "Double the size with a super-resolution model",
                  "Ctrl+Alt+2", {"scale": 2}),
    OperationSpec("upscale4", "upscale", "Upscale ×4", "Four times the size with a super-resolution model",
                  "Ctrl+Alt+4", {"scale": 4}),
    OperationSpec("denoise", "denoise", "Denoise", "Remove sensor and compression noise", "Ctrl+Alt+D"),
    OperationSpec("lowlight", "lowlight", "Low light", "Brighten an under-exposed photo", "Ctrl+Alt+L"),
)
SPECS_BY_KEY = {spec.key: spec for spec in OPERATION_SPECS}


@dataclass(frozen=True)
class ModelUse:
    name: str
    title: str
    sha256: str
    provider: str  # what really ran it, e.g. "CUDAExecutionProvider", "OpenVINO CPU"
    device: str  # "cuda" | "cpu"
    notice: str | None = None  # why the requested device, backend or precision was not used
    backend: str = "onnxruntime"  # "onnxruntime" | "openvino"
    precision: str = "fp32"  # "fp32" | "bf16" | "int8"

    def runtime_words(self) -> str:
        """'OpenVINO bf16 on CPU'."""
        return f"{BACKEND_WORDS.get(self.backend, self.backend)} {self.precision} on {_device_word(self)}"


@dataclass(frozen=True)
class EditRecord:
    """What one history entry did: enough to show it, replay it, or save it as a preset."""

    label: str
    steps: tuple[Step, ...]
    models: tuple[ModelUse, ...] = ()

    def describe(self) -> str:
        lines = [step.describe() for step in self.steps]
        for model in self.models:
            lines.append(f"Ran {model.name} with {model.runtime_words()} · sha256 {model.sha256[:12]}…")
        return "\n".join(lines)


@dataclass
class EditOutcome:
    image: Image
    display: DisplayImage
    record: EditRecord


def run_edit(image: Image, label: str, steps: list[Step], task: Task) -> EditOutcome:
    """Runs on a worker thread: one core run (models pinned, what ran reported), then the display for the canvas."""
    run = Pipeline(steps).run(image, task, pin=True)
    task.check()
    task.report(1.0, "preparing the view")
    display = build_display(run.image)
    uses = tuple(ModelUse(r.card.name, r.card.title, r.card.sha256, r.provider, r.device, r.notice, r.backend,
                          r.precision) for r in run.models)
    return EditOutcome(run.image, display, EditRecord(label, run.steps, uses))


def _device_word(model: ModelUse) -> str:
    return "CUDA" if model.device == "cuda" else "CPU"


def build_steps(spec: OperationSpec, options: dict[str, Any], device: str, tile: int | None) -> list[Step]:
    """The steps for one menu entry with the options its popover holds."""
    params: dict[str, Any] = {**options, **spec.fixed, "device": device, "tile": tile}
    return [Step(spec.op, params)]
