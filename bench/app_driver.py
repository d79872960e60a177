"""Drives the real ImageStudio window in this process for bench/app.py: launch, first paint, open, Enhance.

Started by bench/app.py with QT_QPA_PLATFORM=offscreen, BENCH_T0 (the parent's wall clock just before it started this
process) and settings/model folders of its own. It builds the window exactly as `imagestudio.ui.app.run` does, then
scripts a user from a timer on the GUI thread. That timer, firing every 5 ms, is also the stall meter: while an
enhance runs on the worker, the longest gap between two of its ticks is the longest the GUI thread was unable to
react. Prints one JSON line; times are seconds since BENCH_T0.

    python bench/app_driver.py [--photo P] [--big P] [--settle 1.0]
"""

from __future__ import annotations

import os
import time

T_PYTHON = time.time()  # first thing: when the interpreter reached our code

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import emit, peak_rss_self, rss_now  # noqa: E402

HEARTBEAT_MS = 5


class Script:
    """A small state machine advanced by the heartbeat; each step waits for what a user would see."""

    def __init__(self, args: argparse.Namespace, t0: float) -> None:
        from PySide6.QtCore import QEvent, QObject, Qt, QTimer
        from PySide6.QtWidgets import QApplication

        self.args, self.t0 = args, t0
        self.result: dict = {"python_start_s": T_PYTHON - t0}
        self.first_paint: float | None = None
        self.canvas_paints: list[float] = []
        self.errors: list[str] = []
        self.window = None
        self._step = self._wait_first_paint
        self._since = 0.0
        self._ticks: list[float] | None = None  # heartbeat times, collected while Enhance runs
        self._previous = None  # the document before an open, to tell when the new one arrived
        self._opened_at = self._clicked = 0.0
        self._pushed: float | None = None  # when the enhanced state entered the history
        script = self

        class PaintSpy(QObject):
            def eventFilter(self, obj, event):  # noqa: ANN001, N802 - Qt's name
                if event.type() == QEvent.Type.Paint:
                    now = time.time()
                    if script.first_paint is None:
                        script.first_paint = now
                    if script.window is not None and obj is script.window.canvas:
                        script.canvas_paints.append(now)
                return False

        self.spy = PaintSpy()
        QApplication.instance().installEventFilter(self.spy)
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def since_t0(self, wall: float) -> float:
        return wall - self.t0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._ticks is not None:
            self._ticks.append(now)
        if self.errors:
            return self._finish()
        self._step()

    def _painted_after(self, wall: float) -> float | None:
        """Now (the paint pass is over by the time a tick runs) if the canvas has painted since `wall`."""
        return time.time() if any(t >= wall for t in self.canvas_paints) else None

    # --- the steps ----------------------------------------------------------------------------------------------
    def _wait_first_paint(self) -> None:
        if self.first_paint is None:
            return
        # This tick runs once the paint pass that began at first_paint has finished: the frame is complete.
        self.result["first_paint_begun_s"] = self.since_t0(self.first_paint)
        self.result["first_paint_s"] = self.since_t0(time.time())
        self._since = time.time()
        # A user opening a photo straight away: no pause before it, so launch → first enhanced image is honest.
        self._step = self._open_photo if self.args.photo else self._settle_idle

    def _settle_idle(self) -> None:
        if time.time() - self._since < self.args.settle:
            return
        self.result["idle_rss"] = rss_now()
        self.result["idle_peak_rss"] = peak_rss_self()
        self._step = self._open_big

    def _open(self, path: Path, then) -> None:  # noqa: ANN001
        self._previous = self.window.document
        self._opened_at = time.time()
        self.window.files.open_path(path)
        self._step = lambda: self._wait_open(then)

    def _wait_open(self, then) -> None:  # noqa: ANN001
        if self.window.document is self._previous:  # still loading on the worker
            return
        painted = self._painted_after(self._opened_at)
        if painted is None:
            return
        self._open_done = painted
        then(painted)

    def _open_photo(self) -> None:
        self._open(self.args.photo, self._photo_opened)

    def _photo_opened(self, painted: float) -> None:
        self.result["photo_open_s"] = painted - self._opened_at
        self.result["photo_shown_s"] = self.since_t0(painted)
        self.result["photo_size"] = [self.window.document.display.width, self.window.document.display.height]
        self.window.undo_stack.indexChanged.connect(self._entry_pushed)
        self._step = self._press_enhance

    def _press_enhance(self) -> None:
        # The photo can be on screen a moment before the open job has finished (its `done` comes after
        # `succeeded`); until then Enhance is disabled and pressing it would do nothing, as for a user.
        action = self.window.operations.actions["enhance"]
        if self.window.runner.busy or not action.isEnabled():
            return
        self._clicked = time.time()
        self._ticks = [time.perf_counter()]
        action.trigger()  # what Ctrl+E or the toolbar button does
        self._step = self._wait_enhanced

    def _wait_enhanced(self) -> None:
        if self._pushed is None:
            if not self.window.runner.busy and time.time() - self._clicked > 5:
                self.errors.append("Enhance was pressed but no job ran")  # never wait forever
            return
        painted = self._painted_after(self._pushed)
        if painted is None:
            return
        ticks, self._ticks = self._ticks, [time.perf_counter()]  # go on metering: the result is autosaved next
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        worst = max(range(len(gaps)), key=gaps.__getitem__, default=0)
        display = self.window.document.display
        record = self.window.undo_stack.command(0).record
        self.result.update(
            enhance_s=painted - self._clicked,
            first_enhanced_s=self.since_t0(painted),
            enhanced_size=[display.width, display.height],
            models=[use.name for use in record.models],
            stall_max_ms=1000 * max(gaps, default=0.0),
            stall_ended_s=ticks[worst + 1] - ticks[0] if gaps else 0.0,  # after the press: which phase stalled
            stalls_over_50ms=sum(g > 0.05 for g in gaps),
            heartbeat_ticks=len(gaps) + 1,
        )
        self._since = time.time()
        self._step = self._after_enhance

    def _after_enhance(self) -> None:
        """The second after the result appears, when the user looks at it and the app writes its crash copy."""
        if time.time() - self._since < self.args.settle:
            return
        ticks, self._ticks = self._ticks, None
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        self.result["stall_after_ms"] = 1000 * max(gaps, default=0.0)
        self._finish()

    def _entry_pushed(self) -> None:
        if self._pushed is None:  # the enhanced image is now the document's shown state
            self._pushed = time.time()

    def _open_big(self) -> None:
        if not self.args.big:
            return self._finish()
        self._open(self.args.big, self._big_opened)

    def _big_opened(self, painted: float) -> None:
        self.result["big_open_s"] = painted - self._opened_at
        self.result["big_size"] = [self.window.document.display.width, self.window.document.display.height]
        self._since = time.time()
        self._step = self._settle_big

    def _settle_big(self) -> None:
        if time.time() - self._since < self.args.settle:
            return
        self.result["big_rss"] = rss_now()
        self.result["big_peak_rss"] = peak_rss_self()
        self._finish()

    def _finish(self) -> None:
        self.timer.stop()
        self.result["errors"] = self.errors
        emit(self.result)
        # No window.close(): its unsaved-changes prompt and settings writes are not part of what is measured.
        os._exit(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, help="image to open and Enhance")
    parser.add_argument("--big", type=Path, help="large image to open, for memory with a photo open")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait before reading idle memory")
    parser.add_argument("--settings", type=Path, required=True, help="folder for this run's QSettings")
    parser.add_argument("--bare", action="store_true", help="an empty PySide6 QMainWindow instead: Qt's own floor")
    args = parser.parse_args()
    t0 = float(os.environ.get("BENCH_T0", T_PYTHON))
    if args.bare:
        return bare_window(args, t0)

    from PySide6.QtCore import QSettings

    from imagestudio.ui import app as gui
    from imagestudio.ui import dialogs

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(args.settings))
    holder: dict = {}

    def show_error(parent, title: str, message: str, details: str | None = None) -> None:  # noqa: ANN001
        holder["script"].errors.append(f"{title}: {message}")

    # A modal dialog would stop the script: record errors instead, and discard the enhanced photo when opening the next.
    dialogs.show_error = show_error
    dialogs.ask_unsaved_changes = lambda parent, name: "discard"
    dialogs.ask_restore_session = lambda parent, summary: False  # fresh data folders: never asked, but never block

    # What gui.run(argv) does, step by step, with the script started before the event loop.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    application, _ = gui.create_application([])
    script = Script(args, t0)
    holder["script"] = script
    window = gui.create_window(None)
    script.window = window
    script.result["window_built_s"] = time.time() - t0
    window.show()
    return application.exec()


def bare_window(args: argparse.Namespace, t0: float) -> int:
    """The floor under our launch time: PySide6 importing, creating an application and painting an empty window."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    application = QApplication([sys.argv[0]])
    script = Script(args, t0)
    window = QMainWindow()
    window.resize(1280, 820)
    script.window = None  # no canvas: only the first paint and idle memory are measured
    script._settle_idle = lambda: _bare_done(script)  # type: ignore[method-assign]
    window.show()
    return application.exec()


def _bare_done(script: Script) -> None:
    if time.time() - script._since < script.args.settle:
        return
    script.result["idle_rss"] = rss_now()
    script._finish()


if __name__ == "__main__":
    sys.exit(main())
