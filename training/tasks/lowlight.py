"""Low-light enhancement: a residual CNN trained to undo synthetic under-exposure (exposure, gamma, noise).

Highlights are protected by the data: the targets are the original, well-exposed photos, so the net learns to lift
shadows towards them without pushing already-bright pixels past them.
"""

from __future__ import annotations

import numpy as np
import torch

from training.archs.compact import ResidualCNN
from training.data.degrade import darken, to_tensor_batch
from training.losses import charbonnier
from training.loop import train_supervised
from training.tasks.common import fixed_validation, photo_pools, sampler


def build_model(config: dict) -> ResidualCNN:
    m = config["model"]
    return ResidualCNN(feat=int(m["feat"]), convs=int(m["convs"]))


def pair_maker(rng: np.random.Generator):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([darken(p, rng) for p in patches]), to_tensor_batch(patches)
    return make_pair


def train(config: dict, resume: bool = True) -> ResidualCNN:
    model = build_model(config)
    train_photos, val_photos = photo_pools(config)
    patches = sampler(config, train_photos)
    seed = int(config["train"].get("seed", 0))
    validate = fixed_validation(val_photos, int(config["train"]["patch"]), pair_maker(np.random.default_rng(seed + 1)))
    make_pair = pair_maker(np.random.default_rng(seed))
    return train_supervised(config, model, lambda n: make_pair(patches.batch(n)), charbonnier, validate, resume)
