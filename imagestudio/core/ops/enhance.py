"""The one-click Enhance: low-light only when under-exposed, denoise as much as the noise needs, then upscale."""

from __future__ import annotations

from dataclasses import dataclass

from imagestudio.core.errors import PipelineError
from imagestudio.core.image import Image
from imagestudio.core.imageio.shot_info import iso_from_exif
from imagestudio.core.ops._common import (
    ModelSlot,
    OpParams,
    check_device_and_tile,
    check_model_name,
    resolve_model,
)
from imagestudio.core.ops.assess import denoise_strength_for, estimate_noise_sigma, measure_exposure
from imagestudio.core.ops.denoise import DenoiseParams, denoise
from imagestudio.core.ops.lowlight import LowlightParams, lowlight
from imagestudio.core.ops.upscale import UpscaleParams, upscale
from imagestudio.core.progress import NO_TASK, Task

ENHANCE_SCALES = (1, 2, 4)


@dataclass
class EnhanceParams(OpParams):
    scale: int = 2  # 1: no upscaling
    device: str = "auto"
    tile: int | None = None
    upscale_model: str | None = None  # None: each step's default model
    denoise_model: str | None = None
    lowlight_model: str | None = None

    def validate(self) -> None:
        if self.scale not in ENHANCE_SCALES or isinstance(self.scale, bool):
            raise PipelineError(f"enhance scale must be 1, 2 or 4, not {self.scale!r}")
        check_device_and_tile(self.device, self.tile)
        for field in ("upscale_model", "denoise_model", "lowlight_model"):
            check_model_name(getattr(self, field), field)

    def models(self) -> list[ModelSlot]:
        # Low light and denoise run only when the photo needs them: a missing model fails that photo, not the job.
        upscale = [ModelSlot("upscale_model", self.upscale_model, "upscale", self.scale, True)] if self.scale > 1 else []
        return upscale + [ModelSlot("denoise_model", self.denoise_model, "denoise", 1, None),
                          ModelSlot("lowlight_model", self.lowlight_model, "lowlight", 1, None)]


def enhance(
    image: Image,
    params: EnhanceParams,
    task: Task = NO_TASK,
) -> Image:
    # Shares of the progress bar; upscaling makes the most pixels.
    spans = (
        {"lowlight": (0.0, 0.2), "denoise": (0.2, 0.4), "upscale": (0.4, 1.0)}
        if params.scale > 1
        else {"lowlight": (0.0, 0.5), "denoise": (0.5, 1.0)}
    )
    device, tile = params.device, params.tile
    original = image

    brighten = measure_exposure(image.rgb).lowlight_strength
    # Models known to be needed are looked up first: a missing one fails now, not after minutes of work.
    if params.scale > 1:
        resolve_model(params.upscale_model, "upscale", params.scale)
    if brighten > 0:
        resolve_model(params.lowlight_model, "lowlight", 1)
        step = task.sub(*spans["lowlight"], "Low-light")
        lowlight_params = LowlightParams(strength=brighten, model=params.lowlight_model, device=device, tile=tile)
        image = lowlight(image, lowlight_params, step)

    # Measured after brightening, which lifts the noise along with the shadows.
    clean_up = denoise_strength_for(estimate_noise_sigma(image.rgb), iso_from_exif(image.meta.exif),
                                    image.meta.jpeg_quality)
    if clean_up > 0:
        step = task.sub(*spans["denoise"], "Denoise")
        denoise_params = DenoiseParams(strength=clean_up, model=params.denoise_model, device=device, tile=tile)
        image = denoise(image, denoise_params, step)

    if params.scale > 1:
        step = task.sub(*spans["upscale"], f"Upscale ×{params.scale}")
        upscale_params = UpscaleParams(scale=params.scale, model=params.upscale_model, device=device, tile=tile)
        image = upscale(image, upscale_params, step)
    if image is original:  # nothing needed doing: still hand back a new image, never the caller's arrays
        image = image.with_pixels(image.rgb.copy(), None if image.alpha is None else image.alpha.copy())
    task.report(1.0, "enhanced")
    return image
