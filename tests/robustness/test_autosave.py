"""The history never loses the user's work: the real app, killed with SIGKILL after an edit, offers it back.

Three real app processes (tests/robustness/app_session.py drives `imagestudio.ui.app.run` offscreen): the first opens
a photo, runs Denoise and is killed -9 once the autosave is on disk; the second is offered the restore, says yes and
must show the edited pixels with the edit in its history; after its clean exit a third start offers nothing.
Plus in-process checks of the autosave folder itself: damaged folders, a live session's lock, a clean exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx_models
import pytest

from imagestudio.core.app_dirs import DATA_DIR_ENV
from imagestudio.core.image import load_image
from imagestudio.ui.autosave_store import SessionFolder, Snapshot, orphaned_sessions, read_snapshot

DRIVER = Path(__file__).with_name("app_session.py")
TIMEOUT_S = 60


class App:
    """One app process whose stdout lines are collected as they come."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen([sys.executable, str(DRIVER), *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str) -> str:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            found = next((line for line in self.lines if line.startswith(prefix)), None)
            if found is not None:
                return found
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        self.process.kill()
        stderr = self.process.stderr.read() if self.process.stderr else ""
        pytest.fail(f"no {prefix!r} from the app; stdout {self.lines}, stderr tail {stderr[-2000:]}")

    def finish(self) -> tuple[int, str]:
        try:
            self.process.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("the app did not exit")
        self._reader.join(5)
        return self.process.returncode, self.process.stderr.read() if self.process.stderr else ""


@pytest.fixture
def app_env(tmp_path: Path, model_dirs: dict[str, Path]) -> dict[str, str]:
    onnx_models.blur(model_dirs["bundled"] / "denoise.onnx", metadata=onnx_models.card("denoise", "denoise", 1))
    settings = tmp_path / "settings"
    settings.mkdir()
    return {**os.environ, "IMAGESTUDIO_TEST_SETTINGS": str(settings), "QT_QPA_PLATFORM": "offscreen",
            "IMAGESTUDIO_THREADS": "1"}


def test_after_kill_9_the_next_start_offers_the_edited_image_and_its_history(app_env, make_photo, tmp_path):
    photo = make_photo("holiday photo.png", 40, 28)
    data = Path(app_env[DATA_DIR_ENV])

    first = App("edit", str(photo), env=app_env)
    first.wait_for("AUTOSAVED")
    os.kill(first.process.pid, signal.SIGKILL)
    code, _ = first.finish()
    assert code == -signal.SIGKILL
    [left_behind] = orphaned_sessions(data / "autosave")
    assert left_behind.name == "holiday photo.png" and left_behind.edits == 1

    restored_pixels = tmp_path / "restored.npy"
    second = App("restore", str(restored_pixels), env=app_env)
    offer = second.wait_for("OFFER")
    assert "holiday photo.png (1 edit" in offer
    document = json.loads(second.wait_for("DOCUMENT").removeprefix("DOCUMENT "))
    code, stderr = second.finish()
    assert code == 0 and "Traceback" not in stderr, stderr
    assert (document["name"], document["width"], document["height"]) == ("holiday photo.png", 40, 28)
    assert document["entries"] == ["Restored after a crash: Denoise"] and document["steps"] == ["denoise"]
    assert document["index"] == 1 and not document["clean"]  # unsaved, and Undo goes back to the photo as opened
    assert len(document["sessions"]) == 1  # the crashed session was dropped once the new one held its work
    expected = onnx_models.blur_reference(load_image(photo).rgb)
    assert np.abs(np.load(restored_pixels) - expected).max() < 1e-4

    third = App("check", env=app_env)
    third.wait_for("STARTED")
    code, stderr = third.finish()
    assert code == 0 and not any(line.startswith("OFFER") for line in third.lines), third.lines
    assert not any((data / "autosave").iterdir())  # every clean exit removed its folder


# ---------------------------------------------------------------- the folder format, in process


def _snapshot(make_photo: Callable[..., Path], alpha: bool = False) -> Snapshot:
    from imagestudio.ui.autosave_store import HistoryEntry

    image = load_image(make_photo("p.png", 12, 9, alpha=alpha))
    return Snapshot(image, image.meta.source_path, "p.png", [HistoryEntry("Denoise", [{"op": "denoise",
                                                                                       "params": {}}])])


