"""Compare on the canvas: the split handle after an edit, the Compare toolbar (split, A/B, side by side,
difference), the divider kept in image coordinates, reset for each image, and the keys."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QToolButton

from ui_helpers import open_image, run_operation
from imagestudio.core.image import image_from_array
from imagestudio.ui import compare_paint
from imagestudio.ui.canvas import ImageCanvas
from imagestudio.ui.display import build_display


def solid(colour: tuple[int, int, int], width: int = 60, height: int = 40):
    return build_display(image_from_array(np.broadcast_to(np.array(colour, np.uint8), (height, width, 3)).copy()))


def grab_rgb(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def mouse(widget, kind: QEvent.Type, position: QPointF, buttons=Qt.MouseButton.LeftButton) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, position, widget.mapToGlobal(position), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def canvas(qtbot) -> ImageCanvas:
    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(240, 160)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_image(solid((0, 0, 255)))
    canvas.set_before(solid((255, 0, 0), 30, 20))  # a smaller original fills the same rectangle
    canvas.fit_to_window()
    return canvas


def test_the_split_divider_has_a_visible_handle_and_is_dragged_in_image_coordinates(canvas):
    canvas.set_compare("split", 0.5)
    rect = canvas.image_rect()
    x = canvas.divider_x()
    assert x == pytest.approx(rect.center().x())
    shown = grab_rgb(canvas)
    centre_y = canvas.height() // 2
    handle = shown[centre_y - compare_paint.HANDLE_RADIUS + 3, round(x)]
    assert handle.min() > 200, "a light round handle sits on the divider"
    row = int(rect.center().y()) + compare_paint.HANDLE_RADIUS + 6
    assert tuple(shown[row, int(rect.left()) + 3]) == (255, 0, 0)
    assert tuple(shown[row, int(rect.right()) - 3]) == (0, 0, 255)

    # Drag the handle to a quarter of the image.
    target_x = rect.left() + rect.width() / 4
    mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(x, centre_y))
    mouse(canvas, QEvent.Type.MouseMove, QPointF(target_x, centre_y), Qt.MouseButton.LeftButton)
    mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(target_x, centre_y), Qt.MouseButton.NoButton)
    assert canvas.compare.split == pytest.approx(0.25, abs=0.01)

    # Zoom and pan: the divider stays on the same column of the image, not of the canvas.
    canvas.set_zoom(canvas.zoom * 2.5, QPointF(30, 30))
    canvas.pan_by(17, 0)
    image_x = canvas.widget_to_image(QPointF(canvas.divider_x(), 10)).x()
    assert image_x == pytest.approx(0.25 * 60, abs=0.05)
    assert canvas.compare.split == pytest.approx(0.25, abs=0.01)


def test_a_press_away_from_the_divider_pans_instead(canvas):
    canvas.set_compare("split", 0.5)
    split = canvas.compare.split
    start = QPointF(canvas.image_rect().left() + 4, 20)
    mouse(canvas, QEvent.Type.MouseButtonPress, start)
    mouse(canvas, QEvent.Type.MouseMove, start + QPointF(30, 0), Qt.MouseButton.LeftButton)
    mouse(canvas, QEvent.Type.MouseButtonRelease, start + QPointF(30, 0), Qt.MouseButton.NoButton)
    assert canvas.compare.split == split


def test_side_by_side_shows_the_same_part_of_both(canvas):
    canvas.set_compare("side")
    shown = grab_rgb(canvas)
    y = canvas.height() // 2 + 10
    quarter, three_quarters = canvas.width() // 4, 3 * canvas.width() // 4
    assert tuple(shown[y, quarter]) == (255, 0, 0)  # the image centre, before, in the left half's centre
    assert tuple(shown[y, three_quarters]) == (0, 0, 255)
    point_left = canvas.widget_to_image(QPointF(quarter, y))
    point_right = canvas.widget_to_image(QPointF(three_quarters, y))
    assert point_left.x() == pytest.approx(point_right.x()) and point_left.y() == pytest.approx(point_right.y())


def test_the_difference_view_shows_what_changed_amplified(canvas):
    canvas.set_image(solid((110, 100, 90)), keep_view=True)
    canvas.set_before(solid((100, 100, 100)))
    canvas.set_compare("difference")
    shown = grab_rgb(canvas)
    rect = canvas.image_rect()
    pixel = shown[int(rect.center().y()) + 10, int(rect.center().x())]
    gain = compare_paint.DIFFERENCE_GAIN
    np.testing.assert_allclose(pixel, (10 * gain, 0, 10 * gain), atol=2)


def test_after_an_edit_the_handle_shows_and_the_toolbar_switches_views(qtbot, window, photo, same_size_models):
    compare = window.compare
    open_image(qtbot, window, photo)
    assert window.canvas.compare.mode == "off"
    run_operation(qtbot, window, "denoise")
    assert window.canvas.compare.mode == "split" and compare.split_action.isChecked()
    toolbar = compare.toolbar
    assert toolbar.isVisible() and not toolbar.isHidden()
    buttons = {action.iconText(): toolbar.widgetForAction(action) for action in toolbar.actions()}
    assert list(buttons) == ["Split", "A/B", "Side by side", "Difference"]
    for text, mode in (("Side by side", "side"), ("A/B", "before"), ("Difference", "difference"),
                       ("Split", "split")):
        button = buttons[text]
        assert isinstance(button, QToolButton) and button.isVisible()
        button.click()
        assert window.canvas.compare.mode == mode
        assert [a.iconText() for a in toolbar.actions() if a.isChecked()] == [text], "one view at a time"
    buttons["Split"].click()  # the checked one again: compare off
    assert window.canvas.compare.mode == "off"
    run_operation(qtbot, window, "denoise")
    assert window.canvas.compare.mode == "off", "the user's choice for this image sticks"


def test_each_image_starts_with_its_own_divider(qtbot, window, make_photo, same_size_models):
    open_image(qtbot, window, make_photo("first.png"))
    run_operation(qtbot, window, "denoise")
    window.compare.set_mode("split")
    window.compare.set_split(0.8)
    window.compare.set_mode("off")
    open_image(qtbot, window, make_photo("second.png", seed=2))
    assert window.canvas.compare.mode == "off" and window.canvas.compare.split == 0.5
    run_operation(qtbot, window, "denoise")
    assert window.canvas.compare.mode == "split", "armed again for the new image"
    window.compare.reset_action.trigger()
    assert window.canvas.compare.split == 0.5


def test_the_compare_keys_still_work(qtbot, window, photo, same_size_models):
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    for key, mode in ((Qt.Key.Key_V, "side"), (Qt.Key.Key_X, "difference"), (Qt.Key.Key_Backslash, "before"),
                      (Qt.Key.Key_C, "split"), (Qt.Key.Key_C, "off")):
        qtbot.keyClick(window.canvas, key)
        assert window.canvas.compare.mode == mode
