"""Crash protection for the open image: after every history change the shown image and the history's steps are
written, off the GUI thread, to this session's folder in the user data folder (see autosave_store.py). A clean exit
removes it; the next start after a crash offers to restore it through `dialogs.ask_restore_session`.

Restoring reopens the original file and puts the autosaved image on top as one history entry that lists the edits,
so Undo still goes back to the photo as it was opened; without the original, the autosaved image opens on its own,
marked unsaved.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from imagestudio.core.errors import ImageStudioError
from imagestudio.core.image import Image, load_image
from imagestudio.core.pipeline import Step
from imagestudio.ui import dialogs
from imagestudio.ui.autosave_store import (
    AutosaveError,
    HistoryEntry,
    SessionFolder,
    Snapshot,
    orphaned_sessions,
    read_snapshot,
    remove_session,
)
from imagestudio.ui.display import DisplayImage, build_display
from imagestudio.ui.document import Document
from imagestudio.ui.history import EditCommand, commands
from imagestudio.ui.operations import EditRecord
from imagestudio.ui.session import EditorSession
from imagestudio.ui.worker import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Request:
    document: Document
    state: int
    source: Path | None
    name: str
    entries: list[HistoryEntry]


_CLEAR = object()  # nothing unsaved: drop what was autosaved


@dataclass(frozen=True)
class _Restored:
    folder: Path
    snapshot: Snapshot
    display: DisplayImage
    original: Image | None
    original_display: DisplayImage | None
    steps: tuple[Step, ...]


class Autosaver(QObject):
    written = Signal()  # after each completed write (tests wait on it; emitted from the writer thread)

    def __init__(self, session: EditorSession, parent: QWidget, root: Path | None = None) -> None:
        super().__init__(parent)
        self._editor = session
        self._parent = parent  # the restore question opens over it
        self._session = SessionFolder(root)
        self._root = self._session.root
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._lock = threading.Lock()
        self._pending: object | None = None  # the newest _Request or _CLEAR; older ones are skipped
        self._remove_after_write: Path | None = None  # a restored crash session, dropped once ours holds its work
        self._closed = False

    @property
    def folder(self) -> Path:
        return self._session.folder

    # --- writing -------------------------------------------------------------------------------------------------
    @Slot()
    def schedule(self) -> None:
        """Called on the GUI thread whenever the history changes: queue the newest state for writing."""
        editor = self._editor
        document = editor.document
        if document is None or editor.undo_stack.isClean():
            request: object = _CLEAR
        else:
            entries = [HistoryEntry(c.record.label, [{"op": s.op, "params": s.params} for s in c.record.steps])
                       for c in commands(editor.undo_stack)[: editor.undo_stack.index()]]
            request = _Request(document, document.current_state, document.path, document.name, entries)
        with self._lock:
            if self._closed:
                return
            self._pending = request
            self._writer.submit(self._drain)  # under the lock: shutdown() cannot slip in between

    def _drain(self) -> None:
        with self._lock:
            request, self._pending = self._pending, None
        if request is None:
            return  # a later call already wrote the newest state
        try:
            if request is _CLEAR:
                self._session.clear()
                return
            assert isinstance(request, _Request)
            image = request.document.image_of(request.state)
            self._session.write(Snapshot(image, request.source, request.name, request.entries))
        except (KeyError, ImageStudioError):
            return  # the state was forgotten meanwhile (a newer edit, a closed document): a newer request follows
        except OSError as exc:  # a full disk or a read-only home must never cost the user the app
            log.warning("could not autosave to %s: %s", self._session.folder, exc)
            return
        with self._lock:
            done, self._remove_after_write = self._remove_after_write, None
        if done is not None:
            remove_session(done)
        self.written.emit()

    def flush(self) -> None:
        """Waits for queued writes (tests)."""
        self._writer.submit(lambda: None).result()

    def shutdown(self) -> None:
        """A clean exit: stop writing and remove this session's folder."""
        with self._lock:
            self._closed = True
            self._pending = None
        self._writer.shutdown(wait=True, cancel_futures=True)
        self._session.remove()

    # --- restoring -----------------------------------------------------------------------------------------------
    def offer_restore(self) -> Job | None:
        """At start-up: if an earlier session ended without a clean exit, offer its image; restores on a worker."""
        sessions = orphaned_sessions(self._root, exclude=self._session.folder)
        if not sessions:
            return None
        latest = sessions[0]
        if not dialogs.ask_restore_session(self._parent, latest.summary()):
            remove_session(latest.folder)
            return None
        limit = self._editor.settings.max_pixels
        job = Job("Restoring the last session", lambda task: _load_restore(latest.folder, limit))
        job.succeeded.connect(self._restored)
        job.failed.connect(self._restore_failed)
        return self._editor.runner.submit(job)

    @Slot(object)
    def _restored(self, restored: _Restored) -> None:
        editor = self._editor
        snapshot = restored.snapshot
        if restored.original is not None and restored.original_display is not None:
            document = Document(restored.original, restored.original_display, snapshot.source,
                                editor.settings.history_limit_bytes)
            editor.set_document(document)
            after = document.add_state(snapshot.image, restored.display)
            labels = ", ".join(entry.label for entry in snapshot.entries) or "edits"
            record = EditRecord(f"Restored after a crash: {labels}", restored.steps)
            editor.undo_stack.push(EditCommand(document, document.original_state, after, record))
        else:
            editor.set_document(Document(snapshot.image, restored.display, snapshot.source,
                                         editor.settings.history_limit_bytes))
            editor.undo_stack.resetClean()  # unsaved: closing must ask, and the autosave must continue
        with self._lock:
            self._remove_after_write = restored.folder
        self.schedule()
        editor.show_message(f"Restored {snapshot.name} from the autosave", 10000)

    @Slot(object, str)
    def _restore_failed(self, error: Exception, details: str) -> None:
        dialogs.show_error(self._parent, "Could not restore the last session", str(error), details)


def _load_restore(folder: Path, max_pixels: int) -> _Restored:
    """Worker side: read the autosave, reopen the original file if it still loads, build the displays."""
    try:
        snapshot = read_snapshot(folder)
    except AutosaveError as exc:
        remove_session(folder)  # damaged: offering it again at every start would not help
        raise ImageStudioError(str(exc)) from exc
    original = None
    if snapshot.source is not None:
        try:
            original = load_image(snapshot.source, max_pixels=max_pixels)
        except ImageStudioError as exc:
            log.warning("restoring without the original: %s", exc)
    steps = _valid_steps(snapshot.entries)
    return _Restored(folder, snapshot, build_display(snapshot.image), original,
                     None if original is None else build_display(original), steps)


def _valid_steps(entries: list[HistoryEntry]) -> tuple[Step, ...]:
    """The history's steps, or none if any is unreadable: the file came from disk and the history dock describes
    each step, which must not fail later."""
    steps = []
    try:
        for entry in entries:
            for raw in entry.steps:
                step = Step(str(raw["op"]), dict(raw["params"]))
                step.parsed_params()
                steps.append(step)
    except (ImageStudioError, KeyError, TypeError, ValueError):
        return ()
    return tuple(steps)
