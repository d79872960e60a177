"""A TIFF writer: deflate-compressed strips, 8- or 16-bit grey/grey+alpha/RGB/RGBA, with EXIF, ICC and dpi.

Pillow cannot write 16-bit colour TIFFs, and its compressed (libtiff) path rejects EXIF sub-IFDs, so we lay
out the file ourselves and let Pillow's ImageFileDirectory_v2 serialise the tags.
"""

from __future__ import annotations

import logging
import zlib
from typing import BinaryIO

import numpy as np
from PIL import TiffImagePlugin, TiffTags

from imagestudio.core.imageio.metadata import TIFF_LAYOUT_TAGS, exif_tags

log = logging.getLogger(__name__)

_STRIP_BYTES = 256 * 1024  # uncompressed bytes per strip: small enough to stream, large enough to compress
_ADOBE_DEFLATE, _HORIZONTAL_PREDICTOR, _UNASSOCIATED_ALPHA = 8, 2, 2


def write_tiff(
    out: BinaryIO,
    samples: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    dpi: tuple[float, float] | None = None,
) -> None:
    """Write uint8 or uint16 samples (H, W) or (H, W, C), C in 1..4 (2 and 4 carry alpha), to a fresh stream."""
    if samples.ndim == 2:
        samples = samples[:, :, None]
    height, width, channels = samples.shape
    bits = 16 if samples.dtype == np.uint16 else 8
    strips, rows_per_strip = _compressed_strips(samples.astype("<u2" if bits == 16 else np.uint8))

    def build(with_exif: bool) -> TiffImagePlugin.ImageFileDirectory_v2:
        ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
        if with_exif and exif:
            _copy_exif(ifd, exif)  # first, so the layout tags below always win
        ifd[256], ifd[257] = width, height
        ifd[258] = (bits,) * channels
        ifd[259] = _ADOBE_DEFLATE
        ifd[262] = 1 if channels <= 2 else 2  # BlackIsZero grey or RGB
        ifd[277] = channels
        ifd[278] = rows_per_strip
        ifd[284] = 1  # samples interleaved
        ifd[317] = _HORIZONTAL_PREDICTOR
        if channels in (2, 4):
            ifd[338] = (_UNASSOCIATED_ALPHA,)  # straight (not premultiplied) alpha, as we keep it
        if dpi:
            ifd[296] = 2  # inches
            ifd[282], ifd[283] = float(dpi[0]), float(dpi[1])
        if icc_profile:
            ifd[34675] = icc_profile
        ifd[279] = tuple(len(strip) for strip in strips)
        ifd[273] = tuple(np.cumsum([0] + [len(s) for s in strips[:-1]]).tolist())  # shifted past the IFD on save
        ifd.tagtype[273] = ifd.tagtype[279] = TiffTags.LONG
        return ifd

    ifd = build(with_exif=False)
    if exif:
        try:
            with_exif = build(with_exif=True)
            with_exif.tobytes(8)  # EXIF from other files can hold values the TIFF serialiser refuses
            ifd = with_exif
        except Exception as error:  # noqa: BLE001 - keep the picture, drop only what cannot be written
            log.warning("EXIF not written to TIFF: %s", error)
    ifd.save(out)  # TIFF header and IFD; strips follow directly
    for strip in strips:
        out.write(strip)


def _compressed_strips(samples: np.ndarray) -> tuple[list[bytes], int]:
    height = samples.shape[0]
    row_bytes = samples.shape[1] * samples.shape[2] * samples.itemsize
    rows_per_strip = max(1, min(height, _STRIP_BYTES // max(row_bytes, 1)))
    level = 3 if samples.itemsize == 2 else 6  # 16-bit low bytes are noise: higher levels buy ~1%
    strips = []
    for start in range(0, height, rows_per_strip):
        block = samples[start : start + rows_per_strip]
        predicted = block.copy()
        predicted[:, 1:] -= block[:, :-1]  # horizontal differencing; unsigned arithmetic wraps as TIFF wants
        strips.append(zlib.compress(predicted.tobytes(), level))
    return strips, rows_per_strip


def _copy_exif(ifd: TiffImagePlugin.ImageFileDirectory_v2, exif: bytes) -> None:
    tags = exif_tags(exif)
    for tag in tags:
        if tag in TIFF_LAYOUT_TAGS:
            continue
        ifd[tag] = tags.get_ifd(tag) if tag in TiffTags.TAGS_V2_GROUPS else tags[tag]
