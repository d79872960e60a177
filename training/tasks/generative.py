"""Shared by the GAN and VAE tasks: emoji batches, the EMA decay ramp, batch-norm recalibration, contact sheets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn


class ImageBatches:
    """Random batches of a uint8 image set as float (N, 3, H, W) in [0, 1], mirrored at random (emoji stay emoji)."""

    def __init__(self, images: np.ndarray, seed: int = 0) -> None:
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        self.generator = torch.Generator().manual_seed(seed)

    def batch(self, size: int) -> torch.Tensor:
        index = torch.randint(len(self.images), (size,), generator=self.generator)
        x = self.images[index].float().div_(255.0)
        flip = torch.rand(size, generator=self.generator) < 0.5
        x[flip] = x[flip].flip(-1)
        return x


def ema_decay(step: int, decay: float) -> float:
    """Ramps up from 0, so the average does not remember the random initial weights for thousands of steps."""
    return min(decay, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def recalibrate_batchnorm(generator: nn.Module, latent: int, batches: int = 16, batch: int = 64,
                          seed: int = 0) -> None:
    """Batch-norm running statistics measured for *these* weights ("standing statistics").

    The averaged generator never ran in training mode, so the running statistics it carries belong to other
    weights; eval-mode samples would be washed out without this.
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [(m.momentum, m.training) for m in norms]
    g = torch.Generator().manual_seed(seed)
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
        m.train()
    for _ in range(batches):
        generator(torch.randn(batch, latent, generator=g))
    for m, (momentum, training) in zip(norms, saved):
        m.momentum = momentum
        m.train(training)


def contact_sheet(images: torch.Tensor | np.ndarray, cols: int = 8, pad: int = 2) -> Image.Image:
    """A grid of (N, 3, H, W) float [0, 1] or (N, H, W, 3) uint8 images on white."""
    if isinstance(images, torch.Tensor):
        images = (images.detach().clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    n, h, w, _ = images.shape
    rows = (n + cols - 1) // cols
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, im in enumerate(images):
        y, x = pad + (i // cols) * (h + pad), pad + (i % cols) * (w + pad)
        sheet[y : y + h, x : x + w] = im
    return Image.fromarray(sheet)


def save_sheet(path: Path, images: torch.Tensor | np.ndarray, cols: int = 8) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(images, cols).save(path)
    return path
