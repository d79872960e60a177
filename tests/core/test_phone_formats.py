"""HEIC/HEIF (pillow-heif) and AVIF (Pillow's own) photos, as phones write them: opened with EXIF and ICC kept,
saved where the plugin can, found by batch discovery, and handled by the CLI like any other photo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx_models
import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from imagestudio.core.batch.discover import discover
from imagestudio.core.image import SUPPORTED_SUFFIXES, image_from_array, load_image, save_image
from imagestudio.core.imageio.formats import PHONE_FORMATS

CAMERA_MAKE = 0x010F
SUFFIX = {"HEIF": ".heic", "AVIF": ".avif"}
pytestmark = pytest.mark.skipif(not PHONE_FORMATS, reason="neither pillow-heif nor Pillow's AVIF is available")


def phone_photo(path: Path, fmt: str, seed: int = 0) -> tuple[Path, np.ndarray, bytes]:
    """A smooth photo-like picture (lossy codecs keep those close) with EXIF and an sRGB profile."""
    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([x * 4, y * 5, (x + y) * 2 + seed], axis=2).clip(0, 255).astype(np.uint8)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = PILImage.Exif()
    exif[CAMERA_MAKE] = "PhoneCam"
    PILImage.fromarray(pixels).save(path, format=fmt, quality=95, exif=exif.tobytes(), icc_profile=icc)
    return path, pixels, icc


@pytest.fixture(params=PHONE_FORMATS)
def fmt(request) -> str:
    return request.param


def test_a_phone_photo_opens_with_its_exif_and_colour_profile(tmp_path, fmt):
    path, pixels, icc = phone_photo(tmp_path / f"IMG_0001{SUFFIX[fmt]}", fmt)
    image = load_image(path)
    assert image.meta.format == fmt and (image.width, image.height) == (64, 48)
    assert np.abs(image.rgb * 255 - pixels).mean() < 4, "lossy, but the same picture"
    assert image.meta.icc_profile == icc
    exif = PILImage.Exif()
    exif.load(image.meta.exif)
    assert exif[CAMERA_MAKE] == "PhoneCam"


def test_saving_to_a_phone_format_keeps_metadata_and_never_touches_the_input(tmp_path, fmt):
    path, _pixels, icc = phone_photo(tmp_path / f"in{SUFFIX[fmt]}", fmt)
    original = path.read_bytes()
    image = load_image(path)
    out = save_image(image, tmp_path / f"out{SUFFIX[fmt]}", quality=90)
    again = load_image(out)
    assert again.meta.format == fmt and again.meta.icc_profile == icc
    assert np.abs(again.rgb - image.rgb).mean() < 4 / 255
    with pytest.raises(Exception, match="will not overwrite"):
        save_image(image, path)
    assert path.read_bytes() == original
    rgba = image_from_array(np.dstack([np.full((8, 8, 3), 200, np.uint8), np.full((8, 8), 128, np.uint8)]))
    assert load_image(save_image(rgba, tmp_path / f"alpha{SUFFIX[fmt]}")).alpha is not None


def test_batch_discovery_finds_phone_photos(tmp_path, fmt):
    phone_photo(tmp_path / f"a{SUFFIX[fmt]}", fmt)
    (tmp_path / "notes.txt").write_text("no")
    found, _ignored = discover(tmp_path)
    assert [str(source.relative) for source in found] == [f"a{SUFFIX[fmt]}"]
    assert {".heic", ".heif"} <= SUPPORTED_SUFFIXES if fmt == "HEIF" else ".avif" in SUPPORTED_SUFFIXES


def test_the_cli_denoises_a_heic_photo_beside_it(tmp_path, models, model_dirs):
    if "HEIF" not in PHONE_FORMATS:
        pytest.skip("pillow-heif is not installed")
    models("blur", "denoise.onnx", model_dirs["bundled"], metadata=onnx_models.card("denoise", "denoise", 1))
    path, _pixels, icc = phone_photo(tmp_path / "IMG_0002.heic", "HEIF")
    done = subprocess.run([sys.executable, "-m", "imagestudio", "denoise", str(path), "-q"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = load_image(tmp_path / "IMG_0002_denoise.heic")
    assert written.meta.format == "HEIF" and written.meta.icc_profile == icc
