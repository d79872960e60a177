"""Image I/O against real files in tmp_path: formats, modes, metadata, orientation, 16-bit, errors, atomic save."""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, ImageCms, ImageOps
from PIL import Image as PILImage

from imagestudio.core.errors import ImageLoadError, ImageSaveError, ImageStudioError, ImageTooLargeError
from imagestudio.core.image import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_SUFFIXES,
    Image,
    ImageMeta,
    image_from_array,
    load_image,
    save_image,
    to_uint8,
    to_uint16,
)

MAKE = "ImageStudio Test Cam"
TAKEN = "2021:06:07 08:09:10"
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
LAB = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()


# ---------------------------------------------------------------- helpers


def asymmetric(height: int = 6, width: int = 9, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Random uint8 pixels: every flip or rotation of it is different from it."""
    shape = (height, width, channels) if channels > 1 else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def smooth(height: int = 32, width: int = 48) -> np.ndarray:
    """A gentle gradient that lossy codecs keep within a few levels."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=2).astype(np.uint8)


def make_exif(orientation: int | None = None) -> bytes:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = MAKE
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = TAKEN
    return exif.tobytes()


def read_exif(data: bytes | PILImage.Image | None) -> PILImage.Exif:
    if isinstance(data, PILImage.Image):
        return data.getexif()
    exif = PILImage.Exif()
    if data:
        exif.load(data)
    return exif


def assert_our_exif(exif: PILImage.Exif) -> None:
    assert exif.get(ExifTags.Base.Make) == MAKE
    assert exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) == TAKEN
    assert exif.get(ExifTags.Base.Orientation, 1) == 1


def u8(image: Image) -> np.ndarray:
    return to_uint8(image.rgb)


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header declares width x height but whose pixel data is a few junk bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"junk") + chunk(b"IEND", b""))
    return path


# ---------------------------------------------------------------- array helpers and the Image value


def test_to_uint8_rounds_clips_and_maps_nan_to_zero() -> None:
    values = np.array([-0.5, 0.0, 0.6 / 255, 0.4 / 255, 0.5, 1.0, 1.7, np.nan], dtype=np.float32)
    assert to_uint8(values).tolist() == [0, 0, 1, 0, 128, 255, 255, 0]
    assert to_uint8(values).dtype == np.uint8


def test_integer_samples_survive_the_float_round_trip_exactly() -> None:
    every8 = np.arange(256, dtype=np.uint8)
    every16 = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(to_uint8(image_from_array(every8[None, :]).rgb[..., 0]), every8[None, :])
    assert np.array_equal(to_uint16(image_from_array(every16[None, :]).rgb[..., 0]), every16[None, :])


@pytest.mark.parametrize(
    ("array", "mode", "greyscale", "has_alpha", "bit_depth"),
    [
        (np.zeros((4, 5), np.uint8), "L", True, False, 8),
        (np.zeros((4, 5, 2), np.uint8), "LA", True, True, 8),
        (np.zeros((4, 5, 3), np.uint8), "RGB", False, False, 8),
        (np.zeros((4, 5, 4), np.uint16), "RGBA", False, True, 16),
        (np.zeros((4, 5), np.uint16), "I;16", True, False, 16),
        (np.full((4, 5, 3), 2.0, np.float64), "RGB", False, False, 8),
    ],
)
def test_image_from_array_shapes_and_meta(array, mode, greyscale, has_alpha, bit_depth) -> None:
    image = image_from_array(array)
    assert (image.height, image.width) == (4, 5)
    assert image.rgb.shape == (4, 5, 3) and image.rgb.dtype == np.float32 and image.rgb.flags.c_contiguous
    assert (image.alpha is not None) == has_alpha
    assert image.meta == ImageMeta(None, None, mode, bit_depth, has_alpha, greyscale, None, None)
    assert image.rgb.min() >= 0.0 and image.rgb.max() <= 1.0


