"""save_image: Image -> file, atomically (see atomic.py), in a format chosen by suffix, never over the input by
accident."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.errors import ImageSaveError, NotEnoughMemoryError
from imagestudio.core.file_names import name_problem
from imagestudio.core.imageio.atomic import atomic_write, write_temporary
from imagestudio.core.imageio.formats import FORMATS, SUFFIX_FORMATS, FormatInfo, format_words, normalise_format
from imagestudio.core.imageio.image_types import Image, ImageMeta, to_uint8, to_uint16
from imagestudio.core.imageio.metadata import icc_fits
from imagestudio.core.imageio.png16 import write_png16
from imagestudio.core.imageio.tiff_writer import write_tiff

_WRITES = format_words(FORMATS)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Rec. 601, as Pillow's convert("L")


@dataclass
class _Metadata:
    exif: bytes | None
    icc_profile: bytes | None
    dpi: tuple[float, float] | None


def save_image(
    image: Image,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,  # noqa: A002 - the contract's name
    quality: int = 95,
    keep_metadata: bool = True,
    bit_depth: int | None = None,
    overwrite_input: bool = False,
) -> Path:
    """Write ``image`` to ``path`` and return the absolute path written.

    The format comes from ``format`` or else the suffix. JPEG and BMP have no alpha: transparent pixels are
    composited over white. Only PNG and TIFF keep 16 bits (``bit_depth`` None: the image's own depth where
    the format allows it, else 8). Greyscale images (meta.greyscale) are written as grey where the format
    allows it. EXIF, ICC and dpi are written where the format holds them, unless ``keep_metadata`` is False.
    The file is written to a temporary name in the same folder and renamed into place, so a failed save
    leaves any existing file untouched and no partial file behind. Raises ImageSaveError.
    """
    path = Path(path)
    _encode_with(atomic_write, image, path, format, quality, keep_metadata, bit_depth, overwrite_input)
    return path.absolute()


def save_image_unplaced(image: Image, path: str | os.PathLike[str], *, format: str | None = None,  # noqa: A002
                        quality: int = 95, keep_metadata: bool = True) -> Path:
    """What save_image writes, with the same checks, left in a temporary file beside ``path`` (returned) for
    atomic.place_temporary to rename into place: a batch's cluster worker encodes, its driver places."""
    path = Path(path)
    written: list[Path] = []
    _encode_with(lambda target, write: written.append(write_temporary(target, write)), image, path, format,
                 quality, keep_metadata, None, False)
    return written[0]


def _encode_with(writer: Callable[[Path, Callable[[BinaryIO], None]], object], image: Image, path: Path,
                 format: str | None, quality: int, keep_metadata: bool, bit_depth: int | None,  # noqa: A002
                 overwrite_input: bool) -> None:
    info = FORMATS[_target_format(path, format)]
    if bit_depth not in (None, 8, 16):
        raise ValueError(f"bit_depth must be 8, 16 or None, got {bit_depth!r}")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality!r}")
    if not overwrite_input and _is_input(image.meta.source_path, path):
        raise ImageSaveError(
            f"will not overwrite {path.name}: it is the image that was opened "
            "(save under another name, or allow overwriting the original)"
        )
    problem = name_problem(path)
    if problem is not None:  # measured in bytes: also decides before any encoding, not with ENAMETOOLONG after it
        raise ImageSaveError(f"cannot save {path.name}: {problem}")
    try:
        samples = _samples(image, info, bit_depth, path)
        grey = samples.ndim == 2 or samples.shape[2] == 2
        metadata = _metadata(image.meta, info, grey, keep_metadata)
        writer(path, lambda out: _encode(out, info.name, samples, metadata, int(quality)))
    except MemoryError:
        raise NotEnoughMemoryError(
            f"not enough memory to save {path.name} ({image.width}×{image.height}); nothing was written"
        ) from None


def _target_format(path: Path, format: str | None) -> str:  # noqa: A002
    if format is not None:
        name = normalise_format(format)
        if name is None:
            raise ImageSaveError(
                f"cannot save {path.name}: ImageStudio cannot write {format} files (it writes {_WRITES})"
            )
        return name
    suffix = path.suffix.lower()
    if not suffix:
        raise ImageSaveError(f"cannot save {path.name}: the name has no extension to choose a format (.png, .jpg, ...)")
    if suffix not in SUFFIX_FORMATS:
        raise ImageSaveError(f"cannot save {path.name}: unknown file type {suffix} (it writes {_WRITES})")
    return SUFFIX_FORMATS[suffix]


