"""The Enhance menu and toolbar: one action per operation, each toolbar button with a small options popover
(model, strength where it applies, device, and a live preview of the effect on the visible part of the photo).
Emits what to run; the edit controller runs it."""

from __future__ import annotations

import logging
from typing import Any

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QToolBar,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from imagestudio.core.errors import ImageStudioError
from imagestudio.core.models import default_model, list_models
from imagestudio.core.runtime import DEVICES
from imagestudio.ui.operations import OPERATION_SPECS, SPECS_BY_KEY, OperationSpec, build_steps
from imagestudio.ui.preview import PreviewResult, PreviewRunner, SourceFunction, describe

log = logging.getLogger(__name__)
_DEVICE_TITLES = {"auto": "Auto (CUDA, then CPU)", "cuda": "CUDA (GPU)", "cpu": "CPU"}
_PREVIEW_THUMB = 170  # each of before and after, in screen pixels


class OperationOptions(QWidget):
    """The popover body for one operation."""

    changed = Signal()  # an option the preview depends on

    def __init__(self, spec: OperationSpec, device: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"{spec.key}Options")
        layout = QFormLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        title = QLabel(f"<b>{spec.title}</b>")
        layout.addRow(title)
        self.model = QComboBox()
        self.scale = QComboBox()
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength_label = QLabel()
        if spec.task is not None:
            layout.addRow("Model", self.model)
            self.model.addItem("Default", None)  # the installed models are listed when the popover opens
        else:  # Enhance chooses its models itself; the user picks how much to enlarge
            for text, value in (("None", 1), ("×2", 2), ("×4", 4)):
                self.scale.addItem(text, value)
            self.scale.setCurrentIndex(1)
            layout.addRow("Upscale", self.scale)
        if spec.has_strength:
            self.strength.setRange(0, 100)
            self.strength.setValue(100)
            self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v} %"))
            self.strength_label.setText("100 %")
            self.strength_label.setMinimumWidth(self.strength_label.fontMetrics().horizontalAdvance("100 %"))
            row = QHBoxLayout()
            row.addWidget(self.strength, 1)
            row.addWidget(self.strength_label)
            layout.addRow("Strength", row)
        self.device = QComboBox()
        for key in DEVICES:
            self.device.addItem(_DEVICE_TITLES[key], key)
        self.set_device(device)
        layout.addRow("Device", self.device)
        self.live_preview = QCheckBox("Live preview of the visible area")
        self.live_preview.setChecked(True)
        self.preview_before, self.preview_after = QLabel(), QLabel()
        for label in (self.preview_before, self.preview_after):
            label.setFixedSize(_PREVIEW_THUMB, _PREVIEW_THUMB)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: palette(dark);")
        pictures = QHBoxLayout()
        pictures.addWidget(self.preview_before)
        pictures.addWidget(self.preview_after)
        self.preview_caption = QLabel("Before · After")
        self.preview_caption.setWordWrap(True)
        self.preview_caption.setObjectName("PreviewCaption")
        layout.addRow(self.live_preview)
        layout.addRow(pictures)
        layout.addRow(self.preview_caption)
        self.run_button = QPushButton(f"Run {spec.title}")
        self.run_button.setDefault(True)
        layout.addRow(self.run_button)
        self.shown_preview: PreviewResult | None = None
        for combo in (self.model, self.scale, self.device):
            combo.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.strength.valueChanged.connect(lambda *_: self.changed.emit())
        self.live_preview.toggled.connect(lambda *_: self.changed.emit())

    def set_device(self, device: str) -> None:
        index = self.device.findData(device)
        self.device.setCurrentIndex(max(0, index))

    def refresh_models(self) -> None:
        if self.spec.task is None:
            return
        chosen = self.model.currentData()
        self.model.clear()
        try:
            cards = [c for c in list_models() if c.task == self.spec.task and c.scale == self.spec.scale]
            default = default_model(self.spec.task, self.spec.scale).name
        except ImageStudioError as exc:  # none installed, or a broken models folder: the menu still works
            log.info("no default model for %s: %s", self.spec.key, exc)
            cards, default = [], "none installed"
        self.model.addItem(f"Default ({default})", None)
        for card in cards:
            self.model.addItem(f"{card.title} ({card.name})", card.name)
            self.model.setItemData(self.model.count() - 1, card.description or card.name, Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentIndex(max(0, self.model.findData(chosen)))

    def options(self) -> dict[str, Any]:
        """The op's parameters this popover sets (device separately)."""
        values: dict[str, Any] = {}
        if self.spec.task is not None:
            values["model"] = self.model.currentData()
        else:
            values["scale"] = self.scale.currentData()
        if self.spec.has_strength:
            values["strength"] = self.strength.value() / 100
        return values

    def chosen_device(self) -> str:
        return str(self.device.currentData())

    # --- the preview ---------------------------------------------------------------------------------------------
    def preview_waiting(self) -> None:
        self.preview_caption.setText(f"Previewing {describe(self.options()) or self.spec.title}…")

    def show_preview(self, result: PreviewResult) -> None:
        self.shown_preview = result
        # The middle of the preview at 100 % of the result: detail is what a denoise or an upscale changes, and a
        # thumbnail of the whole crop would hide it. The before is the same image area, enlarged like the result.
        scale = max(1.0, result.after.width() / max(1, result.before.width()))
        after = _centre(result.after, _PREVIEW_THUMB)
        before = _centre(result.before, max(1, round(_PREVIEW_THUMB / scale)))
        for label, image in ((self.preview_before, before), (self.preview_after, after)):
            label.setPixmap(QPixmap.fromImage(image).scaled(
                _PREVIEW_THUMB, _PREVIEW_THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        region = result.region
        self.preview_caption.setText(f"Before · After ({describe(self.options()) or self.spec.title}) — "
                                     f"{region.width} × {region.height} px at {region.x}, {region.y}")

    def show_preview_message(self, text: str) -> None:
        self.shown_preview = None
        self.preview_before.clear()
        self.preview_after.clear()
        self.preview_caption.setText(text)


def _centre(image: QImage, side: int) -> QImage:
    width, height = min(side, image.width()), min(side, image.height())
    return image.copy((image.width() - width) // 2, (image.height() - height) // 2, width, height)


class OperationsPanel(QObject):
    """Owns the actions, the Enhance menu, the toolbar and the popovers."""

    run_requested = Signal(object, dict, str)  # spec, options, device

    def __init__(self, parent: QWidget, device: str) -> None:
        super().__init__(parent)
        self.menu = QMenu("&Enhance", parent)
        self.toolbar = QToolBar("Enhance", parent)
        self.toolbar.setObjectName("EnhanceToolBar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.actions: dict[str, QAction] = {}
        self.popovers: dict[str, OperationOptions] = {}
        self.menus: dict[str, QMenu] = {}
        self.buttons: dict[str, QToolButton] = {}
        self.preview = PreviewRunner(lambda: None, self)
        self.preview.ready.connect(self._preview_ready)
        self.preview.failed.connect(self._preview_failed)
        self._previewing: str | None = None  # the popover whose preview is live
        self._tile: Callable[[], int | None] = lambda: None
        for spec in OPERATION_SPECS:
            self._add(spec, parent, device)
        self.menu.addSeparator()
        options_menu = self.menu.addMenu("Options")
        for spec in OPERATION_SPECS:
            action = options_menu.addAction(f"{spec.title} options…")
            action.triggered.connect(lambda checked=False, key=spec.key: self.show_options(key))
        self._has_image = False
        self.set_enabled(False)

    def _add(self, spec: OperationSpec, parent: QWidget, device: str) -> None:
        action = QAction(spec.title, parent)
        action.setObjectName(f"action_{spec.key}")
        action.setShortcut(QKeySequence(spec.shortcut))
        action.setToolTip(f"{spec.title} — {spec.tip} ({spec.shortcut})")
        action.setStatusTip(spec.tip)
        action.triggered.connect(lambda checked=False, key=spec.key: self.request(key))
        self.actions[spec.key] = action
        self.menu.addAction(action)

        options = OperationOptions(spec, device)
        self.popovers[spec.key] = options
        popover = QMenu(parent)
        holder = QWidgetAction(popover)
        holder.setDefaultWidget(options)
        popover.addAction(holder)
        popover.aboutToShow.connect(options.refresh_models)
        popover.aboutToShow.connect(lambda key=spec.key: self.start_preview(key))
        popover.aboutToHide.connect(self.stop_preview)
        options.changed.connect(lambda key=spec.key: self._options_changed(key))
        self.menus[spec.key] = popover
        options.run_button.clicked.connect(popover.close)
        options.run_button.clicked.connect(action.trigger)
        button = QToolButton()
        button.setDefaultAction(action)
        button.setMenu(popover)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.buttons[spec.key] = button
        self.toolbar.addWidget(button)

    # --- live preview --------------------------------------------------------------------------------------------
    def enable_preview(self, source: SourceFunction, tile: Callable[[], int | None]) -> None:
        """`source()` gives the shown image and the region to preview, or None when there is nothing to show."""
        self.preview.set_source(source)
        self._tile = tile

    def start_preview(self, key: str, *, now: bool = False) -> None:
        self._previewing = key
        self._request_preview(key, now=now)

    def stop_preview(self) -> None:
        self._previewing = None
        self.preview.stop()

    def _options_changed(self, key: str) -> None:
        if self._previewing == key:
            self._request_preview(key)

    def _request_preview(self, key: str, *, now: bool = False) -> None:
        options = self.popovers[key]
        if not options.live_preview.isChecked():
            self.preview.stop()
            options.show_preview_message("Live preview is off")
            return
        if not self.actions[key].isEnabled():  # no image, or a job is running
            self.preview.stop()
            options.show_preview_message("Open an image to preview" if not self._has_image else "Busy: no preview")
            return
        spec = SPECS_BY_KEY[key]
        steps = build_steps(spec, options.options(), options.chosen_device(), self._tile())
        options.preview_waiting()
        self.preview.request(spec.title, steps, now=now)

    def _preview_ready(self, result: PreviewResult) -> None:
        if self._previewing is not None:
            self.popovers[self._previewing].show_preview(result)

    def _preview_failed(self, message: str) -> None:
        if self._previewing is not None:
            self.popovers[self._previewing].show_preview_message(f"No preview: {message}")

    def request(self, key: str) -> None:
        self.stop_preview()  # the real edit takes over
        options = self.popovers[key]
        self.run_requested.emit(SPECS_BY_KEY[key], options.options(), options.chosen_device())

    def show_options(self, key: str) -> None:
        self.buttons[key].showMenu()

    def set_enabled(self, enabled: bool, has_image: bool | None = None) -> None:
        self._has_image = enabled if has_image is None else has_image
        for action in self.actions.values():
            action.setEnabled(enabled)

    def set_default_device(self, device: str) -> None:
        for options in self.popovers.values():
            options.set_device(device)

    def refresh_models(self) -> None:
        for options in self.popovers.values():
            options.refresh_models()
