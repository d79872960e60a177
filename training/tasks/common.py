"""Shared by the tasks: the photo pool (real or, for --dry-run, generated) and a held-out validation PSNR."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from training.data.photos import PatchSampler, load_photos, synthetic_photos
from training.data.sources import DEFAULT_DATA_DIR, photo_paths

_VALIDATION_PHOTOS = 4  # the last few photos are held out of training to watch for over-fitting


def photo_pools(config: dict) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(training photos, held-out photos) as uint8 arrays."""
    if config.get("train", {}).get("dry_run"):
        photos = synthetic_photos(count=5)
        return photos[:-1], photos[-1:]
    data_dir = Path(config.get("data_dir", DEFAULT_DATA_DIR))
    paths = photo_paths(data_dir)
    train_paths, val_paths = paths[:-_VALIDATION_PHOTOS], paths[-_VALIDATION_PHOTOS:]
    return (load_photos(train_paths, data_dir / "cache" / "photos-train.npz"),
            load_photos(val_paths, data_dir / "cache" / "photos-val.npz"))


def sampler(config: dict, photos: list[np.ndarray]) -> PatchSampler:
    train = config["train"]
    return PatchSampler(photos, int(train["patch"]), seed=int(train.get("seed", 0)),
                        texture_bias=float(train.get("texture_bias", 0.0)))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = torch.mean((a.clamp(0, 1) - b) ** 2).item()
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def fixed_validation(val_photos: list[np.ndarray], patch: int, make_pair: Callable[[list[np.ndarray]], tuple],
                     count: int = 16) -> Callable[[torch.nn.Module], dict[str, float]]:
    """A fixed set of held-out patches (same degradations every time) so validation PSNR is comparable."""
    val_sampler = PatchSampler(val_photos, patch, seed=1234)
    inputs, targets = make_pair(val_sampler.batch(count))

    def validate(model: torch.nn.Module) -> dict[str, float]:
        return {"val_psnr": psnr(model(inputs), targets)}

    return validate
