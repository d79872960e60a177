"""Properties that must hold for every input hypothesis can find, not just the ones we thought of.

- Tiling: for any image size (1×1 and one-pixel strips included), tile side, context, blend, tile multiple and scale,
  the tiled output equals the untiled output up to float rounding (with a numpy "model" whose receptive radius is
  known, and with the real onnxruntime path through a model card).
- The image round trip: any uint8/uint16 grey, grey+alpha, RGB or RGBA array saved in a lossless format and loaded
  back is the same array; EXIF orientation in any lossless format is applied exactly as Pillow's exif_transpose.
- The loader on mutated corpus files (bytes flipped, cut, inserted): an Image, or ImageLoadError; nothing else.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnx_models
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from make_corpus import write_corpus
from PIL import ExifTags, ImageOps
from PIL import Image as PILImage

from imagestudio.core.errors import ImageLoadError
from imagestudio.core.image import image_from_array, load_image, save_image, to_uint8, to_uint16
from imagestudio.core.models import read_model_card
from imagestudio.core.tiling import run_model_tiled, tiled_apply

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def box_model(radius: int, scale: int):  # noqa: ANN201 - a RunTile
    """A (2r+1)² box blur with zero padding, then nearest ×scale: receptive radius exactly `radius`."""

    def run(patch: np.ndarray) -> np.ndarray:
        _, _, height, width = patch.shape
        padded = np.pad(patch, ((0, 0), (0, 0), (radius, radius), (radius, radius)))
        total = np.zeros_like(patch)
        for dy in range(2 * radius + 1):
            for dx in range(2 * radius + 1):
                total += padded[:, :, dy:dy + height, dx:dx + width]
        blurred = total / np.float32((2 * radius + 1) ** 2)
        return np.repeat(np.repeat(blurred, scale, axis=2), scale, axis=3)

    return run


def _untiled(run, rgb: np.ndarray, multiple: int) -> np.ndarray:
    """The model on the whole image, padded to the multiple the way tiling pads a lone window."""
    from imagestudio.core.tiling import _pad_to_multiple

    height, width = rgb.shape[:2]
    x = _pad_to_multiple(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]), multiple)
    y = run(x)
    scale = y.shape[2] // x.shape[2]
    return y[0, :, :height * scale, :width * scale].transpose(1, 2, 0)


@FAST
@given(height=st.integers(1, 90), width=st.integers(1, 90), tile=st.integers(1, 64), radius=st.integers(0, 3),
       extra_context=st.integers(0, 3), blend=st.integers(1, 6), scale=st.sampled_from([1, 2, 4]),
       multiple=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**16))
def test_tiled_equals_untiled_for_any_size_tile_and_overlap(height, width, tile, radius, extra_context, blend,
                                                           scale, multiple, seed) -> None:
    from imagestudio.core.tiling import choose_tile

    context = radius + extra_context
    side = choose_tile(tile, "cpu", context, blend, multiple)  # what run_model_tiled would use for this tile
    rgb = np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)
    run = box_model(radius, scale)
    tiled = tiled_apply(run, rgb, scale=scale, tile=side, context=context, blend=blend, multiple=multiple)
    assert tiled.shape == (height * scale, width * scale, 3)
    if multiple > 1 and (height > side or width > side):
        # Inner windows are multiples already; only a lone window is padded, so compare away from pad effects:
        # a border window pads by reflection, which a zero-padded blur sees differently from the untiled run.
        assume(height % multiple == 0 and width % multiple == 0)
    assert np.abs(tiled - _untiled(run, rgb, multiple)).max() < 1e-5


@pytest.fixture(scope="module")
def blur_x2_card(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    folder = tmp_path_factory.mktemp("prop-models")
    path = onnx_models.blur_upscaler(folder / "blur-x2.onnx", 2,
                                     metadata=onnx_models.card("blur-x2", "upscale", 2, receptive_radius="1"))
    return read_model_card(path)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 70), width=st.integers(1, 70), tile=st.integers(1, 80), seed=st.integers(0, 999))
def test_the_real_runtime_path_tiles_without_seams(blur_x2_card, height, width, tile, seed) -> None:
    rgb = np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)
    tiled = run_model_tiled(blur_x2_card, rgb, device="cpu", tile=tile)
    expected = np.repeat(np.repeat(onnx_models.blur_reference(rgb), 2, axis=0), 2, axis=1)
    assert np.abs(tiled - expected).max() < 1e-5


# ---------------------------------------------------------------- the image round trip


LOSSLESS = {".png": (True, True), ".tif": (True, True), ".webp": (False, True), ".bmp": (False, False)}
# suffix -> (keeps 16 bits, keeps alpha); WebP at quality 100 is lossless, BMP has no alpha


@st.composite
def pixel_arrays(draw) -> np.ndarray:
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    channels = draw(st.sampled_from([1, 2, 3, 4]))
    dtype = draw(st.sampled_from([np.uint8, np.uint16]))
    top = 255 if dtype == np.uint8 else 65535
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(0, top + 1, (height, width, channels), dtype=dtype)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(array=pixel_arrays(), suffix=st.sampled_from(sorted(LOSSLESS)))
def test_lossless_round_trip_keeps_every_sample(tmp_path: Path, array: np.ndarray, suffix: str) -> None:
    deep, keeps_alpha = LOSSLESS[suffix]
    has_alpha = array.shape[2] in (2, 4)
    assume(keeps_alpha or not has_alpha)
    assume(deep or array.dtype == np.uint8)
    assume(suffix != ".webp" or array.shape[2] >= 3)  # WebP stores colour only: grey is written as RGB anyway
    image = image_from_array(array)
    written = save_image(image, tmp_path / f"round{suffix}", quality=100)
    back = load_image(written)
    assert (back.width, back.height) == (array.shape[1], array.shape[0])
    assert back.meta.has_alpha == has_alpha and back.meta.bit_depth == (16 if array.dtype == np.uint16 else 8)
    convert = to_uint16 if array.dtype == np.uint16 else to_uint8
    colour = array[:, :, :1 if array.shape[2] <= 2 else 3]
    np.testing.assert_array_equal(convert(back.rgb), np.broadcast_to(colour, back.rgb.shape))
    if has_alpha:
        np.testing.assert_array_equal(convert(back.alpha), array[:, :, -1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orientation=st.integers(1, 8), fmt=st.sampled_from(["PNG", "TIFF", "WEBP"]), height=st.integers(1, 9),
       width=st.integers(1, 9), seed=st.integers(0, 999))
def test_exif_orientation_is_applied_like_exif_transpose(tmp_path: Path, orientation: int, fmt: str, height: int,
                                                         width: int, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    stored = io.BytesIO()
    params = {"lossless": True} if fmt == "WEBP" else {}
    PILImage.fromarray(pixels).save(stored, format=fmt, exif=exif.tobytes(), **params)
    path = tmp_path / f"oriented.{fmt.lower()}"
    path.write_bytes(stored.getvalue())
    expected = np.asarray(ImageOps.exif_transpose(PILImage.open(io.BytesIO(stored.getvalue()))).convert("RGB"))
    loaded = load_image(path)
    np.testing.assert_array_equal(to_uint8(loaded.rgb), expected)
    assert PILImage.Exif().get(ExifTags.Base.Orientation, 1) == 1 if loaded.meta.exif is None else True


# ---------------------------------------------------------------- the loader on mutated files


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    files = write_corpus(tmp_path_factory.mktemp("seeds"))
    return [path.read_bytes() for case, path in files if path.is_file() and not case.fifo and
            0 < path.stat().st_size < 100_000]


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[position:position + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            data[position:position + 4] = b"\xff\xff\xff\x7f"
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_the_loader_only_ever_returns_an_image_or_our_error(tmp_path: Path, seeds: list[bytes],
                                                            data: st.DataObject) -> None:
    blob = data.draw(mutated(seeds))
    path = tmp_path / "mutant.img"
    path.write_bytes(blob)
    try:
        image = load_image(path, max_pixels=4_000_000)
    except ImageLoadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert image.rgb.ndim == 3 and np.isfinite(image.rgb).all()
    assert 0.0 <= float(image.rgb.min()) and float(image.rgb.max()) <= 1.0
