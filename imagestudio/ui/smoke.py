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
from imagestudio.ui.worker import Job

SMOKE_ENV = "IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN"


def smoke_mode() -> bool:
    return os.environ.get(SMOKE_ENV) == "1"


def report_when_shown(window: MainWindow, opening: Job | None, started: float) -> None:
    def report(code: int) -> None:
        poll.stop()
        window.repaint()  # the photo is on screen before we say so
        print(f"imagestudio-smoke: shown {time.perf_counter() - started:.3f} s, title {window.windowTitle()}",
              flush=True)
        QApplication.instance().exit(code)

    # Polled rather than connected to the job's signals: a small photo can finish loading on the worker before
    # this function runs, and a signal emitted before a connection exists is never delivered to it.
    poll = QTimer(window)
    failed: list[bool] = []
    if opening is not None:
        opening.failed.connect(lambda _error, _details: failed.append(True))

    def check() -> None:
        if opening is None or window.document is not None:
            report(0)
        elif failed or opening.is_cancelled:
            report(1)

    poll.timeout.connect(check)
    poll.start(10)
