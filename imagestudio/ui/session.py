"""The editing session: what controllers and docks work on, instead of reaching into the main window.

It holds the open document, its undo stack, the job runner and the settings, and says when they change. The main
window only builds widgets around a session and wires its signals to the view (napari's `QtViewer(viewer)`,
krita-ai-diffusion's widgets bound to their model): no panel needs to know which window shows it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from imagestudio.ui.document import Document
from imagestudio.ui.settings import AppSettings
from imagestudio.ui.worker import Job, JobRunner


class EditorSession(QObject):
    document_changed = Signal(object, object)  # the new Document | None, the one it replaced (already closed)
    busy_changed = Signal(bool)
    message = Signal(str, int)  # a status line and how long it stays, in milliseconds

    def __init__(self, settings: AppSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.document: Document | None = None
        # Not a child of anything: QUndoStack's destructor emits indexChanged, which must not reach the slots of
        # objects halfway through their own destruction.
        self.undo_stack = QUndoStack()
        self.runner = JobRunner(self)
        self._job_label = ""
        self.runner.busy_changed.connect(self.busy_changed)
        self.runner.job_started.connect(self._job_started)

    @property
    def busy(self) -> bool:
        return self.runner.busy

    @property
    def job_label(self) -> str:
        """What the newest job started is called ("Opening photo.jpg"), for questions asked while it runs."""
        return self._job_label

    def _job_started(self, job: Job) -> None:
        self._job_label = job.label

    def set_document(self, document: Document | None) -> None:
        """Replaces the open document (None: close it); its history starts empty and clean."""
        old = self.document
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.document = document
        if old is not None:
            old.close()
        self.document_changed.emit(document, old)

    def show_message(self, text: str, milliseconds: int = 5000) -> None:
        self.message.emit(text, milliseconds)
