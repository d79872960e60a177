"""Apply a curve low-light model: α maps predicted on a small copy of the photo, the curve on every full pixel.

The model (training/archs/curve.py) outputs CURVE_STEPS maps α in [-1, 1] for a copy of the photo at most
NET_SIDE pixels on its long side. Each map is upsampled bilinearly to the photo's size and applied in turn,
x ← x + α·x·(1 − x), the same curve on R, G and B. Detail is never regenerated: a pixel's neighbours go through
the same smooth curve, so edges and texture stay the photo's own. Memory: the photo plus one full-size map.
"""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.errors import ModelError
from imagestudio.core.models import ModelCard
from imagestudio.core.models_ran import record_session_run
from imagestudio.core.progress import CancelToken, Progress
from imagestudio.core.runtime import get_session

NET_SIDE = 512  # the network judges exposure on a copy this size: global context, a fraction of a second


def _small_copy(rgb: np.ndarray, multiple: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    shrink = min(1.0, NET_SIDE / max(height, width))
    h = max(multiple, round(height * shrink / multiple) * multiple)
    w = max(multiple, round(width * shrink / multiple) * multiple)
    channels = [PILImage.fromarray(np.ascontiguousarray(rgb[..., c])).resize((w, h), PILImage.Resampling.BOX)
                for c in range(3)]
    return np.stack([np.asarray(c, dtype=np.float32) for c in channels])[None]


def _upsample(alpha: np.ndarray, width: int, height: int) -> np.ndarray:
    full = PILImage.fromarray(np.ascontiguousarray(alpha, dtype=np.float32)).resize(
        (width, height), PILImage.Resampling.BILINEAR)
    return np.asarray(full, dtype=np.float32)


def curve_alphas(card: ModelCard, rgb: np.ndarray, device: str = "auto") -> np.ndarray:
    """The model's α maps (steps, h, w) for a small copy of `rgb` (H, W, 3) in [0, 1]."""
    session = get_session(card.path, device)
    small = _small_copy(rgb, card.tile_multiple)
    alphas = session.run(small)
    if alphas.ndim != 4 or alphas.shape[0] != 1 or not 1 <= alphas.shape[1] <= 32 or alphas.shape[2:] != small.shape[2:]:
        raise ModelError(f"model {card.name} is a curve model but returned an array of shape {alphas.shape}")
    if not np.isfinite(alphas).all():
        raise ModelError(f"model {card.name} returned non-finite curve parameters")
    record_session_run(card, session)
    return np.clip(alphas[0], -1.0, 1.0)


def apply_curve_model(card: ModelCard, rgb: np.ndarray, device: str = "auto", progress: Progress | None = None,
                      cancel: CancelToken | None = None) -> np.ndarray:
    """The brightened photo, float32 (H, W, 3) in [0, 1]."""
    height, width = rgb.shape[:2]
    alphas = curve_alphas(card, rgb, device)
    out = np.clip(rgb, 0.0, 1.0).astype(np.float32, copy=True)
    steps = alphas.shape[0]
    for k in range(steps):
        if cancel is not None:
            cancel.raise_if_cancelled()
        a = _upsample(alphas[k], width, height)[..., None]
        out += a * out * (1.0 - out)  # monotone in [0, 1] for |α| ≤ 1
        if progress is not None:
            progress((k + 1) / steps, f"tone curve step {k + 1} of {steps}")
    return np.clip(out, 0.0, 1.0, out=out)
