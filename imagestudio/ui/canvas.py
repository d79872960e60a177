"""The central image view: smooth zoom, pan, pixel-exact at 100 %, and a before/after layer for comparing
(split with a handle, A/B, side by side, difference; painted by compare_paint.py).

Paints from cached QPixmaps of the display pyramid (see display.py); nothing is converted while painting, and only
the exposed part of the image is drawn, so a 24 MP photo pans as fast as a small one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QEasingCurve, QPointF, QRect, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from imagestudio.ui import compare_paint
from imagestudio.ui.display import DisplayImage

MIN_ZOOM = 0.01
MAX_ZOOM = 64.0
_STEP = 2**0.5  # Ctrl +/-: half an octave per press, landing exactly on 100 %, 200 %, 50 %...
_WHEEL_NOTCH = 120
_DIVIDER_GRAB_PX = 8

CompareMode = Literal["off", "split", "before", "side", "difference"]
COMPARE_MODES: tuple[CompareMode, ...] = ("off", "split", "before", "side", "difference")


@dataclass
class CompareView:
    """What the compare controller asks the canvas to show; `split` is a fraction of the image's width."""

    mode: CompareMode = "off"
    split: float = 0.5


class ImageCanvas(QWidget):
    zoom_changed = Signal(float)
    cursor_moved = Signal(int, int, object)  # image x, y and the QColor there
    cursor_left = Signal()
    split_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self._display: DisplayImage | None = None
        self._pixmaps: dict[int, QPixmap] = {}
        self._before: DisplayImage | None = None
        self._before_pixmaps: dict[int, QPixmap] = {}
        self.compare = CompareView()
        self._zoom = 1.0
        self._offset = QPointF(0.0, 0.0)  # widget position of the image's top-left corner
        self._fitting = True  # refit on resize until the user zooms or pans
        self._fit_enlarges = False  # the Fit action enlarges small images; opening a file shows them at 100 %
        self._pan_from: QPointF | None = None
        self._dragging_split = False
        self._space_held = False
        self._checker = _checker_brush()
        self._animation = QVariantAnimation(self)
        self._animation.setDuration(120)
        self._animation.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._animation.valueChanged.connect(self._on_animation_step)
        self._animation_anchor = QPointF()

    # --- content ---------------------------------------------------------------------------------------------
    @property
    def display(self) -> DisplayImage | None:
        return self._display

    def set_image(self, display: DisplayImage | None, *, keep_view: bool = False) -> None:
        """keep_view: an edit or undo of the same picture; a size change (upscale) keeps its size on screen.
        Otherwise (a newly opened image) fit it in the window, but never enlarge it past 100 %."""
        previous = self._display
        self._display = display
        self._pixmaps = {}
        if display is not None and keep_view and previous is not None:
            ratio = display.width / previous.width
            if ratio != 1.0:  # upscaled (or undone): same size on screen, so before and after line up
                self._zoom = max(MIN_ZOOM, min(MAX_ZOOM, self._zoom / ratio))
                self._fitting = False
                self._snap_if_actual_size()
                self.zoom_changed.emit(self._zoom)
        else:
            self._fitting, self._fit_enlarges = True, False
            self._fit(allow_enlarge=False)
        self.update()

    def set_before(self, display: DisplayImage | None) -> None:
        self._before = display
        self._before_pixmaps = {}
        self.update()

    def set_compare(self, mode: CompareMode, split: float | None = None) -> None:
        """`split`: where the divider is, as a fraction of the image's width (0 left edge, 1 right edge)."""
        assert mode in COMPARE_MODES, mode
        self.compare.mode = mode
        if split is not None:
            self.compare.split = min(1.0, max(0.0, split))
        self._update_idle_cursor()
        self.update()

    def divider_x(self) -> float:
        """The split divider's widget x (on screen even when that column of the image is not)."""
        return compare_paint.split_x(self.image_rect(), self.compare.split, self.width())

    def _shown_mode(self) -> CompareMode:
        return self.compare.mode if self._before is not None and self._display is not None else "off"

    # --- view --------------------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def offset(self) -> QPointF:
        return QPointF(self._offset)

    def image_to_widget(self, point: QPointF) -> QPointF:
        return self._offset + point * self._zoom

    def widget_to_image(self, point: QPointF) -> QPointF:
        if self._shown_mode() == "side":  # each half shows the same view, moved to that half's centre
            shift = compare_paint.side_by_side_offset(self.width())
            point = point + QPointF(shift if point.x() < self.width() / 2 else -shift, 0)
        return (point - self._offset) / self._zoom

    def visible_image_rect(self) -> QRect:
        """The part of the image on screen, in image pixels (may reach past the image's edges)."""
        right = self.width() / 2 - 1 if self._shown_mode() == "side" else self.width()  # side by side: one half
        top_left = self.widget_to_image(QPointF(0, 0))
        bottom_right = self.widget_to_image(QPointF(right, self.height()))
        return QRectF(top_left, bottom_right).toAlignedRect()

    def zoom_in(self) -> None:
        self._animate_to(_next_step(self._zoom, up=True))

    def zoom_out(self) -> None:
        self._animate_to(_next_step(self._zoom, up=False))

    def actual_size(self) -> None:
        self._animation.stop()
        self.set_zoom(1.0, QPointF(self.width() / 2, self.height() / 2))

    def fit_to_window(self) -> None:
        self._animation.stop()
        self._fitting, self._fit_enlarges = True, True
        self._fit(allow_enlarge=True)
        self.update()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zooms keeping the image point under `anchor` (widget coordinates) where it is."""
        if self._display is None:
            return
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        self._offset = anchor - (anchor - self._offset) * (zoom / self._zoom)
        self._zoom = zoom
        self._fitting = False
        self._snap_if_actual_size()
        self.zoom_changed.emit(zoom)
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        self._offset += QPointF(dx, dy)
        self._fitting = False
        self._snap_if_actual_size()
        self.update()

    def _fit(self, *, allow_enlarge: bool) -> None:
        if self._display is None or self.width() <= 0 or self.height() <= 0:
            return
        width, height = self._display.width, self._display.height
        zoom = min(self.width() / width, self.height() / height)
        if not allow_enlarge:
            zoom = min(zoom, 1.0)
        self._zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._offset = QPointF((self.width() - width * self._zoom) / 2, (self.height() - height * self._zoom) / 2)
        self._snap_if_actual_size()
        self.zoom_changed.emit(self._zoom)

    def _snap_if_actual_size(self) -> None:
        # At 100 % every image pixel must land on exactly one screen pixel: whole-pixel offsets only.
        if abs(self._zoom - 1.0) < 1e-9:
            self._zoom = 1.0
            self._offset = QPointF(round(self._offset.x()), round(self._offset.y()))

    def _animate_to(self, zoom: float) -> None:
        self._animation.stop()
        self._animation_anchor = QPointF(self.width() / 2, self.height() / 2)
        self._animation.setStartValue(float(self._zoom))
        self._animation.setEndValue(float(zoom))
        self._animation.start()

    def _on_animation_step(self, value: float) -> None:
        self.set_zoom(float(value), self._animation_anchor)

    # --- painting ----------------------------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        if self._display is None:
            return QRectF()
        return QRectF(self._offset.x(), self._offset.y(),
                      self._display.width * self._zoom, self._display.height * self._zoom)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().color(self.backgroundRole()).darker(115))
        if self._display is None:
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Open an image (Ctrl+O) or drop one here")
            return
        target = self.image_rect()
        exposed = QRectF(event.rect())
        if self._display.has_alpha:
            painter.setBrushOrigin(target.topLeft())
            painter.fillRect(target.intersected(exposed), self._checker)
        mode = self._shown_mode()
        if mode == "before":
            self._draw_layer(painter, self._before, self._before_pixmaps, target, exposed)
            compare_paint.draw_badge(painter, "Before", self.width(), left=True)
        elif mode == "split":
            compare_paint.draw_split(painter, self._draw_kind, target, exposed, self.divider_x(), self.height())
            compare_paint.draw_badge(painter, "Before", self.width(), left=True)
            compare_paint.draw_badge(painter, "After", self.width(), left=False)
        elif mode == "side":
            painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(115))
            compare_paint.draw_side_by_side(painter, self._draw_kind, target, self.width(), self.height())
            compare_paint.draw_badge(painter, "Before", self.width(), left=True)
            compare_paint.draw_badge(painter, "After", self.width(), left=False)
        elif mode == "difference":
            compare_paint.draw_difference(painter, self._draw_kind, target, exposed, self.width(), self.height())
            compare_paint.draw_badge(painter, f"Difference ×{compare_paint.DIFFERENCE_GAIN}", self.width(),
                                     left=True)
        else:
            self._draw_layer(painter, self._display, self._pixmaps, target, exposed)

    def _draw_kind(self, painter: QPainter, kind: str, target: QRectF, exposed: QRectF) -> None:
        if kind == "before":
            self._draw_layer(painter, self._before, self._before_pixmaps, target, exposed)
        else:
            self._draw_layer(painter, self._display, self._pixmaps, target, exposed)

    def _draw_layer(self, painter: QPainter, display: DisplayImage, cache: dict[int, QPixmap],
                    target: QRectF, exposed: QRectF) -> None:
        visible = target.intersected(exposed)
        if visible.isEmpty():
            return
        zoom = target.width() / display.width  # the before image may differ in size: it fills the same rect
        level = display.level_for_zoom(zoom)
        pixmap = cache.get(level)
        if pixmap is None:
            pixmap = cache[level] = QPixmap.fromImage(display.levels[level])
        scale = zoom * display.width / pixmap.width()  # screen pixels per level pixel
        # Whole level pixels covering the visible area: drawn under a transform, so zoomed-in pixels stay square.
        left = math.floor((visible.left() - target.left()) / scale)
        top = math.floor((visible.top() - target.top()) / scale)
        right = min(pixmap.width(), math.ceil((visible.right() - target.left()) / scale))
        bottom = min(pixmap.height(), math.ceil((visible.bottom() - target.top()) / scale))
        if right <= left or bottom <= top:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.0)
        painter.translate(target.topLeft())
        painter.scale(scale, scale)
        painter.drawPixmap(QPointF(left, top), pixmap, QRectF(left, top, right - left, bottom - top))
        painter.restore()

    # --- input -------------------------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta()
        if delta.y():
            self._animation.stop()
            self.set_zoom(self._zoom * 2 ** (delta.y() / _WHEEL_NOTCH / 3), event.position())
        elif delta.x():
            self.pan_by(delta.x() / 2, 0)
        event.accept()

    def _near_divider(self, point: QPointF) -> bool:
        if self._shown_mode() != "split":
            return False
        x = self.divider_x()
        return abs(point.x() - x) <= _DIVIDER_GRAB_PX or compare_paint.handle_contains(x, self.height(), point)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event.position()):
            self._dragging_split = True
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        position = event.position()
        if self._dragging_split:
            self.set_compare("split", compare_paint.split_from_x(self.image_rect(), position.x()))
            self.split_moved.emit(self.compare.split)
        elif self._pan_from is not None:
            delta = position - self._pan_from
            self._pan_from = position
            self.pan_by(delta.x(), delta.y())
        elif self._near_divider(position):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self._update_idle_cursor()
        self._report_cursor(position)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._pan_from = None
        self._dragging_split = False
        self._update_idle_cursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.fit_to_window()

    def leaveEvent(self, event) -> None:  # noqa: N802, ANN001
        self.cursor_left.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True  # space+drag pans, as in most image editors
            self._update_idle_cursor()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._update_idle_cursor()
            return
        super().keyReleaseEvent(event)

    def _update_idle_cursor(self) -> None:
        if self._pan_from is not None:
            return
        self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.CrossCursor)

    def _report_cursor(self, position: QPointF) -> None:
        if self._display is None:
            return
        point = self.widget_to_image(position)
        x, y = math.floor(point.x()), math.floor(point.y())
        colour = self._display.colour_at(x, y)
        if colour is None:
            self.cursor_left.emit()
        else:
            self.cursor_moved.emit(x, y, colour)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        if self._fitting:
            self._fit(allow_enlarge=self._fit_enlarges)
        else:  # keep the image point at the centre where it was
            old = event.oldSize()
            if old.width() > 0:
                self._offset += QPointF((self.width() - old.width()) / 2, (self.height() - old.height()) / 2)
                self._snap_if_actual_size()
        super().resizeEvent(event)


def _next_step(zoom: float, *, up: bool) -> float:
    """The next power of √2 above or below `zoom`, so repeated presses hit 100 % exactly."""
    exponent = math.log(zoom, _STEP)
    target = math.floor(exponent + 1e-6) + 1 if up else math.ceil(exponent - 1e-6) - 1
    return max(MIN_ZOOM, min(MAX_ZOOM, 2.0 ** (target / 2)))


def _checker_brush() -> QBrush:
    tile = QPixmap(16, 16)
    tile.fill(QColor(204, 204, 204))
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, QColor(153, 153, 153))
    painter.fillRect(8, 8, 8, 8, QColor(153, 153, 153))
    painter.end()
    return QBrush(tile)
