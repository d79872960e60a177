"""The Enhance menu and toolbar: one action per operation, each toolbar button with a small options popover
(model, strength where it applies, device). Emits what to run; the edit controller runs it."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
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
from imagestudio.ui.operations import OPERATION_SPECS, SPECS_BY_KEY, OperationSpec
from imagestudio.ui.settings import DEVICES

log = logging.getLogger(__name__)
_DEVICE_TITLES = {"auto": "Auto (CUDA, then CPU)", "cuda": "CUDA (GPU)", "cpu": "CPU"}


class OperationOptions(QWidget):
    """The popover body for one operation."""

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
        self.run_button = QPushButton(f"Run {spec.title}")
        self.run_button.setDefault(True)
        layout.addRow(self.run_button)

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
        self.buttons: dict[str, QToolButton] = {}
        for spec in OPERATION_SPECS:
            self._add(spec, parent, device)
        self.menu.addSeparator()
        options_menu = self.menu.addMenu("Options")
        for spec in OPERATION_SPECS:
            action = options_menu.addAction(f"{spec.title} options…")
            action.triggered.connect(lambda checked=False, key=spec.key: self.show_options(key))
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
        options.run_button.clicked.connect(popover.close)
        options.run_button.clicked.connect(action.trigger)
        button = QToolButton()
        button.setDefaultAction(action)
        button.setMenu(popover)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.buttons[spec.key] = button
        self.toolbar.addWidget(button)

    def request(self, key: str) -> None:
        options = self.popovers[key]
        self.run_requested.emit(SPECS_BY_KEY[key], options.options(), options.chosen_device())

    def show_options(self, key: str) -> None:
        self.buttons[key].showMenu()

    def set_enabled(self, enabled: bool) -> None:
        for action in self.actions.values():
            action.setEnabled(enabled)

    def set_default_device(self, device: str) -> None:
        for options in self.popovers.values():
            options.set_device(device)

    def refresh_models(self) -> None:
        for options in self.popovers.values():
            options.refresh_models()
