"""Pipelines: an ordered list of operation steps that can be saved as JSON, described, and run.

The GUI's history, presets and batch jobs all hold pipelines; the registry below is the single list of operations a
pipeline may name, and each operation's parameters declare the models it may run (`Operation.models`). A run hands
back the image together with what really ran (`PipelineRun`): callers never infer it from the parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imagestudio.core import bounded_json
from imagestudio.core.errors import ModelNotFoundError, PipelineError
from imagestudio.core.image import Image
from imagestudio.core.models_ran import ModelRun, recording_models
from imagestudio.core.ops import (
    DenoiseParams,
    EnhanceParams,
    LowlightParams,
    ModelSlot,
    OpParams,
    UpscaleParams,
    denoise,
    enhance,
    lowlight,
    upscale,
)
from imagestudio.core.progress import NO_TASK, Task

FORMAT_VERSION = 1
# A preset is a handful of steps with flat parameters: {"steps": [{"op": ..., "params": {...}}]} nests 3 deep.
MAX_JSON_DEPTH = 8
MAX_JSON_CHARS = 1 << 20
MAX_STEPS = 64


@dataclass(frozen=True)
class Operation:
    name: str
    title: str
    function: Callable[..., Image]  # (image, params, task) -> Image
    params_type: type[OpParams]
    describe: Callable[[Any], str]  # params -> one human line

    def models(self, params: OpParams) -> list[ModelSlot]:
        """The models this operation may run with `params` (declared by the parameters themselves)."""
        return params.models()


def _model_note(model: str | None) -> str:
    return f", model {model}" if model else ""


def _describe_strength(title: str) -> Callable[[Any], str]:
    return lambda p: f"{title}, strength {p.strength:.2f}{_model_note(p.model)}"


def _describe_enhance(p: EnhanceParams) -> str:
    upscale_note = f", upscale ×{p.scale}" if p.scale > 1 else ", no upscaling"
    return f"Enhance: low-light if under-exposed, denoise as needed{upscale_note}"


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("upscale", "Upscale", upscale, UpscaleParams, lambda p: f"Upscale ×{p.scale}{_model_note(p.model)}"),
        Operation("denoise", "Denoise", denoise, DenoiseParams, _describe_strength("Denoise")),
        Operation("lowlight", "Low-light", lowlight, LowlightParams, _describe_strength("Low-light")),
        Operation("enhance", "Enhance", enhance, EnhanceParams, _describe_enhance),
    )
}


def _operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(OPERATIONS)
        raise PipelineError(f"unknown operation '{name}' — known operations: {known}") from None


@dataclass
class Step:
    op: str
    params: dict[str, Any] = field(default_factory=dict)

    def parsed_params(self) -> OpParams:
        """The step's parameters as the operation's dataclass; PipelineError names the step when they are bad."""
        operation = _operation(self.op)
        try:
            return operation.params_type.from_dict(self.params)
        except PipelineError as exc:
            raise PipelineError(f"{self.op}: {exc}") from None
        except TypeError as exc:  # a parameter of the wrong kind that validation did not name
            raise PipelineError(f"{self.op}: bad parameters ({exc})") from None

    def describe(self) -> str:
        return _operation(self.op).describe(self.parsed_params())

    def models(self) -> list[ModelSlot]:
        """The models this step may run, as its operation declares them."""
        return _operation(self.op).models(self.parsed_params())

    def pinned(self) -> Step:
        """A copy with every parameter spelled out and each model field naming the model that will run, so a
        history entry replays the same anywhere. A model the operation picks by the photo (Enhance's denoise and
        low light) is left as it is when none is installed: the operation says so if the photo needs it."""
        spelled = self.parsed_params().to_dict()  # validated; defaults written out so a replay cannot drift
        for slot in self.models():
            try:
                card = slot.card()
            except ModelNotFoundError:
                if slot.chosen or slot.needed is not None:
                    raise
                continue
            spelled[slot.field] = card.name
        return Step(self.op, spelled)

    @classmethod
    def of(cls, op: str, params: OpParams | None = None) -> Step:
        """A step from an operation name and its params dataclass (defaults when omitted)."""
        operation = _operation(op)
        return cls(op, (params or operation.params_type()).to_dict())


@dataclass(frozen=True)
class PipelineRun:
    """What a run made and what it took: the steps as they ran and every model that really ran, in order."""

    image: Image
    steps: tuple[Step, ...]
    models: tuple[ModelRun, ...]  # each with its card (name, sha256) and the provider onnxruntime used


@dataclass
class Pipeline:
    steps: list[Step] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {"version": FORMAT_VERSION, "steps": [{"op": s.op, "params": s.params} for s in self.steps]},
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Pipeline:
        try:
            data = bounded_json.loads(text, max_depth=MAX_JSON_DEPTH, max_chars=MAX_JSON_CHARS)
        except bounded_json.JSONLimitError as exc:
            raise PipelineError(f"the pipeline {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise PipelineError('a pipeline is a JSON object with a "steps" list')
        if len(data["steps"]) > MAX_STEPS:
            raise PipelineError(f"the pipeline has {len(data['steps'])} steps; at most {MAX_STEPS} are allowed")
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise PipelineError(f"pipeline format version {version!r} is not supported (expected {FORMAT_VERSION})")
        steps = []
        for index, raw in enumerate(data["steps"], start=1):
            if not isinstance(raw, dict) or not isinstance(raw.get("op"), str):
                raise PipelineError(f'step {index} must be an object with an "op" name')
            params = raw.get("params", {})
            if not isinstance(params, dict):
                raise PipelineError(f"step {index} ({raw['op']}): params must be a JSON object")
            step = Step(raw["op"], dict(params))
            step.parsed_params()  # fail now, on load, not halfway through a batch
            steps.append(step)
        return cls(steps)

    def describe(self) -> list[str]:
        """One human line per step, for the history panel and `--dry-run` style listings."""
        return [step.describe() for step in self.steps]

    def run(self, image: Image, task: Task = NO_TASK, *, pin: bool = False) -> PipelineRun:
        """Runs every step in turn. With `pin`, the steps are pinned first (`Step.pinned`) and run as pinned: the
        run's steps are then what a history records."""
        steps = tuple(step.pinned() for step in self.steps) if pin else tuple(self.steps)
        parsed = [(_operation(step.op), step.parsed_params()) for step in steps]
        count = len(parsed)
        with recording_models() as ran:  # the code that runs a model records it: Enhance skips what it need not do
            for index, (operation, params) in enumerate(parsed):
                task.check()
                label = operation.title if count == 1 else f"{operation.title} ({index + 1}/{count})"
                image = operation.function(image, params, task.sub(index / count, (index + 1) / count, label))
        task.report(1.0, "done")
        return PipelineRun(image, steps, tuple(ran))