def test_image_from_array_rejects_other_shapes() -> None:
    for shape in [(4,), (4, 5, 5), (0, 5, 3), (2, 3, 4, 1)]:
        with pytest.raises(ValueError, match="array"):
            image_from_array(np.zeros(shape, np.uint8))


def test_with_pixels_keeps_meta_and_tracks_alpha() -> None:
    image = image_from_array(asymmetric(channels=4))
    flat = image.with_pixels(image.rgb * 0.5, None)
    assert flat.alpha is None and not flat.meta.has_alpha and image.meta.has_alpha
    assert flat.meta.bit_depth == image.meta.bit_depth and flat.meta.mode == image.meta.mode
    with pytest.raises(ValueError, match="alpha must have shape"):
        image.with_pixels(image.rgb, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="rgb must have shape"):
        image.with_pixels(image.rgb[:, :, :2], None)


def test_public_constants() -> None:
    assert DEFAULT_MAX_PIXELS == 200_000_000
    assert {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif"} <= SUPPORTED_SUFFIXES


# ---------------------------------------------------------------- every format, through our own save and load


@pytest.mark.parametrize(
    ("suffix", "tolerance"),
    [(".png", 0), (".tif", 0), (".tiff", 0), (".bmp", 0), (".gif", 0), (".webp", 6), (".jpg", 6), (".jpeg", 6)],
)
def test_round_trip_each_format(tmp_path: Path, suffix: str, tolerance: int) -> None:
    pixels = smooth() if tolerance else asymmetric(12, 16)
    if suffix == ".gif":
        pixels = pixels // 64 * 64  # few enough colours for a 256-colour palette to be exact
    written = save_image(image_from_array(pixels), tmp_path / f"out{suffix}")
    assert written == (tmp_path / f"out{suffix}").absolute()
    loaded = load_image(written)
    assert loaded.meta.bit_depth == 8 and not loaded.meta.greyscale and loaded.alpha is None
    assert loaded.meta.source_path == written
    assert np.abs(u8(loaded).astype(int) - pixels).max() <= tolerance


def test_webp_quality_100_is_lossless(tmp_path: Path) -> None:
    pixels = asymmetric(10, 12, channels=4)
    loaded = load_image(save_image(image_from_array(pixels), tmp_path / "a.webp", quality=100))
    assert np.array_equal(u8(loaded), pixels[..., :3])
    assert np.array_equal(to_uint8(loaded.alpha), pixels[..., 3])


# ---------------------------------------------------------------- metadata written by Pillow, kept by us


def _write_with_pillow(path: Path, fmt: str, icc: bytes, exif: bytes) -> None:
    params: dict[str, object] = {"exif": exif, "icc_profile": icc}
    if fmt != "WEBP":
        params["dpi"] = (300, 150)
    if fmt == "WEBP":
        params["lossless"] = True
    PILImage.fromarray(smooth()).save(path, fmt, **params)


@pytest.mark.parametrize("icc", [SRGB, LAB], ids=["srgb", "lab"])
@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif")])
def test_exif_icc_and_dpi_survive_load_and_save(tmp_path: Path, fmt: str, suffix: str, icc: bytes) -> None:
    source = tmp_path / f"source{suffix}"
    _write_with_pillow(source, fmt, icc, make_exif())
    image = load_image(source)
    assert image.meta.format == fmt
    assert image.meta.icc_profile == icc
    assert_our_exif(read_exif(image.meta.exif))
    if fmt != "WEBP":
        assert image.meta.dpi == pytest.approx((300, 150), abs=0.05)  # PNG stores whole pixels per metre

    target = save_image(image, tmp_path / f"copy{suffix}")
    with PILImage.open(target) as written:
        assert written.info.get("icc_profile") == icc
        assert_our_exif(written.getexif())
        if fmt != "WEBP":
            assert written.info["dpi"] == pytest.approx((300, 150), abs=0.05)
    again = load_image(target)
    assert again.meta.icc_profile == icc and again.meta.exif is not None


def test_tiff_source_exif_leaves_out_the_pixel_layout_tags(tmp_path: Path) -> None:
    source = tmp_path / "source.tif"
    _write_with_pillow(source, "TIFF", SRGB, make_exif())
    exif = read_exif(load_image(source).meta.exif)
    assert_our_exif(exif)
    assert not {256, 257, 258, 273, 279, 34675} & set(exif)


def test_metadata_carries_across_formats_and_can_be_dropped(tmp_path: Path) -> None:
    source = tmp_path / "source.jpg"
    _write_with_pillow(source, "JPEG", SRGB, make_exif())
    image = load_image(source)
    for suffix in (".png", ".tif", ".webp"):
        with PILImage.open(save_image(image, tmp_path / f"kept{suffix}")) as written:
            assert_our_exif(written.getexif())
            assert written.info.get("icc_profile") == SRGB
        with PILImage.open(save_image(image, tmp_path / f"bare{suffix}", keep_metadata=False)) as bare:
            assert not bare.info.get("icc_profile") and bare.getexif().get(ExifTags.Base.Make) is None


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_does_not_stop_a_load(tmp_path: Path) -> None:
    broken = [
        b"Exif\x00\x00garbage that is no TIFF block",
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",  # first IFD far beyond the data
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12",  # five entries announced, none there
    ]
    for index, exif in enumerate(broken):
        path = tmp_path / f"broken{index}.jpg"
        PILImage.fromarray(smooth()).save(path, exif=exif)
        image = load_image(path)
        assert image.rgb.shape == (32, 48, 3)
        save_image(image, tmp_path / f"saved{index}.jpg")  # whatever was kept must be writable


# ---------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    pixels = asymmetric(5, 8)
    path = tmp_path / f"o{orientation}.png"
    PILImage.fromarray(pixels).save(path, exif=make_exif(orientation), dpi=(300, 100))
    with PILImage.open(path) as original:
        expected = np.asarray(ImageOps.exif_transpose(original).convert("RGB"))

    image = load_image(path)
    assert np.array_equal(u8(image), expected)
    assert (image.width, image.height) == ((5, 8) if orientation >= 5 else (8, 5))
    assert_our_exif(read_exif(image.meta.exif))  # orientation reset to 1, other tags intact
    assert image.meta.dpi == pytest.approx((100, 300) if orientation >= 5 else (300, 100), abs=0.01)

    # Saved and loaded again, it must not turn a second time.
    assert np.array_equal(u8(load_image(save_image(image, tmp_path / "saved.png"))), expected)


def test_orientation_in_jpeg_and_tiff(tmp_path: Path) -> None:
    pixels = np.kron(asymmetric(3, 4), np.ones((8, 8, 1), np.uint8))  # 8x8 blocks survive JPEG
    cases = [("JPEG", ".jpg", 6, np.rot90(pixels, -1), 12), ("TIFF", ".tif", 8, np.rot90(pixels, 1), 0)]
    for fmt, suffix, orientation, expected, tolerance in cases:
        path = tmp_path / f"o{suffix}"
        PILImage.fromarray(pixels).save(path, fmt, exif=make_exif(orientation), quality=95, subsampling=0)
        image = load_image(path)
        assert image.rgb.shape[:2] == expected.shape[:2]
        assert np.abs(u8(image).astype(int) - expected).max() <= tolerance
        assert_our_exif(read_exif(image.meta.exif))


# ---------------------------------------------------------------- 16 bits


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16_bit_round_trip_is_bit_exact(tmp_path: Path, suffix: str, channels: int) -> None:
    shape = (17, 23, channels) if channels > 1 else (17, 23)
    samples = np.random.default_rng(channels).integers(0, 65536, shape, dtype=np.uint16)
    first = load_image(save_image(image_from_array(samples), tmp_path / f"a{suffix}"))
    # 16-bit grey+alpha TIFF is written as RGBA: Pillow cannot read the grey+alpha layout back.
    assert first.meta.bit_depth == 16 and first.meta.greyscale == (
        channels == 1 or (channels == 2 and suffix == ".png")
    )
    second = load_image(save_image(first, tmp_path / f"b{suffix}"))  # loaded and saved unchanged
    for image in (first, second):
        colour = to_uint16(image.rgb)
        expected = samples if channels == 1 else samples[..., : 1 if channels == 2 else 3]
        assert np.array_equal(
            colour[..., 0] if channels <= 2 else colour, expected[..., 0] if channels == 2 else expected
        )
        if channels in (2, 4):
            assert np.array_equal(to_uint16(image.alpha), samples[..., -1])


@pytest.mark.parametrize(
    ("suffix", "params"), [(".png", []), (".tif", []), (".tif", "lzw"), (".tif", "deflate"), (".tif", "none")]
)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16_bit_files_from_another_library(tmp_path: Path, suffix: str, params, channels: int) -> None:
    cv2 = pytest.importorskip("cv2")
    compression = {"lzw": 5, "deflate": 8, "none": 1}
    flags = [cv2.IMWRITE_TIFF_COMPRESSION, compression[params]] if params else []
    shape = (19, 29, channels) if channels > 1 else (19, 29)
    bgr = np.random.default_rng(7).integers(0, 65536, shape, dtype=np.uint16)
    path = tmp_path / f"cv{suffix}"
    assert cv2.imwrite(str(path), bgr, flags)
    rgb = bgr if channels == 1 else bgr[..., [2, 1, 0, 3][:channels]]

    image = load_image(path)
    assert image.meta.bit_depth == 16
    got = to_uint16(image.rgb)[..., 0] if channels == 1 else to_uint16(image.rgb)
    assert np.array_equal(got, rgb if channels == 1 else rgb[..., :3])
    if channels == 4:
        assert np.array_equal(to_uint16(image.alpha), rgb[..., 3])

    out = save_image(image, tmp_path / f"ours{suffix}")
    assert np.array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED), bgr)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_our_16_bit_files_read_the_same_in_another_library(tmp_path: Path, suffix: str, channels: int) -> None:
    cv2 = pytest.importorskip("cv2")
    shape = (13, 21, channels) if channels > 1 else (13, 21)
    samples = np.random.default_rng(channels).integers(0, 65536, shape, dtype=np.uint16)
    read = cv2.imread(str(save_image(image_from_array(samples), tmp_path / f"a{suffix}")), cv2.IMREAD_UNCHANGED)
    assert read.dtype == np.uint16
    if channels == 1:
        assert np.array_equal(read, samples)
    elif channels == 2:  # OpenCV expands grey+alpha to BGRA; our TIFF stores it as RGBA
        assert np.array_equal(read[..., 0], samples[..., 0]) and np.array_equal(read[..., 1], samples[..., 0])
        assert np.array_equal(read[..., 3], samples[..., 1])
    else:
        assert np.array_equal(read, samples[..., [2, 1, 0, 3][:channels]])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff_with_several_strips(tmp_path: Path, dtype: type) -> None:
    samples = np.random.default_rng(3).integers(0, np.iinfo(dtype).max + 1, (300, 400, 3), dtype=dtype)
    path = save_image(image_from_array(samples), tmp_path / "big.tif")
    with PILImage.open(path) as written:
        assert len(written.tag_v2[273]) > 1  # StripOffsets: the writer really split the image
    back = load_image(path)
    quantise = to_uint16 if dtype == np.uint16 else to_uint8
    assert np.array_equal(quantise(back.rgb), samples)
    cv2 = pytest.importorskip("cv2")
    assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), samples[..., ::-1])


