"""The status bar: zoom, image size, cursor position and colour, what device and model really ran, and one progress
widget (what runs, percent, elapsed, time left, Cancel) while a job runs.

Nothing here may widen the window: every label elides its text (the whole text in its tooltip) and reports a small
minimum width, and the progress widget is a permanent widget, so the status bar's temporary messages (menu and
toolbar hints) are drawn beside it, never under it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QStatusBar, QWidget

from imagestudio.ui.operations import ModelUse

_MIN_FRACTION_FOR_ESTIMATE = 0.02  # below this, or in the first second, "time left" would be a guess
_MIN_SECONDS_FOR_ESTIMATE = 1.0


def format_duration(seconds: float) -> str:
    """0:07, 1:05, 1:02:03."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_left(fraction: float, elapsed: float) -> float | None:
    """Seconds left at the rate so far (the tiles done tell the rate), or None while that is still a guess."""
    if fraction < _MIN_FRACTION_FOR_ESTIMATE or elapsed < _MIN_SECONDS_FOR_ESTIMATE or fraction >= 1.0:
        return None
    return elapsed * (1.0 - fraction) / fraction


def _step_text(label: str, message: str) -> str:
    """'Upscale ×4' + 'Upscale: tile 3 of 4' -> 'Upscale: tile 3 of 4'; 'Enhance' + 'tile 2 of 9' -> 'Enhance: tile 2
    of 9': the job's name once, then the step."""
    first_word = label.split(" ")[0].lower() if label else ""
    if first_word and message.lower().startswith(first_word):
        return message
    return f"{label}: {message}" if label else message


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with … instead of asking for more room; the tooltip has it all."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_width: int = 24,
                 hint_text: str | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._min_width = min_width
        self._hint_text = hint_text  # the width asked for, whatever the text: the layout never follows the text
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        super().setText(text)
        self.setToolTip(text if text else "")
        self.updateGeometry()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        if self._hint_text is None:
            return hint
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._hint_text) + margins.left() + margins.right() + 4
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self._min_width), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                         self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, rect.width()))


