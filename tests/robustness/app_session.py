"""Runs the real ImageStudio app (`imagestudio.ui.app.run`) offscreen and scripts one user, for test_autosave.py.

    python app_session.py edit IMAGE            open IMAGE, run Denoise, print AUTOSAVED once it is on disk, then wait
                                                (the test kills the process with SIGKILL there)
    python app_session.py restore OUT.npy       start with no file; answer Yes to the restore offer; once restored
                                                and re-autosaved print the document as JSON, save its pixels to
                                                OUT.npy and quit cleanly (discarding the unsaved changes)
    python app_session.py check                 start with no file and quit; print OFFER if a restore was offered

Only the modal answers are scripted, through the dialogs hook every widget uses; settings go to
$IMAGESTUDIO_TEST_SETTINGS, the data folder and model folders come from the usual environment variables.
Every line it prints is flushed at once so the test can react while the app runs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from imagestudio.ui import app as app_module  # noqa: E402
from imagestudio.ui import dialogs  # noqa: E402
from imagestudio.ui.history import commands  # noqa: E402
from imagestudio.ui.main_window import MainWindow  # noqa: E402


def say(text: str) -> None:
    print(text, flush=True)


def window() -> MainWindow | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)


def when(condition: Callable[[], bool], then: Callable[[], None], timeout_ms: int = 30_000) -> None:
    """Polls the event loop until `condition()`, then runs `then`; exits with status 3 on timeout."""
    left = [timeout_ms // 20]

    def poll() -> None:
        if condition():
            then()
            return
        left[0] -= 1
        if left[0] <= 0:
            say("TIMEOUT")
            os._exit(3)
        QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)


def edit(image: Path) -> int:
    def opened() -> bool:
        w = window()
        return w is not None and w.document is not None and not w.runner.busy

    def run_denoise() -> None:
        w = window()
        assert w is not None
        w.autosave.written.connect(lambda: say("AUTOSAVED"))
        w.operations.actions["denoise"].trigger()

    when(opened, run_denoise)
    return app_module.run([str(image)])


def restore(out: Path) -> int:
    dialogs.ask_restore_session = lambda parent, summary: say(f"OFFER {summary}") or True
    dialogs.ask_unsaved_changes = lambda parent, name: "discard"
    dialogs.show_error = lambda parent, title, message, details=None: say(f"ERROR {title}: {message}")
    state = {"written": False}

    def restored() -> bool:
        w = window()
        if w is not None and not hasattr(w, "_watched"):
            w._watched = True  # type: ignore[attr-defined]
            w.autosave.written.connect(lambda: state.update(written=True))
        return w is not None and w.document is not None and not w.runner.busy and state["written"]

    def report() -> None:
        w = window()
        assert w is not None and w.document is not None
        np.save(out, w.document.image.rgb)
        stack = w.undo_stack
        say("DOCUMENT " + json.dumps({
            "name": w.document.name, "width": w.document.image.width, "height": w.document.image.height,
            "entries": [c.record.label for c in commands(stack)], "index": stack.index(), "clean": stack.isClean(),
            "steps": [s.op for c in commands(stack) for s in c.record.steps],
            "original_width": w.document.image_of(w.document.original_state).width,
            "sessions": sorted(p.name for p in w.autosave.folder.parent.iterdir()),
        }))
        w.close()

    when(restored, report)
    return app_module.run([])


def check() -> int:
    dialogs.ask_restore_session = lambda parent, summary: say(f"OFFER {summary}") or False
    QTimer.singleShot(200, lambda: (say("STARTED"), w.close()) if (w := window()) else None)
    return app_module.run([])


def main(argv: list[str]) -> int:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, os.environ["IMAGESTUDIO_TEST_SETTINGS"])
    app_module.create_application([])  # now, so the script's timers have an event loop; run() reuses it
    mode = argv[0]
    if mode == "edit":
        return edit(Path(argv[1]))
    if mode == "restore":
        return restore(Path(argv[1]))
    return check()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
