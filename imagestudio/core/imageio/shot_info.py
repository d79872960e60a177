"""What the file says about how a photo was made: a JPEG's quality (from its quantisation tables) and the ISO.

The one-click Enhance uses both as priors: a high ISO makes noise likely, a low JPEG quality means blocking that a
white-noise estimate does not see. Both are read from untrusted files, so every value is checked and anything odd
reads as "unknown" (None), never as an error.
"""

from __future__ import annotations

import io
import warnings
from functools import lru_cache

import numpy as np
from PIL import Image as PILImage

_EXIF_IFD = 0x8769
_ISO_TAGS = (0x8827, 0x8833)  # ISOSpeedRatings / PhotographicSensitivity, ISOSpeed
_MAX_ISO = 10_000_000


@lru_cache(maxsize=1)
def _reference_luma_tables() -> np.ndarray:
    """Pillow's (libjpeg's) luminance table at every quality 1..100, in the order Pillow reports tables."""
    tables = []
    tiny = PILImage.new("RGB", (8, 8))
    for quality in range(1, 101):
        buffer = io.BytesIO()
        tiny.save(buffer, "JPEG", quality=quality)
        with PILImage.open(buffer) as im:
            tables.append(list(im.quantization[0]))
    return np.array(tables, dtype=np.float64)


def jpeg_quality_from_tables(quantization: object) -> int | None:
    """The libjpeg quality (1–100) whose standard luminance table is nearest to the file's, or None when the file's
    tables are not the standard ones scaled (a camera's own tables: the match would be meaningless)."""
    if not isinstance(quantization, dict) or 0 not in quantization:
        return None
    try:
        luma = np.array(list(quantization[0])[:64], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if luma.shape != (64,) or not np.all(np.isfinite(luma)) or luma.min() < 1:
        return None
    references = _reference_luma_tables()
    error = np.abs(np.log(references) - np.log(luma)).mean(axis=1)
    best = int(np.argmin(error))
    if error[best] > 0.15:  # not a scaled standard table: estimate from the mean step against quality 50's
        scale = float(np.exp(np.mean(np.log(luma) - np.log(references[49]))))
        quality = 50 / scale if scale >= 1 else 100 - 50 * scale
        return int(np.clip(round(quality), 1, 100))
    return best + 1


def iso_from_exif(exif: bytes | None) -> int | None:
    """The ISO speed the camera recorded, or None."""
    if not exif:
        return None
    try:
        with warnings.catch_warnings():  # Pillow warns about corrupt EXIF; here it simply means "unknown"
            warnings.simplefilter("ignore")
            data = PILImage.Exif()
            data.load(exif)
            ifd = data.get_ifd(_EXIF_IFD)
    except Exception:  # untrusted bytes: Pillow raises many kinds of errors on damaged EXIF
        return None
    for tag in _ISO_TAGS:
        value = ifd.get(tag)
        if isinstance(value, (tuple, list)) and value:
            value = value[0]
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ISO:
            return value
    return None