class ProgressPanel(QWidget):
    """One widget for the running job: its name and step, a bar with the percent, elapsed and time left, Pause (for
    jobs that can pause) and Cancel. Its width is fixed, so text growing inside it never moves or widens anything
    else; a paused job's time does not count as elapsed, so the time left stays honest."""

    cancel_requested = Signal()
    pause_requested = Signal(bool)  # True: pause, False: resume
    running_changed = Signal(bool)
    WIDTH = 560

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("JobProgress")
        self.job_label = ""
        self.message = ElidedLabel(min_width=40, hint_text="Enhance: tile 000 of 000")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(110)
        self.bar.setTextVisible(True)
        self.bar.setFormat("0 %")
        self.bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.timing = ElidedLabel()
        self.timing.setObjectName("JobTiming")
        self.timing.setFixedWidth(self.timing.fontMetrics().horizontalAdvance("00:00 elapsed · about 00:00 left") + 8)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("CancelJobButton")
        self.cancel_button.clicked.connect(self._cancel)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("PauseJobButton")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause the running job between tiles; Resume goes on where it stopped")
        self.pause_button.toggled.connect(self._pause_toggled)
        self.pause_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.timing)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.cancel_button)
        # Its width depends on the window only, never on the text: a constant size hint, shrinking (the step's
        # text elides first) when the window is narrow.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._started = 0.0
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._fraction = 0.0
        self._clock = QTimer(self)
        self._clock.setInterval(1000)  # elapsed ticks on even when a long tile sends no progress
        self._clock.timeout.connect(self._show_timing)
        self.hide()

    def sizeHint(self) -> QSize:  # noqa: N802
        # Wider by the Pause button while it shows, so the step's text keeps its room; constant for a given job.
        extra = self.pause_button.sizeHint().width() + 6 if self.pause_button.isVisibleTo(self) else 0
        return QSize(self.WIDTH + extra, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        fixed = self.bar.width() + self.timing.width() + self.cancel_button.sizeHint().width()
        if self.pause_button.isVisibleTo(self):
            fixed += self.pause_button.sizeHint().width()
        return QSize(fixed + 40, super().minimumSizeHint().height())

    def start(self, label: str, cancellable: bool = True, pausable: bool = False) -> None:
        self.job_label = label
        self.message.setText(label)
        self._started = time.monotonic()
        self._paused_at, self._paused_total = None, 0.0
        self._fraction = 0.0
        self.pause_button.blockSignals(True)  # a new job starts running, whatever the last one's button said
        self.pause_button.setChecked(False)
        self.pause_button.setText("Pause")
        self.pause_button.blockSignals(False)
        self.pause_button.setEnabled(cancellable)
        if self.pause_button.isVisibleTo(self) != pausable:
            self.pause_button.setVisible(pausable)
            self.updateGeometry()  # the size hint follows the button
        self.bar.setValue(0)
        self.bar.setFormat("0 %")
        self.cancel_button.setEnabled(cancellable)
        self.cancel_button.setText("Cancel")
        self._show_timing()
        self._clock.start()
        self.show()
        self.running_changed.emit(True)

    def update_progress(self, fraction: float, message: str) -> None:
        self._fraction = max(0.0, min(1.0, fraction))
        self.bar.setValue(round(self._fraction * 1000))
        self.bar.setFormat(f"{self._fraction * 100:.0f} %")
        if message:
            self.message.setText(_step_text(self.job_label, message))
        self._show_timing()

    @property
    def elapsed(self) -> float:
        """Seconds the job has been running, its paused time left out."""
        now = time.monotonic()
        paused_now = now - self._paused_at if self._paused_at is not None else 0.0
        return now - self._started - self._paused_total - paused_now

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def _show_timing(self) -> None:
        elapsed = self.elapsed
        if self.paused:
            self.timing.setText(f"paused · {format_duration(elapsed)} elapsed")
            return
        left = time_left(self._fraction, elapsed)
        if left is not None:
            estimate = f"about {format_duration(left)} left"
        else:
            estimate = "finishing" if self._fraction >= 1.0 else "estimating time left"
        self.timing.setText(f"{format_duration(elapsed)} elapsed · {estimate}")

    def finish(self) -> None:
        self._clock.stop()
        self.hide()
        self.running_changed.emit(False)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.pause_button.setEnabled(False)
        if self.paused:  # the job wakes up to stop: the clock runs again until it has
            self._paused_total += time.monotonic() - (self._paused_at or time.monotonic())
            self._paused_at = None
        self.cancel_requested.emit()

    def _pause_toggled(self, paused: bool) -> None:
        if paused and self._paused_at is None:
            self._paused_at = time.monotonic()
        elif not paused and self._paused_at is not None:
            self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
        self.pause_button.setText("Resume" if paused else "Pause")
        self._show_timing()
        self.pause_requested.emit(paused)


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = ProgressPanel()
        # Fixed widths for the readouts that change as the mouse moves: the bar must not jitter or grow.
        self.cursor_label = ElidedLabel(hint_text="x 0000, y 0000  RGB 255 255 255  #FFFFFF")
        self.swatch = QLabel()
        self.swatch.setFixedSize(14, 14)
        self.size_label = ElidedLabel(hint_text="0000 × 0000 px (00.0 MP)")
        self.zoom_label = ElidedLabel(hint_text="6400 %")
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.device_label = ElidedLabel(hint_text="Ran on CPU · upscale-x4")
        self.device_label.setObjectName("DeviceIndicator")
        self.device_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        # Permanent widgets sit right of the temporary-message area: hints never run under the progress widget.
        for widget in (self.progress, self.cursor_label, self.swatch, self.size_label, self.zoom_label,
                       self.device_label):
            self.addPermanentWidget(widget)
        # While a job runs its progress takes the place of the pointer readout, so hints keep room to be read.
        self.progress.running_changed.connect(self._job_running)
        self.clear_image()
        self.show_expected_device("auto", "")

    def show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %")

    def show_image_size(self, width: int, height: int) -> None:
        megapixels = width * height / 1e6
        self.size_label.setText(f"{width} × {height} px ({megapixels:.1f} MP)")

    def _job_running(self, running: bool) -> None:
        self.cursor_label.setVisible(not running)
        if running:
            self.swatch.hide()
        elif self.cursor_label.full_text():
            self.swatch.show()

    def show_cursor(self, x: int, y: int, colour: QColor) -> None:
        r, g, b, a = colour.red(), colour.green(), colour.blue(), colour.alpha()
        alpha = f" A {a}" if a < 255 else ""
        self.cursor_label.setText(f"x {x}, y {y}  RGB {r} {g} {b}{alpha}  {colour.name().upper()}")
        self.swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid palette(mid);")
        self.swatch.setVisible(not self.progress.isVisible())

    def clear_cursor(self) -> None:
        self.cursor_label.setText("")
        self.swatch.hide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        # The window's minimum width follows this: keep it from growing with the progress widget or long text.
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), 320), hint.height())

    def clear_image(self) -> None:
        self.clear_cursor()
        self.size_label.setText("")
        self.zoom_label.setText("")

    def show_expected_device(self, device: str, expected_provider: str) -> None:
        """Before anything ran: what the setting asks for (the truth comes from the first run)."""
        word = "CUDA" if expected_provider == "CUDAExecutionProvider" else "CPU"
        self.device_label.setText(f"Device: {word} (not used yet)")
        self.device_label.setToolTip(f"{self.device_label.full_text()}\nDevice setting: {device}. The provider a "
                                     "model really runs on shows here after the first edit.")

    def show_models_used(self, models: tuple[ModelUse, ...]) -> None:
        if not models:
            return
        devices = sorted({"CUDA" if m.device == "cuda" else "CPU" for m in models})
        # Precision in the label only when not plain fp32 (the usual case needs no extra words).
        runtimes = sorted({f"{m.precision}" for m in models if m.precision != "fp32"})
        extra = f" ({', '.join(runtimes)})" if runtimes else ""
        names = ", ".join(m.name for m in models)
        self.device_label.setText(f"Ran on {' + '.join(devices)}{extra} · {names}")
        notices = [m.notice for m in models if m.notice]
        tips = [f"{m.title} ({m.name}) ran with {m.runtime_words()} ({m.provider})" for m in models] + notices
        self.device_label.setToolTip("\n".join([self.device_label.full_text(), *tips]))
        if notices:
            self.showMessage(notices[0], 10_000)
