"""Brighten an under-exposed photo: a tone-curve model (the bundled one) or a same-size image model; strength
blends with the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from imagestudio.core.image import Image
from imagestudio.core.ops._common import SameSizeParams, resolve_model, same_size_model_op
from imagestudio.core.ops.lowlight_curve import CURVE_KINDS, apply_curve_model
from imagestudio.core.progress import NO_TASK, Task


@dataclass
class LowlightParams(SameSizeParams):
    TASK: ClassVar[str] = "lowlight"


def lowlight(
    image: Image,
    params: LowlightParams,
    task: Task = NO_TASK,
) -> Image:
    card = resolve_model(params.model, "lowlight", 1)
    if card.output_kind not in CURVE_KINDS or params.strength <= 0.0:
        return same_size_model_op("lowlight", image, params, task)
    alpha = None if image.alpha is None else image.alpha.copy()
    rgb = apply_curve_model(card, image.rgb, params.device, task)
    if params.strength < 1.0:
        rgb *= np.float32(params.strength)
        rgb += np.float32(1.0 - params.strength) * image.rgb
        np.clip(rgb, 0.0, 1.0, out=rgb)
    return image.with_pixels(rgb, alpha)
