"""load_image: a file on disk -> Image, or one of our errors with a message a person understands."""

from __future__ import annotations

import logging
import os
import re
import stat
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.errors import ImageLoadError, ImageTooLargeError
from imagestudio.core.imageio.decode import (
    decode_pixels,
    decode_second_pass,
    needs_second_pass,
    orient,
    tile_rawmodes,
)
from imagestudio.core.imageio.formats import DEFAULT_MAX_PIXELS, READ_FORMATS, normalise_format
from imagestudio.core.imageio.image_types import Image, ImageMeta, to_float
from imagestudio.core.imageio.metadata import exif_for_meta, read_dpi, read_orientation

# Pillow's decompression-bomb guard stays on, at our own limit: its warning would otherwise refuse a 100 MP camera
# photo (default 89.5 MP) that our configurable max_pixels allows.
PILImage.MAX_IMAGE_PIXELS = max(PILImage.MAX_IMAGE_PIXELS or 0, DEFAULT_MAX_PIXELS)

log = logging.getLogger(__name__)

# What Pillow raises for damaged pixel data, depending on the format and how the data is broken.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_READABLE = "JPEG, PNG, WebP, TIFF, BMP and GIF"


def load_image(path: str | os.PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image:
    """Read frame 0 of an image file, upright (EXIF orientation applied), as float32 pixels in [0, 1].

    Raises ImageTooLargeError when the header declares more than ``max_pixels`` pixels (None: no limit of our
    own) or trips Pillow's decompression-bomb guard, before any pixel is decoded; ImageLoadError for anything
    else that stops the file from being read.
    """
    path = Path(path)
    _check_file(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - we own the handle so it is closed whatever Pillow raises
    except OSError as error:
        raise ImageLoadError(_cannot_read(path, error)) from error
    with file:
        im = _open(path, file)
        with im:
            return _read(path, im, max_pixels)


def _name(path: Path) -> str:
    return path.name or str(path)


def _check_file(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as error:
        raise ImageLoadError(_cannot_read(path, error)) from error
    if stat.S_ISDIR(info.st_mode):
        raise ImageLoadError(f"{_name(path)} is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):  # a pipe or a device would block or never end
        raise ImageLoadError(f"{_name(path)} is not a regular file")
    if info.st_size == 0:
        raise ImageLoadError(f"{_name(path)} is empty (0 bytes)")


def _cannot_read(path: Path, error: OSError) -> str:
    if isinstance(error, (FileNotFoundError, NotADirectoryError)):
        return f"{_name(path)} was not found (looked in {path.parent})"
    if isinstance(error, PermissionError):
        return f"{_name(path)} cannot be read (permission denied)"
    if isinstance(error, IsADirectoryError):
        return f"{_name(path)} is a folder, not an image file"
    return f"{_name(path)} cannot be read ({error.strerror or error})"


def _open(path: Path, file: object) -> PILImage.Image:
    """Image.open (header only) with Pillow's bomb guard turned into our error."""
    try:
        # The warning (between Pillow's limit and twice it) is refused like the error. catch_warnings is not
        # thread-safe before Python 3.14; a race can at worst leave this one filter set, which we want anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            return PILImage.open(file, formats=READ_FORMATS)  # type: ignore[arg-type]
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
        raise ImageTooLargeError(_bomb_message(path, error)) from error
    except PILImage.UnidentifiedImageError as error:
        raise ImageLoadError(_unidentified_message(path)) from error
    except OSError as error:  # with an errno the system refused; without, Pillow found the header broken
        raise ImageLoadError(_cannot_read(path, error) if error.errno else _damaged(path, error)) from error


def _bomb_message(path: Path, error: Exception) -> str:
    numbers = [int(n) for n in re.findall(r"(\d+) pixels", str(error))]
    if len(numbers) >= 2:
        size, limit = numbers[0], numbers[1]
        return (
            f"{_name(path)} is too large to open safely: {size / 1e6:.1f} megapixels is over Pillow's "
            f"decompression-bomb limit of {limit / 1e6:.1f} megapixels"
        )
    return f"{_name(path)} is too large to open safely ({error})"


def _unidentified_message(path: Path) -> str:
    other = _pillow_format(path)
    if other:
        return f"{_name(path)} is in {other} format, which ImageStudio does not open (it opens {_READABLE})"
    return f"{_name(path)} is not an image or is damaged (cannot identify image file)"


def _pillow_format(path: Path) -> str | None:
    """Best effort, for the message only: does Pillow know this file under a format we do not open?"""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(path) as im:
                return im.format
    except (*_DECODE_ERRORS, PILImage.DecompressionBombError):
        return None


def _check_size(path: Path, size: tuple[int, int], max_pixels: int | None) -> None:
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"{_name(path)} is too large: {width}x{height} pixels ({width * height / 1e6:.1f} megapixels) "
            f"is over the limit of {max_pixels / 1e6:g} megapixels ({max_pixels} pixels)"
        )


@contextmanager
def _decoding(path: Path) -> Iterator[None]:
    try:
        yield
    except MemoryError as error:
        raise ImageLoadError(f"{_name(path)} is too large for the memory available") from error
    except _DECODE_ERRORS as error:
        raise ImageLoadError(_damaged(path, error)) from error


def _damaged(path: Path, error: Exception) -> str:
    reason = (str(error).splitlines() or [type(error).__name__])[0][:120]
    return f"{_name(path)} is damaged or incomplete ({reason})"


def _frame_count(im: PILImage.Image) -> int:
    if im.format == "MPO":  # a camera JPEG's second picture is a preview or depth map, not animation
        return 1
    try:
        count = int(getattr(im, "n_frames", 1))
    except _DECODE_ERRORS:  # damaged later frames: frame 0 may still be fine, load() will tell
        return 1
    if count > 1:
        im.seek(0)
    return max(count, 1)


def _read(path: Path, im: PILImage.Image, max_pixels: int | None) -> Image:
    _check_size(path, im.size, max_pixels)
    original_mode, pil_format = im.mode, str(im.format)
    with _decoding(path):
        frame_count = _frame_count(im)
        rawmodes = tile_rawmodes(im)
        im.load()
    second = _second_pass(path, pil_format, rawmodes, im)
    orientation = read_orientation(im)
    exif = exif_for_meta(im)  # before the file closes: Pillow reads TIFF sub-IFDs lazily
    icc = im.info.get("icc_profile") or None
    dpi = read_dpi(im)
    with _decoding(path):
        pixels = decode_pixels(im, rawmodes, second, icc)

    colour = orient(pixels.colour, orientation)
    alpha = None if pixels.alpha is None else to_float(orient(pixels.alpha, orientation))
    rgb = to_float(colour)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if dpi is not None and orientation >= 5:  # quarter turns swap the axes
        dpi = (dpi[1], dpi[0])
    meta = ImageMeta(
        source_path=path.absolute(),
        format=normalise_format(pil_format) or pil_format,
        mode=original_mode,
        bit_depth=pixels.bit_depth,
        has_alpha=alpha is not None,
        greyscale=pixels.greyscale,
        exif=exif,
        icc_profile=None if pixels.colour_converted else icc,
        dpi=dpi,
        frame_count=frame_count,
    )
    return Image(rgb, alpha, meta)


def _second_pass(path: Path, pil_format: str, rawmodes: list[str], first: PILImage.Image) -> np.ndarray | None:
    """The low bytes of 16-bit colour; None (8-bit result) if not needed or if the trick fails."""
    if not needs_second_pass(rawmodes):
        return None
    try:
        second = decode_second_pass(path, pil_format, rawmodes)
    except (*_DECODE_ERRORS, KeyError, TypeError) as error:
        # The first pass decoded fine, so the file is good: keep its 8-bit reading rather than fail.
        log.warning("%s: 16-bit colour read as 8-bit (%s)", path, error)
        return None
    if second.dtype != np.uint8 or second.shape != (first.height, first.width, len(first.getbands())):
        log.warning("%s: 16-bit colour read as 8-bit (unexpected second pass %s)", path, second.shape)
        return None
    return second
