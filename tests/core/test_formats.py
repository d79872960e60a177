"""The one table of formats (core/imageio/formats.FORMATS): each row is what a real save and load give back, and
every list of output formats in the app is drawn from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from imagestudio.core.batch import OUTPUT_CHOICES as BATCH_CHOICES
from imagestudio.core.batch import OutputRule
from imagestudio.core.errors import BatchError
from imagestudio.core.image import Image, image_from_array, load_image, save_image
from imagestudio.core.imageio.formats import (
    FORMATS,
    OUTPUT_CHOICES,
    OUTPUT_FORMATS,
    READ_FORMATS,
    SAME,
    SUFFIX_FORMATS,
    output_format,
    output_format_for_suffix,
)

_COLOURS = np.array([[r, g, b] for r in (0, 85, 170, 255) for g in (0, 128, 255) for b in (32, 224)], np.uint16)


def _blocks() -> np.ndarray:
    """16-bit RGBA (48, 64, 4): 8×8 blocks of 24 colours (few enough for GIF's palette, large enough for lossy
    codecs' chroma subsampling), each 8-bit value ×257 so dropping to 8 bits is exact; the top-left block fully
    transparent."""
    ys, xs = np.mgrid[0:48, 0:64] // 8
    rgb = _COLOURS[(ys * 8 + xs) % len(_COLOURS)] * 257
    alpha = np.full((48, 64, 1), 65535, np.uint16)
    alpha[:8, :8] = 0
    return np.concatenate([rgb, alpha], axis=2)


def _with_dpi(image: Image, dpi: tuple[float, float]) -> Image:
    return Image(image.rgb, image.alpha, dataclasses.replace(image.meta, dpi=dpi))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_gives_back_what_its_row_says(tmp_path: Path, fmt: str) -> None:
    info = FORMATS[fmt]
    source = _with_dpi(image_from_array(_blocks()), (300.0, 300.0))
    assert SUFFIX_FORMATS[info.suffix] == fmt  # a file named with the row's suffix is written in that format
    back = load_image(save_image(source, tmp_path / f"photo{info.suffix}"))
    assert back.meta.format == fmt and (back.width, back.height) == (64, 48)
    assert (back.alpha is not None) == info.alpha
    assert back.meta.bit_depth == (16 if info.deep else 8)
    assert (back.meta.dpi is not None) == info.dpi
    if info.dpi:
        assert back.meta.dpi == pytest.approx((300.0, 300.0), abs=0.05)
    opaque = source.alpha == 1.0
    expected = source.rgb.copy()
    if not info.alpha:  # transparent pixels are written over white
        expected[~opaque] = 1.0
        opaque[:] = True
    else:
        assert np.array_equal(back.alpha > 0.5, source.alpha > 0.5)
    error = np.abs(back.rgb - expected)[opaque]
    if info.lossy:
        assert error.mean() < 0.06  # WebP and AVIF halve colour resolution; swapped channels would give ~0.3
    else:
        assert error.max() < 0.5 / 255  # lossless: every sample exact (at 8 bits where the format holds 8)


@pytest.mark.parametrize("fmt", [fmt for fmt, info in FORMATS.items() if info.grey])
def test_grey_photos_are_written_grey(tmp_path: Path, fmt: str) -> None:
    grey = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (16, 1))
    back = load_image(save_image(image_from_array(grey), tmp_path / f"grey{FORMATS[fmt].suffix}"))
    assert np.array_equal(back.rgb[..., 0], back.rgb[..., 1]) and np.array_equal(back.rgb[..., 1], back.rgb[..., 2])
    tolerance = 3 / 255 if FORMATS[fmt].lossy else 0.5 / 255
    assert np.abs(back.rgb[..., 0] - grey / 255).max() < tolerance


def test_bmp_is_offered_everywhere_and_gif_is_written_only_as_itself() -> None:
    assert "BMP" in OUTPUT_FORMATS and "GIF" in FORMATS and "GIF" not in OUTPUT_FORMATS
    assert set(FORMATS) == set(READ_FORMATS)  # every format opened can also be saved
    assert OUTPUT_CHOICES == (SAME, *OUTPUT_FORMATS) and BATCH_CHOICES == OUTPUT_CHOICES


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_every_output_format_is_a_batch_format_with_the_tables_suffix(fmt: str) -> None:
    suffix = FORMATS[fmt].suffix
    rule = OutputRule(format=fmt.lower())
    assert rule.format == fmt and rule.extension_for(Path("photo.png")) == suffix.lstrip(".")
    assert output_format(fmt.lower()) == fmt and output_format_for_suffix(suffix.upper()) == fmt


def test_names_and_suffixes_outside_the_offered_formats_are_refused() -> None:
    assert output_format("jpg") == "JPEG" and output_format("Same") == SAME and output_format("gif") is None
    assert output_format_for_suffix(".gif") is None and output_format_for_suffix(".jpeg") == "JPEG"
    with pytest.raises(BatchError, match="output format must be one of same, PNG"):
        OutputRule(format="gif")
