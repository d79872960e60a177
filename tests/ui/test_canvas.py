"""The canvas: pixel-exact at 100 %, zoom about the cursor, pan, cursor colour, compare layers, large photos."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from imagestudio.core.image import image_from_array
from imagestudio.ui.canvas import ImageCanvas, _next_step
from imagestudio.ui.display import build_display, display_from_qimage


def _random_display(width: int = 40, height: int = 30, seed: int = 0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return pixels, build_display(image_from_array(pixels))


def _solid_display(colour: tuple[int, int, int], width: int = 60, height: int = 40):
    return build_display(image_from_array(np.broadcast_to(np.array(colour, np.uint8), (height, width, 3)).copy()))


@pytest.fixture
def canvas(qtbot) -> ImageCanvas:
    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(200, 150)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


def _grab_rgb(canvas: ImageCanvas) -> np.ndarray:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_actual_size_is_pixel_exact(canvas):
    pixels, display = _random_display()
    canvas.set_image(display)
    canvas.set_zoom(1.37)
    canvas.pan_by(0.4, 0.3)
    canvas.actual_size()
    assert canvas.zoom == 1.0
    x, y = int(canvas.offset.x()), int(canvas.offset.y())
    assert (x, y) == (canvas.offset.x(), canvas.offset.y()), "whole-pixel offset at 100 %"
    shown = _grab_rgb(canvas)[y : y + 30, x : x + 40]
    np.testing.assert_array_equal(shown, pixels)


def test_zoom_steps_land_on_round_percentages():
    assert _next_step(1.0, up=True) == pytest.approx(2**0.5)
    assert _next_step(2**0.5, up=True) == 2.0
    assert _next_step(1.3, up=False) == 1.0
    assert _next_step(1.0, up=False) == pytest.approx(2**-0.5)


def test_wheel_zooms_about_the_cursor(canvas):
    _, display = _random_display()
    canvas.set_image(display)
    anchor = QPointF(90.0, 70.0)
    under_cursor = canvas.widget_to_image(anchor)
    event = QWheelEvent(anchor, canvas.mapToGlobal(anchor), QPoint(), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)
    assert canvas.zoom == pytest.approx(2 ** (2 / 3))
    after = canvas.widget_to_image(anchor)
    assert (after.x(), after.y()) == pytest.approx((under_cursor.x(), under_cursor.y()))


def test_keyboard_zoom_animates_to_the_next_step(canvas, qtbot):
    _, display = _random_display()
    canvas.set_image(display)
    canvas.zoom_in()
    qtbot.waitUntil(lambda: canvas.zoom == pytest.approx(2**0.5), timeout=2000)


def _mouse(canvas, kind, pos, buttons=Qt.MouseButton.LeftButton):
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), canvas.mapToGlobal(QPointF(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)


def test_drag_pans_and_moving_reports_cursor_position_and_colour(canvas, qtbot):
    pixels, display = _random_display()
    canvas.set_image(display)
    start = canvas.offset
    _mouse(canvas, QEvent.Type.MouseButtonPress, QPoint(100, 75))
    _mouse(canvas, QEvent.Type.MouseMove, QPoint(112, 80))
    _mouse(canvas, QEvent.Type.MouseButtonRelease, QPoint(112, 80), Qt.MouseButton.NoButton)
    assert canvas.offset - start == QPointF(12, 5)
    target = canvas.image_to_widget(QPointF(7.5, 3.5))
    with qtbot.waitSignal(canvas.cursor_moved) as blocker:
        _mouse(canvas, QEvent.Type.MouseMove, target, Qt.MouseButton.NoButton)
    x, y, colour = blocker.args
    assert (x, y) == (7, 3)
    assert (colour.red(), colour.green(), colour.blue()) == tuple(pixels[3, 7])


def test_split_compare_shows_before_left_and_after_right_with_the_same_view(canvas):
    canvas.set_image(_solid_display((0, 0, 255)))
    canvas.set_before(_solid_display((255, 0, 0), 30, 20))  # a smaller original fills the same rectangle
    canvas.fit_to_window()
    canvas.set_compare("split", 0.5)
    shown = _grab_rgb(canvas)
    rect = canvas.image_rect()
    row = int(rect.center().y()) + 20  # below the divider's handle
    assert tuple(shown[row, int(rect.left()) + 3]) == (255, 0, 0)
    assert tuple(shown[row, int(rect.right()) - 3]) == (0, 0, 255)
    canvas.set_compare("before")
    assert tuple(_grab_rgb(canvas)[row, int(rect.right()) - 3]) == (255, 0, 0)


def test_a_24_megapixel_photo_repaints_fast_at_any_zoom(canvas):
    full = QImage(6000, 4000, QImage.Format.Format_RGB32)
    full.fill(QColor(90, 140, 200))
    display = display_from_qimage(full, has_alpha=False)
    canvas.resize(1200, 800)
    canvas.set_image(display)
    for zoom in (canvas.zoom, 1.0, 4.0):
        canvas.set_zoom(zoom)
        canvas.repaint()  # the first paint of a level turns its QImage into the cached pixmap
        times = []
        for _ in range(5):
            start = time.perf_counter()
            canvas.pan_by(5, 3)
            canvas.repaint()
            times.append(time.perf_counter() - start)
        assert sorted(times)[2] < 0.05, f"repaint at {zoom:.0%} took {sorted(times)[2] * 1000:.0f} ms"


def test_an_upscaled_result_keeps_its_size_and_place_on_screen(canvas):
    canvas.set_image(_solid_display((10, 20, 30), 60, 40))
    rect = canvas.image_rect()
    canvas.set_image(_solid_display((10, 20, 30), 120, 80), keep_view=True)
    assert canvas.image_rect() == rect and canvas.zoom == 0.5
