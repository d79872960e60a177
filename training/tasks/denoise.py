"""Blind colour denoiser: Gaussian σ 0–50, Poisson-like noise and JPEG q 30–95, one residual U-Net for all."""

from __future__ import annotations

import numpy as np
import torch

from training.archs.unet import ResidualUNet
from training.data.degrade import add_noise, jpeg, to_tensor_batch
from training.losses import charbonnier
from training.loop import train_supervised
from training.tasks.common import fixed_validation, photo_pools, sampler


def build_model(config: dict) -> ResidualUNet:
    return ResidualUNet(feat=int(config["model"]["feat"]))


def degrade(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kind = rng.random()
    if kind < 0.75:
        return add_noise(patch, rng, sigma_max=50.0)
    if kind < 0.9:
        return jpeg(patch, rng.integers(30, 96))
    return jpeg(add_noise(patch, rng, sigma_max=25.0), rng.integers(50, 96))


def pair_maker(rng: np.random.Generator):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([degrade(p, rng) for p in patches]), to_tensor_batch(patches)
    return make_pair


def train(config: dict, resume: bool = True) -> ResidualUNet:
    model = build_model(config)
    train_photos, val_photos = photo_pools(config)
    patches = sampler(config, train_photos)
    seed = int(config["train"].get("seed", 0))
    validate = fixed_validation(val_photos, int(config["train"]["patch"]), pair_maker(np.random.default_rng(seed + 1)))
    make_pair = pair_maker(np.random.default_rng(seed))
    return train_supervised(config, model, lambda n: make_pair(patches.batch(n)), charbonnier, validate, resume)
