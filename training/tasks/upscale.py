"""Fidelity super-resolution (×2, ×4): clean photo patches, downscaled, L1/Charbonnier loss.

`train.downscale = "robust"` mixes antialiased and aliased downscales (`degrade.ROBUST_DOWNSCALES`), so the model
works on what OpenCV and other tools make too, not only on Pillow's bicubic; "bicubic" is the benchmark's alone.
"""

from __future__ import annotations

import numpy as np
import torch

from training.archs.compact import CompactSR
from training.data.degrade import bicubic_down, robust_down, to_tensor_batch
from training.losses import charbonnier
from training.loop import train_supervised
from training.tasks.common import fixed_validation, photo_pools, sampler


def build_model(config: dict) -> CompactSR:
    m = config["model"]
    return CompactSR(scale=int(m["scale"]), feat=int(m["feat"]), convs=int(m["convs"]))


def pair_maker(scale: int, robust: bool = False, seed: int = 0):
    rng = np.random.default_rng(seed)

    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        low = [robust_down(p, scale, rng) if robust else bicubic_down(p, scale) for p in patches]
        return to_tensor_batch(low), to_tensor_batch(patches)
    return make_pair


def train(config: dict, resume: bool = True) -> CompactSR:
    model = build_model(config)
    train_photos, val_photos = photo_pools(config)
    patches = sampler(config, train_photos)
    robust = config["train"].get("downscale", "bicubic") == "robust"
    make_pair = pair_maker(model.scale, robust, int(config["train"].get("seed", 0)))
    validate = fixed_validation(val_photos, int(config["train"]["patch"]), pair_maker(model.scale, robust, 1234))
    return train_supervised(config, model, lambda n: make_pair(patches.batch(n)), charbonnier, validate, resume)
