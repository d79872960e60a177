"""Photographs held in memory as uint8 arrays, and random training patches cut from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Packaged photos are JPEGs with compression noise at full size; a modest antialiased downscale makes cleaner
# "ground truth" (the same reason DIV2K-style HR sets are preferred), and several scales add variety.
_SCALES = (0.5, 0.7)
_MAX_PIXELS = 3_000_000


def load_photos(paths: list[Path], cache: Path | None = None) -> list[np.ndarray]:
    """Decode and rescale every photo once; cached as one .npz so later runs start in seconds."""
    if cache is not None and cache.is_file():
        with np.load(cache) as archive:
            return [archive[k] for k in sorted(archive.files, key=lambda k: int(k.split("_")[1]))]
    photos: list[np.ndarray] = []
    for path in paths:
        with Image.open(path) as im:
            im = im.convert("RGB")
            for scale in _SCALES:
                w, h = round(im.width * scale), round(im.height * scale)
                shrink = min(1.0, (_MAX_PIXELS / (w * h)) ** 0.5)
                w, h = round(w * shrink), round(h * shrink)
                photos.append(np.asarray(im.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **{f"p_{i}": p for i, p in enumerate(photos)})
    return photos


class PatchSampler:
    """Random square patches with random flips and 90° rotations (the 8 dihedral variants)."""

    def __init__(self, photos: list[np.ndarray], size: int, seed: int = 0, texture_bias: float = 0.0) -> None:
        self.photos = [p for p in photos if min(p.shape[:2]) >= size]
        if not self.photos:
            raise ValueError(f"no photo is at least {size} pixels on its short side")
        weights = np.array([p.shape[0] * p.shape[1] for p in self.photos], dtype=np.float64)
        self.weights = weights / weights.sum()
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.texture_bias = texture_bias

    def patch(self) -> np.ndarray:
        """A random patch; with probability `texture_bias`, the most detailed of 4 candidates (many wallpapers are
        mostly smooth bokeh, which teaches little)."""
        if self.texture_bias and self.rng.random() < self.texture_bias:
            return max((self._uniform_patch() for _ in range(4)), key=gradient_energy)
        return self._uniform_patch()

    def _uniform_patch(self) -> np.ndarray:
        photo = self.photos[self.rng.choice(len(self.photos), p=self.weights)]
        y = self.rng.integers(0, photo.shape[0] - self.size + 1)
        x = self.rng.integers(0, photo.shape[1] - self.size + 1)
        patch = photo[y:y + self.size, x:x + self.size]
        patch = np.rot90(patch, self.rng.integers(0, 4))
        if self.rng.random() < 0.5:
            patch = patch[:, ::-1]
        return np.ascontiguousarray(patch)

    def batch(self, n: int) -> list[np.ndarray]:
        return [self.patch() for _ in range(n)]


def gradient_energy(patch: np.ndarray) -> float:
    """Mean absolute horizontal + vertical difference of the green channel (a cheap luma proxy)."""
    g = patch[..., 1].astype(np.int16)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


def synthetic_photos(count: int = 4, size: int = 96, seed: int = 0) -> list[np.ndarray]:
    """Small generated images (smooth gradients + edges + texture) for --dry-run smoke tests on tiny data."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    photos = []
    for _ in range(count):
        base = np.stack([np.sin(xx * rng.uniform(2, 9) + rng.uniform(0, 6)) for _ in range(3)], -1)
        edges = (xx + yy * rng.uniform(-1, 1) > rng.uniform(0.2, 0.8))[..., None] * rng.uniform(-0.5, 0.5, 3)
        noise = rng.normal(0, 0.05, (size, size, 3))
        photos.append(np.clip((base * 0.4 + 0.5 + edges + noise) * 255, 0, 255).astype(np.uint8))
    return photos
