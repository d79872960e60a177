"""Every file of the bad-input corpus through the core: a correct Image, or one of our errors with a clear message.

A correct Image is checked for size (after EXIF orientation), depth, alpha, greyscale, frame count and, where the
case pins one, a pixel; it must then save to every format we write and load back at the same size.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from fs_helpers import read_only_folder
from make_corpus import CASES, ERROR, OK, Case

from imagestudio.core.errors import ImageLoadError, ImageSaveError, ImageTooLargeError
from imagestudio.core.image import load_image, save_image, to_uint8

WRITE_SUFFIXES = (".png", ".jpg", ".webp", ".tif", ".bmp", ".gif")


def _cases(kind: str) -> list[str]:
    return [case.name for case in CASES if case.expect == kind]


def _find(corpus: list[tuple[Case, Path]], name: str) -> tuple[Case, Path]:
    for case, path in corpus:
        if case.name == name:
            return case, path
    pytest.skip(f"{name} is not part of the corpus on this platform")


@pytest.mark.parametrize("name", _cases(OK))
def test_good_and_odd_files_load_correctly(corpus: list[tuple[Case, Path]], name: str, tmp_path: Path) -> None:
    case, path = _find(corpus, name)
    image = load_image(path)
    assert (image.width, image.height) == case.size
    assert image.meta.bit_depth == case.bit_depth
    assert image.meta.has_alpha == case.has_alpha
    assert image.meta.greyscale == case.greyscale
    assert image.meta.frame_count == case.frames
    assert np.isfinite(image.rgb).all() and 0.0 <= image.rgb.min() and image.rgb.max() <= 1.0
    if case.pixel is not None:
        x, y, expected = case.pixel
        got = to_uint8(image.rgb[y, x]).astype(int)
        assert np.abs(got - np.array(expected)).max() <= 24, f"pixel ({x}, {y}) is {got}, expected {expected}"
    for suffix in WRITE_SUFFIXES:
        written = save_image(image, tmp_path / f"copy{suffix}")
        again = load_image(written)
        assert (again.width, again.height) == case.size, suffix


@pytest.mark.parametrize("name", _cases(ERROR))
def test_bad_files_give_our_error_naming_the_file(corpus: list[tuple[Case, Path]], name: str) -> None:
    case, path = _find(corpus, name)
    with pytest.raises(ImageLoadError) as caught:
        load_image(path)
    message = str(caught.value)
    assert path.name in message, message
    assert case.message in message.lower(), message
    assert "\n" not in message and len(message) < 300
    assert isinstance(caught.value, ImageTooLargeError) == case.too_large


def _load_in_child(path: str, queue: multiprocessing.Queue) -> None:
    try:
        load_image(path)
        queue.put("ok")
    except ImageLoadError as exc:
        queue.put(type(exc).__name__)


def test_a_fifo_never_blocks_the_loader(corpus: list[tuple[Case, Path]]) -> None:
    """Opening a named pipe for reading blocks until a writer appears; the loader must refuse it at once."""
    _case, path = _find(corpus, "named-pipe.jpg")
    queue: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_load_in_child, args=(str(path), queue))
    child.start()
    child.join(10)
    if child.is_alive():
        child.kill()
        pytest.fail("load_image blocked on a FIFO")
    assert queue.get(timeout=1) == "ImageLoadError"


@pytest.mark.parametrize("name", [case.name for case in CASES if case.too_large])
def test_bombs_name_the_configured_limit(corpus: list[tuple[Case, Path]], name: str) -> None:
    _case, path = _find(corpus, name)
    with pytest.raises(ImageTooLargeError, match=r"over the limit of 12 megapixels \(12000000 pixels\)"):
        load_image(path, max_pixels=12_000_000)


def test_a_raised_limit_lets_a_big_image_through_pillows_own_guard(tmp_path: Path) -> None:
    """A user who allows 1000 MP must not be refused by Pillow's built-in 2 × 200 MP guard (header-only check)."""
    from make_corpus import _png  # a 30000×15000 header (450 MP) whose pixel data is missing

    path = tmp_path / "big.png"
    path.write_bytes(_png(30_000, 15_000, idat=b"\x78\x9c\x03\x00\x00\x00\x00\x01"))
    with pytest.raises(ImageTooLargeError, match="over the limit of 200 megapixels"):
        load_image(path)
    with pytest.raises(ImageLoadError) as caught:  # allowed: it gets as far as decoding, which finds no data
        load_image(path, max_pixels=1_000_000_000)
    assert not isinstance(caught.value, ImageTooLargeError)


def test_saving_into_a_read_only_folder_is_our_error_and_leaves_nothing(tmp_path: Path,
                                                                       corpus: list[tuple[Case, Path]]) -> None:
    _case, path = _find(corpus, "1x1.png")
    image = load_image(path)
    with read_only_folder(tmp_path / "locked") as folder:
        with pytest.raises(ImageSaveError, match="cannot save out.png: permission denied"):
            save_image(image, folder / "out.png")
        assert list(folder.iterdir()) == []


def test_saving_under_a_file_is_our_error(tmp_path: Path, corpus: list[tuple[Case, Path]]) -> None:
    _case, path = _find(corpus, "1x1.png")
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(ImageSaveError, match="is not a folder"):
        save_image(load_image(path), tmp_path / "plain-file" / "out.png")
