"""The one progress widget: what runs, percent, elapsed and time left from the work done, Cancel; beside the
status bar's hints, never under them, and nothing in the status bar can make the window resize itself."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtGui import QColor

from ui_helpers import open_image, wait_idle
from imagestudio.ui import status_bar
from imagestudio.ui.operations import ModelUse
from imagestudio.ui.status_bar import ProgressPanel, format_duration, time_left


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(status_bar, "time", fake)
    return fake


def test_durations_and_the_estimate_from_the_work_done():
    assert [format_duration(s) for s in (0, 7.4, 65, 3723)] == ["0:00", "0:07", "1:05", "1:02:03"]
    assert time_left(0.25, 20.0) == pytest.approx(60.0)  # a quarter done in 20 s: 60 s to go
    assert time_left(0.01, 20.0) is None and time_left(0.5, 0.5) is None  # too early to say
    assert time_left(1.0, 20.0) is None


def test_the_panel_shows_percent_elapsed_time_left_and_the_step(qtbot, clock):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.start("Enhance")
    assert panel.isVisible() and panel.bar.text() == "0 %" and panel.cancel_button.isEnabled()
    assert panel.timing.full_text() == "0:00 elapsed · estimating time left"
    clock.now += 20
    panel.update_progress(20 / 35, "tile 20 of 35")
    assert panel.bar.text() == "57 %"
    assert panel.timing.full_text() == "0:20 elapsed · about 0:15 left"
    assert panel.message.full_text() == "Enhance: tile 20 of 35"
    clock.now += 5  # no progress for a while (one slow tile): elapsed still moves on the panel's own clock
    panel._clock.timeout.emit()
    assert panel.timing.full_text().startswith("0:25 elapsed")
    panel.update_progress(1.0, "preparing the view")
    assert panel.timing.full_text() == "0:25 elapsed · finishing" and panel.bar.text() == "100 %"
    panel.cancel_button.click()
    assert panel.cancel_button.text() == "Cancelling…" and not panel.cancel_button.isEnabled()
    panel.start("Upscale ×4")
    panel.update_progress(0.1, "Upscale: tile 3 of 4")
    assert panel.message.full_text() == "Upscale: tile 3 of 4", "the job's name once"


def test_paused_time_is_not_elapsed_and_the_estimate_resumes_after_it(qtbot, clock):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    requests: list[bool] = []
    panel.pause_requested.connect(requests.append)
    panel.start("Denoise", pausable=True)
    assert panel.pause_button.isVisibleTo(panel) and panel.pause_button.text() == "Pause"
    clock.now += 10
    panel.update_progress(0.5, "tile 2 of 4")
    panel.pause_button.click()
    assert requests == [True] and panel.pause_button.text() == "Resume"
    clock.now += 600  # ten minutes at lunch
    panel._clock.timeout.emit()
    assert panel.timing.full_text() == "paused · 0:10 elapsed"
    panel.pause_button.click()
    assert requests == [True, False]
    assert panel.timing.full_text() == "0:10 elapsed · about 0:10 left", "the pause counts neither way"
    panel.start("Open")  # a job that cannot pause shows no Pause button
    assert not panel.pause_button.isVisibleTo(panel) and not panel.pause_button.isChecked()


def test_the_panel_keeps_its_width_whatever_the_text(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.start("Enhance")
    hint = panel.sizeHint()
    panel.update_progress(0.5, "a very long step description " * 20)
    assert panel.sizeHint() == hint and panel.message.full_text().endswith("description ")


def test_progress_sits_beside_a_toolbar_hint_and_the_window_never_resizes(qtbot, window, make_photo):
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: window.width() == 1280)
    size = window.size()
    open_image(qtbot, window, make_photo("big.png", 64, 48))
    status = window.status
    release = threading.Event()

    def work(task):
        task.report(0.3, "tile 3 of 10 " + "with a long description " * 10)
        release.wait(10)
        return None

    window.runner.start("Enhance", work)
    qtbot.waitUntil(lambda: status.progress.isVisible() and status.progress.bar.text() == "30 %", timeout=5000)
    hint = "Brighten an under-exposed photo"
    status.showMessage(hint)  # what hovering a toolbar button does
    qtbot.wait(20)
    assert status.progress.isVisible(), "a hint must not hide the progress (nor be painted under it)"
    assert status.currentMessage() == hint
    # Temporary messages are painted left of the permanent widgets: the progress widget is one of them, and the
    # hint has room of its own at this width.
    visible = [w for w in (status.progress, status.cursor_label, status.size_label, status.zoom_label,
                           status.device_label) if w.isVisible()]
    left_edge = min(w.geometry().left() for w in visible)
    assert left_edge >= status.fontMetrics().horizontalAdvance(hint) + 8, "the whole hint fits beside the progress"
    assert status.progress.message.width() >= status.fontMetrics().horizontalAdvance("Enhance: tile 30 of 35")
    assert not status.cursor_label.isVisible(), "the progress takes the pointer readout's place while it runs"
    for index, first in enumerate(visible):
        for second in visible[index + 1:]:
            assert not first.geometry().intersects(second.geometry()), (first, second)
    assert max(w.geometry().right() for w in visible) <= status.width()

    # Growing texts everywhere in the status bar.
    status.show_image_size(123456, 654321)
    status.show_cursor(123455, 654320, QColor(1, 2, 3, 4))
    status.show_models_used(tuple(ModelUse(f"a-very-long-model-name-{i}", "Model", "ab" * 32,
                                           "CPUExecutionProvider", "cpu") for i in range(6)))
    qtbot.wait(50)
    assert window.size() == size, "the status bar widened the window"
    assert "a-very-long-model-name-5" in status.device_label.toolTip()
    release.set()
    wait_idle(qtbot, window)
    assert not status.progress.isVisible() and window.size() == size
    assert status.cursor_label.isVisible()


def _start_a_slow_denoise(qtbot, window, make_photo) -> ProgressPanel:
    """A real tiled edit that runs for seconds (a heavy model, small tiles), seen in the panel once it has begun."""
    from ui_helpers import choose_model

    window.settings.set("processing/tile_size", 64)
    open_image(qtbot, window, make_photo("big.png", 256, 256))
    choose_model(window, "denoise", "slow-denoise")
    window.operations.actions["denoise"].trigger()
    progress = window.status.progress
    qtbot.waitUntil(lambda: progress.bar.value() > 0, timeout=30_000)
    return progress


def test_a_real_edit_reports_percent_and_cancel_works_from_the_panel(qtbot, window, make_photo, same_size_models):
    progress = _start_a_slow_denoise(qtbot, window, make_photo)
    assert progress.bar.text().endswith(" %") and progress.bar.text() != "0 %"
    assert "elapsed" in progress.timing.full_text()
    assert progress.message.full_text().startswith("Denoise")
    started = time.perf_counter()
    progress.cancel_button.click()
    wait_idle(qtbot, window)
    assert time.perf_counter() - started < 3 and window.undo_stack.count() == 0


def test_a_real_edit_pauses_between_tiles_and_resumes_to_the_end(qtbot, window, make_photo, same_size_models):
    progress = _start_a_slow_denoise(qtbot, window, make_photo)
    assert progress.pause_button.isVisible(), "an edit can pause"
    qtbot.wait(50)  # the status bar lays the wider panel out
    assert progress.message.width() >= progress.fontMetrics().horizontalAdvance("Denoise: tile 30 of 35"), \
        "the Pause button must not squeeze the step's text"
    progress.pause_button.click()
    qtbot.wait(1000)  # the tile that was running finishes; then the worker waits at its next check
    held = progress.bar.value()
    qtbot.wait(600)
    assert progress.bar.value() == held and held < 1000, "nothing moves while paused"
    assert window.runner.busy and progress.timing.full_text().startswith("paused")
    progress.pause_button.click()
    wait_idle(qtbot, window)
    assert window.undo_stack.count() == 1, "the resumed edit finished and was recorded"
