"""Writes a corpus of hostile, broken and unusual image files, all generated here (no binary blobs in the repo).

Each `Case` says what a correct program must do with its file: load it (`expect="ok"`, with the size, depth and
frame count it must report) or refuse it with one of our errors (`expect="error"`). The same corpus feeds the core,
CLI and GUI tests and the fuzzer's seed folder:

    python tests/robustness/make_corpus.py OUT_DIR        # writes the files and prints one line per case
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, ImageCms
from PIL import Image as PILImage

OK, ERROR = "ok", "error"
# What the message of a refused file must contain, by kind of refusal.
EMPTY, DAMAGED, NOT_IMAGE, TOO_LARGE, FOLDER, NOT_REGULAR, OTHER_FORMAT, UNSAFE = (
    "empty", "damaged", "not an image", "too large", "folder", "not a regular file", "format", "safe limit")


@dataclass(frozen=True)
class Case:
    name: str  # the file name in the corpus folder (may hold spaces and non-ASCII letters)
    expect: str  # OK | ERROR
    note: str  # what the case is about, for reports
    size: tuple[int, int] | None = None  # (width, height) after EXIF orientation, for OK cases
    bit_depth: int = 8
    has_alpha: bool = False
    greyscale: bool = False
    frames: int = 1
    message: str = ""  # for ERROR cases: a word the one-line message must contain
    too_large: bool = False  # ERROR cases refused by the pixel limit, before decoding
    pixel: tuple[int, int, tuple[int, int, int]] | None = None  # (x, y, rgb uint8 ±tolerance) after orientation
    fifo: bool = False  # written with os.mkfifo, not as bytes (skipped where there are no FIFOs)


Writer = Callable[[Path], None]


# --------------------------------------------------------------------------- helpers that make bytes


def _encode(array: np.ndarray, fmt: str, **params: object) -> bytes:
    return _pil_bytes(PILImage.fromarray(array), fmt, **params)


def _pil_bytes(image: PILImage.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    green = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    blue = np.full_like(red, 90)
    return np.stack([red, green, blue], axis=2)


def _marked(width: int = 24, height: int = 16) -> np.ndarray:
    """Grey with a red top-left corner block: where the block ends up shows the orientation that was applied."""
    pixels = np.full((height, width, 3), 128, dtype=np.uint8)
    pixels[:4, :4] = (255, 0, 0)
    return pixels


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, extra_chunks: list[bytes] = (), idat: bytes | None = None, depth: int = 8,
         colour: int = 2) -> bytes:
    """A PNG built chunk by chunk, so the header can say what the data does not (bombs, bad chunks)."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    if idat is None:
        row = b"\x00" + b"\x80" * (width * 3)
        idat = zlib.compress(row * height)
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra_chunks) + _png_chunk(b"IDAT", idat) + \
        _png_chunk(b"IEND", b"")


def _exif(orientation: object = None, make: str = "Robustness Cam") -> bytes:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = make
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    return exif.tobytes()


def _jpeg_with_app1(payload: bytes) -> bytes:
    """A small JPEG with a raw APP1 segment inserted right after SOI (Pillow would validate its own EXIF)."""
    plain = _encode(_gradient(16, 12), "JPEG", quality=90)
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return plain[:2] + segment + plain[2:]


