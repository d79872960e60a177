"""Live preview for an operation's popover: the effect on the visible part of the photo (at most 512 × 512 image
pixels around the view's centre) before the user commits.

Runs the same core steps the edit would (`operations.run_edit`) on the crop, on a one-thread pool of its own, so the
window's runner stays free (no progress bar, no disabled actions) and the GUI thread only shows the result. A new
request (strength or model changed) cancels the one running; a result that arrives after it was superseded is
dropped. Nothing here touches the document or the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRect, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from imagestudio.core.image import Image
from imagestudio.core.pipeline import Step
from imagestudio.core.progress import Task
from imagestudio.ui.operations import EditOutcome, run_edit
from imagestudio.ui.worker import Job, JobRunner

PREVIEW_SIDE = 512  # the largest crop side, in image pixels
DEBOUNCE_MS = 150  # a slider being dragged asks many times: wait until it rests


@dataclass(frozen=True)
class PreviewRegion:
    """The part of the shown image to preview, in image pixels."""

    x: int
    y: int
    width: int
    height: int


def preview_region(visible: QRect, image_width: int, image_height: int, side: int = PREVIEW_SIDE) -> PreviewRegion:
    """The visible part of the image, cut to at most side × side around its centre (the whole image if small)."""
    left, top = max(0, visible.left()), max(0, visible.top())
    right, bottom = min(image_width, visible.right() + 1), min(image_height, visible.bottom() + 1)
    if right <= left or bottom <= top:  # nothing of the image on screen: its centre
        left, top, right, bottom = 0, 0, image_width, image_height
    width, height = min(side, right - left), min(side, bottom - top)
    centre_x, centre_y = (left + right) // 2, (top + bottom) // 2
    x = min(max(left, centre_x - width // 2), right - width)
    y = min(max(top, centre_y - height // 2), bottom - height)
    return PreviewRegion(x, y, width, height)


def crop(image: Image, region: PreviewRegion) -> Image:
    y, x, h, w = region.y, region.x, region.height, region.width
    rgb = image.rgb[y : y + h, x : x + w].copy()
    alpha = None if image.alpha is None else image.alpha[y : y + h, x : x + w].copy()
    return image.with_pixels(rgb, alpha)


@dataclass(frozen=True)
class PreviewResult:
    region: PreviewRegion
    before: QImage  # the crop as it is
    after: QImage  # the crop after the operation (larger for an upscale)
    generation: int


SourceFunction = Callable[[], tuple[Image, PreviewRegion] | None]


class PreviewRunner(QObject):
    """One preview at a time: `request(steps)` (debounced) → `ready(PreviewResult)` or `failed(str)`."""

    ready = Signal(object)
    failed = Signal(str)
    started = Signal()

    def __init__(self, source: SourceFunction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.runner = JobRunner(self, self._pool)
        self._generation = 0
        self._job: Job | None = None
        self._pending: tuple[str, list[Step]] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.cancelled_jobs = 0  # how many runs were superseded or stopped (for the status text and tests)

    def set_source(self, source: SourceFunction) -> None:
        self._source = source

    @property
    def generation(self) -> int:
        return self._generation

    def request(self, label: str, steps: list[Step], *, now: bool = False) -> None:
        """Preview these steps; supersedes whatever is running or waiting."""
        self._generation += 1
        self._cancel_running()
        self._pending = (label, steps)
        if now:
            self._timer.stop()
            self._start()
        else:
            self._timer.start()

    def stop(self) -> None:
        """The popover closed or the edit was committed: nothing more to show."""
        self._generation += 1
        self._timer.stop()
        self._pending = None
        self._cancel_running()

    def wait(self, timeout_ms: int = 10_000) -> bool:
        return self._pool.waitForDone(timeout_ms)

    def _cancel_running(self) -> None:
        if self._job is not None and not self._job.is_cancelled:
            self._job.cancel()
            self.cancelled_jobs += 1

    @Slot()
    def _start(self) -> None:
        if self._pending is None:
            return
        label, steps = self._pending
        self._pending = None
        source = self._source()
        if source is None:
            return
        image, region = source
        piece = crop(image, region)  # a copy: the worker never reads the document
        generation = self._generation

        def work(task: Task) -> tuple[int, PreviewRegion, Image, EditOutcome]:
            return generation, region, piece, run_edit(piece, label, steps, task)

        job = Job(f"Preview {label}", work)
        job.succeeded.connect(self._done)
        job.failed.connect(self._failed)
        job.done.connect(self._forget)
        self._job = job
        self.started.emit()
        self.runner.submit(job)

    @Slot(object)
    def _done(self, result: tuple[int, PreviewRegion, Image, EditOutcome]) -> None:
        generation, region, piece, outcome = result
        if generation != self._generation:
            return  # superseded while it ran
        from imagestudio.ui.display import build_display

        before = build_display(piece).levels[0]
        self.ready.emit(PreviewResult(region, before, outcome.display.levels[0], generation))

    @Slot(object, str)
    def _failed(self, error: Exception, details: str) -> None:
        self.failed.emit(str(error))

    @Slot(object)
    def _forget(self, job: Job) -> None:
        if self._job is job:
            self._job = None


def describe(options: dict[str, Any]) -> str:
    parts = []
    if options.get("model"):
        parts.append(str(options["model"]))
    if "strength" in options:
        parts.append(f"strength {round(float(options['strength']) * 100)} %")
    if options.get("scale", 1) not in (1, None):
        parts.append(f"×{options['scale']}")
    return ", ".join(parts)
