"""The status bar says what really ran: CUDA or CPU, and which model, with the reason when CUDA was not used."""

from __future__ import annotations

from PySide6.QtGui import QColor

from imagestudio.ui.operations import ModelUse
from imagestudio.ui.status_bar import StatusBar


def test_device_indicator_names_the_provider_that_ran_and_the_model(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    assert "not used yet" in bar.device_label.text()
    bar.show_models_used((ModelUse("upscale-x4", "Upscale ×4", "ab" * 32, "CUDAExecutionProvider", "cuda"),))
    assert bar.device_label.text() == "Ran on CUDA · upscale-x4"
    fallback = "CUDA was requested but cannot be used (no NVIDIA GPU driver was found); running on the CPU"
    bar.show_models_used((ModelUse("denoise", "Denoise", "cd" * 32, "CPUExecutionProvider", "cpu", fallback),))
    assert bar.device_label.text() == "Ran on CPU · denoise"
    assert fallback in bar.device_label.toolTip() and bar.currentMessage() == fallback


def test_the_status_bar_and_history_say_which_backend_and_precision_ran(qtbot):
    from imagestudio.ui.operations import EditRecord

    bar = StatusBar()
    qtbot.addWidget(bar)
    uses = (ModelUse("upscale-x4", "Upscale ×4", "ab" * 32, "OpenVINO CPU", "cpu", None, "openvino", "bf16"),
            ModelUse("denoise", "Denoise", "cd" * 32, "CPUExecutionProvider", "cpu"))
    bar.show_models_used(uses)
    assert bar.device_label.text() == "Ran on CPU (bf16) · upscale-x4, denoise"
    assert "Upscale ×4 (upscale-x4) ran with OpenVINO bf16 on CPU" in bar.device_label.toolTip()
    assert "Denoise (denoise) ran with onnxruntime fp32 on CPU" in bar.device_label.toolTip()
    history = EditRecord("Enhance", (), uses).describe()
    assert "Ran upscale-x4 with OpenVINO bf16 on CPU" in history and "Ran denoise with onnxruntime fp32 on CPU" in history


def test_cursor_readout_shows_position_rgb_and_hex(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.show_cursor(12, 7, QColor(255, 128, 0))
    assert bar.cursor_label.text() == "x 12, y 7  RGB 255 128 0  #FF8000"
    bar.show_zoom(0.05)
    assert bar.zoom_label.text() == "5.0 %"
