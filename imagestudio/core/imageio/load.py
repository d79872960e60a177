"""load_image: a file on disk -> Image, or one of our errors with a message a person understands."""

from __future__ import annotations

import logging
import os
import re
import stat
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
from imagestudio.core.imageio.formats import (
    DEFAULT_MAX_PIXELS,
    READ_FORMATS,
    format_words,
    normalise_format,
)
from imagestudio.core.imageio.image_types import Image, ImageMeta, to_float
from imagestudio.core.imageio.metadata import exif_for_meta, read_dpi, read_orientation
from imagestudio.core.imageio.shot_info import jpeg_quality_from_tables

# Pillow's decompression-bomb guard stays on, at our own limit: its warning would otherwise refuse a 100 MP camera
# photo (default 89.5 MP) that our configurable max_pixels allows.
PILImage.MAX_IMAGE_PIXELS = max(PILImage.MAX_IMAGE_PIXELS or 0, DEFAULT_MAX_PIXELS)
_guard_lock = threading.Lock()

# Pillow's UserWarnings are about damage it has already worked around ("Corrupt EXIF data", "Tag data larger than
# file"...); we handle those files (EXIF dropped, orientation 1), and the warnings would only print stray source
# lines on the CLI's stderr. The decompression-bomb warning is a RuntimeWarning and is not affected.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

log = logging.getLogger(__name__)

# What Pillow raises for damaged pixel data, depending on the format and how the data is broken.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
# Also these, from Pillow's plugins on damaged headers of later frames (found by fuzzing: a TIFF whose next-IFD
# pointer leads to garbage raises TypeError "Missing dimensions" from n_frames).
_PILLOW_ERRORS = (*_DECODE_ERRORS, TypeError, KeyError)
# O_NONBLOCK: opening a FIFO that was swapped in after a check must not block the app forever.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


def load_image(path: str | os.PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image:
    """Read frame 0 of an image file, upright (EXIF orientation applied), as float32 pixels in [0, 1].

    Raises ImageTooLargeError when the header declares more than ``max_pixels`` pixels (None: no limit of our
    own) or trips Pillow's decompression-bomb guard, before any pixel is decoded; ImageLoadError for anything
    else that stops the file from being read.
    """
    path = Path(path)
    _check_file(path)
    _allow_in_pillow(max_pixels)
    try:
        # Open, then check what was opened: the file checked above may have been swapped for a FIFO meanwhile.
        file = os.fdopen(os.open(path, _OPEN_FLAGS), "rb")
    except OSError as error:
        raise ImageLoadError(_cannot_read(path, error)) from error
    with file:
        _check_stat(path, os.fstat(file.fileno()))
        im = _open(path, file, max_pixels)
        with im:
            return _read(path, im, max_pixels)


def _allow_in_pillow(max_pixels: int | None) -> None:
    """A user limit above Pillow's bomb guard raises the guard, else Pillow would refuse what the user allowed.
    The guard only ever goes up, to a limit some caller asked for; each call still checks its own limit."""
    if max_pixels is None or max_pixels <= (PILImage.MAX_IMAGE_PIXELS or 0):
        return
    with _guard_lock:
        PILImage.MAX_IMAGE_PIXELS = max(PILImage.MAX_IMAGE_PIXELS or 0, max_pixels)


def _name(path: Path) -> str:
    return path.name or str(path)


def _check_file(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as error:
        raise ImageLoadError(_cannot_read(path, error)) from error
    _check_stat(path, info)


def _check_stat(path: Path, info: os.stat_result) -> None:
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


def _open(path: Path, file: object, max_pixels: int | None) -> PILImage.Image:
    """Image.open (header only) with Pillow's bomb guard turned into our error."""
    try:
        # The warning (between Pillow's limit and twice it) is refused like the error. catch_warnings is not
        # thread-safe before Python 3.14; a race can at worst leave this one filter set, which we want anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            return PILImage.open(file, formats=READ_FORMATS)  # type: ignore[arg-type]
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
        raise ImageTooLargeError(_bomb_message(path, error, max_pixels)) from error
    except PILImage.UnidentifiedImageError as error:
        raise ImageLoadError(_unidentified_message(path)) from error
    except OSError as error:  # with an errno the system refused; without, Pillow found the header broken
        raise ImageLoadError(_cannot_read(path, error) if error.errno else _damaged(path, error)) from error
    except MemoryError as error:
        raise ImageLoadError(f"{_name(path)} is too large for the memory available") from error
    except _DECODE_ERRORS as error:
        # Pillow raises these from Image.open itself (before any pixel) and they escaped as tracebacks: found by
        # the corpus (a PNG zTXt/iCCP chunk inflating past Pillow's 1 MB cap) and by hypothesis (a 5-byte IHDR).
        if "decompressed data too large" in str(error).lower():
            raise ImageLoadError(
                f"{_name(path)} holds compressed metadata (text or a colour profile) that expands beyond the safe "
                "limit; it was refused as a possible decompression bomb"
            ) from error
        raise ImageLoadError(_damaged(path, error)) from error


def _bomb_message(path: Path, error: Exception, max_pixels: int | None) -> str:
    numbers = [int(n) for n in re.findall(r"(\d+) pixels", str(error))]
    if numbers and max_pixels is not None and numbers[0] > max_pixels:
        # Over the user's own (configurable) limit too: name that limit, not Pillow's internal one.
        return _too_large_message(path, numbers[0], max_pixels)
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
        opens = format_words(READ_FORMATS)
        return f"{_name(path)} is in {other} format, which ImageStudio does not open (it opens {opens})"
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
        raise ImageTooLargeError(_too_large_message(path, width * height, max_pixels, f"{width}x{height} pixels "))


def _too_large_message(path: Path, pixels: int, max_pixels: int, dimensions: str = "") -> str:
    amount = f"{dimensions}({pixels / 1e6:.1f} megapixels)" if dimensions else f"{pixels / 1e6:.1f} megapixels"
    return (
        f"{_name(path)} is too large: {amount} is over the limit of {max_pixels / 1e6:g} megapixels "
        f"({max_pixels} pixels)"
    )


@contextmanager
def _decoding(path: Path) -> Iterator[None]:
    try:
        yield
    except MemoryError as error:
        raise ImageLoadError(f"{_name(path)} is too large for the memory available") from error
    except _PILLOW_ERRORS as error:
        raise ImageLoadError(_damaged(path, error)) from error


def _damaged(path: Path, error: Exception) -> str:
    reason = (str(error).splitlines() or [type(error).__name__])[0][:120]
    return f"{_name(path)} is damaged or incomplete ({reason})"


def _frame_count(im: PILImage.Image) -> int:
    if im.format == "MPO":  # a camera JPEG's second picture is a preview or depth map, not animation
        return 1
    try:
        count = int(getattr(im, "n_frames", 1))
    except _PILLOW_ERRORS:  # damaged later frames: frame 0 may still be fine, load() will tell
        with suppress(*_PILLOW_ERRORS):
            im.seek(0)
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
    quality = jpeg_quality_from_tables(getattr(im, "quantization", None)) if pil_format in ("JPEG", "MPO") else None
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
        jpeg_quality=quality,
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
