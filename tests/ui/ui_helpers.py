"""Small helpers shared by the GUI tests."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from imagestudio.ui.main_window import MainWindow

JOB_TIMEOUT_MS = 30_000


def wait_idle(qtbot: QtBot, window: MainWindow, timeout: int = JOB_TIMEOUT_MS) -> None:
    """Until every job has finished and its result reached the GUI thread."""
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=timeout)


def open_image(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    window.files.open_path(path)
    wait_idle(qtbot, window)


def run_operation(qtbot: QtBot, window: MainWindow, key: str) -> None:
    window.operations.actions[key].trigger()
    assert window.runner.busy, f"{key} did not start"
    wait_idle(qtbot, window)


def choose_model(window: MainWindow, key: str, model_name: str) -> None:
    popover = window.operations.popovers[key]
    popover.refresh_models()
    index = popover.model.findData(model_name)
    assert index >= 0, f"{model_name} is not offered for {key}"
    popover.model.setCurrentIndex(index)