def test_16_bit_grey_png_from_pillow_and_explicit_8_bit_save(tmp_path: Path) -> None:
    grey = np.arange(0, 65536, 257, dtype=np.uint16).reshape(16, 16)
    path = tmp_path / "grey16.png"
    PILImage.fromarray(grey).save(path)
    image = load_image(path)
    assert image.meta.bit_depth == 16 and image.meta.greyscale and image.meta.mode.startswith("I")
    assert np.array_equal(to_uint16(image.rgb[..., 1]), grey)
    with PILImage.open(save_image(image, tmp_path / "eight.png", bit_depth=8)) as eight:
        assert eight.mode == "L"
        assert np.array_equal(np.asarray(eight), (grey // 257).astype(np.uint8))
    with PILImage.open(save_image(image, tmp_path / "as.jpg")) as jpeg:
        assert jpeg.mode == "L"


def test_16_bit_png_with_a_transparent_key_value(tmp_path: Path) -> None:
    grey = np.array([[0, 1000], [1000, 65535]], np.uint16)
    grey_path = tmp_path / "grey_key.png"
    PILImage.fromarray(grey).save(grey_path, transparency=1000)
    image = load_image(grey_path)
    assert image.meta.bit_depth == 16 and image.meta.has_alpha
    assert np.array_equal(to_uint8(image.alpha), [[255, 0], [0, 255]])

    from imagestudio.core.imageio.png16 import write_png16

    rgb = np.array([[[1, 2, 3], [4, 5, 6]]], np.uint16)
    buffer = io.BytesIO()
    write_png16(buffer, rgb)
    data = buffer.getvalue()
    key = b"tRNS" + struct.pack(">HHH", 4, 5, 6)
    trns = struct.pack(">I", 6) + key + struct.pack(">I", zlib.crc32(key))
    ihdr_end = 8 + 8 + 13 + 4
    (tmp_path / "rgb_key.png").write_bytes(data[:ihdr_end] + trns + data[ihdr_end:])
    image = load_image(tmp_path / "rgb_key.png")
    assert image.meta.bit_depth == 16 and np.array_equal(to_uint16(image.rgb), rgb)
    assert np.array_equal(to_uint8(image.alpha), [[255, 0]])


def test_16_bit_into_an_8_bit_format_on_request_is_refused(tmp_path: Path) -> None:
    image = image_from_array(np.zeros((4, 4, 3), np.uint16))
    with pytest.raises(ImageSaveError, match="16 bits"):
        save_image(image, tmp_path / "x.jpg", bit_depth=16)
    assert folder_listing(tmp_path) == []


# ---------------------------------------------------------------- alpha, palettes, CMYK, grey


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_alpha_survives(tmp_path: Path, suffix: str) -> None:
    pixels = asymmetric(9, 11, channels=4)
    path = tmp_path / f"rgba{suffix}"
    PILImage.fromarray(pixels).save(path, **({"lossless": True, "exact": True} if suffix == ".webp" else {}))
    image = load_image(path)
    assert image.meta.has_alpha and image.meta.mode == "RGBA"
    assert np.array_equal(to_uint8(image.alpha), pixels[..., 3])
    again = load_image(save_image(image, tmp_path / f"copy{suffix}", quality=100))
    assert np.array_equal(to_uint8(again.alpha), pixels[..., 3])
    assert np.array_equal(u8(again), pixels[..., :3])


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_formats_without_alpha_composite_over_white(tmp_path: Path, suffix: str) -> None:
    pixels = np.zeros((16, 16, 4), np.uint8)
    pixels[..., 0] = 255  # red...
    pixels[:8, :, 3] = 0  # ...fully transparent in the top half
    pixels[8:, :, 3] = 255
    image = load_image(save_image(image_from_array(pixels), tmp_path / f"flat{suffix}"))
    assert image.alpha is None
    rgb = u8(image).astype(int)
    assert np.abs(rgb[:6] - 255).max() <= 3  # white
    assert np.abs(rgb[10:] - [255, 0, 0]).max() <= 3  # red


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_with_transparency_becomes_alpha(tmp_path: Path, suffix: str) -> None:
    indices = (np.arange(48).reshape(6, 8) % 4).astype(np.uint8)
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0]
    path = tmp_path / f"pal{suffix}"
    picture = PILImage.fromarray(indices)
    picture.putpalette(palette)
    picture.save(path, transparency=2)
    image = load_image(path)
    assert image.meta.mode == "P" and image.meta.has_alpha and not image.meta.greyscale
    assert np.array_equal(to_uint8(image.alpha) == 0, indices == 2)
    opaque = indices != 2
    expected = np.array(palette, np.uint8).reshape(4, 3)[indices]
    assert np.array_equal(u8(image)[opaque], expected[opaque])
    # Through our GIF writer, the transparent pixels stay transparent.
    again = load_image(save_image(image, tmp_path / "again.gif"))
    assert np.array_equal(to_uint8(again.alpha) == 0, indices == 2)


def test_palette_without_transparency_is_rgb(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    PILImage.fromarray(asymmetric(6, 7)).convert("P", palette=PILImage.Palette.ADAPTIVE).save(path)
    image = load_image(path)
    assert image.meta.mode == "P" and image.alpha is None


def test_animated_gif_loads_frame_zero_and_says_so(tmp_path: Path) -> None:
    frames = [PILImage.fromarray(np.full((6, 6, 3), value, np.uint8)) for value in (0, 128, 255)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50)
    image = load_image(path)
    assert image.meta.frame_count == 3 and image.meta.format == "GIF"
    assert u8(image).max() == 0


def test_camera_jpeg_with_a_second_picture_is_a_plain_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "camera.jpg"
    main, preview = PILImage.fromarray(smooth()), PILImage.fromarray(smooth(8, 12))
    main.save(path, "MPO", save_all=True, append_images=[preview])
    with PILImage.open(path) as reopened:
        assert reopened.format == "MPO"
    image = load_image(str(path))
    assert image.meta.format == "JPEG" and image.meta.frame_count == 1 and image.width == 48


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path: Path) -> None:
    cmyk = np.zeros((16, 16, 4), np.uint8)
    cmyk[:, :8, 0] = 255  # cyan on the left
    cmyk[:, 8:, 2] = 255  # yellow on the right
    path = tmp_path / "cmyk.jpg"
    PILImage.fromarray(cmyk, mode="CMYK").save(path, quality=95)
    with PILImage.open(path) as reopened:
        assert reopened.mode == "CMYK"
        expected = np.asarray(reopened.convert("RGB")).astype(int)
    image = load_image(path)
    assert image.meta.mode == "CMYK" and image.meta.icc_profile is None and not image.meta.greyscale
    assert np.abs(u8(image).astype(int) - expected).max() <= 1
    assert u8(image)[8, 2, 0] < 60 and u8(image)[8, 13, 2] < 60  # cyan lacks red, yellow lacks blue


def test_cmyk_with_a_profile_that_is_not_cmyk_falls_back_to_the_plain_conversion(tmp_path: Path) -> None:
    path = tmp_path / "cmyk_srgb.jpg"
    PILImage.new("CMYK", (8, 8), (0, 255, 0, 0)).save(path, icc_profile=SRGB)
    image = load_image(path)
    assert image.meta.icc_profile is None
    assert u8(image)[4, 4, 1] < 60  # magenta lacks green


@pytest.mark.parametrize(
    ("suffix", "mode"), [(".jpg", "L"), (".png", "L"), (".tif", "L"), (".bmp", "L"), (".webp", "RGB")]
)
def test_greyscale_stays_greyscale(tmp_path: Path, suffix: str, mode: str) -> None:
    source = tmp_path / "grey.jpg"
    PILImage.fromarray(smooth()[..., 0]).save(source, quality=95)
    image = load_image(source)
    assert image.meta.greyscale and image.meta.mode == "L"
    assert np.array_equal(image.rgb[..., 0], image.rgb[..., 1]) and np.array_equal(image.rgb[..., 1], image.rgb[..., 2])
    # An operation may leave tiny differences between channels; it is still written as grey (luminance).
    drifted = image.with_pixels(np.clip(image.rgb + np.float32([0.01, 0.0, -0.01]), 0, 1), None)
    with PILImage.open(save_image(drifted, tmp_path / f"out{suffix}")) as written:
        assert written.mode == mode


def test_grey_with_alpha_is_kept_as_such(tmp_path: Path) -> None:
    pixels = asymmetric(7, 9, channels=2)
    path = tmp_path / "la.png"
    PILImage.fromarray(pixels).save(path)
    image = load_image(path)
    assert image.meta.greyscale and image.meta.has_alpha and image.meta.mode == "LA"
    with PILImage.open(save_image(image, tmp_path / "copy.png")) as written:
        assert written.mode == "LA"
        assert np.array_equal(np.asarray(written), pixels)


@pytest.mark.parametrize(("mode", "value"), [("1", 1), ("I", 40000), ("F", 0.25)])
def test_other_single_channel_modes(tmp_path: Path, mode: str, value: float) -> None:
    path = tmp_path / f"{mode}.tif"
    PILImage.new(mode, (5, 4), value).save(path)
    image = load_image(path)
    assert image.meta.greyscale and image.meta.mode == mode
    expected = {"1": 1.0, "I": 40000 / 65535, "F": 0.25}[mode]
    assert image.rgb == pytest.approx(np.full((4, 5, 3), expected), abs=1e-6)


# ---------------------------------------------------------------- saving: format choice, atomicity, the input


def test_format_argument_wins_over_the_suffix(tmp_path: Path) -> None:
    written = save_image(image_from_array(asymmetric()), tmp_path / "picture.data", format="png")
    with PILImage.open(written) as reopened:
        assert reopened.format == "PNG"


@pytest.mark.parametrize(
    ("name", "fmt", "message"),
    [("x", None, "no extension"), ("x.xyz", None, "unknown file type"), ("x.png", "JPEG2000", "cannot write")],
)
def test_unknown_format_is_refused(tmp_path: Path, name: str, fmt: str | None, message: str) -> None:
    with pytest.raises(ImageSaveError, match=message):
        save_image(image_from_array(asymmetric()), tmp_path / name, format=fmt)


def test_save_into_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageSaveError, match="does not exist") as caught:
        save_image(image_from_array(asymmetric()), tmp_path / "nowhere" / "x.png")
    assert "x.png" in str(caught.value)
    assert folder_listing(tmp_path) == []


