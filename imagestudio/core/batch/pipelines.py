"""The pipelines a batch can run: a named one (`enhance`, `upscale-x4`...), a preset JSON file, or any Pipeline
(the GUI passes the current image's history); plus the models each one will use, for checks and the manifest."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from imagestudio.core import bounded_json
from imagestudio.core.errors import ModelNotFoundError, PipelineError
from imagestudio.core.models import ModelCard
from imagestudio.core.ops import DenoiseParams, EnhanceParams, LowlightParams, UpscaleParams
from imagestudio.core.ops._common import check_device_param
from imagestudio.core.pipeline import MAX_JSON_CHARS, Pipeline, Step

# name -> (title, pipeline); the GUI offers the same list.
NAMED_PIPELINES: dict[str, tuple[str, Pipeline]] = {
    "enhance": ("Enhance (×2)", Pipeline([Step.of("enhance", EnhanceParams(scale=2))])),
    "enhance-x4": ("Enhance (×4)", Pipeline([Step.of("enhance", EnhanceParams(scale=4))])),
    "enhance-x1": ("Enhance (same size)", Pipeline([Step.of("enhance", EnhanceParams(scale=1))])),
    "upscale-x4": ("Upscale ×4", Pipeline([Step.of("upscale", UpscaleParams(scale=4))])),
    "upscale-x2": ("Upscale ×2", Pipeline([Step.of("upscale", UpscaleParams(scale=2))])),
    "denoise": ("Denoise", Pipeline([Step.of("denoise", DenoiseParams())])),
    "lowlight": ("Low light", Pipeline([Step.of("lowlight", LowlightParams())])),
}


def load_pipeline(choice: str | Path) -> Pipeline:
    """A named pipeline, or a preset .json file (as saved from the History dock)."""
    text = str(choice)
    if text in NAMED_PIPELINES:
        return copy.deepcopy(NAMED_PIPELINES[text][1])
    path = Path(text).expanduser()
    if path.suffix.lower() != ".json" and not os.path.isfile(path):  # never raises, even for a too-long name
        names = ", ".join(NAMED_PIPELINES)
        raise PipelineError(f"unknown pipeline '{text}' — use one of {names}, or a preset .json file")
    try:
        # Not path.read_text(): a preset named .json may be a FIFO (a read that never returns) or gigabytes long.
        text = bounded_json.read_small_text(path, max_bytes=MAX_JSON_CHARS)
        return Pipeline.from_json(text)
    except OSError as exc:
        raise PipelineError(f"cannot read the preset {path}: {exc.strerror or exc}") from None
    except bounded_json.JSONLimitError as exc:
        raise PipelineError(f"the preset {path} {exc}") from None
    except PipelineError as exc:
        raise PipelineError(f"{path.name}: {exc}") from None


def with_device(pipeline: Pipeline, device: str) -> Pipeline:
    """A copy whose every step runs on `device` (all operations take one)."""
    check_device_param(device)
    return Pipeline([Step(step.op, {**step.params, "device": device}) for step in pipeline.steps])


def step_model_cards(step: Step) -> list[tuple[str, ModelCard]]:
    """(parameter, card) for each model the step will use. Models the photo decides on (Enhance's) or that will not
    run (strength 0) are left out when missing, and fail per file, not up front; a missing model the step needs, or
    one the user named, raises ModelNotFoundError."""
    cards = []
    for slot in step.models():
        try:
            card = slot.card()
        except ModelNotFoundError:
            if slot.needed or slot.chosen:
                raise
            continue
        cards.append((slot.field, card))
    return cards


def pipeline_models(pipeline: Pipeline) -> list[ModelCard]:
    """The models the pipeline will use, checked before a batch starts: a missing required model fails the whole
    batch at once (ModelNotFoundError) rather than every file in turn."""
    if not pipeline.steps:
        raise PipelineError("the pipeline has no steps: there is nothing to do to the images")
    cards: list[ModelCard] = []
    for step in pipeline.steps:
        for _key, card in step_model_cards(step):
            if card not in cards:
                cards.append(card)
    return cards
