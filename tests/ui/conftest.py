"""GUI test setup: offscreen Qt, settings in a temporary folder per test, and dialogs that never block."""

from __future__ import annotations

import os

# Before anything imports Qt: no display is needed, and every test runs the same way on CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

import onnx_models  # noqa: E402
from imagestudio.ui import dialogs  # noqa: E402
from imagestudio.ui.main_window import MainWindow  # noqa: E402
from imagestudio.ui.settings import AppSettings  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@dataclass
class DialogRecorder:
    """Stands in for every modal: records what would have been shown and returns scripted answers."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    infos: list[tuple[str, str]] = field(default_factory=list)
    unsaved_prompts: list[str] = field(default_factory=list)
    unsaved_answer: str = "discard"
    open_image: Path | None = None
    open_model: Path | None = None
    preset_path: Path | None = None
    save_target: dialogs.SaveTarget | None = None
    accept_suggested: bool = False  # Save As answers with the name it proposed (and save_target's options)
    save_suggestions: list[Path] = field(default_factory=list)  # what each Save As / Export proposed
    overwrite_prompts: list[str] = field(default_factory=list)
    overwrite_answer: bool = False
    busy_open_prompts: list[tuple[str, str]] = field(default_factory=list)
    busy_open_answer: str = "queue"
    folders: list[Path] = field(default_factory=list)  # answers to ask_folder, in order; None once used up
    save_path: Path | None = None


@pytest.fixture(autouse=True)
def dialog_recorder(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    recorder = DialogRecorder()

    def show_error(parent: Any, title: str, message: str, details: str | None = None) -> None:
        recorder.errors.append((title, message))

    def ask_unsaved(parent: Any, name: str) -> str:
        recorder.unsaved_prompts.append(name)
        return recorder.unsaved_answer

    monkeypatch.setattr(dialogs, "show_error", show_error)
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, message: recorder.infos.append((title, message)))
    monkeypatch.setattr(dialogs, "ask_unsaved_changes", ask_unsaved)
    monkeypatch.setattr(dialogs, "ask_open_image", lambda parent, folder: recorder.open_image)
    monkeypatch.setattr(dialogs, "ask_open_model", lambda parent: recorder.open_model)
    monkeypatch.setattr(dialogs, "ask_preset_path", lambda parent, for_saving, folder="": recorder.preset_path)
    def ask_save_target(parent: Any, title: str, suggested: Path, fmt: str, quality: int,
                        keep_metadata: bool) -> dialogs.SaveTarget | None:
        recorder.save_suggestions.append(Path(suggested))
        if recorder.accept_suggested:
            return dialogs.SaveTarget(Path(suggested), fmt, quality, keep_metadata)
        return recorder.save_target

    def confirm_overwrite(parent: Any, name: str, fmt: str, quality: int) -> bool:
        recorder.overwrite_prompts.append(f"{name} {fmt} {quality}")
        return recorder.overwrite_answer

    def ask_open_while_busy(parent: Any, name: str, job: str) -> str:
        recorder.busy_open_prompts.append((name, job))
        return recorder.busy_open_answer

    monkeypatch.setattr(dialogs, "ask_save_target", ask_save_target)
    monkeypatch.setattr(dialogs, "confirm_overwrite_original", confirm_overwrite)
    monkeypatch.setattr(dialogs, "ask_open_while_busy", ask_open_while_busy)
    monkeypatch.setattr(dialogs, "ask_folder",
                        lambda *args, **kwargs: recorder.folders.pop(0) if recorder.folders else None)
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *args, **kwargs: recorder.save_path)
    return recorder


@pytest.fixture
def same_size_models(models: Callable[..., Path], model_dirs: dict[str, Path]) -> dict[str, Path]:
    """`denoise` (a blur: visibly changes pixels) and `slow-denoise` (a heavy conv stack for cancel and stall tests)."""
    bundled = model_dirs["bundled"]
    return {
        "denoise": models("blur", "denoise.onnx", bundled, metadata=onnx_models.card("denoise", "denoise", 1)),
        "slow-denoise": models("heavy", "slow-denoise.onnx", bundled, channels=48, layers=6,
                               metadata=onnx_models.card("slow-denoise", "denoise", 1, receptive_radius="8")),
    }


@pytest.fixture
def window(qtbot) -> MainWindow:
    """The real main window with default settings, shown (offscreen) and closed after the test."""
    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window