def test_save_onto_a_folder_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(ImageSaveError, match="folder"):
        save_image(image_from_array(asymmetric()), tmp_path / "taken.png")
    assert folder_listing(tmp_path) == ["taken.png"] and (tmp_path / "taken.png").is_dir()


def test_failed_encode_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.jpg"
    target.write_bytes(b"previous contents")
    image = image_from_array(asymmetric())
    image.meta.exif = b"Exif\x00\x00" + b"\x00" * 70_000  # more than a JPEG marker can hold
    with pytest.raises(ImageSaveError, match=r"keep\.jpg"):
        save_image(image, target)
    assert target.read_bytes() == b"previous contents"
    assert folder_listing(tmp_path) == ["keep.jpg"]


def test_replacing_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "shared.png"
    target.write_bytes(b"old")
    target.chmod(0o640)
    save_image(image_from_array(asymmetric()), target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert load_image(target).width == 9
    assert folder_listing(tmp_path) == ["shared.png"]


def test_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    PILImage.fromarray(asymmetric()).save(source)
    before = source.read_bytes()
    image = load_image(source)
    (tmp_path / "sub").mkdir()
    os.link(source, tmp_path / "hardlink.png")
    for spelling in (source, tmp_path / "sub" / ".." / "photo.png", str(source), tmp_path / "hardlink.png"):
        with pytest.raises(ImageSaveError, match="will not overwrite"):
            save_image(image, spelling)
    assert source.read_bytes() == before
    assert folder_listing(tmp_path) == ["hardlink.png", "photo.png", "sub"]

    changed = image.with_pixels(1.0 - image.rgb, None)
    assert save_image(changed, source, overwrite_input=True) == source
    assert np.array_equal(u8(load_image(source)), 255 - asymmetric())


def test_invalid_arguments_are_programming_errors(tmp_path: Path) -> None:
    image = image_from_array(asymmetric())
    with pytest.raises(ValueError, match="bit_depth"):
        save_image(image, tmp_path / "x.png", bit_depth=12)
    with pytest.raises(ValueError, match="quality"):
        save_image(image, tmp_path / "x.jpg", quality=0)


def test_disk_errors_read_as_sentences() -> None:
    import errno

    from imagestudio.core.imageio.atomic import _os_message

    path = Path("/photos/out.png")
    assert (
        _os_message(path, OSError(errno.ENOSPC, "No space left on device")) == "cannot save out.png: the disk is full"
    )
    assert "permission denied" in _os_message(path, PermissionError(errno.EACCES, "Permission denied"))


# ---------------------------------------------------------------- files that are not (whole) images


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match=r"photo\.jpg was not found"):
        load_image(tmp_path / "photo.jpg")


