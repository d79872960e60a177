"""Remove sensor and compression noise with a same-size model; strength blends with the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from imagestudio.core.image import Image
from imagestudio.core.ops._common import SameSizeParams, same_size_model_op
from imagestudio.core.progress import NO_TASK, Task


@dataclass
class DenoiseParams(SameSizeParams):
    TASK: ClassVar[str] = "denoise"


def denoise(
    image: Image,
    params: DenoiseParams,
    task: Task = NO_TASK,
) -> Image:
    return same_size_model_op("denoise", image, params, task)
