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


def test_the_cpu_backend_and_precision_setting_becomes_the_cores_request(qtbot):
    from imagestudio.core.runtime_choice import CpuRequest, requested

    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    assert requested() == CpuRequest("auto", "auto")
    dialog = SettingsDialog(window.settings, window)
    dialog.backend.setCurrentText("openvino")
    dialog.precision.setCurrentText("fp32")
    dialog.apply()
    window.apply_settings()
    assert AppSettings().cpu_request == CpuRequest("openvino", "fp32") == requested()
    # onnxruntime has no CPU bf16: picking one of that pair moves the other off it, so it is never saved
    dialog.precision.setCurrentText("bf16")
    dialog.backend.setCurrentText("onnxruntime")
    assert dialog.precision.currentText() == "auto"
    dialog.precision.setCurrentText("bf16")
    assert dialog.backend.currentText() == "auto"


def test_a_hand_edited_impossible_pair_means_auto():
    from imagestudio.core.runtime_choice import CpuRequest
    from imagestudio.ui.settings import qsettings

    store = qsettings()
    store.setValue("processing/backend", "onnxruntime")
    store.setValue("processing/precision", "bf16")
    assert AppSettings(store).cpu_request == CpuRequest()
    store.setValue("processing/backend", "tensorrt")
    assert AppSettings(store).cpu_request == CpuRequest()