def _is_input(source: Path | None, target: Path) -> bool:
    if source is None:
        return False
    with suppress(OSError):
        if os.path.samefile(source, target):  # also catches hard links and case-insensitive file systems
            return True
    return os.path.normcase(os.path.realpath(source)) == os.path.normcase(os.path.realpath(target))


def _samples(image: Image, info: FormatInfo, bit_depth: int | None, path: Path) -> np.ndarray:
    """Integer samples shaped for the format: (H, W) grey, (H, W, 2) grey+alpha, (H, W, 3) RGB, (H, W, 4) RGBA."""
    depth = bit_depth or image.meta.bit_depth
    if depth == 16 and not info.deep:
        if bit_depth == 16:
            raise ImageSaveError(
                f"cannot save {path.name} with 16 bits per channel: {info.name} holds 8 (use PNG or TIFF)"
            )
        depth = 8
    rgb, alpha = image.rgb, image.alpha
    if alpha is not None and not info.alpha:
        rgb, alpha = _over_white(rgb, alpha), None
    grey_alpha_ok = info.grey_alpha and (depth == 8 or info.deep_grey_alpha)
    grey = image.meta.greyscale and info.grey and (alpha is None or grey_alpha_ok)
    colour = _luminance(rgb)[:, :, None] if grey else rgb
    stacked = colour if alpha is None else np.concatenate([colour, alpha[:, :, None]], axis=2)
    if stacked.shape[2] == 1:
        stacked = stacked[:, :, 0]
    return to_uint16(stacked) if depth == 16 else to_uint8(stacked)


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha, 0.0, 1.0)[:, :, None]
    return rgb * a + (1.0 - a)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    red, green, blue = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    if np.array_equal(red, green) and np.array_equal(green, blue):  # loaded grey: exact, no rounding
        return red
    return rgb @ _LUMA


def _metadata(meta: ImageMeta, info: FormatInfo, grey: bool, keep: bool) -> _Metadata:
    if not keep:
        return _Metadata(None, None, None)
    icc = meta.icc_profile if info.icc and meta.icc_profile and icc_fits(meta.icc_profile, grey) else None
    return _Metadata(
        exif=meta.exif if info.exif else None,
        icc_profile=icc,
        dpi=meta.dpi if info.dpi else None,
    )


def _encode(out: BinaryIO, fmt: str, samples: np.ndarray, metadata: _Metadata, quality: int) -> None:
    if fmt == "TIFF":
        write_tiff(out, samples, icc_profile=metadata.icc_profile, exif=metadata.exif, dpi=metadata.dpi)
        return
    if samples.dtype == np.uint16:  # only PNG gets here with 16 bits
        write_png16(out, samples, icc_profile=metadata.icc_profile, exif=metadata.exif, dpi=metadata.dpi)
        return
    picture = PILImage.fromarray(samples)
    params: dict[str, object] = {}
    if metadata.exif:
        params["exif"] = metadata.exif
    if metadata.icc_profile:
        params["icc_profile"] = metadata.icc_profile
    if metadata.dpi:
        params["dpi"] = metadata.dpi
    if fmt == "JPEG":
        # 4:4:4 chroma at high quality: halving colour resolution undoes detail an upscaler just added.
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        # quality 100 means lossless; exact keeps the colour under transparent pixels, so nothing changes.
        params.update(quality=quality, lossless=quality >= 100, exact=quality >= 100, method=4)
    elif fmt in ("HEIF", "AVIF"):
        params.update(quality=quality)
    elif fmt == "GIF":
        picture, params = _gif_picture(samples)
    picture.save(out, format=fmt, **params)


def _gif_picture(samples: np.ndarray) -> tuple[PILImage.Image, dict[str, object]]:
    """GIF holds 256 colours and one of them may be transparent: alpha below one half becomes that colour."""
    if samples.ndim == 2:
        return PILImage.fromarray(samples), {}
    alpha = samples[:, :, 3] if samples.shape[2] == 4 else None
    quantised = PILImage.fromarray(np.ascontiguousarray(samples[:, :, :3])).quantize(256 if alpha is None else 255)
    if alpha is None:
        return quantised, {}
    indices = np.asarray(quantised).copy()
    indices[alpha < 128] = 255
    palette = (quantised.getpalette() or [])[: 255 * 3]
    picture = PILImage.fromarray(indices)
    picture.putpalette(palette + [0] * (768 - len(palette)))
    return picture, {"transparency": 255}
