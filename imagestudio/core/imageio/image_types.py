"""The image value objects every part of the app passes around, and the array conversions they need."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class ImageMeta:
    """What we know about an image besides its pixels; carried from load to save."""

    source_path: Path | None
    format: str | None  # Pillow format name: "JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF"...
    mode: str  # original Pillow mode ("RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16", ...)
    bit_depth: int  # 8 or 16
    has_alpha: bool
    greyscale: bool
    exif: bytes | None  # b"Exif\0\0" + TIFF block; orientation already applied, tag reset to 1
    icc_profile: bytes | None
    dpi: tuple[float, float] | None = None
    frame_count: int = 1  # animated input: frame 0 only was loaded
    jpeg_quality: int | None = None  # a JPEG's libjpeg quality, read from its quantisation tables


# eq=False: comparing arrays field by field has no single truth value; compare pixels explicitly instead.
@dataclass(eq=False)
class Image:
    """Pixels as float32 in [0, 1]: colour (H, W, 3) and a separate alpha (H, W) or None."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    meta: ImageMeta

    def __post_init__(self) -> None:
        # Normalise once here so every operation can rely on dtype and layout (no copy when already right).
        self.rgb = np.ascontiguousarray(self.rgb, dtype=np.float32)
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(f"rgb must have shape (H, W, 3), got {self.rgb.shape}")
        if self.alpha is not None:
            self.alpha = np.ascontiguousarray(self.alpha, dtype=np.float32)
            if self.alpha.shape != self.rgb.shape[:2]:
                raise ValueError(f"alpha must have shape {self.rgb.shape[:2]}, got {self.alpha.shape}")

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    def with_pixels(self, rgb: np.ndarray, alpha: np.ndarray | None) -> Image:
        """Same metadata, new pixels. alpha is required on purpose: dropping it must be a visible choice."""
        return Image(rgb, alpha, dataclasses.replace(self.meta, has_alpha=alpha is not None))


def to_uint8(array: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 with rounding; out-of-range values are clipped and NaN becomes 0."""
    return _quantize(array, 255, np.uint8)


def to_uint16(array: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint16 with rounding (the 16-bit twin of :func:`to_uint8`)."""
    return _quantize(array, 65535, np.uint16)


_QUANTIZE_BLOCK_ROWS = 256


def _quantize(array: np.ndarray, top: int, dtype: type[np.unsignedinteger]) -> np.ndarray:
    # Block by block into a preallocated result: a float temporary of the whole image would be 1.2 GB per
    # 100 megapixels, which is what pushed a 24 MP ×2 upscale past its memory budget at save time.
    out = np.empty(array.shape, dtype=dtype)
    for start in range(0, array.shape[0] if array.ndim else 1, _QUANTIZE_BLOCK_ROWS):
        block = array[start:start + _QUANTIZE_BLOCK_ROWS] if array.ndim else array
        scaled = np.multiply(block, np.float32(top), dtype=np.float32)
        np.nan_to_num(scaled, copy=False, nan=0.0)
        np.rint(scaled, out=scaled)
        np.clip(scaled, 0, top, out=scaled)
        if array.ndim:
            out[start:start + _QUANTIZE_BLOCK_ROWS] = scaled
        else:
            out[()] = scaled
    return out


def to_float(array: np.ndarray) -> np.ndarray:
    """Integer samples (uint8 / uint16) or floats -> float32 in [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255)
    if array.dtype == np.uint16:
        return array.astype(np.float32) / np.float32(65535)
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.nan_to_num(array.astype(np.float32), nan=0.0), 0.0, 1.0)
    raise ValueError(f"unsupported pixel dtype {array.dtype}; use uint8, uint16 or float")


_MODES_BY_CHANNELS = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def image_from_array(array: np.ndarray) -> Image:
    """Wrap a new array as an Image (no source file, no metadata).

    Accepts uint8, uint16 (bit_depth 16) or float ([0, 1], clipped) with shape (H, W), (H, W, 1), (H, W, 2),
    (H, W, 3) or (H, W, 4); the last channel of 2 and 4 is alpha. 2-D and 1/2-channel arrays are greyscale.
    """
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _MODES_BY_CHANNELS or 0 in array.shape[:2]:
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {array.shape}")
    pixels = to_float(array)
    channels = array.shape[2]
    colour_channels = 1 if channels <= 2 else 3
    colour = pixels[:, :, :colour_channels]
    rgb = np.repeat(colour, 3, axis=2) if colour_channels == 1 else colour
    alpha = pixels[:, :, colour_channels] if channels in (2, 4) else None
    bit_depth = 16 if array.dtype == np.uint16 else 8
    greyscale = colour_channels == 1
    mode = "I;16" if (greyscale and alpha is None and bit_depth == 16) else _MODES_BY_CHANNELS[channels]
    meta = ImageMeta(
        source_path=None,
        format=None,
        mode=mode,
        bit_depth=bit_depth,
        has_alpha=alpha is not None,
        greyscale=greyscale,
        exif=None,
        icc_profile=None,
    )
    return Image(rgb, alpha, meta)
