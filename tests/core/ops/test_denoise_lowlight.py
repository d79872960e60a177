from __future__ import annotations

import numpy as np
import onnx_models
import pytest

from imagestudio.core.errors import ModelError
from imagestudio.core.image import image_from_array, load_image
from imagestudio.core.ops import DenoiseParams, LowlightParams, denoise, lowlight


@pytest.fixture
def blur_denoiser(models, model_dirs):
    return models("blur", "denoise.onnx", model_dirs["bundled"], metadata=onnx_models.card("denoise", "denoise", 1))


@pytest.mark.parametrize("strength", [1.0, 0.5, 0.25])
def test_denoise_blends_model_output_with_input_by_strength(blur_denoiser, photo, strength):
    image = load_image(photo)
    result = denoise(image, DenoiseParams(strength=strength))
    expected = strength * onnx_models.blur_reference(image.rgb) + (1 - strength) * image.rgb
    np.testing.assert_allclose(result.rgb, expected, atol=1e-5)


def test_strength_zero_leaves_the_image_alone_without_a_model(photo):
    image = load_image(photo)
    result = denoise(image, DenoiseParams(strength=0))  # no model is installed: none is needed
    np.testing.assert_array_equal(result.rgb, image.rgb)
    assert result.rgb is not image.rgb


def test_alpha_is_kept_untouched(blur_denoiser, make_photo):
    image = load_image(make_photo("rgba.png", alpha=True))
    result = denoise(image, DenoiseParams())
    np.testing.assert_array_equal(result.alpha, image.alpha)


def test_lowlight_uses_the_lowlight_model(models, model_dirs, photo):
    # "Brightens" by declaring its output range as [0, 0.5]: the core maps it to double, then clips.
    models("identity", "lowlight.onnx", model_dirs["bundled"],
           metadata=onnx_models.card("lowlight", "lowlight", 1, output_range="0,0.5", receptive_radius="0"))
    dark = image_from_array(np.full((20, 30, 3), 0.2, np.float32))
    np.testing.assert_allclose(lowlight(dark, LowlightParams()).rgb, 0.4, atol=1e-6)
    np.testing.assert_allclose(lowlight(dark, LowlightParams(strength=0.5)).rgb, 0.3, atol=1e-6)


def test_denoise_refuses_an_upscaler(bundled_upscalers, photo):
    with pytest.raises(ModelError, match="upscale-x4 changes the size ×4; denoise needs a same-size model"):
        denoise(load_image(photo), DenoiseParams(model="upscale-x4"))


def test_strength_is_validated():
    from imagestudio.core.errors import PipelineError

    with pytest.raises(PipelineError, match="strength must be a number from 0 to 1"):
        DenoiseParams(strength=1.5)
