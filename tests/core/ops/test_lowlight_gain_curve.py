"""The "gain-curve" low-light path: an exposure gain, then a tone curve per channel or on luma with colour kept."""

from __future__ import annotations

import math

import numpy as np
import onnx_models
import pytest

from imagestudio.core.errors import ModelError
from imagestudio.core.image import image_from_array
from imagestudio.core.models import find_model
from imagestudio.core.ops import LowlightParams, lowlight
from imagestudio.core.ops.lowlight_curve import NET_SIDE


def _card(name: str = "lowlight") -> dict[str, str]:
    return onnx_models.card(name, "lowlight", 1, output_kind="gain-curve", tile_multiple="4", receptive_radius="0")


def _model(models, model_dirs, **maps) -> None:
    models("gain_curve", "lowlight.onnx", model_dirs["bundled"], metadata=_card(), **maps)


def _dark_photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((height, width, 3)) * 0.4).astype(np.float32)


def test_card_says_gain_curve(models, model_dirs):
    _model(models, model_dirs)
    assert find_model(model_dirs["bundled"] / "lowlight.onnx").output_kind == "gain-curve"


def test_an_exposure_cut_is_undone_exactly(models, model_dirs):
    """Gain ×2 (t = log 2 / log 8), no curve: every pixel doubled, so detail and colour ratios are the photo's."""
    _model(models, model_dirs, gain_t=math.log(2) / math.log(8), mix_t=0.3)
    rgb = _dark_photo()
    out = lowlight(image_from_array(rgb), LowlightParams()).rgb
    np.testing.assert_allclose(out, np.clip(2 * rgb, 0, 1), atol=2e-5)


def test_luma_curve_keeps_colour_ratios(models, model_dirs):
    _model(models, model_dirs, mix_t=-1.0, alpha=0.8)
    rgb = _dark_photo() + 0.02
    out = lowlight(image_from_array(rgb), LowlightParams()).rgb
    assert out.mean() > 1.5 * rgb.mean()
    unclipped = out.max(axis=-1) < 1.0  # a channel pushed past white is clipped: only there may the ratio change
    assert unclipped.mean() > 0.5
    np.testing.assert_allclose((out[..., 0] / out[..., 1])[unclipped], (rgb[..., 0] / rgb[..., 1])[unclipped],
                               rtol=1e-4)


def test_per_channel_curve_is_the_curve_on_each_channel(models, model_dirs):
    _model(models, model_dirs, mix_t=1.0, alpha=1.0, steps=3)
    rgb = np.zeros((16, 16, 3), np.float32)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 0.3, 0.1, 0.02
    out = lowlight(image_from_array(rgb), LowlightParams()).rgb
    expected = (0.3, 0.1, 0.02)
    for k in range(3):  # α = 1 on every step: x ← x + x·(1 − x), three times
        value = expected[k]
        for _ in range(3):
            value = value + value * (1 - value)
        np.testing.assert_allclose(out[..., k], value, atol=1e-5)


def test_large_photo_keeps_its_finest_detail(models, model_dirs):
    """Maps come from a ≤ NET_SIDE copy, the gain is applied at full size: a one-pixel checkerboard doubles."""
    _model(models, model_dirs, gain_t=math.log(2) / math.log(8))
    height, width = NET_SIDE + 100, NET_SIDE + 300
    y, x = np.mgrid[0:height, 0:width]
    grey = (0.1 + 0.01 * ((x + y) % 2 * 2 - 1)).astype(np.float32)
    out = lowlight(image_from_array(np.repeat(grey[..., None], 3, axis=2)), LowlightParams()).rgb
    np.testing.assert_allclose(out[..., 1], 2 * grey, atol=2e-5)


def test_a_gain_curve_model_with_too_few_maps_is_refused(models, model_dirs):
    models("curve", "lowlight.onnx", model_dirs["bundled"], metadata=_card(), steps=2)  # 2 maps: no curve at all
    with pytest.raises(ModelError, match="curve model"):
        lowlight(image_from_array(_dark_photo()), LowlightParams())
