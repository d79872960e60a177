"""Every modal dialog the app shows goes through one of these functions.

Widgets call `dialogs.show_error(...)` (the module attribute, never a `from` import) so tests can monkeypatch the
functions here and no test ever blocks on a modal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from imagestudio.core.image import SUPPORTED_SUFFIXES
from imagestudio.core.imageio.formats import FORMATS, OUTPUT_FORMATS, is_lossy, output_format_for_suffix

log = logging.getLogger(__name__)

UnsavedChoice = Literal["save", "discard", "cancel"]
BusyOpenChoice = Literal["queue", "stop", "cancel"]
IMAGE_FILTER = f"Images ({' '.join(f'*{suffix}' for suffix in sorted(SUPPORTED_SUFFIXES))});;All files (*)"
# The core's output formats (HEIC and AVIF where this installation writes them) and the suffix each gets.
SAVE_FORMATS = {fmt: FORMATS[fmt].suffix for fmt in OUTPUT_FORMATS}


@dataclass(frozen=True)
class SaveTarget:
    path: Path
    format: str | None  # None: the core picks it from the suffix
    quality: int
    keep_metadata: bool


def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> None:
    log.warning("%s: %s", title, message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.information(parent, title, message)


def ask_unsaved_changes(parent: QWidget | None, name: str) -> UnsavedChoice:
    """Save… saves the way Ctrl+S does: an edited photo goes to a new file unless the user confirms otherwise."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                      f"{name} has changes that are not saved. Save them first?", QMessageBox.StandardButton.NoButton,
                      parent)
    box.setInformativeText("Saving an edited photo asks for a new file name; the original stays as it is.")
    save = box.addButton("Save…", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard changes", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    if clicked is save:
        return "save"
    if clicked is discard:
        return "discard"
    return "cancel"


def confirm_overwrite_original(parent: QWidget | None, name: str, format: str, quality: int) -> bool:
    """The one way to write over the file a photo was opened from: a separate question that defaults to No and
    says when the format re-encodes lossily."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Overwrite the original?",
                      f"{name} is the photo you opened. Replace it with the edited image?",
                      QMessageBox.StandardButton.NoButton, parent)
    lossy = (f"It will be re-encoded as {format} at quality {quality}: {format} is lossy, so some detail of the "
             "original is lost for good." if is_lossy(format)
             else f"It will be rewritten as {format}.")
    box.setInformativeText(f"{lossy} The original cannot be recovered afterwards.")
    overwrite = box.addButton("Overwrite original", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep the original", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is overwrite


def ask_open_while_busy(parent: QWidget | None, name: str, job: str) -> BusyOpenChoice:
    """Open asked for while a job runs: open it when the job finishes, stop the job and open, or do nothing."""
    box = QMessageBox(QMessageBox.Icon.Question, "A job is running",
                      f"{job or 'A job'} is still running. Open {name}…", QMessageBox.StandardButton.NoButton, parent)
    queue = box.addButton("When it finishes", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Stop it and open now", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(queue)
    box.exec()
    clicked = box.clickedButton()
    if clicked is queue:
        return "queue"
    if clicked is stop:
        return "stop"
    return "cancel"


def ask_restore_session(parent: QWidget | None, summary: str) -> bool:
    """After a crash: restore the autosaved image and history? No discards the autosave."""
    answer = QMessageBox.question(
        parent,
        "Restore unsaved work?",
        f"ImageStudio did not close properly last time. Restore the unsaved image?\n\n{summary}",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_open_image(parent: QWidget | None, folder: str) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open image", folder, IMAGE_FILTER)
    return Path(path) if path else None


def ask_open_model(parent: QWidget | None) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Add ONNX model", "", "ONNX models (*.onnx);;All files (*)")
    return Path(path) if path else None


def ask_preset_path(parent: QWidget | None, *, for_saving: bool, folder: str = "") -> Path | None:
    flt = "Pipeline presets (*.json);;All files (*)"
    if for_saving:
        path, _ = QFileDialog.getSaveFileName(parent, "Save history as preset", folder, flt)
    else:
        path, _ = QFileDialog.getOpenFileName(parent, "Apply preset", folder, flt)
    return Path(path) if path else None


def ask_folder(parent: QWidget | None, title: str, folder: str = "") -> Path | None:
    path = QFileDialog.getExistingDirectory(parent, title, folder)
    return Path(path) if path else None


def ask_save_path(parent: QWidget | None, title: str, suggested: Path, file_filter: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(suggested), file_filter)
    return Path(path) if path else None


def ask_save_target(
    parent: QWidget | None, title: str, suggested: Path, format: str, quality: int, keep_metadata: bool
) -> SaveTarget | None:
    """A file name, then format, quality and metadata; None when the user cancels either step."""
    filters = ";;".join(f"{name} (*{suffix})" for name, suffix in SAVE_FORMATS.items())
    chosen_filter = next((f for f in filters.split(";;") if f.startswith(format)), "")
    path, selected = QFileDialog.getSaveFileName(parent, title, str(suggested), filters, chosen_filter)
    if not path:
        return None
    target = Path(path)
    fmt = format_for_suffix(target.suffix) or selected.split(" ")[0] or "PNG"
    if not target.suffix:
        target = target.with_suffix(SAVE_FORMATS.get(fmt, ".png"))
    options = SaveOptionsDialog(fmt, quality, keep_metadata, parent)
    if options.exec() != QDialog.DialogCode.Accepted:
        return None
    if options.format() != fmt:  # the format chosen last wins, and the suffix follows it
        target = target.with_suffix(SAVE_FORMATS[options.format()])
    return SaveTarget(target, options.format(), options.quality(), options.keep_metadata())


def format_for_suffix(suffix: str) -> str | None:
    """The Save As format a suffix names ('.JPEG' -> 'JPEG'); None for one it does not offer."""
    return output_format_for_suffix(suffix)


class SaveOptionsDialog(QDialog):
    """Format, quality (for lossy formats) and whether to keep EXIF/ICC."""

    def __init__(self, format: str, quality: int, keep_metadata: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save options")
        self._format = QComboBox()
        self._format.addItems(list(SAVE_FORMATS))
        self._format.setCurrentText(format if format in SAVE_FORMATS else "PNG")
        self._quality = QSpinBox()
        self._quality.setRange(1, 100)
        self._quality.setValue(quality)
        self._keep = QCheckBox("Keep EXIF and colour profile")
        self._keep.setChecked(keep_metadata)
        self.lossy_note = QLabel()
        self.lossy_note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QFormLayout(self)
        layout.addRow("Format", self._format)
        layout.addRow("Quality", self._quality)
        layout.addRow(self._keep)
        layout.addRow(self.lossy_note)
        layout.addRow(buttons)
        self._format.currentTextChanged.connect(self._update_quality)
        self._update_quality(self._format.currentText())

    def _update_quality(self, fmt: str) -> None:
        lossy = is_lossy(fmt)
        self._quality.setEnabled(lossy)
        self.lossy_note.setText(f"{fmt} is lossy: each save re-encodes the image and loses a little detail."
                                if lossy else "")
        self.lossy_note.setVisible(lossy)

    def format(self) -> str:
        return self._format.currentText()

    def quality(self) -> int:
        return self._quality.value()

    def keep_metadata(self) -> bool:
        return self._keep.isChecked()
