"""Fidelity super-resolution (×2, ×4): clean photo patches, bicubic-degraded, L1/Charbonnier loss."""

from __future__ import annotations

import numpy as np
import torch

from training.archs.compact import CompactSR
from training.data.degrade import bicubic_down, to_tensor_batch
from training.losses import charbonnier
from training.loop import train_supervised
from training.tasks.common import fixed_validation, photo_pools, sampler


def build_model(config: dict) -> CompactSR:
    m = config["model"]
    return CompactSR(scale=int(m["scale"]), feat=int(m["feat"]), convs=int(m["convs"]))


def pair_maker(scale: int):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([bicubic_down(p, scale) for p in patches]), to_tensor_batch(patches)
    return make_pair


def train(config: dict, resume: bool = True) -> CompactSR:
    model = build_model(config)
    train_photos, val_photos = photo_pools(config)
    patches = sampler(config, train_photos)
    make_pair = pair_maker(model.scale)
    validate = fixed_validation(val_photos, int(config["train"]["patch"]), make_pair)
    return train_supervised(config, model, lambda n: make_pair(patches.batch(n)), charbonnier, validate, resume)
