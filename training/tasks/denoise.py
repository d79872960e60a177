"""Blind colour denoiser: Gaussian σ 0–55 (colour or grey), Poisson-like, camera-like (signal-dependent, spatially
correlated) noise and JPEG, one network for all; validated on held-out photos at σ = 25, the bench's level."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from training.archs.denoise_unet import UnshuffleUNet
from training.archs.unet import ResidualUNet
from training.data.degrade import add_noise, camera_noise, jpeg, to_tensor_batch
from training.losses import charbonnier
from training.loop import train_supervised
from training.tasks.common import fixed_validation, photo_pools, sampler


def build_model(config: dict) -> nn.Module:
    model = config["model"]
    if model.get("arch", "residual-unet") == "unshuffle-unet":
        return UnshuffleUNet(feat=int(model["feat"]), blocks=int(model.get("blocks", 2)))
    return ResidualUNet(feat=int(model["feat"]))


def gaussian(patch: np.ndarray, rng: np.random.Generator, sigma: float, grey: bool = False) -> np.ndarray:
    shape = patch.shape[:2] + (1,) if grey else patch.shape
    noisy = patch.astype(np.float32) + rng.normal(0, sigma, shape).astype(np.float32)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def degrade(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kind = rng.random()
    if kind < 0.55:  # the common case and the bench's: additive colour Gaussian, clipped to 8 bits
        return gaussian(patch, rng, rng.uniform(0, 55))
    if kind < 0.62:
        return gaussian(patch, rng, rng.uniform(0, 50), grey=True)
    if kind < 0.70:
        return add_noise(patch, rng, sigma_max=50.0)  # includes Poisson-like shot noise
    if kind < 0.85:
        return camera_noise(patch, rng)
    if kind < 0.93:
        return jpeg(patch, rng.integers(30, 96))
    return jpeg(camera_noise(patch, rng, sigma_max=20.0), rng.integers(50, 96))


def pair_maker(rng: np.random.Generator):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([degrade(p, rng) for p in patches]), to_tensor_batch(patches)
    return make_pair


def sigma25_pairs(rng: np.random.Generator):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([gaussian(p, rng, 25.0) for p in patches]), to_tensor_batch(patches)
    return make_pair


def train(config: dict, resume: bool = True) -> nn.Module:
    model = build_model(config)
    train_photos, val_photos = photo_pools(config)
    patches = sampler(config, train_photos)
    seed = int(config["train"].get("seed", 0))
    validate = fixed_validation(val_photos, int(config["train"].get("val_patch", config["train"]["patch"])),
                                sigma25_pairs(np.random.default_rng(seed + 1)))
    make_pair = pair_maker(np.random.default_rng(seed))
    return train_supervised(config, model, lambda n: make_pair(patches.batch(n)), charbonnier, validate, resume)
