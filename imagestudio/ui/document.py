"""The open image and its history states: the model the undo commands call.

A state is an image plus its display pyramid. States live in a StateStore (bounded memory, older ones spilled to
disk); the display of the few most recent states is cached so undo/redo of the last edits is instant.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from imagestudio.core.image import Image
from imagestudio.ui.display import DisplayImage, build_display
from imagestudio.ui.history_store import StateStore

_DISPLAY_CACHE_SIZE = 4  # the current state, the original (for compare) and a couple either side


class Document(QObject):
    state_shown = Signal(int)  # the canvas should show this state
    path_changed = Signal()

    def __init__(self, image: Image, display: DisplayImage, path: Path | None, memory_limit_bytes: int,
                 parent: QObject | None = None, *, suggested_stem: str = "untitled") -> None:
        super().__init__(parent)
        self._store = StateStore(memory_limit_bytes)
        self._displays: OrderedDict[int, DisplayImage] = OrderedDict()
        self.path = path  # the file shown in the title: the opened file until Save As picks another
        self.source = path  # the file this document was opened from; never written without a separate yes
        # Whether Save may write to `path` without asking: only once the user chose it in Save As (and, for the
        # opened file itself, confirmed overwriting it). An opened photo's first Save is always a Save As.
        self.save_confirmed = False
        self.suggested_stem = suggested_stem  # the name Save As proposes for an untitled document
        self._decoded_from = image.meta.source_path
        self.original_state = self._add(image, display)
        self.current_state = self.original_state

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "Untitled"

    @property
    def image(self) -> Image:
        return self._store.get(self.current_state)

    def image_of(self, state_id: int) -> Image:
        """Safe on a worker thread: reading a spilled state back from disk belongs there."""
        return self._store.get(state_id)

    @property
    def display(self) -> DisplayImage:
        return self.display_of(self.current_state)

    def display_of(self, state_id: int) -> DisplayImage:
        """The display now, building it on this thread if it is not cached (prefer cached_display + load_display)."""
        display = self.cached_display(state_id)
        if display is None:
            display = self.load_display(state_id)
            self.remember_display(state_id, display)
        return display

    def cached_display(self, state_id: int) -> DisplayImage | None:
        display = self._displays.get(state_id)
        if display is not None:
            self._displays.move_to_end(state_id)
        return display

    def load_display(self, state_id: int) -> DisplayImage:
        """Safe on a worker thread; hand the result to remember_display on the GUI thread."""
        return build_display(self._store.get(state_id))

    def remember_display(self, state_id: int, display: DisplayImage) -> None:
        if state_id in self._store:
            self._cache_display(state_id, display)

    def add_state(self, image: Image, display: DisplayImage) -> int:
        """Stores an edit's result; the undo command that owns it shows it."""
        return self._add(image, display)

    def show_state(self, state_id: int) -> None:
        if state_id not in self._store:
            raise KeyError(f"history state {state_id} is gone")
        self.current_state = state_id
        self.state_shown.emit(state_id)

    def forget_unreachable(self, reachable: set[int]) -> None:
        keep = reachable | {self.original_state, self.current_state}
        self._store.retain(keep)
        for state_id in [sid for sid in self._displays if sid not in keep]:
            del self._displays[state_id]

    def set_path(self, path: Path) -> None:
        """The user saved to `path`: from now on Save writes there without asking."""
        self.path = path
        self.save_confirmed = True
        self.path_changed.emit()

    def is_source(self, path: Path) -> bool:
        """Whether `path` names the file this document (or the image's own metadata) was opened from."""
        sources = [self.source, self._decoded_from]
        return any(source is not None and _same_file(Path(source), path) for source in sources)

    def set_memory_limit(self, limit_bytes: int) -> None:
        self._store.set_limit(limit_bytes)

    @property
    def store(self) -> StateStore:
        return self._store

    def close(self) -> None:
        self._displays.clear()
        self._store.close()

    def _add(self, image: Image, display: DisplayImage) -> int:
        state_id = self._store.add(image)
        self._cache_display(state_id, display)
        return state_id

    def _cache_display(self, state_id: int, display: DisplayImage) -> None:
        self._displays[state_id] = display
        self._displays.move_to_end(state_id)
        original = getattr(self, "original_state", None)
        while len(self._displays) > _DISPLAY_CACHE_SIZE:
            oldest = next(sid for sid in self._displays if sid != original)
            del self._displays[oldest]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.absolute() == b.absolute()
