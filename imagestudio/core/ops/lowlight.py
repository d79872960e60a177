"""Brighten an under-exposed photo with a same-size model; strength blends with the input."""

from __future__ import annotations

from dataclasses import dataclass

from imagestudio.core.image import Image
from imagestudio.core.ops._common import SameSizeParams, same_size_model_op
from imagestudio.core.progress import CancelToken, Progress


@dataclass
class LowlightParams(SameSizeParams):
    pass


def lowlight(
    image: Image,
    params: LowlightParams,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Image:
    return same_size_model_op("lowlight", image, params, progress, cancel)
