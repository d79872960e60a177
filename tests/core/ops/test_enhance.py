from __future__ import annotations

import numpy as np
import onnx_models
import pytest

from imagestudio.core.progress import Task
from imagestudio.core.errors import PipelineError
from imagestudio.core.image import image_from_array
from imagestudio.core.ops import EnhanceParams, enhance
from imagestudio.core.ops.assess import denoise_strength_for, estimate_noise_sigma, measure_exposure


def _smooth(height: int = 256, width: int = 256, level: float = 0.6) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = level + 0.2 * np.sin(x / 40) * np.cos(y / 50)
    return np.repeat(ramp[..., None], 3, axis=2).astype(np.float32)


def _noisy(rgb: np.ndarray, sigma_levels: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma_levels / 255, rgb.shape).astype(np.float32)
    return np.clip(rgb + noise, 0, 1)


@pytest.mark.parametrize("sigma", [5.0, 10.0, 25.0])
def test_noise_estimate_finds_the_added_noise(sigma):
    estimate = estimate_noise_sigma(_noisy(_smooth(), sigma)) * 255
    assert estimate == pytest.approx(sigma, rel=0.15)


def _texture(height: int = 256, width: int = 256, seed: int = 0) -> np.ndarray:
    """Fine oriented gratings everywhere, like fur or foliage: lots of high-frequency energy, no noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    grey = np.full((height, width), 0.5, np.float32)
    for _ in range(40):
        f, angle, phase = rng.uniform(0.05, 0.35), rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        grey += 0.015 * np.sin(2 * np.pi * f * (x * np.cos(angle) + y * np.sin(angle)) + phase)
    return np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=2).astype(np.float32)


def test_texture_is_not_read_as_noise():
    texture = _texture()
    haar_diagonal = (texture[0::2, 0::2] - texture[0::2, 1::2] - texture[1::2, 0::2] + texture[1::2, 1::2]) / 2
    assert np.median(np.abs(haar_diagonal)) / 0.6745 * 255 > 4  # what a plain wavelet estimate would call noise
    assert estimate_noise_sigma(texture) * 255 < 1.0
    assert denoise_strength_for(estimate_noise_sigma(texture)) == 0


@pytest.mark.parametrize("sigma", [10.0, 25.0])
def test_noise_on_texture_is_still_measured(sigma):
    assert estimate_noise_sigma(_noisy(_texture(), sigma)) * 255 == pytest.approx(sigma, rel=0.25)


def test_clipped_pixels_do_not_hide_noise():
    bright = _smooth(level=0.93)  # a third of the noisy pixels clip at white
    assert estimate_noise_sigma(_noisy(bright, 25.0)) * 255 == pytest.approx(25.0, rel=0.15)


def test_clean_photo_needs_no_denoising_and_noisy_one_does():
    assert denoise_strength_for(estimate_noise_sigma(_smooth())) == 0
    assert denoise_strength_for(5 / 255) == 0  # light grain is left alone
    assert 0.5 <= denoise_strength_for(8 / 255) < 1.0
    assert denoise_strength_for(10 / 255) == 1.0
    assert denoise_strength_for(40 / 255) == 1.0


def test_camera_iso_and_jpeg_quality_move_the_decision():
    assert denoise_strength_for(4 / 255) == 0
    assert denoise_strength_for(4 / 255, iso=3200) >= 0.5  # high ISO: weaker evidence is enough
    assert denoise_strength_for(7 / 255, iso=100) == 0  # base ISO: more likely texture
    assert denoise_strength_for(1 / 255, jpeg_quality=30) == 0.75  # heavy blocking needs a pass anyway
    assert denoise_strength_for(1 / 255, jpeg_quality=90) == 0


def test_low_key_photo_is_not_brightened():
    """A bright subject on a black background: the median is dark, but the highlights are properly exposed."""
    rgb = np.full((100, 100, 3), 0.03, np.float32)
    rgb[25:75, 25:75] = 0.85  # a quarter of the frame, well exposed: mean 0.24, median 0.03
    assert measure_exposure(rgb).lowlight_strength == 0.0
    assert measure_exposure(rgb * 0.3).lowlight_strength > 0  # the same shot under-exposed


def test_exposure():
    assert not measure_exposure(_smooth(level=0.6)).under_exposed
    dark = measure_exposure(_smooth(level=0.08) * 0.5)
    assert dark.under_exposed and dark.lowlight_strength == 1.0
    assert measure_exposure(_smooth(level=0.6)).lowlight_strength == 0.0


@pytest.fixture
def enhance_models(models, model_dirs, bundled_upscalers):
    """Low-light doubles brightness (output range 0..0.5), denoise blurs, upscalers are nearest-neighbour."""
    bundled = model_dirs["bundled"]
    models("identity", "lowlight.onnx", bundled,
           metadata=onnx_models.card("lowlight", "lowlight", 1, output_range="0,0.5", receptive_radius="0"))
    models("blur", "denoise.onnx", bundled, metadata=onnx_models.card("denoise", "denoise", 1))


def test_clean_well_exposed_photo_is_only_upscaled(enhance_models):
    rgb = _smooth(64, 80)
    progress: list[float] = []
    result = enhance(image_from_array(rgb), EnhanceParams(scale=2), Task(lambda f, m: progress.append(f)))
    np.testing.assert_allclose(result.rgb, np.repeat(np.repeat(rgb, 2, 0), 2, 1), atol=1e-6)
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_dark_noisy_photo_is_brightened_denoised_and_upscaled(enhance_models):
    rgb = _noisy(_smooth(128, 128, level=0.1) * 0.8, 6)
    messages: list[str] = []
    result = enhance(image_from_array(rgb), EnhanceParams(scale=4), Task(lambda f, m: messages.append(m)))
    assert result.rgb.shape == (512, 512, 3)
    assert result.rgb.mean() > rgb.mean() * 1.5
    assert {m.split(":")[0] for m in messages} >= {"Low-light", "Denoise", "Upscale ×4"}


def test_scale_one_with_nothing_to_do_returns_a_copy(enhance_models):
    image = image_from_array(_smooth(32, 32))
    result = enhance(image, EnhanceParams(scale=1))
    np.testing.assert_array_equal(result.rgb, image.rgb)
    assert result.rgb is not image.rgb


def test_enhance_scale_is_validated():
    with pytest.raises(PipelineError, match="enhance scale must be 1, 2 or 4"):
        EnhanceParams(scale=3)


def test_the_core_records_exactly_the_models_that_ran(enhance_models):
    from imagestudio.core.models_ran import recording_models

    with recording_models() as ran:
        enhance(image_from_array(_smooth(64, 80)), EnhanceParams(scale=2))
    assert [r.card.name for r in ran] == ["upscale-x2"]
    assert ran[0].provider == "CPUExecutionProvider" and ran[0].device == "cpu"
    with recording_models() as outer:
        with recording_models() as inner:
            enhance(image_from_array(_noisy(_smooth(128, 128, level=0.1) * 0.8, 6)), EnhanceParams(scale=1))
    assert [r.card.name for r in inner] == [r.card.name for r in outer] == ["lowlight", "denoise"]
    with recording_models() as after:
        pass
    assert after == []  # nothing leaks between recordings
