"""Small real photo files on disk (random pixels, any format Pillow writes) for the batch, CLI and GUI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage


def write_photo(path: Path, size: tuple[int, int] = (24, 16), seed: int = 0) -> Path:
    """Writes a width×height RGB image of seeded random pixels, creating parent folders; the format follows the suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(path)
    return path
