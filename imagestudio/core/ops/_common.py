"""What every model operation shares: parameter dataclasses, the models they declare, model choice, progress
slices, alpha handling."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.errors import ModelError, PipelineError, UnsupportedModelError
from imagestudio.core.image import Image
from imagestudio.core.models import ModelCard, default_model, describe_task, find_model
from imagestudio.core.progress import Task
from imagestudio.core.runtime import DEVICES
from imagestudio.core.tiling import run_model_tiled

ParamsT = TypeVar("ParamsT", bound="OpParams")


@dataclasses.dataclass(frozen=True)
class ModelSlot:
    """One model an operation may run with its parameters: the field that names it, and what it must do."""

    field: str  # the parameter naming the model ("model", "upscale_model"...)
    chosen: str | None  # its value: a model name or .onnx path; None: the task's default
    task: str
    scale: int
    # True: the operation runs it; False: not with these parameters (strength 0); None: the operation decides
    # from the photo (Enhance), and says so when it has no model for a step it needs.
    needed: bool | None

    def card(self) -> ModelCard:
        """The chosen model, or the task's default; ModelNotFoundError when there is none."""
        return find_model(self.chosen) if self.chosen else default_model(self.task, self.scale)


@dataclasses.dataclass
class OpParams:
    """Base of every operation's parameters: plain JSON-friendly values, validated on construction."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises PipelineError naming the bad value; subclasses extend it."""

    def models(self) -> list[ModelSlot]:
        """The models the operation may run with these parameters."""
        return []

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[ParamsT], data: dict[str, Any]) -> ParamsT:
        if not isinstance(data, dict):
            raise PipelineError(f"parameters must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PipelineError(f"unknown parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        return cls(**data)


MAX_TILE = 16384  # pixels per side; a larger tile is no tiling at all


def check_device_param(device: Any) -> None:
    """A `device` parameter (of a step, a preset, a batch) is one of core.runtime.DEVICES, else PipelineError."""
    if not isinstance(device, str) or device not in DEVICES:
        raise PipelineError(f"device must be one of {', '.join(DEVICES)}, not {str(device)[:40]!r}")


def check_device_and_tile(device: Any, tile: Any) -> None:
    check_device_param(device)
    if tile is not None and (not isinstance(tile, int) or isinstance(tile, bool) or not 1 <= tile <= MAX_TILE):
        raise PipelineError(f"tile must be a whole number of pixels from 1 to {MAX_TILE}, or empty (auto), "
                            f"not {str(tile)[:40]}")


def check_strength(strength: Any) -> None:
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise PipelineError(f"strength must be a number from 0 to 1, not {strength!r}")


def check_model_name(model: Any, field: str = "model") -> None:
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise PipelineError(f"{field} must be a model name or an .onnx path, not {model!r}")


def resolve_model(model: str | None, task: str, scale: int) -> ModelCard:
    """The card for an explicit model (name or path) or the task's default; refuses a model that cannot do it."""
    card = default_model(task, scale) if model is None else find_model(model)
    if not card.is_image_model:
        raise UnsupportedModelError(
            f"model {card.name} is a {describe_task(card.task)} model; it cannot {describe_task(task)} a photo"
        )
    if card.scale != scale:
        if task == "upscale":
            raise ModelError(
                f"model {card.name} upscales ×{card.scale}, but ×{scale} was asked for — "
                f"use a ×{scale} model or ask for ×{card.scale}"
            )
        raise ModelError(
            f"model {card.name} changes the size ×{card.scale}; {describe_task(task)} needs a same-size model"
        )
    return card


def resize_alpha(alpha: np.ndarray, width: int, height: int) -> np.ndarray:
    """Alpha is not a photo: it is resized with a conventional filter, never by the colour model."""
    if alpha.shape == (height, width):
        return alpha.copy()
    resized = PILImage.fromarray(np.ascontiguousarray(alpha, dtype=np.float32)).resize(
        (width, height), PILImage.Resampling.LANCZOS
    )
    result = np.asarray(resized, dtype=np.float32).copy()
    return np.clip(result, 0.0, 1.0, out=result)


@dataclasses.dataclass
class SameSizeParams(OpParams):
    """Parameters of a same-size (×1) model operation: denoise, low-light."""

    TASK: ClassVar[str]  # the model task, set by each operation
    strength: float = 1.0  # 0: untouched, 1: the model's output
    model: str | None = None  # a model name or .onnx path; None: the task's default
    device: str = "auto"
    tile: int | None = None  # None: chosen for the device

    def validate(self) -> None:
        check_strength(self.strength)
        check_model_name(self.model)
        check_device_and_tile(self.device, self.tile)

    def models(self) -> list[ModelSlot]:
        return [ModelSlot("model", self.model, self.TASK, 1, self.strength > 0)]


def same_size_model_op(
    model_task: str,
    image: Image,
    params: SameSizeParams,
    task: Task,
) -> Image:
    """Denoise and low-light: run a ×1 model, blend its output with the input by strength, keep alpha."""
    alpha = None if image.alpha is None else image.alpha.copy()
    if params.strength <= 0.0:
        return image.with_pixels(image.rgb.copy(), alpha)
    card = resolve_model(params.model, model_task, 1)
    rgb = run_model_tiled(card, image.rgb, device=params.device, tile=params.tile, task=task)
    if params.strength < 1.0:
        rgb *= np.float32(params.strength)
        rgb += np.float32(1.0 - params.strength) * image.rgb
    np.clip(rgb, 0.0, 1.0, out=rgb)
    return image.with_pixels(rgb, alpha)
