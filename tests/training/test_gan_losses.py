"""The realistic-SR recipe's parts: losses that sharpen edges only and flag noisy wrong detail only, the discriminator's
luma view, the GAN ramp, and the generator's output-resolution head."""

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


def test_discriminator_view_is_luma_and_its_detail_only() -> None:
    from training.tasks.upscale_gan import luma_detail

    flat = torch.full((1, 3, 16, 16), 0.4)
    view = luma_detail(flat)
    assert view.shape == (1, 2, 16, 16)
    assert torch.allclose(view[:, 1], torch.full((1, 16, 16), 0.5), atol=1e-6)  # no texture: a flat detail layer
    # Same luma, different colour: the discriminator cannot tell them apart (colour is the pixel loss's job).
    grey = torch.rand(1, 1, 16, 16).repeat(1, 3, 1, 1)
    luma = grey[:, :1]
    tinted = torch.cat([luma + 0.114 * 0.1 / 0.299, luma, luma - 0.1], dim=1)
    assert torch.allclose(luma_detail(grey), luma_detail(tinted), atol=1e-5)
    assert luma_detail(_edge_image())[:, 1].abs().max() > 0.5  # an edge shows up strongly


def test_output_resolution_head_starts_as_the_identity_so_the_fidelity_model_loads_unchanged() -> None:
    from training.archs.compact import CompactSR

    torch.manual_seed(0)
    fidelity = CompactSR(scale=4, feat=8, convs=2)
    with_head = CompactSR(scale=4, feat=8, convs=2, hr_feat=4)
    state = with_head.state_dict()
    state.update(fidelity.state_dict())
    with_head.load_state_dict(state)
    x = torch.rand(1, 3, 9, 7)
    with torch.no_grad():
        assert torch.equal(with_head(x), fidelity(x))
    assert with_head.receptive_radius == fidelity.receptive_radius + 1
    assert with_head.describe() == "CompactSR(scale=4, feat=8, convs=2, hr_feat=4)"
    with_head(x).mean().backward()  # the zero-initialised conv still learns
    assert with_head.hr_head[-1].weight.grad.abs().sum() > 0


def test_real_and_fake_are_shifted_together_off_the_pixel_shuffle_grid() -> None:
    import numpy as np

    from training.tasks.upscale_gan import shifted_pair

    real = torch.arange(2 * 3 * 12 * 12, dtype=torch.float32).reshape(2, 3, 12, 12)
    fake = real + 1000
    offsets = set()
    rng = np.random.default_rng(0)
    for _ in range(40):
        a, b = shifted_pair(real, fake, 4, rng)
        assert a.shape == b.shape == (2, 3, 8, 8)
        assert torch.equal(b - a, torch.full_like(a, 1000))  # the same window of both
        offsets.add((int(a[0, 0, 0, 0]) // 12, int(a[0, 0, 0, 0]) % 12))
    assert offsets == {(dy, dx) for dy in range(4) for dx in range(4)}  # every phase of the ×4 grid
