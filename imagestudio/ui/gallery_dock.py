"""The Gallery dock: generate a grid of GAN images, blend two of them, make variations, open one as a new document.

A thin layer over imagestudio.core.gallery. Every model run is a Job on the window's runner (status-bar progress
and Cancel for free); results arrive a chunk at a time through a queued signal, so the grid fills while the rest is
still being drawn and the GUI thread only adds thumbnails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from imagestudio.core.batch.naming import free_name
from imagestudio.core.gallery import GAN, PHOTO, GalleryItem, blend_items, generate_items, variation_items
from imagestudio.core.image import Image, save_image
from imagestudio.core.progress import Task
from imagestudio.ui import dialogs
from imagestudio.ui.gallery_model import GalleryModel, GalleryView
from imagestudio.ui.session import EditorSession
from imagestudio.ui.worker import Job

# Opens a picture as a new untitled document (asking about unsaved changes first); False when it did not.
OpenUntitled = Callable[[Image, str], bool]

_MAX_SEED = 2**31 - 1  # QSpinBox holds a C int
_VARIATION_SEED_BASE = 1_000_000  # variation directions: far from the grid's own seeds


class GalleryDock(QDockWidget):
    items_arrived = Signal(str, object)  # "grid" | "strip", list[GalleryItem]; emitted on worker threads

    def __init__(self, session: EditorSession, open_untitled: OpenUntitled, parent: QWidget | None = None) -> None:
        super().__init__("Gallery", parent)
        self.setObjectName("GalleryDock")
        self._session = session
        self._open_untitled = open_untitled
        self._next_seed = 0  # where "More like this" continues the grid
        self._variation_seed = _VARIATION_SEED_BASE
        self._active: GalleryView | None = None  # the view clicked last: Open/Save act on its selection
        self._job_label = ""
        self._results_from: int | None = None  # the grid row where the running job's results begin

        self.count = QSpinBox()
        self.count.setRange(1, 256)
        self.count.setValue(16)
        self.seed = QSpinBox()
        self.seed.setRange(0, _MAX_SEED)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Fill the grid with new images from the GAN, starting at this seed")
        self.more_button = QPushButton("More like this")
        self.more_button.setToolTip("Images near the selected one; with nothing selected, the next seeds")
        self.grid = GalleryView(GalleryModel(self))
        self.grid.setObjectName("GalleryGrid")
        self.steps = QSpinBox()
        self.steps.setRange(2, 32)
        self.steps.setValue(8)
        self.blend_button = QPushButton("Blend")
        self.blend_button.setToolTip("Select two images: an interpolation strip between them")
        self.strip = GalleryView(GalleryModel(self), strip=True)
        self.strip.setObjectName("BlendStrip")
        self.keep_button = QPushButton("Keep frame")
        self.keep_button.setToolTip("Add the selected blend frames to the grid")
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(30)
        self.strength_label = QLabel()
        self.vary_button = QPushButton("Variations")
        # The generators know one small domain (the gallery's own images); a photo would come back as a blur of it.
        self.vary_button.setToolTip("Variations of the selected gallery image through the VAE")
        self.open_button = QPushButton("Open in canvas")
        self.save_button = QPushButton("Save selected…")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self._layout()

        self.generate_button.clicked.connect(lambda: self.generate())
        self.more_button.clicked.connect(lambda: self.more_like_this())
        self.blend_button.clicked.connect(lambda: self.blend())
        self.keep_button.clicked.connect(self.keep_frames)
        self.vary_button.clicked.connect(lambda: self.vary_selected())
        self.open_button.clicked.connect(lambda: self.open_selected())
        self.save_button.clicked.connect(lambda: self.save_selected())
        self.strength.valueChanged.connect(self._show_strength)
        self.items_arrived.connect(self._add_items)
        for view in (self.grid, self.strip):
            view.selectionModel().selectionChanged.connect(lambda *_, v=view: self._selected_in(v))
        session.busy_changed.connect(self.update_buttons)
        session.undo_stack.indexChanged.connect(self.update_buttons)
        self._show_strength(self.strength.value())
        self.update_buttons()

    def _layout(self) -> None:
        top = QGridLayout()  # two short rows, so the dock can stay narrow beside the canvas
        top.addWidget(QLabel("Count"), 0, 0)
        top.addWidget(self.count, 0, 1)
        top.addWidget(QLabel("Seed"), 0, 2)
        top.addWidget(self.seed, 0, 3)
        top.addWidget(self.generate_button, 1, 0, 1, 2)
        top.addWidget(self.more_button, 1, 2, 1, 2)
        blend = QHBoxLayout()
        for widget in (self.blend_button, QLabel("Steps"), self.steps, self.keep_button):
            blend.addWidget(widget)
        vary = QGridLayout()
        vary.addWidget(QLabel("Strength"), 0, 0)
        vary.addWidget(self.strength, 0, 1)
        vary.addWidget(self.strength_label, 0, 2)
        vary.addWidget(self.vary_button, 1, 0, 1, 3)
        actions = QHBoxLayout()
        actions.addWidget(self.open_button)
        actions.addWidget(self.save_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)
        layout.addLayout(blend)
        layout.addWidget(self.strip)
        layout.addLayout(vary)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.setWidget(body)

    # --- state ---------------------------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._session.settings.device

    def _show_strength(self, value: int) -> None:
        self.strength_label.setText(f"{value / 100:.2f}")

    def _selected_in(self, view: GalleryView) -> None:
        if view.selectionModel().hasSelection():
            self._active = view
        self.update_buttons()

    def active_items(self) -> list[GalleryItem]:
        """The selection of the view clicked last (grid or strip), else of the grid."""
        for view in (self._active, self.grid, self.strip):
            if view is not None and view.selected_items():
                return view.selected_items()
        return []

    @Slot()
    def update_buttons(self, *_: object) -> None:
        idle = not self._session.busy
        grid = self.grid.selected_items()
        self.generate_button.setEnabled(idle)
        self.more_button.setEnabled(idle and (self.grid.gallery_model().rowCount() > 0 or len(grid) == 1))
        self.blend_button.setEnabled(idle and len(grid) == 2)
        self.keep_button.setEnabled(bool(self.strip.selected_items()))
        active = self.active_items()
        self.vary_button.setEnabled(idle and len(active) == 1 and active[0].space != PHOTO)
        self.open_button.setEnabled(idle and len(self.active_items()) == 1)
        self.save_button.setEnabled(idle and bool(self.active_items()))

    # --- jobs ----------------------------------------------------------------------------------------------------
    def _start(self, label: str, target: str, work: Callable[..., list[GalleryItem]]) -> Job | None:
        """Runs `work(on_items, task)` on the window's runner; chunks go to the grid or the strip."""
        if self._session.busy:
            self.message.setText("Wait for the current job to finish, or cancel it")
            return None

        def run(task: Task) -> int:
            items = work(lambda chunk: self.items_arrived.emit(target, chunk), task)
            return len(items)

        return self._submit(Job(label, run, pausable=True))

    def _submit(self, job: Job) -> Job:
        # Bound slots, not lambdas: they run queued on the GUI thread, whatever thread the job finishes on.
        job.succeeded.connect(self._job_succeeded)
        job.failed.connect(self._job_failed)
        job.cancelled.connect(self._job_cancelled)
        self._job_label = job.label
        self._results_from = None
        self.message.setText(f"{job.label}…")
        return self._session.runner.submit(job)

    @Slot(object)
    def _job_succeeded(self, result: object) -> None:
        if isinstance(result, int):
            self.message.setText(f"{self._job_label}: {result} image{'s' * (result != 1)}")
        elif isinstance(result, list):
            self.message.setText(f"Saved {len(result)} image{'s' * (len(result) != 1)}"
                                 + (f" to {result[0].parent}" if result else ""))

    @Slot(object, str)
    def _job_failed(self, error: Exception, details: str) -> None:
        self.message.setText(f"{self._job_label} failed")
        dialogs.show_error(self, f"{self._job_label} failed", str(error), details)

    @Slot()
    def _job_cancelled(self) -> None:
        self.message.setText(f"{self._job_label} was cancelled")

    @Slot(str, object)
    def _add_items(self, target: str, items: list[GalleryItem]) -> None:
        view = self.grid if target == "grid" else self.strip
        model = view.gallery_model()
        if self._results_from is None:  # the job's first chunk: its results start here
            self._results_from = model.rowCount()
        model.add(items)
        if view is self.grid and self._results_from > 0:
            # Added below what the grid showed: select the new images and bring the first into view, so it is
            # plain that something happened.
            view.select_rows(list(range(self._results_from, model.rowCount())))
            view.scrollTo(model.index(self._results_from, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        self.update_buttons()

    def generate(self) -> Job | None:
        """A fresh grid of `count` images from seed `seed`."""
        count, seed, device = self.count.value(), self.seed.value(), self.device
        self.grid.gallery_model().clear()
        self._next_seed = seed + count
        return self._start("Generate", "grid", lambda on_items, task: generate_items(
            count, seed, device=device, on_items=on_items, task=task))

    def more_like_this(self) -> Job | None:
        """Near the one selected GAN image (in the GAN's own latent space); else the grid's next seeds."""
        count, device = self.count.value(), self.device
        selected = self.grid.selected_items()
        if len(selected) == 1:
            source, strength, seed = selected[0], self.strength.value() / 100, self._take_variation_seeds(count)
            return self._start("More like this", "grid", lambda on_items, task: variation_items(
                source, count, strength, seed, gan_space=source.space == GAN, device=device, on_items=on_items,
                task=task))
        seed = self._next_seed
        self._next_seed += count
        return self._start("More images", "grid", lambda on_items, task: generate_items(
            count, seed, device=device, on_items=on_items, task=task))

    def blend(self) -> Job | None:
        selected = self.grid.selected_items()
        if len(selected) != 2:
            self.message.setText("Select exactly two images to blend")
            return None
        a, b = selected
        steps, device = self.steps.value(), self.device
        self.strip.gallery_model().clear()
        return self._start("Blend", "strip", lambda on_items, task: blend_items(
            a, b, steps, device=device, on_items=on_items, task=task))

    def vary_selected(self) -> Job | None:
        selected = self.active_items()
        if len(selected) != 1:
            self.message.setText("Select one image to vary")
            return None

        item = selected[0]
        if item.space == PHOTO:
            self.message.setText("Variations work on gallery images only")
            return None
        return self._vary(lambda: item)

    def _vary(self, source: Callable[[], GalleryItem]) -> Job | None:
        count, strength, device = self.count.value(), self.strength.value() / 100, self.device
        seed = self._take_variation_seeds(count)
        return self._start("Variations", "grid", lambda on_items, task: variation_items(
            source(), count, strength, seed, device=device, on_items=on_items, task=task))

    def _take_variation_seeds(self, count: int) -> int:
        seed = self._variation_seed
        self._variation_seed += count
        return seed

    # --- results -------------------------------------------------------------------------------------------------
    def keep_frames(self) -> None:
        frames = self.strip.selected_items()
        model = self.grid.gallery_model()
        first = model.rowCount()
        model.add(frames)
        if frames:
            self.grid.select_rows(list(range(first, model.rowCount())))
            self.grid.scrollTo(model.index(first, 0))
        self.update_buttons()

    def open_selected(self) -> bool:
        selected = self.active_items()
        if len(selected) != 1:
            self.message.setText("Select one image to open")
            return False
        item = selected[0]
        # A new untitled document, never an edit of the open photo (whose unsaved changes are asked about first).
        return self._open_untitled(item.image, file_stem(item))

    def save_selected(self, folder: Path | None = None) -> Job | None:
        items = self.active_items()
        if not items:
            return None
        if folder is None:
            folder = dialogs.ask_folder(self, "Save selected images to", self._session.settings.get("files/last_folder"))
            if folder is None:
                return None
        if self._session.busy:
            return None

        def write(task: Task) -> list[Path]:
            written: list[Path] = []
            for index, item in enumerate(items):
                task.check()
                task.report(index / len(items), f"saving {index + 1} of {len(items)}")
                target = free_name(Path(folder) / f"{file_stem(item)}.png", set())
                written.append(save_image(item.image, target))
            return written

        return self._submit(Job(f"Saving {len(items)} image{'s' * (len(items) != 1)}", write))


def file_stem(item: GalleryItem) -> str:
    """'seed-7', 'blend-3-8', 'variation-of-seed-7-1000002': names that say how to make the image again."""
    words = item.title if item.recipe.startswith("GAN seed") else item.recipe
    stem = re.sub(r"[^A-Za-z0-9]+", "-", words).strip("-").lower()
    return stem[:80] or "image"
