"""The realistic-SR losses do what the GAN recipe relies on: sharpen edges only, and flag noisy wrong detail only."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.losses import artifact_loss, artifact_map, gaussian_blur, unsharp_mask  # noqa: E402
from training.tasks.upscale_gan import _gan_ramp  # noqa: E402


def _edge_image() -> torch.Tensor:
    x = torch.zeros(1, 3, 32, 32)
    x[..., 16:] = 0.8
    return x + 0.1


def test_blur_keeps_flat_images_and_mean() -> None:
    flat = torch.full((2, 3, 20, 24), 0.37)
    assert torch.allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)
    edge = _edge_image()
    blurred = gaussian_blur(edge, 1.5)
    assert blurred[..., 15].mean() > edge[..., 15].mean()  # the dark side of the edge picks up light
    assert torch.isclose(blurred.mean(), edge.mean(), atol=1e-3)


def test_unsharp_mask_raises_edge_contrast_and_leaves_flat_areas() -> None:
    edge = _edge_image()
    sharp = unsharp_mask(edge, sigma=1.5, amount=0.5)
    assert sharp[..., 16].mean() > edge[..., 16].mean()  # overshoot on the bright side
    assert sharp[..., 15].mean() < edge[..., 15].mean()  # undershoot on the dark side
    assert torch.equal(sharp[..., :8], edge[..., :8])  # far from the edge: untouched
    torch.manual_seed(0)
    noise = 0.5 + 0.005 * torch.randn(1, 3, 32, 32)  # below the threshold: noise is not amplified
    assert torch.allclose(unsharp_mask(noise), noise.clamp(0, 1), atol=1e-6)


def test_artifact_map_flags_noisy_residuals_not_smooth_ones() -> None:
    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 32)
    smooth_error = target + 0.05  # a uniform shift: locally constant residual
    noisy_error = target + 0.05 * torch.randn_like(target)  # speckle: what GAN artefacts look like
    assert artifact_map(target, smooth_error, target).abs().max() < 1e-6
    assert artifact_map(target, noisy_error, target).mean() > 1e-5
    assert artifact_loss(target, target, target) == 0


def test_artifact_map_spares_pixels_where_the_generator_beats_its_average() -> None:
    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 32)
    output = target + 0.02 * torch.randn_like(target)
    worse_ema = target + 0.2 * torch.randn_like(target)
    assert artifact_map(target, output, worse_ema).abs().max() == 0


def test_gan_weight_ramps_in_after_the_pixel_stage() -> None:
    assert [_gan_ramp(s, start=10, ramp=4) for s in (0, 9, 10, 11, 13, 50)] == [0.0, 0.0, 0.25, 0.5, 1.0, 1.0]