def test_folder_empty_file_and_text_file(tmp_path: Path) -> None:
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("this is not a picture\n")
    cases = {
        "folder.png": "folder.png is a folder",
        "empty.png": "empty.png is empty",
        "notes.jpg": "notes.jpg is not an image or is damaged (cannot identify image file)",
    }
    for name, message in cases.items():
        with pytest.raises(ImageLoadError) as caught:
            load_image(tmp_path / name)
        assert str(caught.value) == message or str(caught.value).startswith(message)
        assert "\n" not in str(caught.value)


def test_a_format_we_do_not_open_is_named(tmp_path: Path) -> None:
    path = tmp_path / "picture.ppm"
    PILImage.fromarray(asymmetric()).save(path)
    with pytest.raises(ImageLoadError, match=r"picture\.ppm is in PPM format, which ImageStudio does not open"):
        load_image(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif", ".bmp", ".gif"])
@pytest.mark.parametrize("keep", [0.6, 0.15])
def test_truncated_files_raise_instead_of_loading_grey(tmp_path: Path, suffix: str, keep: float) -> None:
    whole = tmp_path / f"whole{suffix}"
    PILImage.fromarray(asymmetric(64, 64)).save(whole, quality=90)
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageLoadError) as caught:
        load_image(cut)
    message = str(caught.value)
    assert message.startswith(f"cut{suffix} is ")
    assert "damaged" in message  # "is damaged or incomplete (...)" or "is not an image or is damaged (...)"


