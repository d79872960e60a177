"""Remove sensor and compression noise with a same-size model; strength blends with the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from imagestudio.core.image import Image
from imagestudio.core.ops._common import SameSizeParams, same_size_model_op
from imagestudio.core.progress import CancelToken, Progress


@dataclass
class DenoiseParams(SameSizeParams):
    TASK: ClassVar[str] = "denoise"


def denoise(
    image: Image,
    params: DenoiseParams,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Image:
    return same_size_model_op("denoise", image, params, progress, cancel)
