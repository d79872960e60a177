"""Before/after comparison on the canvas itself, so it shares the canvas's zoom and pan.

Four views, one at a time, from the Compare toolbar, the View menu or a key: Split (C; the original left of a
divider with a handle you drag, the current image right of it), A/B (\\; the whole view flips to the original),
Side by side (V) and Difference (X; |after − before|, amplified). "Before" is the image as opened.

The divider's position is a fraction of the image's width, so it stays on the same part of the photo when the view
zooms or pans; a newly opened image starts with it in the middle and compare off. After the first edit of an image
the split view turns on by itself (Upscayl's slider), unless the user has already chosen a view for this image.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar, QWidget

from imagestudio.ui.canvas import CompareMode, ImageCanvas
from imagestudio.ui.display import DisplayImage


class CompareController(QObject):
    mode_changed = Signal(str)

    def __init__(self, canvas: ImageCanvas, parent: QWidget) -> None:
        super().__init__(parent)
        self._canvas = canvas
        self._chosen = False  # the user picked a view (or Off) for this image: no automatic split after edits
        self._applying = False
        self.split_action = self._action(parent, "Compare &Split View", "C", "action_compare_split",
                                         "Split", "Before left of a divider you can drag, after right of it")
        self.toggle_action = self._action(parent, "Show &Before (A/B)", "\\", "action_compare_toggle",
                                          "A/B", "Flip between the image as opened and the current one")
        self.side_action = self._action(parent, "Compare Side by Side", "V", "action_compare_side",
                                        "Side by side", "Before and after next to each other, zoomed and panned together")
        self.difference_action = self._action(parent, "Show the &Difference", "X", "action_compare_difference",
                                              "Difference", "What the edit changed: |after − before|, amplified ×4")
        self._modes: dict[QAction, CompareMode] = {self.split_action: "split", self.toggle_action: "before",
                                                   self.side_action: "side", self.difference_action: "difference"}
        self.group = QActionGroup(self)
        self.group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for action in self._modes:
            self.group.addAction(action)
            action.toggled.connect(self._toggled)
        self.reset_action = QAction("Reset the Divider", parent)
        self.reset_action.setObjectName("action_compare_reset")
        self.reset_action.setToolTip("Put the split divider back in the middle of the image")
        self.reset_action.triggered.connect(lambda: self.set_split(0.5))
        self.toolbar = QToolBar("Compare", parent)
        self.toolbar.setObjectName("CompareToolBar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self._modes:
            self.toolbar.addAction(action)
        canvas.split_moved.connect(lambda _split: self._mark_chosen())
        self.set_available(False)

    def _action(self, parent: QWidget, text: str, key: str, name: str, short: str, tip: str) -> QAction:
        action = QAction(text, parent)
        action.setObjectName(name)
        action.setCheckable(True)
        action.setShortcut(QKeySequence(key))
        action.setIconText(short)  # the toolbar's label
        action.setToolTip(f"{short} — {tip} ({key})")
        action.setStatusTip(tip)
        return action

    @property
    def mode(self) -> CompareMode:
        return self._canvas.compare.mode

    @property
    def actions(self) -> list[QAction]:
        return list(self._modes)

    def set_before(self, display: DisplayImage | None) -> None:
        """A new image: compare off, the divider in the middle, and the automatic split armed again."""
        self._chosen = False
        self._canvas.set_before(display)
        self._set_checked(None)
        self._canvas.set_compare("off", 0.5)
        self.set_available(display is not None)

    def set_available(self, available: bool) -> None:
        for action in (*self._modes, self.reset_action):
            action.setEnabled(available)
        if not available:
            self._set_checked(None)
            self._apply()

    def set_mode(self, mode: CompareMode) -> None:
        """Shows `mode` as if the user had picked it."""
        action = next((a for a, m in self._modes.items() if m == mode), None)
        self._set_checked(action)
        self._mark_chosen()
        self._apply()

    def set_split(self, split: float) -> None:
        self._canvas.set_compare(self._canvas.compare.mode, split)

    def edit_landed(self) -> None:
        """After an edit: show the split handle, unless the user already chose how to look at this image."""
        if not self._chosen and self.split_action.isEnabled() and self.mode == "off":
            self._set_checked(self.split_action)
            self._apply()

    def _set_checked(self, chosen: QAction | None) -> None:
        self._applying = True
        try:
            for action in self._modes:
                action.setChecked(action is chosen)
        finally:
            self._applying = False

    def _toggled(self, _on: bool) -> None:
        if self._applying:
            return
        self._mark_chosen()
        self._apply()

    def _mark_chosen(self) -> None:
        self._chosen = True

    def _apply(self) -> None:
        checked = self.group.checkedAction()
        mode: CompareMode = self._modes.get(checked, "off") if checked is not None else "off"
        self._canvas.set_compare(mode)
        self.mode_changed.emit(mode)