def test_load_errors_are_image_studio_errors() -> None:
    assert issubclass(ImageTooLargeError, ImageLoadError) and issubclass(ImageLoadError, ImageStudioError)


# ---------------------------------------------------------------- size limits, checked before decoding


def test_our_pixel_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    path = png_header_only(tmp_path / "big.png", 5000, 4000)
    with pytest.raises(ImageTooLargeError) as caught:
        load_image(path, max_pixels=1_000_000)
    message = str(caught.value)
    assert "big.png" in message and "5000x4000" in message and "1 megapixels" in message
    # Without the limit the decoder does run, and finds the junk: proof the limit came first.
    with pytest.raises(ImageLoadError) as damaged:
        load_image(path, max_pixels=None)
    assert not isinstance(damaged.value, ImageTooLargeError)


def test_default_limit_applies(tmp_path: Path) -> None:
    small = tmp_path / "small.png"
    PILImage.fromarray(asymmetric()).save(small)
    assert load_image(small).width == 9
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        load_image(small, max_pixels=53)


@pytest.mark.parametrize("side", [15_000, 100_000])  # Pillow's warning range (200–400 MP), then its error range
def test_pillows_bomb_guard_becomes_image_too_large(tmp_path: Path, side: int) -> None:
    path = png_header_only(tmp_path / "bomb.png", side, side)
    with pytest.raises(ImageTooLargeError, match=r"bomb\.png is too large.*megapixels"):
        load_image(path, max_pixels=None)
