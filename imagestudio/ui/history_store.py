"""Keeps every history state of one document within a memory budget.

The most recently used states stay in memory up to `limit_bytes`; the current state always does. Older ones are
written to a private temporary folder as .npy (on a background thread, so the GUI never waits for the disk) and read
back when the user undoes to them. No Qt here: it is plain storage the document model uses.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imagestudio.core.image import Image, ImageMeta

log = logging.getLogger(__name__)


@dataclass
class _State:
    meta: ImageMeta
    nbytes: int
    image: Image | None  # None once spilled
    rgb_path: Path | None = None
    alpha_path: Path | None = None
    has_alpha: bool = False
    spilling: Future | None = field(default=None, repr=False)


class StateStore:
    def __init__(self, limit_bytes: int, folder: Path | None = None) -> None:
        self._limit = limit_bytes
        self._parent_folder = folder
        self._folder: Path | None = None
        self._states: OrderedDict[int, _State] = OrderedDict()  # least recently used first
        self._next_id = 0
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-spill")

    # --- public -------------------------------------------------------------------------------------------------
    def add(self, image: Image) -> int:
        with self._lock:
            state_id = self._next_id
            self._next_id += 1
            nbytes = image.rgb.nbytes + (0 if image.alpha is None else image.alpha.nbytes)
            self._states[state_id] = _State(image.meta, nbytes, image, has_alpha=image.alpha is not None)
        self._enforce_limit()
        return state_id

    def get(self, state_id: int) -> Image:
        """The image of a state, read back from disk when it was spilled; it becomes the most recently used."""
        with self._lock:
            state = self._states[state_id]
            self._states.move_to_end(state_id)
            image = state.image
        if image is None:
            image = self._read(state)
            with self._lock:
                state.image = image  # its files stay: spilling it again only needs to drop the arrays
        self._enforce_limit()
        return image

    def __contains__(self, state_id: int) -> bool:
        return state_id in self._states

    def retain(self, keep: set[int]) -> None:
        """Forgets states no history entry can reach any more (a redo branch replaced by a new edit)."""
        with self._lock:
            dropped = [sid for sid in self._states if sid not in keep]
            states = [self._states.pop(sid) for sid in dropped]
        for state in states:
            self._delete_files(state)

    def set_limit(self, limit_bytes: int) -> None:
        self._limit = limit_bytes
        self._enforce_limit()

    @property
    def memory_bytes(self) -> int:
        with self._lock:
            return sum(s.nbytes for s in self._states.values() if s.image is not None)

    def in_memory(self, state_id: int) -> bool:
        with self._lock:
            return self._states[state_id].image is not None

    def flush(self) -> None:
        """Waits for pending spills (tests, and closing)."""
        with self._lock:
            pending = [s.spilling for s in self._states.values() if s.spilling is not None]
        for future in pending:
            future.result()

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        with self._lock:
            self._states.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # --- spilling -----------------------------------------------------------------------------------------------
    def _enforce_limit(self) -> None:
        with self._lock:
            held = sum(s.nbytes for s in self._states.values() if s.image is not None and s.spilling is None)
            newest = next(reversed(self._states), None)
            for state_id, state in self._states.items():  # least recently used first
                if held <= self._limit:
                    break
                if state_id == newest or state.image is None or state.spilling is not None:
                    continue
                held -= state.nbytes
                if state.rgb_path is not None:  # already on disk from an earlier spill
                    state.image = None
                else:
                    state.spilling = self._writer.submit(self._spill, state_id, state)

    def _spill(self, state_id: int, state: _State) -> None:
        image = state.image
        assert image is not None
        folder = self._ensure_folder()
        rgb_path = folder / f"state-{state_id}-rgb.npy"
        alpha_path = folder / f"state-{state_id}-alpha.npy"
        try:
            np.save(rgb_path, image.rgb)
            if image.alpha is not None:
                np.save(alpha_path, image.alpha)
        except OSError as exc:  # a full disk costs memory, not the user's history
            log.warning("could not write undo state to %s (%s); keeping it in memory", folder, exc)
            with self._lock:
                state.spilling = None
            return
        with self._lock:
            state.rgb_path = rgb_path
            state.alpha_path = alpha_path if image.alpha is not None else None
            state.spilling = None
            # Used again while it was being written? Then it stays in memory; its files serve the next spill.
            if state_id in self._states and next(reversed(self._states)) != state_id:
                state.image = None

    def _read(self, state: _State) -> Image:
        if state.spilling is not None:
            state.spilling.result()
        assert state.rgb_path is not None
        rgb = np.load(state.rgb_path)
        alpha = np.load(state.alpha_path) if state.alpha_path is not None else None
        return Image(rgb, alpha, state.meta)

    def _ensure_folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="imagestudio-history-", dir=self._parent_folder))
        return self._folder

    def _delete_files(self, state: _State) -> None:
        if state.spilling is not None:
            state.spilling.result()
        for path in (state.rgb_path, state.alpha_path):
            if path is not None:
                path.unlink(missing_ok=True)
