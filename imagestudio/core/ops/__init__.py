"""Image operations: plain functions `(image, params, task=NO_TASK) -> Image`, no Qt."""

from imagestudio.core.ops._common import ModelSlot, OpParams
from imagestudio.core.ops.denoise import DenoiseParams, denoise
from imagestudio.core.ops.enhance import EnhanceParams, enhance
from imagestudio.core.ops.lowlight import LowlightParams, lowlight
from imagestudio.core.ops.upscale import UpscaleParams, upscale

__all__ = [
    "DenoiseParams",
    "EnhanceParams",
    "LowlightParams",
    "ModelSlot",
    "OpParams",
    "UpscaleParams",
    "denoise",
    "enhance",
    "lowlight",
    "upscale",
]
