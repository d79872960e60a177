"""Painting the before/after comparison modes on the canvas: split with a draggable handle, side by side, and
the difference. Plain functions over a QPainter; the canvas decides what to draw and where.

The split position is a fraction of the image's width (image coordinates), so the divider stays on the same
column of the photo when the view zooms or pans.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

HANDLE_RADIUS = 16  # the round grip on the divider: big enough to see and to grab
DIFFERENCE_GAIN = 4  # the difference is faint: shown ×4 (two doublings with additive blending)

DrawLayer = Callable[[QPainter, str, QRectF, QRectF], None]  # painter, "before"|"after", target rect, exposed


def split_x(image_rect: QRectF, split: float, width: int) -> float:
    """The divider's widget x for a split at `split` of the image width, kept on screen."""
    x = image_rect.left() + split * image_rect.width()
    return min(max(x, 0.0), float(width))


def split_from_x(image_rect: QRectF, x: float) -> float:
    if image_rect.width() <= 0:
        return 0.5
    return min(1.0, max(0.0, (x - image_rect.left()) / image_rect.width()))


def side_by_side_offset(width: int) -> float:
    """How far each half's view is moved from the single view: the image centre goes to each half's centre."""
    return width / 4


def draw_split(painter: QPainter, draw: DrawLayer, target: QRectF, exposed: QRectF, x: float,
               height: int) -> None:
    draw(painter, "after", target, exposed)
    painter.save()
    painter.setClipRect(QRectF(0, 0, x, height))
    draw(painter, "before", target, exposed)
    painter.restore()
    draw_divider(painter, x, height)


def draw_side_by_side(painter: QPainter, draw: DrawLayer, target: QRectF, width: int, height: int) -> None:
    shift = side_by_side_offset(width)
    half = width / 2
    for kind, dx, clip in (("before", -shift, QRectF(0, 0, half, height)),
                           ("after", shift, QRectF(half, 0, width - half, height))):
        painter.save()
        painter.setClipRect(clip)
        moved = target.translated(dx, 0)
        draw(painter, kind, moved, clip)
        painter.restore()
    painter.save()
    painter.setPen(QPen(QColor(255, 255, 255, 200), 2))
    painter.drawLine(QPointF(half, 0), QPointF(half, height))
    painter.restore()


def draw_difference(painter: QPainter, draw: DrawLayer, target: QRectF, exposed: QRectF, width: int,
                    height: int) -> None:
    """|after − before| per channel, ×DIFFERENCE_GAIN, painted where the image is (black where nothing changed)."""
    visible = target.intersected(exposed).toAlignedRect()
    if visible.isEmpty():
        return
    layer = QImage(visible.size(), QImage.Format.Format_RGB32)
    layer.fill(QColor(0, 0, 0))
    local = target.translated(-visible.left(), -visible.top())
    area = QRectF(0, 0, visible.width(), visible.height())
    with _painting(layer) as inner:
        draw(inner, "after", local, area)
        inner.setCompositionMode(QPainter.CompositionMode.CompositionMode_Difference)
        draw(inner, "before", local, area)
        inner.setCompositionMode(QPainter.CompositionMode.CompositionMode_Plus)
        gain = 1
        while gain < DIFFERENCE_GAIN:
            inner.drawImage(0, 0, layer.copy())
            gain *= 2
    painter.drawImage(visible.topLeft(), layer)


class _painting:
    """`with _painting(image) as painter:` a painter that is always ended."""

    def __init__(self, image: QImage) -> None:
        self._painter = QPainter(image)

    def __enter__(self) -> QPainter:
        return self._painter

    def __exit__(self, *exc: object) -> None:
        self._painter.end()


def draw_divider(painter: QPainter, x: float, height: int) -> None:
    """A line the full height of the canvas with a round grip carrying ◀ ▶ in its middle."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(QColor(0, 0, 0, 110), 4))
    painter.drawLine(QPointF(x, 0), QPointF(x, height))
    painter.setPen(QPen(QColor(255, 255, 255, 240), 2))
    painter.drawLine(QPointF(x, 0), QPointF(x, height))
    centre = QPointF(x, height / 2)
    painter.setPen(QPen(QColor(0, 0, 0, 140), 1))
    painter.setBrush(QColor(255, 255, 255, 245))
    painter.drawEllipse(centre, HANDLE_RADIUS, HANDLE_RADIUS)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(40, 40, 40))
    for direction in (-1, 1):
        tip = centre + QPointF(direction * (HANDLE_RADIUS - 5), 0)
        base = centre + QPointF(direction * 3, 0)
        arrow = QPainterPath(tip)
        arrow.lineTo(base + QPointF(0, -5))
        arrow.lineTo(base + QPointF(0, 5))
        arrow.closeSubpath()
        painter.drawPath(arrow)
    painter.restore()


def handle_contains(x: float, height: int, point: QPointF) -> bool:
    centre = QPointF(x, height / 2)
    delta = point - centre
    return delta.x() ** 2 + delta.y() ** 2 <= (HANDLE_RADIUS + 2) ** 2


def draw_badge(painter: QPainter, text: str, width: int, *, left: bool) -> None:
    metrics = painter.fontMetrics()
    box_width, box_height = metrics.horizontalAdvance(text) + 16, metrics.height() + 8
    x = 10 if left else width - box_width - 10
    rect = QRectF(x, 10, box_width, box_height)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 150))
    painter.drawRoundedRect(rect, 4, 4)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
