"""The status bar: zoom, image size, cursor position and colour, what device and model really ran, and a progress
bar with Cancel while a job runs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from imagestudio.ui.operations import ModelUse


class ProgressPanel(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_label = ""
        self.message = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("CancelJobButton")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, label: str, cancellable: bool = True) -> None:
        self.job_label = label
        self.message.setText(label)
        self.bar.setValue(0)
        self.cancel_button.setEnabled(cancellable)
        self.cancel_button.setText("Cancel")
        self.show()

    def update_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        if message:
            self.message.setText(message)

    def finish(self) -> None:
        self.hide()

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit()


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = ProgressPanel()
        self.cursor_label = QLabel()
        self.swatch = QLabel()
        self.swatch.setFixedSize(14, 14)
        self.size_label = QLabel()
        self.zoom_label = QLabel()
        self.device_label = QLabel()
        self.device_label.setObjectName("DeviceIndicator")
        self.device_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.addWidget(self.progress)
        for widget in (self.cursor_label, self.swatch, self.size_label, self.zoom_label, self.device_label):
            self.addPermanentWidget(widget)
        self.clear_image()
        self.show_expected_device("auto", "")

    def show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %")

    def show_image_size(self, width: int, height: int) -> None:
        megapixels = width * height / 1e6
        self.size_label.setText(f"{width} × {height} px ({megapixels:.1f} MP)")

    def show_cursor(self, x: int, y: int, colour: QColor) -> None:
        r, g, b, a = colour.red(), colour.green(), colour.blue(), colour.alpha()
        alpha = f" A {a}" if a < 255 else ""
        self.cursor_label.setText(f"x {x}, y {y}  RGB {r} {g} {b}{alpha}  {colour.name().upper()}")
        self.swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid palette(mid);")
        self.swatch.show()

    def clear_cursor(self) -> None:
        self.cursor_label.setText("")
        self.swatch.hide()

    def clear_image(self) -> None:
        self.clear_cursor()
        self.size_label.setText("")
        self.zoom_label.setText("")

    def show_expected_device(self, device: str, expected_provider: str) -> None:
        """Before anything ran: what the setting asks for (the truth comes from the first run)."""
        word = "CUDA" if expected_provider == "CUDAExecutionProvider" else "CPU"
        self.device_label.setText(f"Device: {word} (not used yet)")
        self.device_label.setToolTip(f"Device setting: {device}. The provider a model really runs on shows here "
                                     "after the first edit.")

    def show_models_used(self, models: tuple[ModelUse, ...]) -> None:
        if not models:
            return
        devices = sorted({"CUDA" if m.device == "cuda" else "CPU" for m in models})
        names = ", ".join(m.name for m in models)
        self.device_label.setText(f"Ran on {' + '.join(devices)} · {names}")
        notices = [m.notice for m in models if m.notice]
        tips = [f"{m.title} ({m.name}) ran on {m.provider}" for m in models] + notices
        self.device_label.setToolTip("\n".join(tips))
        if notices:
            self.showMessage(notices[0], 10_000)
