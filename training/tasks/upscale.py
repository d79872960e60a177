"""Fidelity super-resolution (×2, ×4): clean photo patches, downscaled, L1/Charbonnier loss.

`train.downscale = "robust"` mixes antialiased and aliased downscales (`degrade.ROBUST_DOWNSCALES`), so the model
works on what OpenCV and other tools make too, not only on Pillow's bicubic; "bicubic" is the benchmark's alone.
"""

from __future__ import annotations

import numpy as np
import torch

from training.data.degrade import bicubic_down, robust_down, to_tensor_batch
from training.registry import TASKS
from training.tasks.common import fixed_validation, photo_pools, sampler
from training.tasks.supervised import MakeBatch, SupervisedTask, Validate


def pair_maker(scale: int, robust: bool = False, seed: int = 0):
    rng = np.random.default_rng(seed)

    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        low = [robust_down(p, scale, rng) if robust else bicubic_down(p, scale) for p in patches]
        return to_tensor_batch(low), to_tensor_batch(patches)
    return make_pair


@TASKS.register("upscale")
class Upscale(SupervisedTask):
    card_tasks = ("upscale",)
    default_arch = "compact-sr"

    def data(self) -> tuple[MakeBatch, Validate]:
        train_photos, val_photos = photo_pools(self.config)
        patches = sampler(self.config, train_photos)
        robust = self.train_cfg.get("downscale", "bicubic") == "robust"
        scale = self.net.scale
        make_pair = pair_maker(scale, robust, self.seed)
        validate = fixed_validation(val_photos, int(self.train_cfg["patch"]), pair_maker(scale, robust, 1234))
        return (lambda n: make_pair(patches.batch(n))), validate
