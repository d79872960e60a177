"""Every list of output formats and devices the GUI shows is the core's own (core/imageio/formats.py,
core/runtime.DEVICES), in its order."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from imagestudio.core.imageio.formats import FORMATS, OUTPUT_CHOICES, OUTPUT_FORMATS
from imagestudio.core.runtime import DEVICES
from imagestudio.ui.dialogs import SaveOptionsDialog, format_for_suffix
from imagestudio.ui.dialogs import ask_save_target as real_ask_save_target  # before conftest stubs it out
from imagestudio.ui.settings import AppSettings
from imagestudio.ui.settings_dialog import SettingsDialog


def test_the_save_as_file_filter_lists_the_output_formats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shown: dict[str, str] = {}

    def get_save_file_name(parent, title, suggested, filters, chosen):  # noqa: ANN001, ANN202
        shown.update(filters=filters, chosen=chosen)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(get_save_file_name))
    assert real_ask_save_target(None, "Save As", tmp_path / "a.bmp", "BMP", 95, True) is None
    assert shown["filters"].split(";;") == [f"{fmt} (*{FORMATS[fmt].suffix})" for fmt in OUTPUT_FORMATS]
    assert shown["chosen"] == "BMP (*.bmp)"
    assert [format_for_suffix(FORMATS[fmt].suffix) for fmt in OUTPUT_FORMATS] == list(OUTPUT_FORMATS)


def test_save_options_offer_the_output_formats_with_quality_for_the_lossy_ones(qtbot) -> None:
    dialog = SaveOptionsDialog("BMP", 90, True)
    qtbot.addWidget(dialog)
    assert [dialog._format.itemText(i) for i in range(dialog._format.count())] == list(OUTPUT_FORMATS)
    for fmt in OUTPUT_FORMATS:
        dialog._format.setCurrentText(fmt)
        assert dialog.format() == fmt and dialog._quality.isEnabled() == FORMATS[fmt].lossy


def test_preferences_and_the_batch_dock_offer_the_output_choices(qtbot, window) -> None:
    batch = window.batch_dock.format_combo
    assert [batch.itemData(i) for i in range(batch.count())] == list(OUTPUT_CHOICES)
    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    assert dialog.output_format.count() == len(OUTPUT_CHOICES)
    for index, choice in enumerate(OUTPUT_CHOICES):
        dialog.output_format.setCurrentIndex(index)
        dialog.apply()
        assert AppSettings().get("output/format") == choice


def test_preferences_and_every_operation_offer_the_cores_devices(qtbot, window) -> None:
    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    assert [dialog.device.itemText(i) for i in range(dialog.device.count())] == list(DEVICES)
    for options in window.operations.popovers.values():
        combo = options.device
        assert [combo.itemData(i) for i in range(combo.count())] == list(DEVICES)
