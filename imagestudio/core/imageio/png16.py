"""A 16-bit PNG writer. Pillow has no 16-bit colour mode, so it cannot write 16-bit RGB(A) or grey+alpha PNGs."""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np

from imagestudio.core.imageio.metadata import EXIF_HEADER

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_ROWS_PER_BLOCK = 64  # filter this many rows at a time to bound memory
_IDAT_SIZE = 1 << 20
# The low byte of a 16-bit sample is mostly sensor noise: zlib levels above 3 cost time and save ~1%.
_ZLIB_LEVEL = 3


def write_png16(
    out: BinaryIO,
    samples: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    dpi: tuple[float, float] | None = None,
) -> None:
    """Write uint16 samples (H, W) or (H, W, C), C in 1..4, as a 16-bit PNG with the given metadata."""
    if samples.ndim == 2:
        samples = samples[:, :, None]
    height, width, channels = samples.shape
    out.write(_SIGNATURE)
    _chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, 16, _COLOUR_TYPES[channels], 0, 0, 0))
    if icc_profile:
        _chunk(out, b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile))
    if dpi:
        per_metre = [max(1, round(d / 0.0254)) for d in dpi]
        _chunk(out, b"pHYs", struct.pack(">IIB", per_metre[0], per_metre[1], 1))
    if exif:
        _chunk(out, b"eXIf", exif[len(EXIF_HEADER) :] if exif.startswith(EXIF_HEADER) else exif)
    rows = np.ascontiguousarray(samples, dtype=">u2").view(np.uint8).reshape(height, width * channels * 2)
    _write_idat(out, rows, bytes_per_pixel=channels * 2)
    _chunk(out, b"IEND", b"")


def _chunk(out: BinaryIO, kind: bytes, data: bytes) -> None:
    out.write(struct.pack(">I", len(data)) + kind + data)
    out.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _write_idat(out: BinaryIO, rows: np.ndarray, bytes_per_pixel: int) -> None:
    compressor = zlib.compressobj(_ZLIB_LEVEL)
    pending = bytearray()
    previous = np.zeros(rows.shape[1], dtype=np.uint8)
    for start in range(0, rows.shape[0], _ROWS_PER_BLOCK):
        block = rows[start : start + _ROWS_PER_BLOCK]
        pending += compressor.compress(filter_rows(block, previous, bytes_per_pixel).tobytes())
        previous = block[-1]
        while len(pending) >= _IDAT_SIZE:
            _chunk(out, b"IDAT", bytes(pending[:_IDAT_SIZE]))
            del pending[:_IDAT_SIZE]
    pending += compressor.flush()
    for start in range(0, len(pending), _IDAT_SIZE):
        _chunk(out, b"IDAT", bytes(pending[start : start + _IDAT_SIZE]))


def filter_rows(block: np.ndarray, previous: np.ndarray, bpp: int) -> np.ndarray:
    """PNG-filter a block of rows, choosing per row the filter with the smallest sum of |signed bytes| (libpng's
    heuristic). Encoding only looks at unfiltered bytes, so all five filters vectorise. Returns rows prefixed
    with their filter type byte."""
    x = block.astype(np.int16)
    up = np.vstack([previous[None, :].astype(np.int16), x[:-1]])
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up_left = np.zeros_like(x)
    up_left[:, bpp:] = up[:, :-bpp]
    estimate = left + up - up_left
    dist_left, dist_up, dist_ul = np.abs(estimate - left), np.abs(estimate - up), np.abs(estimate - up_left)
    paeth = np.where((dist_left <= dist_up) & (dist_left <= dist_ul), left, np.where(dist_up <= dist_ul, up, up_left))
    candidates = np.stack([x, x - left, x - up, x - (left + up) // 2, x - paeth]).astype(np.uint8)
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)  # (5, rows)
    choice = cost.argmin(axis=0)
    chosen = candidates[choice, np.arange(x.shape[0])]
    return np.hstack([choice.astype(np.uint8)[:, None], chosen])
