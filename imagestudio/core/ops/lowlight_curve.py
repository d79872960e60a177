"""Apply a curve low-light model: maps predicted on a small copy of the photo, the curve on every full pixel.

The model (training/archs/curve.py) outputs maps in [-1, 1] for a copy of the photo at most NET_SIDE pixels on its
long side; each is upsampled bilinearly to the photo's size. Output kind "curve": the maps are α₁…α_k, applied in
turn, x ← x + α·x·(1 − x), the same curve on R, G and B. Output kind "gain-curve": map 0 is an exposure gain
g = 8^t (the same on R, G and B), map 1 a mix m = (1 + t)/2 between that curve per channel and the curve on luma
with the colour ratios kept, maps 2… the α. Detail is never regenerated: a pixel's neighbours go through the same
smooth gain and curve, so edges and texture stay the photo's own. Memory: a few full-size planes beside the photo.
"""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.errors import ModelError
from imagestudio.core.models import ModelCard
from imagestudio.core.models_ran import record_session_run
from imagestudio.core.progress import NO_TASK, Task
from imagestudio.core.runtime import get_session

NET_SIDE = 512  # the network judges exposure on a copy this size: global context, a fraction of a second
MAX_GAIN_LOG = float(np.log(8.0))  # training/archs/curve.py's gain span, ×1/8 … ×8
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
CURVE_KINDS = ("curve", "gain-curve")


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
    """The model's maps (channels, h, w) for a small copy of `rgb` (H, W, 3) in [0, 1]."""
    session = get_session(card.path, device)
    small = _small_copy(rgb, card.tile_multiple)
    alphas = session.run(small)
    fewest = 3 if card.output_kind == "gain-curve" else 1
    if (alphas.ndim != 4 or alphas.shape[0] != 1 or not fewest <= alphas.shape[1] <= 34
            or alphas.shape[2:] != small.shape[2:]):
        raise ModelError(f"model {card.name} is a curve model but returned an array of shape {alphas.shape}")
    if not np.isfinite(alphas).all():
        raise ModelError(f"model {card.name} returned non-finite curve parameters")
    record_session_run(card, session)
    return np.clip(alphas[0], -1.0, 1.0)


def apply_curve_model(card: ModelCard, rgb: np.ndarray, device: str = "auto", task: Task = NO_TASK) -> np.ndarray:
    """The brightened photo, float32 (H, W, 3) in [0, 1]."""
    height, width = rgb.shape[:2]
    maps = curve_alphas(card, rgb, device)
    gain_curve = card.output_kind == "gain-curve"
    alphas = maps[2:] if gain_curve else maps
    out = np.clip(rgb, 0.0, 1.0).astype(np.float32, copy=True)
    if gain_curve:
        out *= np.exp(_upsample(maps[0], width, height) * np.float32(MAX_GAIN_LOG))[..., None]
        np.clip(out, 0.0, 1.0, out=out)
        gained = out.copy()  # the colour-keeping branch scales these pixels by the luma curve's lift
        luma = (out @ LUMA)[..., None]
        lifted = luma.copy()
    steps = alphas.shape[0]
    for k in range(steps):
        task.check()
        a = _upsample(alphas[k], width, height)[..., None]  # once per step, for both branches
        out += a * out * (1.0 - out)  # monotone in [0, 1] for |α| ≤ 1
        if gain_curve:
            lifted += a * lifted * (1.0 - lifted)
        task.report((k + 1) / steps, f"tone curve step {k + 1} of {steps}")
    if not gain_curve:
        return np.clip(out, 0.0, 1.0, out=out)
    lifted /= np.maximum(luma, np.float32(1 / 255))
    ratio_kept = gained
    ratio_kept *= lifted
    np.clip(ratio_kept, 0.0, 1.0, out=ratio_kept)
    del luma, lifted
    mix = ((1.0 + _upsample(maps[1], width, height)) * np.float32(0.5))[..., None]
    out -= ratio_kept  # m·P + (1 − m)·R, as R + m·(P − R), one plane fewer
    out *= mix
    out += ratio_kept
    return np.clip(out, 0.0, 1.0, out=out)
