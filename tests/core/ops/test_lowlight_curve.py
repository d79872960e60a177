"""The curve low-light path: α maps from a small copy, the curve applied at full resolution."""

from __future__ import annotations

import numpy as np
import onnx_models
import pytest

from imagestudio.core.errors import ModelError, UnsupportedModelError
from imagestudio.core.image import image_from_array
from imagestudio.core.models import find_model
from imagestudio.core.ops import LowlightParams, lowlight
from imagestudio.core.ops.lowlight_curve import NET_SIDE


def _curve_card(name: str = "lowlight") -> dict[str, str]:
    return onnx_models.card(name, "lowlight", 1, output_kind="curve", tile_multiple="4", receptive_radius="0")


@pytest.fixture
def curve_model(models, model_dirs):
    return models("curve", "lowlight.onnx", model_dirs["bundled"], metadata=_curve_card())


def _laplacian(grey: np.ndarray) -> np.ndarray:
    return 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]


def test_card_says_curve(curve_model):
    assert find_model(curve_model).output_kind == "curve"


def test_constant_image_gets_the_models_curve(curve_model):
    rgb = np.full((40, 60, 3), 0.1, np.float32)
    out = lowlight(image_from_array(rgb), LowlightParams()).rgb
    np.testing.assert_allclose(out, onnx_models.curve_reference(0.1), atol=1e-5)


def test_detail_is_the_photos_own_at_full_resolution(models, model_dirs):
    """A photo larger than the network's copy: fine checkerboard texture survives, scaled by the curve's slope."""
    models("curve", "lowlight.onnx", model_dirs["bundled"], metadata=_curve_card(), steps=2)
    height, width = NET_SIDE + 300, NET_SIDE * 2 + 50
    y, x = np.mgrid[0:height, 0:width]
    base = 0.08 + 0.04 * (x / width)
    texture = 0.01 * ((x + y) % 2 * 2 - 1)  # one-pixel checkerboard: the finest detail there is
    rgb = np.repeat((base + texture)[..., None], 3, axis=2).astype(np.float32)
    out = lowlight(image_from_array(rgb), LowlightParams()).rgb
    assert out.shape == rgb.shape
    assert out.mean() > 2 * rgb.mean()  # brightened
    ratio = np.abs(_laplacian(out[..., 1])).mean() / np.abs(_laplacian(rgb[..., 1])).mean()
    assert ratio > 1.0  # a dark pixel's neighbours go through the same (steep) curve: detail is lifted, not lost
    assert np.all(out >= rgb - 1e-6)  # α ≥ 0 everywhere here: the curve only lifts


def test_colour_ratios_follow_one_curve_on_all_channels(curve_model):
    rgb = np.zeros((32, 32, 3), np.float32)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 0.1, 0.05, 0.02
    out = lowlight(image_from_array(rgb), LowlightParams()).rgb
    assert out[..., 0].mean() > out[..., 1].mean() > out[..., 2].mean()  # hue order kept


def test_strength_blends_and_alpha_is_kept(curve_model):
    rgb = np.full((16, 16, 3), 0.2, np.float32)
    alpha = np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16)
    full = lowlight(image_from_array(rgb), LowlightParams()).rgb
    half = lowlight(image_from_array(np.dstack([rgb, alpha])), LowlightParams(strength=0.5))
    np.testing.assert_allclose(half.rgb, 0.5 * full + 0.5 * rgb, atol=1e-5)
    np.testing.assert_array_equal(half.alpha, alpha)


def test_curve_model_with_a_wrong_output_is_refused(models, model_dirs):
    models("identity", "lowlight.onnx", model_dirs["bundled"], metadata=_curve_card())  # 3 maps of pixels
    out = lowlight(image_from_array(np.full((16, 16, 3), 0.2, np.float32)), LowlightParams()).rgb
    assert out.shape == (16, 16, 3)  # 3 maps are a legal (short) curve; shapes outside 1..32 maps are refused
    models("nearest_upscaler", "bad.onnx", model_dirs["bundled"], scale=2,
           metadata=_curve_card("bad"))
    with pytest.raises(ModelError):
        lowlight(image_from_array(np.full((16, 16, 3), 0.2, np.float32)), LowlightParams(model="bad"))


def test_curve_is_only_for_lowlight(models, model_dirs):
    path = models("identity", "odd.onnx", model_dirs["user"],
                  metadata=onnx_models.card("odd", "denoise", 1, output_kind="curve"))
    with pytest.raises(UnsupportedModelError):
        find_model(path)
