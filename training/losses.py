"""Losses: Charbonnier, relativistic average GAN, unsharp-masked targets, and the LDL artefact loss."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def charbonnier(output: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((output - target) ** 2 + eps * eps).mean()


def relativistic_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """RaGAN (ESRGAN): real should look more real than the average fake, and fake less real than the average real."""
    return 0.5 * (F.binary_cross_entropy_with_logits(real_logits - fake_logits.mean(), torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits - real_logits.mean(), torch.zeros_like(fake_logits)))


def relativistic_g_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * (F.binary_cross_entropy_with_logits(real_logits - fake_logits.mean(), torch.zeros_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits - real_logits.mean(), torch.ones_like(fake_logits)))


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur per channel, reflect-padded (no dark borders)."""
    radius = max(1, int(round(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def unsharp_mask(x: torch.Tensor, sigma: float = 1.5, amount: float = 0.5, threshold: float = 10 / 255) -> torch.Tensor:
    """Real-ESRGAN's sharpened target: add back `amount` of the detail layer where it is stronger than `threshold`
    (a softened mask, so flat areas and their noise are left alone). Training the pixel loss against it makes the
    generator's edges crisper without asking the discriminator for it."""
    detail = x - gaussian_blur(x, sigma)
    mask = (detail.abs().amax(dim=1, keepdim=True) > threshold).to(x.dtype)
    soft = gaussian_blur(mask, sigma)
    return (x + amount * detail * soft).clamp(0, 1)


def _local_variance(x: torch.Tensor, size: int) -> torch.Tensor:
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    mean = F.avg_pool2d(padded, size, stride=1)
    return (F.avg_pool2d(padded * padded, size, stride=1) - mean * mean).clamp_min(0)


def artifact_map(target: torch.Tensor, output: torch.Tensor, ema_output: torch.Tensor, size: int = 7) -> torch.Tensor:
    """LDL (Liang et al., CVPR 2022): where the residual |target - output| is locally noisy, the GAN is inventing
    detail that is wrong (artefacts), unlike real texture, whose residual is smooth. Weighted by the patch's overall
    residual variance, and zeroed where the generator already does better than its moving average (stable pixels)."""
    residual = (target - output).abs().sum(dim=1, keepdim=True)
    residual_ema = (target - ema_output).abs().sum(dim=1, keepdim=True)
    patch_weight = residual.var(dim=(1, 2, 3), keepdim=True) ** 0.2
    weight = patch_weight * _local_variance(residual, size)
    return (weight * (residual >= residual_ema).to(weight.dtype)).detach()


def artifact_loss(target: torch.Tensor, output: torch.Tensor, ema_output: torch.Tensor) -> torch.Tensor:
    weight = artifact_map(target, output, ema_output)
    return F.l1_loss(weight * output, weight * target)
