"""Pictures stored inside archive files: JPEG streams in EET (`.edj`) archives, WebP files in Qt resource bundles.

Neither format needs its own tools here: enlightenment's `.edj` keeps each background as several plain JPEG
streams (we keep the largest that decodes), and gcompris' `.rcc` bundles store WebP files uncompressed, each one
found by its `RIFF....WEBP` header and sized by the RIFF length field. Carved bytes are decoded with Pillow and
written out once as ordinary files, so the rest of the pipeline sees plain image paths.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

_JPEG_START = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"


def jpeg_streams(blob: bytes) -> list[bytes]:
    """Every candidate JPEG stream: from each start marker to the last end marker before the next start."""
    starts = []
    pos = blob.find(_JPEG_START)
    while pos >= 0:
        starts.append(pos)
        pos = blob.find(_JPEG_START, pos + 3)
    streams = []
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else len(blob)
        end = blob.rfind(_JPEG_END, start, stop)
        if end > start:
            streams.append(blob[start:end + 2])
    return streams


def largest_jpeg(blob: bytes) -> bytes | None:
    """The JPEG stream with the most pixels that Pillow fully decodes (EET keeps thumbnails beside the picture)."""
    best: tuple[int, bytes] | None = None
    for stream in jpeg_streams(blob):
        try:
            with Image.open(io.BytesIO(stream)) as im:
                im.load()
                pixels = im.width * im.height
        except (OSError, SyntaxError, ValueError):
            continue
        if best is None or pixels > best[0]:
            best = (pixels, stream)
    return None if best is None else best[1]


def webp_files(blob: bytes) -> list[bytes]:
    """WebP files carved by their RIFF header; the length field says where each ends."""
    found = []
    pos = blob.find(b"RIFF")
    while pos >= 0:
        if blob[pos + 8:pos + 12] == b"WEBP":
            (length,) = struct.unpack("<I", blob[pos + 4:pos + 8])
            end = pos + 8 + length
            if end <= len(blob):
                found.append(blob[pos:end])
                pos = blob.find(b"RIFF", end)
                continue
        pos = blob.find(b"RIFF", pos + 4)
    return found


def carve_edj(archive: Path, out: Path) -> Path:
    """The largest JPEG inside an `.edj` background, written to `out` (cached)."""
    if not out.is_file():
        stream = largest_jpeg(archive.read_bytes())
        if stream is None:
            raise FileNotFoundError(f"{archive}: no decodable JPEG stream inside")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_bytes(stream)
        tmp.replace(out)
    return out


def carve_rcc_webp(bundle: Path, out_dir: Path, min_pixels: int) -> list[Path]:
    """Every WebP of at least `min_pixels` inside a Qt resource bundle, written as PNG-free `.webp` files (cached)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for index, data in enumerate(webp_files(bundle.read_bytes())):
        target = out_dir / f"{bundle.stem}-{index:03d}.webp"
        if not target.is_file():
            try:
                with Image.open(io.BytesIO(data)) as im:
                    if im.width * im.height < min_pixels:
                        continue
                    im.load()
            except (OSError, SyntaxError, ValueError):
                continue
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
        written.append(target)
    return written
