"""The benchmark images on disk (`../shared/bench`: Set5, Set14, CBSD68) and the detail measure every protocol
shares. Evaluation only: nothing here is ever used for training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

BENCH_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench"


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def detail_energy(rgb: np.ndarray, border: int = 4) -> tuple[float, float]:
    """(luma, chroma) mean |Laplacian| of a float RGB image, `border` pixels cropped: how much fine detail it has.

    Compared with the real photo's, this says whether an upscaler restores texture (ratio near 1), leaves it blurred
    (well below 1) or invents noise; a chroma ratio well above the luma one means colour fringes at edges."""
    r, g, b = rgb[..., 0].astype(np.float64), rgb[..., 1].astype(np.float64), rgb[..., 2].astype(np.float64)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    channels = (y, 0.564 * (b - y), 0.713 * (r - y))
    energies = []
    for c in channels:
        lap = c[1:-1, :-2] + c[1:-1, 2:] + c[:-2, 1:-1] + c[2:, 1:-1] - 4 * c[1:-1, 1:-1]
        inner = lap[border:-border, border:-border] if border else lap
        energies.append(float(np.abs(inner).mean()))
    return energies[0], energies[1] + energies[2]
