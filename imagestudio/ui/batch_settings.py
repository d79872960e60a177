"""The Batch panel remembers its last job: folders, patterns, pipeline (a preset's file too), format, quality, name
template, conflict rule, resume and the cluster, written to the settings on every change and read back when the panel is built.
A pipeline or option this build no longer has, or a preset file that is gone, leaves the panel's default."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from imagestudio.ui.settings import AppSettings

PRESET = "preset"  # the batch dock's pipeline choice for a preset file


class BatchForm(Protocol):
    """The controls of the Batch panel that are remembered (the panel itself, without importing it back)."""

    input_edit: QLineEdit
    output_edit: QLineEdit
    include_edit: QLineEdit
    exclude_edit: QLineEdit
    template_edit: QLineEdit
    pipeline_combo: QComboBox
    format_combo: QComboBox
    conflict_combo: QComboBox
    recursive: QCheckBox
    resume_check: QCheckBox
    quality: QSpinBox

    @property
    def preset(self) -> Path | None: ...

    def set_preset(self, path: Path) -> None: ...


class RememberedBatchSettings(QObject):
    def __init__(self, dock: BatchForm, settings: AppSettings) -> None:
        super().__init__(dock)
        self._dock = dock
        self._settings = settings
        self.restore()
        for edit in (dock.input_edit, dock.output_edit, dock.include_edit, dock.exclude_edit, dock.template_edit,
                     dock.cluster_edit):
            edit.textChanged.connect(self.save)
        for combo in (dock.pipeline_combo, dock.format_combo, dock.conflict_combo):
            combo.currentIndexChanged.connect(self.save)
        for check in (dock.recursive, dock.resume_check):
            check.toggled.connect(self.save)
        dock.quality.valueChanged.connect(self.save)

    def restore(self) -> None:
        dock, settings = self._dock, self._settings
        dock.input_edit.setText(settings.get("batch/input"))
        dock.output_edit.setText(settings.get("batch/output"))
        dock.recursive.setChecked(settings.get("batch/recursive"))
        dock.include_edit.setText(settings.get("batch/include"))
        dock.exclude_edit.setText(settings.get("batch/exclude"))
        dock.quality.setValue(settings.get("batch/quality"))
        dock.resume_check.setChecked(settings.get("batch/resume"))
        dock.cluster_edit.setText(settings.get("batch/cluster"))
        if settings.get("batch/template"):
            dock.template_edit.setText(settings.get("batch/template"))
        for combo, key in ((dock.format_combo, "batch/format"), (dock.conflict_combo, "batch/conflict")):
            index = combo.findData(settings.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)
        choice, preset = settings.get("batch/pipeline"), settings.get("batch/preset")
        if choice == PRESET:
            if preset and Path(preset).is_file():
                dock.set_preset(Path(preset))
        elif choice and dock.pipeline_combo.findData(choice) >= 0:
            dock.pipeline_combo.setCurrentIndex(dock.pipeline_combo.findData(choice))

    @Slot()
    def save(self, *_: object) -> None:
        dock, settings = self._dock, self._settings
        settings.set("batch/input", dock.input_edit.text())
        settings.set("batch/output", dock.output_edit.text())
        settings.set("batch/recursive", dock.recursive.isChecked())
        settings.set("batch/include", dock.include_edit.text())
        settings.set("batch/exclude", dock.exclude_edit.text())
        settings.set("batch/quality", dock.quality.value())
        settings.set("batch/resume", dock.resume_check.isChecked())
        settings.set("batch/cluster", dock.cluster_edit.text())
        settings.set("batch/template", dock.template_edit.text())
        settings.set("batch/format", str(dock.format_combo.currentData()))
        settings.set("batch/conflict", str(dock.conflict_combo.currentData()))
        settings.set("batch/pipeline", str(dock.pipeline_combo.currentData()))
        settings.set("batch/preset", str(dock.preset) if dock.preset is not None else "")
