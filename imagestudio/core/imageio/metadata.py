"""EXIF, ICC and dpi: read them from a Pillow image, keep them safe to write back."""

from __future__ import annotations

import math
import struct

from PIL import Image as PILImage

ORIENTATION_TAG = 0x0112
EXIF_HEADER = b"Exif\x00\x00"

# Tags that describe how a TIFF file lays out its pixels. A TIFF's EXIF is its first IFD, so these sit beside
# the real metadata; copied into another file they would describe pixels that are not there.
TIFF_LAYOUT_TAGS: frozenset[int] = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 317, 320}
    | {322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514, 529, 530, 531, 532, 34675}
)


def read_orientation(im: PILImage.Image) -> int:
    """EXIF orientation 1..8; 1 when absent, invalid or when the EXIF cannot be parsed."""
    try:
        value = int(im.getexif().get(ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - broken EXIF is the file's fault and must not stop a load
        return 1
    return value if 1 <= value <= 8 else 1


def exif_for_meta(im: PILImage.Image) -> bytes | None:
    """The image's EXIF as b"Exif\\0\\0"+TIFF bytes with orientation 1, or None (absent or unreadable).

    Raw EXIF (JPEG, PNG, WebP) is kept byte for byte, only the orientation value is patched, so maker notes
    and their offsets survive. TIFF files (whose EXIF is the file's own IFD) are re-serialised without the
    pixel-layout tags. Call before the file is closed: Pillow reads TIFF sub-IFDs lazily.
    """
    raw = im.info.get("exif")
    if isinstance(raw, bytes) and raw:
        raw = raw if raw.startswith(EXIF_HEADER) else EXIF_HEADER + raw
        patched = _patch_orientation(raw)
        if patched is not None and _orientation_is_reset(patched):
            return patched
    return _reserialise(im)


def _reserialise(im: PILImage.Image) -> bytes | None:
    try:
        exif = im.getexif()
        for tag in [t for t in exif if t in TIFF_LAYOUT_TAGS]:
            del exif[tag]
        if ORIENTATION_TAG in exif:
            exif[ORIENTATION_TAG] = 1
        if len(exif) == 0:
            return None
        data = exif.tobytes()
    except Exception:  # noqa: BLE001 - unreadable EXIF is dropped rather than written back half-understood
        return None
    return data if _orientation_is_reset(data) else None


def _patch_orientation(exif: bytes) -> bytes | None:
    """Set IFD0's orientation value to 1 in place; the unchanged bytes if there is no such tag; None if unparsable."""
    tiff = exif[len(EXIF_HEADER) :]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    try:
        (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd0)
        for index in range(count):
            entry = ifd0 + 2 + 12 * index
            tag, kind, n = struct.unpack_from(order + "HHI", tiff, entry)
            if tag != ORIENTATION_TAG:
                continue
            if n != 1 or kind not in (3, 4):  # SHORT or LONG, stored inline
                return None
            value = struct.pack(order + "H", 1) + b"\0\0" if kind == 3 else struct.pack(order + "I", 1)
            start = len(EXIF_HEADER) + entry + 8
            return exif[:start] + value + exif[start + 4 :]
    except struct.error:
        return None
    return exif


def _orientation_is_reset(exif: bytes) -> bool:
    """Written back, a stale orientation would rotate the already-rotated pixels a second time."""
    try:
        parsed = PILImage.Exif()
        parsed.load(exif)
        return int(parsed.get(ORIENTATION_TAG, 1)) == 1
    except Exception:  # noqa: BLE001 - if we cannot check it, we do not keep it
        return False


def exif_tags(exif: bytes) -> PILImage.Exif:
    """Parse EXIF bytes (used by the TIFF writer to copy tags into its IFD)."""
    parsed = PILImage.Exif()
    parsed.load(exif)
    return parsed


def icc_colour_space(icc: bytes) -> bytes:
    """The 4-byte colour space signature of an ICC profile header (b'RGB ', b'GRAY', b'CMYK', b'Lab '...)."""
    return icc[16:20] if len(icc) >= 20 else b""


def icc_fits(icc: bytes, grey: bool) -> bool:
    """Whether an ICC profile can be embedded with grey or RGB pixels; other spaces (e.g. Lab) are left as is."""
    space = icc_colour_space(icc)
    if space == b"GRAY":
        return grey
    if space == b"RGB ":
        return not grey
    return space != b"CMYK"  # pixels are never written as CMYK


def read_dpi(im: PILImage.Image) -> tuple[float, float] | None:
    if im.format == "TIFF" and 282 not in getattr(im, "tag_v2", {}):
        return None  # Pillow reports 1 dpi for TIFFs that state no resolution at all
    dpi = im.info.get("dpi")
    try:
        x, y = float(dpi[0]), float(dpi[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)) or x <= 0 or y <= 0:
        return None
    return x, y
