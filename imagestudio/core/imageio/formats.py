"""Which file formats we read and write, and what each one can hold."""

from __future__ import annotations

from collections.abc import Iterable
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
    """What a format can store (save_image converts the image to fit) and how the app offers it."""

    name: str
    suffix: str  # the suffix a new file of this format gets
    alpha: bool  # an alpha channel (GIF: one fully transparent colour)
    deep: bool  # 16 bits per sample
    grey: bool  # a single grey channel
    grey_alpha: bool  # grey plus alpha
    deep_grey_alpha: bool  # 16-bit grey plus alpha that Pillow (so ImageStudio) can read back
    exif: bool
    icc: bool
    dpi: bool
    lossy: bool  # the quality setting applies; each save loses a little detail
    offered: bool  # a format to convert to (Save As, preferences, batch, CLI); else written only as "same"


_Y, _N = True, False
# The one table of formats ImageStudio writes, in the order the app lists them. GIF is written (a GIF saved as
# "same" stays a GIF) but never offered as a target: 256 colours would quietly lose most of a photo's.
FORMATS: dict[str, FormatInfo] = {
    row.name: row
    for row in (
        #           name    suffix   alpha deep grey grey_alpha deep_grey_alpha exif icc dpi lossy offered
        FormatInfo("PNG", ".png", _Y, _Y, _Y, _Y, _Y, _Y, _Y, _Y, _N, _Y),
        FormatInfo("JPEG", ".jpg", _N, _N, _Y, _N, _N, _Y, _Y, _Y, _Y, _Y),
        FormatInfo("WEBP", ".webp", _Y, _N, _N, _N, _N, _Y, _Y, _N, _Y, _Y),
        FormatInfo("TIFF", ".tif", _Y, _Y, _Y, _Y, _N, _Y, _Y, _Y, _N, _Y),
        FormatInfo("BMP", ".bmp", _N, _N, _Y, _N, _N, _N, _N, _Y, _N, _Y),
        FormatInfo("GIF", ".gif", _Y, _N, _Y, _N, _N, _N, _N, _N, _N, _N),
        # written at 8 bits: what phones and viewers expect
        FormatInfo("HEIF", ".heic", _Y, _N, _N, _N, _N, _Y, _Y, _N, _Y, _Y),
        FormatInfo("AVIF", ".avif", _Y, _N, _N, _N, _N, _Y, _Y, _N, _Y, _Y),
    )
    if row.name in READ_FORMATS  # every format read here is also written
}

# What a user may pick as the output format: the Save As dialog, the preferences, the batch (GUI and CLI).
OUTPUT_FORMATS: tuple[str, ...] = tuple(name for name, info in FORMATS.items() if info.offered)
SAME = "same"  # an output choice: the input's own format (and suffix)
OUTPUT_CHOICES: tuple[str, ...] = (SAME, *OUTPUT_FORMATS)


def format_words(names: Iterable[str]) -> str:
    """'PNG, JPEG, ... and GIF', for messages that list what is read (READ_FORMATS) or written (FORMATS)."""
    listed = list(names)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"


def normalise_format(name: str) -> str | None:
    """'jpg' -> 'JPEG'; None when we cannot write that format."""
    upper = str(name).strip().upper()
    upper = _ALIASES.get(upper, upper)
    return upper if upper in FORMATS else None


def is_lossy(name: str) -> bool:
    """Whether saving as this format ('jpg', 'WEBP') re-encodes with loss at the chosen quality."""
    fmt = normalise_format(name)
    return fmt is not None and FORMATS[fmt].lossy


def output_format(name: str) -> str | None:
    """A user's output choice ('jpg', 'Same', 'bmp') as one of OUTPUT_CHOICES; None when it is not one."""
    if str(name).strip().lower() == SAME:
        return SAME
    fmt = normalise_format(name)
    return fmt if fmt in OUTPUT_FORMATS else None


def output_format_for_suffix(suffix: str) -> str | None:
    """The offered format a file suffix ('.JPEG', '.tif') names; None for one that is not offered ('.gif')."""
    fmt = SUFFIX_FORMATS.get(suffix.lower())
    return fmt if fmt in OUTPUT_FORMATS else None
