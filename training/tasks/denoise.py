"""Blind colour denoiser: Gaussian σ 0–55 (colour or grey), Poisson-like, camera-like (signal-dependent, spatially
correlated) noise and JPEG, one network for all; validated on held-out photos at σ = 25, the bench's level."""

from __future__ import annotations

import numpy as np
import torch

from training.data.degrade import add_noise, camera_noise, jpeg, to_tensor_batch
from training.registry import TASKS
from training.tasks.common import fixed_validation, photo_pools, sampler
from training.tasks.supervised import MakeBatch, SupervisedTask, Validate


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


@TASKS.register("denoise")
class Denoise(SupervisedTask):
    card_tasks = ("denoise",)
    default_arch = "residual-unet"  # the first denoiser's; configs since name "unshuffle-unet"

    def data(self) -> tuple[MakeBatch, Validate]:
        train_photos, val_photos = photo_pools(self.config)
        patches = sampler(self.config, train_photos)
        validate = fixed_validation(val_photos, int(self.train_cfg.get("val_patch", self.train_cfg["patch"])),
                                    sigma25_pairs(np.random.default_rng(self.seed + 1)))
        make_pair = pair_maker(np.random.default_rng(self.seed))
        return (lambda n: make_pair(patches.batch(n))), validate
