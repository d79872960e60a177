"""The Models dock lists installed models with their cards and adds an ONNX file through the core."""

from __future__ import annotations

import onnx_models
from imagestudio.ui.main_window import MainWindow
from imagestudio.ui.settings import AppSettings

from ui_helpers import wait_idle


def _window(qtbot) -> MainWindow:
    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    return window


def test_lists_installed_models_with_short_cards_and_the_full_card_in_a_dialog(qtbot, bundled_upscalers):
    dock = _window(qtbot).models_dock
    assert dock.list.count() == 2
    dock.list.setCurrentRow(1)
    text = dock.card_view.toPlainText()
    assert "upscale-x4" in text and "Licence" in text and "SHA-256" not in text
    assert "<table" not in dock.card_view.toHtml(), "no table columns to wrap in a narrow dock"
    dialog = dock.show_full_card()
    qtbot.waitExposed(dialog)
    full = dialog.view.toPlainText()
    assert dialog.isVisible() and not dialog.isModal()
    assert "SHA-256" in full and dock.current_card().sha256 in full and "File" in full
    assert dialog.width() >= 640
    dock.list.setCurrentRow(0)  # the open dialog follows the selection
    assert "upscale-x2" in dialog.view.toPlainText()


def test_add_model_installs_it_and_offers_it_in_the_operations(qtbot, tmp_path, dialog_recorder, model_dirs):
    window = _window(qtbot)
    dialog_recorder.open_model = onnx_models.blur(tmp_path / "soft.onnx", onnx_models.card("soft", "denoise", 1))
    window.models_dock.add_button.click()
    wait_idle(qtbot, window)
    assert not dialog_recorder.errors
    assert (model_dirs["user"] / "soft.onnx").is_file()
    assert window.models_dock.list.currentItem().text().startswith("Soft")
    assert window.operations.popovers["denoise"].model.findData("soft") >= 0


def test_a_bad_model_file_is_refused_with_a_dialog(qtbot, tmp_path, dialog_recorder, model_dirs):
    window = _window(qtbot)
    dialog_recorder.open_model = onnx_models.wrong_rank(tmp_path / "bad.onnx")
    window.models_dock.ask_and_install()
    wait_idle(qtbot, window)
    [(title, message)] = dialog_recorder.errors
    assert title == "Could not add the model" and "bad.onnx" in message
    assert not list(model_dirs["user"].glob("*.onnx"))
