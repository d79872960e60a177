"""Live preview in an operation's popover: the visible part of the photo (at most 512²) through the same steps
the edit would run, on a thread of its own, redone when strength or model change, the superseded run cancelled,
and nothing in the document or the history touched."""

from __future__ import annotations

import numpy as np
import onnx_models
import pytest
from PySide6.QtCore import QRect

from ui_helpers import choose_model, open_image
from imagestudio.core.image import load_image
from imagestudio.ui.display import build_display
from imagestudio.ui.preview import PREVIEW_SIDE, preview_region

PREVIEW_TIMEOUT_MS = 30_000


def test_the_region_is_the_visible_part_cut_to_512_around_its_centre():
    assert preview_region(QRect(0, 0, 40, 30), 40, 30) == preview_region(QRect(-50, -50, 200, 200), 40, 30)
    region = preview_region(QRect(100, 50, 1000, 700), 4000, 3000)
    assert (region.width, region.height) == (PREVIEW_SIDE, PREVIEW_SIDE)
    assert (region.x + region.width // 2, region.y + region.height // 2) == (600, 400)  # the view's centre
    edge = preview_region(QRect(3800, 2900, 1000, 700), 4000, 3000)  # past the image's corner: kept inside
    assert edge.x + edge.width <= 4000 and edge.y + edge.height <= 3000 and edge.width == 200


def qimage_rgb(image) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_the_preview_shows_the_operation_on_the_visible_crop_and_changes_nothing(qtbot, window, make_photo,
                                                                                  same_size_models):
    photo = make_photo("wide.png", 900, 700)
    open_image(qtbot, window, photo)
    window.canvas.actual_size()  # 100 %: only part of the photo is on screen
    panel = window.operations
    options = panel.popovers["denoise"]
    options.refresh_models()
    panel.start_preview("denoise", now=True)
    assert panel.preview.runner.busy and not window.runner.busy, "on the preview's own thread, not the window's"
    qtbot.waitUntil(lambda: options.shown_preview is not None, timeout=PREVIEW_TIMEOUT_MS)
    result = options.shown_preview
    region = result.region
    visible = window.canvas.visible_image_rect()
    assert region.width <= PREVIEW_SIDE and region.height <= PREVIEW_SIDE
    assert visible.contains(QRect(region.x, region.y, region.width, region.height))
    crop = load_image(photo).rgb[region.y:region.y + region.height, region.x:region.x + region.width]
    expected = build_display(load_image(photo).with_pixels(onnx_models.blur_reference(crop), None)).levels[0]
    np.testing.assert_allclose(qimage_rgb(result.after), qimage_rgb(expected), atol=1)
    assert options.preview_after.pixmap() is not None and not options.preview_after.pixmap().isNull()
    assert "Before · After" in options.preview_caption.text()
    assert window.undo_stack.count() == 0 and window.undo_stack.isClean()


def test_changing_the_strength_or_model_redoes_it_and_cancels_the_stale_run(qtbot, window, make_photo,
                                                                           same_size_models):
    window.settings.set("processing/tile_size", 64)
    open_image(qtbot, window, make_photo("big.png", 256, 256))
    panel = window.operations
    options = panel.popovers["denoise"]
    choose_model(window, "denoise", "slow-denoise")
    panel.start_preview("denoise", now=True)
    qtbot.waitUntil(lambda: panel.preview.runner.busy, timeout=5000)
    options.strength.setValue(30)  # while the first run is still going
    options.strength.setValue(60)
    assert panel.preview.cancelled_jobs >= 1, "the superseded run was cancelled"
    last = panel.preview.generation
    qtbot.waitUntil(lambda: options.shown_preview is not None and options.shown_preview.generation == last,
                    timeout=PREVIEW_TIMEOUT_MS)
    assert "strength 60 %" in options.preview_caption.text() and "slow-denoise" in options.preview_caption.text()
    strength_60 = qimage_rgb(options.shown_preview.after)

    choose_model(window, "denoise", "denoise")  # another model: previewed again
    qtbot.waitUntil(lambda: options.shown_preview.generation > last, timeout=PREVIEW_TIMEOUT_MS)
    assert "slow-denoise" not in options.preview_caption.text()
    assert not np.array_equal(qimage_rgb(options.shown_preview.after), strength_60)


def test_committing_or_closing_stops_the_preview(qtbot, window, photo, same_size_models):
    open_image(qtbot, window, photo)
    panel = window.operations
    options = panel.popovers["denoise"]
    panel.start_preview("denoise", now=True)
    panel.actions["denoise"].trigger()  # Run: the edit takes over
    generation = panel.preview.generation
    qtbot.waitUntil(lambda: not window.runner.busy and not panel.preview.runner.busy, timeout=PREVIEW_TIMEOUT_MS)
    assert window.undo_stack.count() == 1
    assert options.shown_preview is None or options.shown_preview.generation < generation
    options.strength.setValue(20)  # the popover is closed: nothing runs
    qtbot.wait(250)
    assert not panel.preview.runner.busy and panel.preview.generation == generation


def test_without_an_image_or_with_preview_off_nothing_runs(qtbot, window, photo, same_size_models):
    panel = window.operations
    options = panel.popovers["denoise"]
    panel.start_preview("denoise", now=True)
    assert not panel.preview.runner.busy and "Open an image" in options.preview_caption.text()
    open_image(qtbot, window, photo)
    options.live_preview.setChecked(False)
    panel.start_preview("denoise", now=True)
    assert not panel.preview.runner.busy and options.preview_caption.text() == "Live preview is off"
    options.live_preview.setChecked(True)  # turned back on while open: previews
    qtbot.waitUntil(lambda: options.shown_preview is not None, timeout=PREVIEW_TIMEOUT_MS)


@pytest.mark.parametrize("key", ["upscale2"])
def test_an_upscale_preview_is_larger_than_its_crop(qtbot, window, photo, bundled_upscalers, key):
    open_image(qtbot, window, photo)
    panel = window.operations
    options = panel.popovers[key]
    panel.start_preview(key, now=True)
    qtbot.waitUntil(lambda: options.shown_preview is not None, timeout=PREVIEW_TIMEOUT_MS)
    result = options.shown_preview
    assert (result.after.width(), result.after.height()) == (2 * result.region.width, 2 * result.region.height)
