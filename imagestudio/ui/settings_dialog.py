"""Preferences: an editor for the user-facing rows of the settings table, and the theme switch."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from imagestudio.core.imageio.formats import OUTPUT_CHOICES
from imagestudio.core.runtime import DEVICES
from imagestudio.core.runtime_choice import BACKENDS, PRECISIONS
from imagestudio.ui.settings import AppSettings


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(settings.device)
        request = settings.cpu_request
        self.backend = QComboBox()
        self.backend.addItems(list(BACKENDS))
        self.backend.setCurrentText(request.backend)
        self.backend.setToolTip("The CPU runtime; auto uses OpenVINO where it runs the chosen precision. CUDA always "
                                "runs onnxruntime.")
        self.precision = QComboBox()
        self.precision.addItems(list(PRECISIONS))
        self.precision.setCurrentText(request.precision)
        self.precision.setToolTip("auto: bf16 on CPUs with AMX or AVX512-BF16 where the model's card measured "
                                  "at most 0.05 dB loss, else fp32")
        self.backend.currentTextChanged.connect(self._keep_pair_possible)
        self.precision.currentTextChanged.connect(self._keep_pair_possible)
        self.tile = QSpinBox()
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("Automatic")
        self.tile.setSuffix(" px")
        self.tile.setValue(settings.get("processing/tile_size"))
        self.output_format = QComboBox()
        self.output_format.addItems(list(OUTPUT_CHOICES))
        self.output_format.setItemText(0, "Same as the input")
        self.output_format.setCurrentIndex(max(0, OUTPUT_CHOICES.index(settings.get("output/format"))
                                               if settings.get("output/format") in OUTPUT_CHOICES else 0))
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(settings.get("output/quality"))
        self.keep_metadata = QCheckBox("Keep EXIF and colour profile")
        self.keep_metadata.setChecked(settings.get("output/keep_metadata"))
        self.history_limit = QSpinBox()
        self.history_limit.setRange(64, 65536)
        self.history_limit.setSingleStep(256)
        self.history_limit.setSuffix(" MB")
        self.history_limit.setValue(settings.get("history/memory_limit_mb"))
        self.history_limit.setToolTip("Older undo states beyond this are kept in a temporary folder")
        self.max_megapixels = QSpinBox()
        self.max_megapixels.setRange(1, 100_000)
        self.max_megapixels.setSingleStep(50)
        self.max_megapixels.setSuffix(" MP")
        self.max_megapixels.setValue(settings.get("files/max_megapixels"))
        self.max_megapixels.setToolTip("Images with more pixels are refused before decoding, to protect memory")
        self.theme = QCheckBox("Follow the system's light or dark theme")
        self.theme.setChecked(settings.get("ui/theme_follows_system"))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Default device", self.device)
        form.addRow("CPU backend", self.backend)
        form.addRow("CPU precision", self.precision)
        form.addRow("Tile size", self.tile)
        form.addRow("Output format", self.output_format)
        form.addRow("JPEG/WEBP quality", self.quality)
        form.addRow("", self.keep_metadata)
        form.addRow("History memory", self.history_limit)
        form.addRow("Largest image", self.max_megapixels)
        form.addRow("", self.theme)
        form.addRow(buttons)

    def _keep_pair_possible(self) -> None:
        """onnxruntime has no bf16 path on the CPU: choosing one of the pair moves the other off it."""
        if self.backend.currentText() == "onnxruntime" and self.precision.currentText() == "bf16":
            if self.sender() is self.backend:
                self.precision.setCurrentText("auto")
            else:
                self.backend.setCurrentText("auto")

    def apply(self) -> None:
        settings = self._settings
        settings.set("processing/device", self.device.currentText())
        settings.set("processing/backend", self.backend.currentText())
        settings.set("processing/precision", self.precision.currentText())
        settings.set("processing/tile_size", self.tile.value())
        settings.set("output/format", OUTPUT_CHOICES[self.output_format.currentIndex()])
        settings.set("output/quality", self.quality.value())
        settings.set("output/keep_metadata", self.keep_metadata.isChecked())
        settings.set("history/memory_limit_mb", self.history_limit.value())
        settings.set("files/max_megapixels", self.max_megapixels.value())
        settings.set("ui/theme_follows_system", self.theme.isChecked())
        settings.sync()


def apply_theme(follows_system: bool) -> None:
    """Qt follows the system theme by default; turning that off pins the light scheme."""
    app = QApplication.instance()
    hints = app.styleHints() if isinstance(app, QApplication) else None
    if hints is None or not hasattr(hints, "setColorScheme"):  # Qt < 6.8
        return
    hints.setColorScheme(Qt.ColorScheme.Unknown if follows_system else Qt.ColorScheme.Light)