def _tiff_header_only(width: int, height: int) -> bytes:
    """A little-endian TIFF whose one IFD declares a huge RGB image and points its strip at nothing."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 8), (277, 3, 1, 3), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8 + 16) + b"\0" * 16 + ifd


def _gif_animated(frames: int = 3) -> bytes:
    pictures = [PILImage.fromarray(np.full((10, 14, 3), (60 * i, 200 - 50 * i, 40), dtype=np.uint8))
                for i in range(frames)]
    return _pil_bytes(pictures[0], "GIF", save_all=True, append_images=pictures[1:], duration=80, loop=0)


def _webp_animated(frames: int = 3) -> bytes:
    pictures = [PILImage.fromarray(np.full((10, 14, 3), (60 * i, 200 - 50 * i, 40), dtype=np.uint8))
                for i in range(frames)]
    return _pil_bytes(pictures[0], "WEBP", save_all=True, append_images=pictures[1:], duration=80, lossless=True)


def _icc(name: str) -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile(name)).tobytes()


def _odd_icc() -> bytes:
    """An sRGB profile whose description and colour space bytes say it is something else (a 'Display P3'-ish lie)."""
    data = bytearray(_icc("sRGB"))
    data[16:20] = b"RGB "
    data[48:52] = b"ODD!"  # device manufacturer: not a real vendor
    return bytes(data)


def _palette_with_transparency() -> bytes:
    indices = (np.arange(12 * 8).reshape(8, 12) % 4).astype(np.uint8)
    picture = PILImage.frombytes("P", (12, 8), indices.tobytes())
    picture.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255] + [0] * (768 - 12))
    return _pil_bytes(picture, "PNG", transparency=bytes([0, 255, 128, 255]))


def _cmyk_jpeg() -> bytes:
    cmyk = np.zeros((12, 16, 4), dtype=np.uint8)
    cmyk[..., 0] = 200  # cyan
    cmyk[..., 3] = 20
    return _pil_bytes(PILImage.frombytes("CMYK", (16, 12), cmyk.tobytes()), "JPEG", quality=95)


def _grey_alpha(depth: int) -> bytes:
    grey = np.tile(np.arange(16, dtype=np.uint8) * 16, (10, 1))
    alpha = np.full_like(grey, 200)
    if depth == 8:
        return _pil_bytes(PILImage.fromarray(np.dstack([grey, alpha])), "PNG")
    # Pillow cannot write 16-bit grey+alpha: build the PNG by hand (colour type 4, depth 16).
    rows = b"".join(b"\x00" + (np.dstack([grey[i], alpha[i]]).astype(">u2") * 257).tobytes() for i in range(10))
    return _png(16, 10, idat=zlib.compress(rows), depth=16, colour=4)


def _rgb16_png() -> bytes:
    rgb = (_gradient(16, 10).astype(np.uint16) * 257 + 3).astype(">u2")
    rows = b"".join(b"\x00" + rgb[i].tobytes() for i in range(10))
    return _png(16, 10, idat=zlib.compress(rows), depth=16, colour=2)


def _grey16_png() -> bytes:
    grey = (np.arange(16 * 10, dtype=np.uint16).reshape(10, 16) * 400 + 7)
    return _pil_bytes(PILImage.fromarray(grey.astype(np.uint16)), "PNG")


def _truncated(data: bytes, keep: float) -> bytes:
    return data[: max(1, int(len(data) * keep))]


def _ztxt_bomb() -> bytes:
    """A zTXt chunk that inflates past Pillow's text limit: Pillow raises ValueError while reading the header."""
    text = zlib.compress(b"A" * (8 << 20), 9)
    return _png(8, 8, extra_chunks=[_png_chunk(b"zTXt", b"Comment\x00\x00" + text)])


def _iccp_garbage() -> bytes:
    return _png(8, 8, extra_chunks=[_png_chunk(b"iCCP", b"icc\x00\x00" + b"\x78\x9c" + b"\xff" * 40)])


