"""Which file formats we read and write, and what each one can hold."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import features


def _phone_formats() -> tuple[str, ...]:
    """HEIF/HEIC (through the pillow-heif plugin) and AVIF (Pillow's own, where it was built with libavif): what
    phones write. Each is offered only where it can be read and written here."""
    found: list[str] = []
    try:
        import pillow_heif  # noqa: PLC0415 - optional: registers Pillow's HEIF opener and saver

        pillow_heif.register_heif_opener()
        found.append("HEIF")
    except ImportError:
        pass
    if features.check("avif"):
        found.append("AVIF")
    return tuple(found)


PHONE_FORMATS: tuple[str, ...] = _phone_formats()

# Our own limit, checked from the header before any pixel is decoded (Pillow's bomb guard also stays on).
DEFAULT_MAX_PIXELS: int = 200_000_000

# Formats handed to Image.open: anything else is refused instead of going through Pillow's rarer decoders.
# (Pillow's JPEG opener also returns "MPO" images: camera JPEGs that carry a preview or a depth map.)
READ_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", *PHONE_FORMATS)

SUFFIX_FORMATS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".jfif": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".gif": "GIF",
    **({".heic": "HEIF", ".heif": "HEIF", ".hif": "HEIF"} if "HEIF" in PHONE_FORMATS else {}),
    **({".avif": "AVIF"} if "AVIF" in PHONE_FORMATS else {}),
}

# Every suffix here can be both read and written.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(SUFFIX_FORMATS)

_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "MPO": "JPEG", "HEIC": "HEIF"}


@dataclass(frozen=True)
class FormatInfo:
    """What a format can store; save_image converts the image to fit."""

    name: str
    alpha: bool  # an alpha channel (GIF: one fully transparent colour)
    deep: bool  # 16 bits per sample
    grey: bool  # a single grey channel
    grey_alpha: bool  # grey plus alpha
    deep_grey_alpha: bool  # 16-bit grey plus alpha that Pillow (so ImageStudio) can read back
    exif: bool
    icc: bool
    dpi: bool


_Y, _N = True, False
FORMATS: dict[str, FormatInfo] = {
    row.name: row
    for row in (
        #           name   alpha deep grey grey_alpha deep_grey_alpha exif icc dpi
        FormatInfo("JPEG", _N, _N, _Y, _N, _N, _Y, _Y, _Y),
        FormatInfo("PNG", _Y, _Y, _Y, _Y, _Y, _Y, _Y, _Y),
        FormatInfo("WEBP", _Y, _N, _N, _N, _N, _Y, _Y, _N),
        FormatInfo("TIFF", _Y, _Y, _Y, _Y, _N, _Y, _Y, _Y),
        FormatInfo("BMP", _N, _N, _Y, _N, _N, _N, _N, _Y),
        FormatInfo("GIF", _Y, _N, _Y, _N, _N, _N, _N, _N),
        FormatInfo("HEIF", _Y, _N, _N, _N, _N, _Y, _Y, _N),  # written at 8 bits: what phones and viewers expect
        FormatInfo("AVIF", _Y, _N, _N, _N, _N, _Y, _Y, _N),
    )
    if row.name in ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", *PHONE_FORMATS)
}


def normalise_format(name: str) -> str | None:
    """'jpg' -> 'JPEG'; None when we cannot write that format."""
    upper = name.strip().upper()
    upper = _ALIASES.get(upper, upper)
    return upper if upper in FORMATS else None
