"""Turns a core Image into what the canvas paints: 8-bit QImages at full size and a few halvings (a mip pyramid).

Built once per image state, on a worker thread (QImage, unlike QPixmap, may be made off the GUI thread), so the
canvas never converts float arrays while painting. The halvings keep zoomed-out views of large photos sharp and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from imagestudio.core.image import Image, to_uint8

# Stop halving once the longest side is this small: a screen never needs less.
_SMALLEST_LEVEL_SIDE = 512


@dataclass(frozen=True)
class DisplayImage:
    levels: tuple[QImage, ...]  # levels[k] is the image scaled by 1 / 2**k
    has_alpha: bool

    @property
    def width(self) -> int:
        return self.levels[0].width()

    @property
    def height(self) -> int:
        return self.levels[0].height()

    def level_for_zoom(self, zoom: float) -> int:
        """The smallest level that still has at least one source pixel per screen pixel."""
        level = 0
        while level + 1 < len(self.levels) and zoom <= 0.5 ** (level + 1):
            level += 1
        return level

    def colour_at(self, x: int, y: int) -> QColor | None:
        full = self.levels[0]
        if 0 <= x < full.width() and 0 <= y < full.height():
            return full.pixelColor(x, y)
        return None


def build_display(image: Image) -> DisplayImage:
    """Safe on any thread."""
    return display_from_qimage(_qimage_from(image), image.alpha is not None)


def display_from_qimage(full: QImage, has_alpha: bool) -> DisplayImage:
    levels = [full]
    while max(levels[-1].width(), levels[-1].height()) > _SMALLEST_LEVEL_SIDE * 2:
        previous = levels[-1]
        levels.append(
            previous.scaled(
                max(1, previous.width() // 2),
                max(1, previous.height() // 2),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    return DisplayImage(tuple(levels), has_alpha)


def _qimage_from(image: Image) -> QImage:
    height, width = image.height, image.width
    if image.alpha is None:
        pixels = to_uint8(image.rgb)
        source_format, channels = QImage.Format.Format_RGB888, 3
        target_format = QImage.Format.Format_RGB32
    else:
        pixels = to_uint8(np.dstack([image.rgb, image.alpha]))
        source_format, channels = QImage.Format.Format_RGBA8888, 4
        target_format = QImage.Format.Format_ARGB32_Premultiplied
    pixels = np.ascontiguousarray(pixels)
    wrapped = QImage(pixels.data, width, height, width * channels, source_format)
    # The conversion copies into memory the QImage owns, so `pixels` may go; RGB32/ARGB32_Premultiplied paint fastest.
    return wrapped.convertToFormat(target_format)