def _iccp_bomb() -> bytes:
    return _png(8, 8, extra_chunks=[_png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\0" * (64 << 20), 9))])


def _short_ihdr_png() -> bytes:
    """A well-formed chunk, CRC and all, but IHDR holds 5 bytes instead of 13: Pillow raised ValueError from open."""
    rest = _png(8, 8)[8 + 25:]
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IB", 8, 0)) + rest


def _bad_crc_png() -> bytes:
    data = bytearray(_png(8, 8))
    data[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(data)


# --------------------------------------------------------------------------- the cases


def _cases() -> list[tuple[Case, Writer]]:
    def data(payload: bytes | Callable[[], bytes]) -> Writer:
        def write(path: Path) -> None:
            path.write_bytes(payload() if callable(payload) else payload)
        return write

    good_jpeg = _encode(_gradient(40, 30), "JPEG", quality=90)
    good_png = _encode(_gradient(40, 30), "PNG")
    progressive = _encode(_gradient(64, 48), "JPEG", quality=90, progressive=True)
    cases: list[tuple[Case, Writer]] = [
        # --- empty, truncated, wrong type
        (Case("zero-byte.png", ERROR, "zero bytes", message=EMPTY), data(b"")),
        (Case("zero-byte.jpg", ERROR, "zero bytes", message=EMPTY), data(b"")),
        (Case("truncated-half.jpg", ERROR, "JPEG cut in half", message=DAMAGED), data(_truncated(good_jpeg, 0.5))),
        (Case("truncated-progressive.jpg", ERROR, "progressive JPEG cut short", message=DAMAGED),
         data(_truncated(progressive, 0.6))),
        (Case("truncated-header.jpg", ERROR, "JPEG cut inside its header", message=DAMAGED),
         data(good_jpeg[:40])),
        (Case("truncated-half.png", ERROR, "PNG cut in half", message=DAMAGED), data(_truncated(good_png, 0.5))),
        (Case("truncated-signature.png", ERROR, "PNG cut inside its signature", message=NOT_IMAGE),
         data(good_png[:5])),
        (Case("truncated.webp", ERROR, "WebP cut in half", message=DAMAGED),
         data(_truncated(_encode(_gradient(40, 30), "WEBP", quality=80), 0.5))),
        (Case("truncated.gif", ERROR, "GIF cut in half", message=DAMAGED),
         data(_truncated(_encode(_gradient(40, 30), "GIF"), 0.5))),
        (Case("truncated.tif", ERROR, "TIFF cut in half", message=DAMAGED),
         data(_truncated(_encode(_gradient(40, 30), "TIFF"), 0.5))),
        (Case("truncated.bmp", ERROR, "BMP cut in half", message=DAMAGED),
         data(_truncated(_encode(_gradient(40, 30), "BMP"), 0.5))),
        (Case("png-named.jpg", OK, "a PNG with a .jpg name", size=(40, 30)), data(good_png)),
        (Case("jpeg-named.png", OK, "a JPEG with a .png name", size=(40, 30)), data(good_jpeg)),
        (Case("text-named.jpg", ERROR, "a text file named .jpg", message=NOT_IMAGE),
         data(b"Dear diary,\nthis is not a photo.\n" * 20)),
        (Case("html-named.png", ERROR, "an HTML page named .png", message=NOT_IMAGE),
         data(b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>")),
        (Case("tga-named.png", ERROR, "a TGA file (a format we do not open) named .png", message=OTHER_FORMAT),
         data(lambda: _encode(_gradient(8, 8), "TGA"))),
        (Case("random-bytes.webp", ERROR, "4 KB of random bytes", message=NOT_IMAGE),
         data(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())),
        (Case("bad-crc.png", ERROR, "PNG whose header CRC is wrong", message=NOT_IMAGE), data(_bad_crc_png)),
        (Case("short-ihdr.png", ERROR, "PNG whose IHDR chunk is 5 bytes long (found by hypothesis)",
              message=DAMAGED), data(lambda: _short_ihdr_png())),
        (Case("zero-width.png", ERROR, "PNG header with width 0", message=NOT_IMAGE),
         data(lambda: _png(0, 8, idat=zlib.compress(b"")))),
        (Case("trailing-garbage.png", OK, "a PNG followed by 1 KB of junk", size=(40, 30)),
         data(good_png + b"\x00junk" * 200)),
        (Case("a folder.jpg", ERROR, "a folder named like an image", message=FOLDER),
         lambda path: path.mkdir()),
        (Case("named-pipe.jpg", ERROR, "a FIFO named .jpg: reading it would block forever", message=NOT_REGULAR,
              fifo=True), lambda path: os.mkfifo(path)),
        # --- decompression bombs and size limits: refused before any pixel is decoded
        (Case("bomb-100k-square.png", ERROR, "PNG header declaring 100000×100000 (10 gigapixels)",
              message=TOO_LARGE, too_large=True), data(lambda: _png(100_000, 100_000, idat=b""))),
        (Case("bomb-wide.png", ERROR, "PNG header declaring 2^31-1 × 2 pixels", message=TOO_LARGE, too_large=True),
         data(lambda: _png(2**31 - 1, 2, idat=b""))),
        (Case("bomb-16k.gif", ERROR, "GIF screen of 65535×65535", message=TOO_LARGE, too_large=True),
         data(b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00" + b",\x00\x00\x00\x00"
              + struct.pack("<HH", 65535, 65535) + b"\x00\x02\x02\x44\x01\x00;")),
        (Case("bomb.tif", ERROR, "TIFF header declaring 60000×60000", message=TOO_LARGE, too_large=True),
         data(lambda: _tiff_header_only(60_000, 60_000))),
        (Case("bomb-jpeg.jpg", ERROR, "JPEG SOF declaring 65500×65500", message=TOO_LARGE, too_large=True),
         data(lambda: _jpeg_sof_bomb(65_500, 65_500))),
        (Case("ztxt-bomb.png", ERROR, "PNG with a zTXt chunk inflating to 8 MB", message=UNSAFE),
         data(_ztxt_bomb)),
        (Case("iccp-bomb.png", ERROR, "PNG whose ICC chunk inflates to 64 MB", message=UNSAFE), data(_iccp_bomb)),
        (Case("iccp-garbage.png", OK, "PNG whose ICC chunk is not zlib data", size=(8, 8)), data(_iccp_garbage)),
        # --- tiny and thin
        (Case("1x1.png", OK, "a single pixel", size=(1, 1)), data(lambda: _encode(_gradient(1, 1), "PNG"))),
        (Case("1x1.jpg", OK, "a single-pixel JPEG", size=(1, 1)), data(lambda: _encode(_gradient(1, 1), "JPEG"))),
        (Case("1x1.gif", OK, "a single-pixel GIF", size=(1, 1)), data(lambda: _encode(_gradient(1, 1), "GIF"))),
        (Case("thin-1x4000.png", OK, "1 pixel wide, 4000 tall", size=(1, 4000)),
         data(lambda: _encode(_gradient(1, 4000), "PNG"))),
        (Case("thin-6000x1.png", OK, "6000 wide, 1 pixel tall", size=(6000, 1)),
         data(lambda: _encode(_gradient(6000, 1), "PNG"))),
        (Case("thin-3x2000.jpg", OK, "a 3-pixel-wide JPEG", size=(3, 2000)),
         data(lambda: _encode(_gradient(3, 2000), "JPEG"))),
        # --- depth, palettes, colour spaces, alpha
        (Case("rgb16.png", OK, "16-bit RGB PNG", size=(16, 10), bit_depth=16), data(_rgb16_png)),
        (Case("grey16.png", OK, "16-bit greyscale PNG", size=(16, 10), bit_depth=16, greyscale=True),
         data(_grey16_png)),
        (Case("rgb16.tif", OK, "16-bit RGB TIFF", size=(16, 10), bit_depth=16),
         data(lambda: _tiff16())),
        (Case("palette-transparency.png", OK, "palette PNG with a tRNS chunk", size=(12, 8), has_alpha=True),
         data(_palette_with_transparency)),
        (Case("palette-transparency.gif", OK, "GIF with a transparent colour", size=(12, 8), has_alpha=True),
         data(lambda: _pil_bytes(PILImage.open(io.BytesIO(_palette_with_transparency())), "GIF", transparency=0))),
        (Case("cmyk.jpg", OK, "CMYK JPEG (Adobe inverted)", size=(16, 12)), data(_cmyk_jpeg)),
        (Case("cmyk-with-profile.jpg", OK, "CMYK JPEG with a broken CMYK ICC profile", size=(16, 12)),
         data(lambda: _pil_bytes(PILImage.open(io.BytesIO(_cmyk_jpeg())), "JPEG",
                                 icc_profile=b"\0" * 16 + b"CMYK" + b"\0" * 200))),
        (Case("grey-alpha.png", OK, "8-bit greyscale + alpha", size=(16, 10), has_alpha=True, greyscale=True),
         data(lambda: _grey_alpha(8))),
        (Case("grey-alpha16.png", OK, "16-bit greyscale + alpha", size=(16, 10), has_alpha=True, greyscale=True,
              bit_depth=16), data(lambda: _grey_alpha(16))),
        (Case("1-bit.png", OK, "1-bit black and white", size=(20, 10), greyscale=True),
         data(lambda: _pil_bytes(PILImage.fromarray(np.eye(10, 20, dtype=bool)), "PNG"))),
        (Case("lab-profile.jpg", OK, "JPEG with a Lab ICC profile", size=(40, 30)),
         data(lambda: _encode(_gradient(40, 30), "JPEG", icc_profile=_icc("LAB")))),
        (Case("odd-rgb-profile.png", OK, "PNG with an unusual RGB ICC profile", size=(40, 30)),
         data(lambda: _encode(_gradient(40, 30), "PNG", icc_profile=_odd_icc()))),
        (Case("garbage-profile.jpg", OK, "JPEG whose ICC profile is garbage", size=(40, 30)),
         data(lambda: _encode(_gradient(40, 30), "JPEG", icc_profile=b"not a profile at all" * 5))),
        (Case("grey-profile-on-rgb.png", OK, "RGB PNG carrying a grey ICC profile", size=(40, 30)),
         data(lambda: _encode(_gradient(40, 30), "PNG", icc_profile=_grey_icc()))),
        # --- animation: frame 0, and the count
        (Case("animated.gif", OK, "3-frame animated GIF", size=(14, 10), frames=3,
              pixel=(0, 0, (0, 200, 40))), data(_gif_animated)),
        (Case("animated.webp", OK, "3-frame animated WebP", size=(14, 10), frames=3,
              pixel=(0, 0, (0, 200, 40))), data(_webp_animated)),
        # --- EXIF
        (Case("exif-broken-ifd.jpg", OK, "EXIF whose IFD offset points past the end", size=(16, 12)),
         data(lambda: _jpeg_with_app1(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f"))),
        (Case("exif-garbage.jpg", OK, "APP1 'Exif' followed by random bytes", size=(16, 12)),
         data(lambda: _jpeg_with_app1(b"Exif\x00\x00" + np.random.default_rng(3).integers(
             0, 256, 300, dtype=np.uint8).tobytes()))),
        (Case("exif-orientation-9.jpg", OK, "orientation tag with the invalid value 9", size=(16, 12)),
         data(lambda: _encode(_gradient(16, 12), "JPEG", exif=_exif(9)))),
        (Case("exif-orientation-text.jpg", OK, "orientation tag stored as text", size=(16, 12)),
         data(lambda: _jpeg_with_app1(b"Exif\x00\x00" + _orientation_as_ascii()))),
        (Case("exif-endless-ifd.jpg", OK, "EXIF whose IFD claims 65535 entries", size=(16, 12)),
         data(lambda: _jpeg_with_app1(b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 64))),
        (Case("exif-loop.jpg", OK, "EXIF whose next-IFD pointer loops to itself", size=(16, 12)),
         data(lambda: _jpeg_with_app1(b"Exif\x00\x00" + _looping_exif()))),
        # --- names
        (Case("my holiday photo.jpg", OK, "spaces in the name", size=(40, 30)), data(good_jpeg)),
        (Case("фото — été 日本 🌅.png", OK, "non-ASCII letters and an emoji in the name", size=(40, 30)),
         data(good_png)),
        (Case("-starts-with-dash.png", OK, "a name an option parser could take for a flag", size=(40, 30)),
         data(good_png)),
        (Case("no-extension", OK, "no suffix at all", size=(40, 30)), data(good_png)),
        (Case("UPPER.JPEG", OK, "upper-case suffix", size=(40, 30)), data(good_jpeg)),
    ]
    for orientation in range(1, 9):
        width, height = (16, 24) if orientation >= 5 else (24, 16)
        # Where the red block (top-left of the stored pixels) must appear once the orientation is applied.
        corner = {1: (0, 0), 2: (23, 0), 3: (23, 15), 4: (0, 15), 5: (0, 0), 6: (15, 0), 7: (15, 23), 8: (0, 23)}
        x, y = corner[orientation]
        cases.append((
            Case(f"exif-orientation-{orientation}.jpg", OK, f"EXIF orientation {orientation}", size=(width, height),
                 pixel=(x, y, (255, 0, 0))),
            data(lambda o=orientation: _encode(_marked(), "JPEG", quality=95, exif=_exif(o))),
        ))
    return cases


def _jpeg_sof_bomb(width: int, height: int) -> bytes:
    """A baseline JPEG whose SOF0 claims a huge size; the scan data is tiny."""
    small = bytearray(_encode(_gradient(8, 8), "JPEG", quality=50))
    index = small.index(b"\xff\xc0")
    struct.pack_into(">HH", small, index + 5, height, width)
    return bytes(small)


def _tiff16() -> bytes:
    from imagestudio.core.imageio.tiff_writer import write_tiff

    out = io.BytesIO()
    write_tiff(out, (_gradient(16, 10).astype(np.uint16) * 257 + 5))
    return out.getvalue()


def _grey_icc() -> bytes:
    data = bytearray(_icc("sRGB"))
    data[16:20] = b"GRAY"
    return bytes(data)


def _orientation_as_ascii() -> bytes:
    # IFD0 with one entry: Orientation (0x0112) of type ASCII, count 4, value "six\0" inline.
    return b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + struct.pack("<HHI", 0x0112, 2, 4) + b"six\x00" + b"\0" * 4


def _looping_exif() -> bytes:
    # IFD0 at offset 8 with one Make entry; its next-IFD pointer is 8 again.
    return b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + struct.pack("<HHI", 0x010F, 2, 4) + b"cam\x00" + \
        struct.pack("<I", 8)


CASES: list[Case] = [case for case, _ in _cases()]


def write_corpus(folder: Path) -> list[tuple[Case, Path]]:
    """Writes every case into `folder` (created) and returns (case, path) pairs; FIFOs only where the OS has them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case, write in _cases():
        if case.fifo and not hasattr(os, "mkfifo"):
            continue
        path = folder / case.name
        write(path)
        written.append((case, path))
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/robustness/make_corpus.py OUT_DIR", file=sys.stderr)
        return 2
    for case, path in write_corpus(Path(argv[0])):
        size = "-" if path.is_dir() or case.fifo else f"{path.stat().st_size} B"
        print(f"{case.expect:5} {size:>10}  {case.name}: {case.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
