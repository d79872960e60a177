"""Preferences write the settings table and the window applies them."""

from __future__ import annotations

from imagestudio.ui.main_window import MainWindow
from imagestudio.ui.settings import AppSettings
from imagestudio.ui.settings_dialog import SettingsDialog


def test_preferences_are_written_and_applied(qtbot):
    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    dialog = SettingsDialog(window.settings, window)
    dialog.device.setCurrentText("cpu")
    dialog.tile.setValue(256)
    dialog.output_format.setCurrentIndex(2)  # JPEG
    dialog.history_limit.setValue(512)
    dialog.theme.setChecked(False)
    dialog.apply()
    window.apply_settings()
    fresh = AppSettings()
    assert (fresh.device, fresh.tile, fresh.get("output/format")) == ("cpu", 256, "JPEG")
    assert fresh.history_limit_bytes == 512 * 1024 * 1024
    assert fresh.get("ui/theme_follows_system") is False
    assert all(p.chosen_device() == "cpu" for p in window.operations.popovers.values())


def test_save_options_offer_quality_only_for_lossy_formats(qtbot):
    from imagestudio.ui.dialogs import SaveOptionsDialog, format_for_suffix

    dialog = SaveOptionsDialog("PNG", 90, True)
    qtbot.addWidget(dialog)
    assert not dialog._quality.isEnabled()
    dialog._format.setCurrentText("JPEG")
    assert dialog._quality.isEnabled() and dialog.quality() == 90 and dialog.keep_metadata()
    assert (format_for_suffix(".JPEG"), format_for_suffix(".tif"), format_for_suffix(".xyz")) == ("JPEG", "TIFF", None)