def test_a_live_session_is_never_offered_and_a_released_one_is(tmp_path, make_photo):
    session = SessionFolder(tmp_path)
    session.write(_snapshot(make_photo, alpha=True))
    assert orphaned_sessions(tmp_path) == []  # its app still runs (holds the lock)
    restored = read_snapshot(session.folder)
    assert restored.image.alpha is not None and restored.entries[0].label == "Denoise"
    session._lock.close()  # what a crash does to the lock  # type: ignore[union-attr]
    session._lock = None
    [orphan] = orphaned_sessions(tmp_path)
    assert orphan.folder == session.folder and orphan.edits == 1


@pytest.mark.parametrize("damage", ["manifest", "array", "pickle"])
def test_a_damaged_autosave_is_our_error_never_a_crash_or_code(tmp_path, make_photo, damage):
    from imagestudio.ui.autosave_store import AutosaveError

    session = SessionFolder(tmp_path)
    session.write(_snapshot(make_photo))
    session.remove = lambda: None  # type: ignore[method-assign]
    image_file = next(session.folder.glob("image-*.npy"))
    if damage == "manifest":
        (session.folder / "autosave.json").write_text("{not json")
    elif damage == "array":
        image_file.write_bytes(image_file.read_bytes()[:100])
    else:  # an object array: loading it would run pickle; np.load(allow_pickle=False) must refuse
        np.save(image_file, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(AutosaveError):
        read_snapshot(session.folder)


def test_an_unwritable_data_folder_costs_the_autosave_not_the_app(tmp_path, make_photo):
    (tmp_path / "file").write_text("x")
    session = SessionFolder(tmp_path / "file" / "autosave")  # its parent is a regular file: ENOTDIR
    with pytest.raises(OSError):
        session.write(_snapshot(make_photo))


def test_in_the_window_edits_are_autosaved_saving_clears_and_a_clean_exit_removes(qtbot, window, recorded,
                                                                                 wait_idle, model_dirs,
                                                                                 make_photo) -> None:
    from imagestudio.ui.dialogs import SaveTarget

    onnx_models.blur(model_dirs["bundled"] / "denoise.onnx", metadata=onnx_models.card("denoise", "denoise", 1))
    window.operations.refresh_models()
    photo = make_photo("p.png", 20, 14)
    window.files.open_path(photo)
    wait_idle(window)
    window.autosave.flush()
    assert not (window.autosave.folder / "autosave.json").exists()  # nothing unsaved yet: nothing written

    window.operations.actions["denoise"].trigger()
    wait_idle(window)
    window.autosave.flush()
    saved = read_snapshot(window.autosave.folder)
    assert [e.label for e in saved.entries] == ["Denoise"] and saved.source == photo
    assert np.abs(saved.image.rgb - window.document.image.rgb).max() <= 1 / 65535

    window.undo_stack.undo()  # back to the file as opened: nothing to lose any more
    window.autosave.flush()
    assert not (window.autosave.folder / "autosave.json").exists()
    window.undo_stack.redo()
    recorded.save_target = SaveTarget(photo.with_name("saved.png"), "PNG", 95, True)
    window.files.save_as()  # saved: the autosave goes too
    wait_idle(window)
    window.autosave.flush()
    assert not (window.autosave.folder / "autosave.json").exists()

    folder = window.autosave.folder
    window.close()
    assert not folder.exists()


def test_without_the_original_the_autosaved_image_opens_alone_and_unsaved(qtbot, window, recorded, wait_idle,
                                                                        make_photo, monkeypatch) -> None:
    from imagestudio.ui import dialogs

    snapshot = _snapshot(make_photo)
    snapshot.source.unlink()  # the photo was moved or deleted since the crash
    crashed = SessionFolder(window.autosave.folder.parent)
    crashed.write(snapshot)
    crashed._lock.close()  # type: ignore[union-attr]
    monkeypatch.setattr(dialogs, "ask_restore_session", lambda parent, summary: True)
    assert window.autosave.offer_restore() is not None
    wait_idle(window)
    assert window.document is not None and window.document.image.width == 12
    assert not window.undo_stack.isClean() and "•" in window.windowTitle()  # closing will ask
    window.autosave.flush()
    assert not crashed.folder.exists() and (window.autosave.folder / "autosave.json").exists()
