"""Turn an opened Pillow image into arrays: every mode we read, 16-bit colour included, and EXIF orientation."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.imageio.metadata import icc_colour_space


@dataclass
class Pixels:
    colour: np.ndarray  # (H, W) grey or (H, W, 3) colour; uint8, uint16, or float32 already in [0, 1]
    alpha: np.ndarray | None  # (H, W), same dtype as colour
    greyscale: bool
    bit_depth: int
    colour_converted: bool  # CMYK and friends were converted to RGB: the file's ICC no longer describes them


# Pillow keeps only the high byte of 16-bit colour samples. Decoding the same data a second time with the
# byte order swapped yields the low bytes, through Pillow's own decompression and PNG/TIFF un-filtering.
_NATIVE = "B" if sys.byteorder == "little" else "L"  # what ";16N" (native order) swaps to
_LOW_BYTE_RAWMODES: dict[str, str] = {}
for _base in ("RGB", "RGBA", "RGBX"):
    _LOW_BYTE_RAWMODES.update({f"{_base};16B": f"{_base};16L", f"{_base};16L": f"{_base};16B"})
    _LOW_BYTE_RAWMODES[f"{_base};16N"] = f"{_base};16{_NATIVE}"
# 16-bit grey+alpha PNG: Pillow decodes it as RGBA from "LA;16B"; the 8-bit "RGBA" unpacker, same 32 bits
# per pixel, hands us all four bytes (L high, L low, A high, A low) at once.
_GREY_ALPHA_16 = "LA;16B"


def tile_rawmodes(im: PILImage.Image) -> list[str]:
    """The raw modes Pillow will decode with; read before load(), which clears the tiles."""
    modes = []
    for tile in im.tile:
        args = tile.args
        modes.append(args if isinstance(args, str) else str(args[0]) if args else "")
    return modes


def needs_second_pass(rawmodes: list[str]) -> bool:
    return bool(rawmodes) and (
        all(mode in _LOW_BYTE_RAWMODES for mode in rawmodes) or all(mode == _GREY_ALPHA_16 for mode in rawmodes)
    )


def decode_second_pass(path: Path, pil_format: str, rawmodes: list[str]) -> np.ndarray:
    """Decode frame 0 again with swapped raw modes: low bytes (colour) or all bytes (grey+alpha)."""
    with PILImage.open(path, formats=[pil_format]) as again:
        swapped = []
        for tile in again.tile:
            args = tile.args
            rawmode = args if isinstance(args, str) else args[0]
            new_mode = "RGBA" if rawmode == _GREY_ALPHA_16 else _LOW_BYTE_RAWMODES[rawmode]
            swapped.append(tile._replace(args=new_mode if isinstance(args, str) else (new_mode, *args[1:])))
        again.tile = swapped
        again.load()
        return np.asarray(again)


def decode_pixels(im: PILImage.Image, rawmodes: list[str], second_pass: np.ndarray | None, icc: bytes | None) -> Pixels:
    """Arrays from a loaded Pillow image (and the second pass for 16-bit colour, if one was decoded)."""
    if second_pass is not None:
        return _deep_pixels(im, rawmodes, second_pass)
    mode = im.mode
    if mode == "1":
        im, mode = im.convert("L"), "L"
    if mode in ("L", "LA", "La"):
        return _grey8(im)
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _grey_deep(im)
    if mode in ("P", "PA"):
        return _colour8(im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB"))
    if mode == "CMYK":
        return _colour8(_cmyk_to_rgb(im, icc), converted=True)
    if mode in ("RGB", "RGBA", "RGBX", "RGBa"):
        return _colour8(im)
    return _colour8(im.convert("RGB"), converted=True)  # YCbCr, LAB, HSV...


def _grey8(im: PILImage.Image) -> Pixels:
    if im.mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
    if im.mode == "L":
        return Pixels(np.asarray(im), None, greyscale=True, bit_depth=8, colour_converted=False)
    pair = np.asarray(im.convert("LA"))
    return Pixels(pair[:, :, 0], pair[:, :, 1], greyscale=True, bit_depth=8, colour_converted=False)


def _grey_deep(im: PILImage.Image) -> Pixels:
    values = np.asarray(im)
    if im.mode == "F":
        grey = np.clip(np.nan_to_num(values.astype(np.float32), nan=0.0), 0.0, 1.0)
        return Pixels(grey, None, greyscale=True, bit_depth=16, colour_converted=False)
    # I;16 variants (any byte order) and 32-bit "I", which Pillow also uses for 16-bit data
    grey = np.clip(values, 0, 65535).astype(np.uint16)
    return Pixels(grey, _keyed_alpha(grey, im.info), greyscale=True, bit_depth=16, colour_converted=False)


def _keyed_alpha(samples: np.ndarray, info: dict) -> np.ndarray | None:
    """PNG's tRNS for 16-bit grey or RGB: the one sample value (or colour) that is fully transparent."""
    key = info.get("transparency")
    if key is None or isinstance(key, bytes):
        return None
    matches = samples == np.asarray(key, dtype=np.uint16)
    if matches.ndim == 3:
        matches = matches.all(axis=2)
    return np.where(matches, np.uint16(0), np.uint16(65535))


def _colour8(im: PILImage.Image, converted: bool = False) -> Pixels:
    if im.mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "RGBa"):
        rgba = np.asarray(im.convert("RGBA") if im.mode == "RGBa" else im)
        return Pixels(rgba[:, :, :3], rgba[:, :, 3], greyscale=False, bit_depth=8, colour_converted=converted)
    rgb = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    return Pixels(rgb, None, greyscale=False, bit_depth=8, colour_converted=converted)


def _deep_pixels(im: PILImage.Image, rawmodes: list[str], second: np.ndarray) -> Pixels:
    if rawmodes[0] == _GREY_ALPHA_16:
        both = second.astype(np.uint16)
        grey = (both[:, :, 0] << 8) | both[:, :, 1]
        alpha = (both[:, :, 2] << 8) | both[:, :, 3]
        return Pixels(grey, alpha, greyscale=True, bit_depth=16, colour_converted=False)
    samples = (np.asarray(im).astype(np.uint16) << 8) | second
    alpha = samples[:, :, 3] if samples.shape[2] == 4 else _keyed_alpha(samples, im.info)
    return Pixels(samples[:, :, :3], alpha, greyscale=False, bit_depth=16, colour_converted=False)


def _cmyk_to_rgb(im: PILImage.Image, icc: bytes | None) -> PILImage.Image:
    """Through the embedded CMYK profile into sRGB when there is a usable one, else Pillow's plain formula."""
    if icc and icc_colour_space(icc) == b"CMYK":
        try:
            from PIL import ImageCms
        except ImportError:  # Pillow built without LittleCMS
            return im.convert("RGB")
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # a damaged profile: plain formula
            pass
    return im.convert("RGB")


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an (H, W[, C]) array so it displays upright."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(array, k=-1)
    if orientation == 7:
        return array[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(array, k=1)
    return array
