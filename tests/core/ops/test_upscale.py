from __future__ import annotations

import numpy as np
import onnx_models
import pytest

from imagestudio.core.errors import Cancelled, ModelError, ModelNotFoundError, PipelineError
from imagestudio.core.image import image_from_array, load_image
from imagestudio.core.ops import UpscaleParams, upscale
from imagestudio.core.progress import Task


def _nearest(array: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)


@pytest.mark.parametrize("scale", [2, 4])
def test_upscale_with_the_default_model(bundled_upscalers, photo, scale):
    image = load_image(photo)
    result = upscale(image, UpscaleParams(scale=scale))
    assert (result.width, result.height) == (image.width * scale, image.height * scale)
    np.testing.assert_allclose(result.rgb, _nearest(image.rgb, scale), atol=1e-6)
    assert result.meta == image.meta
    assert result.alpha is None


def test_alpha_is_resized_conventionally_and_transparency_survives(bundled_upscalers):
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[10:30, 10:30, 3] = 255  # an opaque square on a transparent background
    result = upscale(image_from_array(rgba), UpscaleParams(scale=4))
    assert result.alpha is not None and result.alpha.shape == (160, 160)
    assert result.alpha.dtype == np.float32
    assert np.all(result.alpha[:30, :] == 0) and np.all(result.alpha[:, 130:] == 0)  # background stays clear
    assert np.all(result.alpha[50:110, 50:110] == 1)
    assert result.alpha.min() >= 0 and result.alpha.max() <= 1


def test_output_is_mapped_from_the_models_range_and_clipped(models, photo):
    # The card says outputs are in [0, 0.5], so the core doubles them: bright pixels clip at 1.
    path = models("nearest_upscaler", scale=2, metadata=onnx_models.card("bright-x2", "upscale", 2,
                                                                          output_range="0,0.5"))
    image = load_image(photo)
    result = upscale(image, UpscaleParams(scale=2, model=str(path)))
    np.testing.assert_allclose(result.rgb, np.minimum(_nearest(image.rgb, 2) * 2, 1), atol=1e-6)
    assert result.rgb.max() == 1.0


def test_wrong_scale_model_is_refused(bundled_upscalers, photo):
    with pytest.raises(ModelError, match=r"upscale-x2 upscales ×2, but ×4 was asked for"):
        upscale(load_image(photo), UpscaleParams(scale=4, model="upscale-x2"))


def test_a_model_that_breaks_its_declared_scale_is_a_model_error(models, photo):
    path = models("nearest_upscaler", scale=2, metadata=onnx_models.card("liar-x4", "upscale", 4))
    with pytest.raises(ModelError, match="liar-x4 turned .* but its card says ×4"):
        upscale(load_image(photo), UpscaleParams(scale=4, model=str(path)))


def test_no_model_installed(photo):
    with pytest.raises(ModelNotFoundError, match="no model is installed for upscale ×4"):
        upscale(load_image(photo), UpscaleParams(scale=4))


def test_params_are_validated():
    with pytest.raises(PipelineError, match="scale must be 2 or 4"):
        UpscaleParams(scale=3)
    with pytest.raises(PipelineError, match="device"):
        UpscaleParams(device="gpu")
    with pytest.raises(PipelineError, match="tile"):
        UpscaleParams(tile=0)
    assert UpscaleParams.from_dict(UpscaleParams(scale=2, tile=64).to_dict()) == UpscaleParams(scale=2, tile=64)


def test_cancel_stops_the_upscale(bundled_upscalers, make_photo):
    image = load_image(make_photo(width=200, height=200))
    task = Task()
    task.cancel()
    with pytest.raises(Cancelled):
        upscale(image, UpscaleParams(scale=2, tile=64), task)
