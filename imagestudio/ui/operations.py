"""What the Enhance menu offers and how one edit runs: core pipeline steps with their models pinned.

No widgets here. An edit is a list of core `Step`s; before running, each step's model is resolved to a named model so
the history records exactly what ran (name and sha256) and can be replayed elsewhere as a Pipeline preset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imagestudio.core.errors import ModelNotFoundError
from imagestudio.core.image import Image
from imagestudio.core.models import ModelCard, default_model, find_model
from imagestudio.core.models_ran import recording_models
from imagestudio.core.pipeline import Pipeline, Step
from imagestudio.core.runtime import BACKEND_WORDS
from imagestudio.core.progress import CancelToken, Progress
from imagestudio.ui.display import DisplayImage, build_display


@dataclass(frozen=True)
class OperationSpec:
    """One entry of the Enhance menu and toolbar."""

    key: str
    op: str  # the core pipeline's operation name
    title: str
    tip: str
    shortcut: str
    task: str | None  # the model task offered in its options (None: Enhance picks several)
    scale: int = 1
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters the entry itself sets
    has_strength: bool = False


OPERATION_SPECS: tuple[OperationSpec, ...] = (
    OperationSpec("enhance", "enhance", "Enhance", "One click: brighten if dark, denoise as needed, upscale",
                  "Ctrl+E", None),
    OperationSpec("upscale2", "upscale", "Upscale ×2", "Double the size with a super-resolution model",
                  "Ctrl+Alt+2", "upscale", 2, {"scale": 2}),
    OperationSpec("upscale4", "upscale", "Upscale ×4", "Four times the size with a super-resolution model",
                  "Ctrl+Alt+4", "upscale", 4, {"scale": 4}),
    OperationSpec("denoise", "denoise", "Denoise", "Remove sensor and compression noise",
                  "Ctrl+Alt+D", "denoise", 1, has_strength=True),
    OperationSpec("lowlight", "lowlight", "Low light", "Brighten an under-exposed photo",
                  "Ctrl+Alt+L", "lowlight", 1, has_strength=True),
)
SPECS_BY_KEY = {spec.key: spec for spec in OPERATION_SPECS}

# For each operation: the params fields that name a model, with the task and scale that model must have.
_MODEL_FIELDS: dict[str, Callable[[dict[str, Any]], list[tuple[str, str, int]]]] = {
    "upscale": lambda p: [("model", "upscale", int(p.get("scale", 4)))],
    "denoise": lambda p: [("model", "denoise", 1)],
    "lowlight": lambda p: [("model", "lowlight", 1)],
    "enhance": lambda p: ([("upscale_model", "upscale", int(p.get("scale", 2)))] if int(p.get("scale", 2)) > 1
                          else []) + [("denoise_model", "denoise", 1), ("lowlight_model", "lowlight", 1)],
}


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


def pin_models(step: Step) -> tuple[Step, list[ModelCard]]:
    """A copy of `step` with every parameter spelled out and its model fields naming the models that will run."""
    params = step.parsed_params().to_dict()  # validated; defaults written out so a replay cannot drift
    cards = []
    for field_name, task, scale in _MODEL_FIELDS.get(step.op, lambda p: [])(params):
        chosen = params.get(field_name)
        try:
            card = find_model(chosen) if chosen else default_model(task, scale)
        except ModelNotFoundError:
            if chosen or step.op != "enhance":
                raise
            continue  # Enhance skips a step it has no model for only when the step is not needed; it will say
        params[field_name] = card.name
        cards.append(card)
    return Step(step.op, params), cards


def run_edit(image: Image, label: str, steps: list[Step], progress: Progress, cancel: CancelToken) -> EditOutcome:
    """Runs on a worker thread: resolve models, run the pipeline, build the display for the canvas."""
    pinned = [pin_models(step)[0] for step in steps]
    with recording_models() as ran:  # the core records what really ran: Enhance skips steps it does not need
        result = Pipeline(pinned).run(image, progress, cancel)
    cancel.raise_if_cancelled()
    progress(1.0, "preparing the view")
    display = build_display(result)
    uses = tuple(ModelUse(r.card.name, r.card.title, r.card.sha256, r.provider, r.device, r.notice, r.backend,
                          r.precision) for r in ran)
    return EditOutcome(result, display, EditRecord(label, tuple(pinned), uses))


def _device_word(model: ModelUse) -> str:
    return "CUDA" if model.device == "cuda" else "CPU"


def build_steps(spec: OperationSpec, options: dict[str, Any], device: str, tile: int | None) -> list[Step]:
    """The steps for one menu entry with the options its popover holds."""
    params: dict[str, Any] = {**options, **spec.fixed, "device": device, "tile": tile}
    return [Step(spec.op, params)]
