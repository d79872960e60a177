"""A JPEG's quality and the camera's ISO, read from real files: priors for Enhance, never errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

from imagestudio.core.image import load_image
from imagestudio.core.imageio.shot_info import iso_from_exif, jpeg_quality_from_tables


def _photo() -> PILImage.Image:
    rng = np.random.default_rng(0)
    return PILImage.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))


@pytest.mark.parametrize("quality", [12, 40, 60, 85, 97])
def test_jpeg_quality_is_read_from_the_file(tmp_path, quality):
    path = tmp_path / f"q{quality}.jpg"
    _photo().save(path, "JPEG", quality=quality)
    assert load_image(path).meta.jpeg_quality == quality


def test_png_has_no_jpeg_quality(tmp_path):
    path = tmp_path / "p.png"
    _photo().save(path)
    assert load_image(path).meta.jpeg_quality is None


def test_custom_tables_give_a_rough_quality():
    flat = {0: [3] * 64, 1: [3] * 64}  # a camera's own, flat table: very fine steps
    assert jpeg_quality_from_tables(flat) >= 85
    assert jpeg_quality_from_tables({0: [200] * 64}) <= 20


@pytest.mark.parametrize("tables", [None, {}, {0: []}, {0: [0] * 64}, {0: ["x"] * 64}, {1: [1] * 64}, "tables"])
def test_odd_tables_read_as_unknown(tables):
    assert jpeg_quality_from_tables(tables) is None


def test_iso_from_a_real_exif_block(tmp_path):
    exif = PILImage.Exif()
    exif.get_ifd(0x8769)[0x8827] = 3200
    path = tmp_path / "iso.jpg"
    _photo().save(path, "JPEG", exif=exif.tobytes())
    assert iso_from_exif(load_image(path).meta.exif) == 3200


@pytest.mark.parametrize("exif", [None, b"", b"garbage", b"Exif\0\0MM\0*\0\0\0\x08\xff\xff", b"Exif\0\0" + b"\xff" * 500])
def test_damaged_exif_reads_as_unknown(exif):
    assert iso_from_exif(exif) is None
