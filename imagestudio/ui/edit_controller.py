"""Runs edits (menu operations, presets) on the worker and turns each result into one undoable history entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from imagestudio.core.errors import ImageStudioError
from imagestudio.core.pipeline import Pipeline, Step
from imagestudio.core.progress import Task
from imagestudio.ui import dialogs
from imagestudio.ui.document import Document
from imagestudio.ui.history import EditCommand, history_pipeline, reachable_states
from imagestudio.ui.operations import EditOutcome, EditRecord, OperationSpec, build_steps, run_edit
from imagestudio.ui.session import EditorSession
from imagestudio.ui.worker import Job


class EditController(QObject):
    edit_landed = Signal(object)  # the EditRecord of an edit just pushed onto the history

    def __init__(self, session: EditorSession, parent: QWidget) -> None:
        super().__init__(parent)
        self._session = session
        self._parent = parent  # dialogs open over it
        self._pending: tuple[Document, int, str] | None = None  # document, state the edit started from, label

    @Slot(object, dict, str)
    def run_operation(self, spec: OperationSpec, options: dict[str, Any], device: str) -> Job | None:
        steps = build_steps(spec, options, device, self._session.settings.tile)
        return self.run_steps(spec.title, steps)

    def run_steps(self, label: str, steps: list[Step]) -> Job | None:
        session = self._session
        document = session.document
        if document is None or session.busy:
            return None
        before = document.current_state
        self._pending = (document, before, label)

        def work(task: Task) -> EditOutcome:
            return run_edit(document.image_of(before), label, steps, task)

        job = Job(label, work, pausable=True)
        job.succeeded.connect(self._edit_done)
        job.failed.connect(self._edit_failed)
        job.cancelled.connect(self._edit_cancelled)
        return session.runner.submit(job)  # started only once every signal is connected

    @Slot(object)
    def _edit_done(self, outcome: EditOutcome) -> None:
        pending, self._pending = self._pending, None
        session = self._session
        if pending is None or pending[0] is not session.document:
            return  # the document was closed while the edit ran
        document, before, _label = pending
        after = document.add_state(outcome.image, outcome.display)
        record: EditRecord = outcome.record
        session.undo_stack.push(EditCommand(document, before, after, record))  # push() shows it (redo)
        document.forget_unreachable(reachable_states(session.undo_stack))
        self.edit_landed.emit(record)

    @Slot(object, str)
    def _edit_failed(self, error: Exception, details: str) -> None:
        pending, self._pending = self._pending, None
        label = pending[2] if pending else "The edit"
        dialogs.show_error(self._parent, f"{label} failed", str(error), details)

    @Slot()
    def _edit_cancelled(self) -> None:
        pending, self._pending = self._pending, None
        label = pending[2] if pending else "The edit"
        self._session.show_message(f"{label} was cancelled; the image is unchanged", 5000)

    # --- presets: the history as a core Pipeline ------------------------------------------------------------------
    @Slot()
    def save_history_as_preset(self) -> Path | None:
        pipeline = history_pipeline(self._session.undo_stack)
        if not pipeline.steps:
            return None
        folder = self._session.settings.get("files/last_folder")
        path = dialogs.ask_preset_path(self._parent, for_saving=True, folder=folder)
        if path is None:
            return None
        if not path.suffix:
            path = path.with_suffix(".json")
        try:
            path.write_text(pipeline.to_json(), encoding="utf-8")
        except OSError as exc:
            dialogs.show_error(self._parent, "Could not save the preset", f"{path}: {exc.strerror or exc}")
            return None
        self._session.show_message(f"Saved preset {path.name} ({len(pipeline.steps)} steps)", 5000)
        return path

    @Slot()
    def apply_preset(self, path: Path | None = None) -> Job | None:
        if self._session.document is None:
            return None
        if path is None:
            path = dialogs.ask_preset_path(self._parent, for_saving=False,
                                           folder=self._session.settings.get("files/last_folder"))
            if path is None:
                return None
        try:
            pipeline = Pipeline.from_json(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            dialogs.show_error(self._parent, "Could not read the preset", f"{path}: {exc}")
            return None
        except ImageStudioError as exc:
            dialogs.show_error(self._parent, "Not a usable preset", f"{Path(path).name}: {exc}")
            return None
        if not pipeline.steps:
            return None
        return self.run_steps(f"Preset {Path(path).stem}", pipeline.steps)
