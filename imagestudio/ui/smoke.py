"""Start-up probe for the packaging smoke test and the app benchmark (IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN=1).

Prints `imagestudio-smoke: shown <seconds> s, title <title>` once the window is shown and the photo given on the
command line has loaded and painted, then quits with 0 (1 when loading failed). Timed from `run()`'s start.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from imagestudio.ui.main_window import MainWindow

SMOKE_ENV = "IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN"


def smoke_mode() -> bool:
    return os.environ.get(SMOKE_ENV) == "1"


def report_when_shown(window: MainWindow, expecting_image: bool, started: float) -> None:
    def report(code: int) -> None:
        poll.stop()
        window.repaint()  # the photo is on screen before we say so
        print(f"imagestudio-smoke: shown {time.perf_counter() - started:.3f} s, title {window.windowTitle()}",
              flush=True)
        QApplication.instance().exit(code)

    # Polled: the photo loads on the worker and may be done before this runs, so there is no signal to wait for.
    def check() -> None:
        if window.document is not None or not expecting_image:
            report(0)
        elif not window.runner.busy:  # the load ended without a document: it failed
            report(1)

    poll = QTimer(window)
    poll.timeout.connect(check)
    poll.start(10)
