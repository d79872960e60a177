"""Upscale ×2 or ×4 with a super-resolution model; alpha is resized conventionally."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imagestudio.core.errors import PipelineError
from imagestudio.core.image import Image
from imagestudio.core.ops._common import (
    ModelSlot,
    OpParams,
    check_device_and_tile,
    check_model_name,
    resize_alpha,
    resolve_model,
)
from imagestudio.core.progress import NO_TASK, Task
from imagestudio.core.tiling import run_model_tiled

SCALES = (2, 4)


@dataclass
class UpscaleParams(OpParams):
    scale: int = 4
    model: str | None = None  # a model name or .onnx path; None: the default for this scale
    device: str = "auto"
    tile: int | None = None  # None: chosen for the device

    def validate(self) -> None:
        if self.scale not in SCALES or isinstance(self.scale, bool):
            raise PipelineError(f"upscale scale must be 2 or 4, not {self.scale!r}")
        check_model_name(self.model)
        check_device_and_tile(self.device, self.tile)

    def models(self) -> list[ModelSlot]:
        return [ModelSlot("model", self.model, "upscale", self.scale, True)]


def upscale(
    image: Image,
    params: UpscaleParams,
    task: Task = NO_TASK,
) -> Image:
    card = resolve_model(params.model, "upscale", params.scale)
    rgb = run_model_tiled(
        card,
        image.rgb,
        device=params.device,
        tile=params.tile,
        task=task.sub(0.0, 0.95),
    )
    np.clip(rgb, 0.0, 1.0, out=rgb)
    height, width = rgb.shape[:2]
    alpha = None if image.alpha is None else resize_alpha(image.alpha, width, height)
    task.report(1.0, f"upscaled ×{params.scale} to {width}×{height}")
    return image.with_pixels(rgb, alpha)
