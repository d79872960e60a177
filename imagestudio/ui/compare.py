"""Before/after comparison on the canvas itself, so it shares the canvas's zoom and pan.

Split: the original image left of a draggable divider, the current one right of it. A/B: a key flips the whole view
between the two. "Before" is the image as opened.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from imagestudio.ui.canvas import CompareMode, ImageCanvas
from imagestudio.ui.display import DisplayImage


class CompareController(QObject):
    mode_changed = Signal(str)

    def __init__(self, canvas: ImageCanvas, parent: QWidget) -> None:
        super().__init__(parent)
        self._canvas = canvas
        self.split_action = QAction("Compare &Split View", parent)
        self.split_action.setObjectName("action_compare_split")
        self.split_action.setCheckable(True)
        self.split_action.setShortcut(QKeySequence("C"))
        self.split_action.setStatusTip("Before on the left of a divider you can drag, after on the right")
        self.split_action.toggled.connect(self._split_toggled)
        self.toggle_action = QAction("Show &Before (A/B)", parent)
        self.toggle_action.setObjectName("action_compare_toggle")
        self.toggle_action.setCheckable(True)
        self.toggle_action.setShortcut(QKeySequence("\\"))
        self.toggle_action.setStatusTip("Flip between the image as opened and the current one")
        self.toggle_action.toggled.connect(self._toggle_toggled)
        self.set_available(False)

    @property
    def mode(self) -> CompareMode:
        return self._canvas.compare.mode

    def set_before(self, display: DisplayImage | None) -> None:
        self._canvas.set_before(display)
        self.set_available(display is not None)

    def set_available(self, available: bool) -> None:
        self.split_action.setEnabled(available)
        self.toggle_action.setEnabled(available)
        if not available:
            self.split_action.setChecked(False)
            self.toggle_action.setChecked(False)

    def _split_toggled(self, on: bool) -> None:
        if on:
            self.toggle_action.setChecked(False)
        self._apply()

    def _toggle_toggled(self, on: bool) -> None:
        if on:
            self.split_action.setChecked(False)
        self._apply()

    def _apply(self) -> None:
        mode: CompareMode = "off"
        if self.toggle_action.isChecked():
            mode = "before"
        elif self.split_action.isChecked():
            mode = "split"
        self._canvas.set_compare(mode)
        self.mode_changed.emit(mode)
