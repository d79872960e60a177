"""Every corpus file opened through the real main window (File > Open's own code path, loading on the worker).

A good or odd file becomes the document at the right size; a bad one shows exactly one error dialog (through the
dialogs hook) whose message is our one line naming the file, the window keeps working, and nothing is logged as an
unexpected failure (the worker logs every non-ImageStudioError with its traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fs_helpers import read_only_folder
from gui_helpers import Dialogs, isolate_settings
from make_corpus import CASES, ERROR, OK, Case

from imagestudio.ui.dialogs import SaveTarget


@pytest.fixture(scope="module")
def shared(qapp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Dialogs]]:
    """One window for the whole corpus (opening a file replaces the document), with modals recorded."""
    from imagestudio.ui.main_window import MainWindow
    from imagestudio.ui.settings import AppSettings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMAGESTUDIO_DATA_DIR", str(tmp_path_factory.mktemp("user-data")))
        isolate_settings(tmp_path_factory.mktemp("settings"))
        recorder = Dialogs().install(patch)
        main = MainWindow(AppSettings())
        main.show()
        yield main, recorder
        main.close()
        main.deleteLater()


def _open(qtbot, main, path: Path) -> None:
    assert main.files.open_path(path) is not None, "the window refused to start opening"
    qtbot.waitUntil(lambda: not main.runner.busy, timeout=30_000)


def _unexpected(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_file_opens_or_shows_one_clear_error(qtbot, shared, corpus, caplog, case: Case) -> None:
    main, recorder = shared
    path = next((p for c, p in corpus if c.name == case.name), None)
    if path is None:
        pytest.skip(f"{case.name} is not part of the corpus on this platform")
    main.set_document(None)
    recorder.errors.clear()
    caplog.set_level(logging.WARNING)
    _open(qtbot, main, path)
    assert not _unexpected(caplog)
    if case.expect == OK:
        assert recorder.errors == []
        assert main.document is not None and main.document.path == path
        assert (main.canvas.display.width, main.canvas.display.height) == case.size
        assert main.windowTitle() == f"ImageStudio — {case.name}"
        if case.frames > 1:
            assert f"frame 1 of {case.frames}" in main.statusBar().currentMessage()
    else:
        assert case.expect == ERROR
        [(title, message)] = recorder.errors
        assert title == "Could not open the image"
        assert case.name in message and case.message in message.lower() and "Traceback" not in message
        assert main.document is None and main.files.open_action.isEnabled()


def test_a_failed_open_keeps_the_image_that_was_open(qtbot, window, recorded, corpus, wait_idle) -> None:
    good = next(p for c, p in corpus if c.name == "1x1.png")
    bad = next(p for c, p in corpus if c.name == "truncated-half.png")
    window.files.open_path(good)
    wait_idle(window)
    window.files.open_path(bad)
    wait_idle(window)
    assert window.document is not None and window.document.path == good
    assert len(recorded.errors) == 1


def test_save_as_into_a_read_only_folder_shows_an_error_and_keeps_the_edits(qtbot, window, recorded, corpus,
                                                                           tmp_path, wait_idle) -> None:
    good = next(p for c, p in corpus if c.name == "exif-orientation-6.jpg")
    window.files.open_path(good)
    wait_idle(window)
    with read_only_folder(tmp_path / "locked") as folder:
        recorded.save_target = SaveTarget(folder / "out.png", "PNG", 95, True)
        window.files.save_as()
        wait_idle(window)
        [(title, message)] = recorded.errors
        assert title == "Could not save the image" and "permission denied" in message and "out.png" in message
        assert list(folder.iterdir()) == []
    assert window.document is not None and window.document.path == good  # still the original; nothing lost
