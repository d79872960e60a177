"""Open, Save, Save As, Export, Close and Quit, with the recent-files menu and the unsaved-changes prompt.

Loading and saving run on the worker (a 24 MP PNG takes seconds); the window only reacts to the results.

No photo is ever lost: Save on a document opened from a file is a Save As proposing `<stem>_edited.<ext>` beside it
until the user has chosen where this document goes; writing over the opened file takes a separate confirmation that
says when the format is lossy. The unsaved-changes prompt's Save follows the same rule, and whatever it interrupted
(Open, Close, Quit, opening a gallery image) resumes once the save has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from imagestudio.core.errors import ImageTooLargeError
from imagestudio.core.image import Image, load_image, save_image
from imagestudio.core.progress import Task
from imagestudio.ui import dialogs
from imagestudio.ui.dialogs import SAVE_FORMATS, SaveTarget, format_for_suffix
from imagestudio.ui.display import DisplayImage, build_display
from imagestudio.ui.document import Document
from imagestudio.ui.session import EditorSession
from imagestudio.ui.shortcuts import sequences
from imagestudio.ui.worker import Job


def _load(path: Path, max_pixels: int) -> tuple[Image, DisplayImage]:
    image = load_image(path, max_pixels=max_pixels)
    return image, build_display(image)


class FileController(QObject):
    quit_requested = Signal()  # Quit, or a Save chosen in the quit prompt that has finished: the window closes

    def __init__(self, session: EditorSession, parent: QWidget) -> None:
        super().__init__(parent)
        self._session = session
        self._parent = parent  # dialogs and actions belong to it
        self._resume: Callable[[], object] | None = None  # what a Save chosen in the unsaved prompt unblocks
        self._opening: Path | None = None
        self._saving_document: Document | None = None
        self._saving_as_document = False
        self._saving_state = 0
        standard = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", sequences("Ctrl+O", standard.Open), self.ask_open)
        self.save_action = self._action("&Save", sequences("Ctrl+S", standard.Save), self.save)
        self.save_as_action = self._action("Save &As…", sequences("Ctrl+Shift+S", standard.SaveAs), self.save_as)
        self.export_action = self._action("&Export a Copy…", sequences("Ctrl+Alt+E"), self.export)
        self.close_action = self._action("&Close", sequences("Ctrl+W", standard.Close), self.close_document)
        self.quit_action = self._action("&Quit", sequences("Ctrl+Q", standard.Quit), self.quit_requested.emit)
        self.save_action.setStatusTip("Save the edits; an opened photo's first save asks for a new name")
        self.save_as_action.setStatusTip("Save under a new name, proposed beside the original")
        self.export_action.setStatusTip("Write a copy without changing where Save writes")
        self.recent_menu = QMenu("Open &Recent", parent)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)

    def _action(self, text: str, shortcuts: list[QKeySequence], slot) -> QAction:  # noqa: ANN001
        action = QAction(text, self._parent)
        action.setShortcuts(shortcuts)
        action.triggered.connect(lambda checked=False: slot())
        return action

    def update_actions(self, has_document: bool, busy: bool) -> None:
        self.open_action.setEnabled(True)  # during a job, Open asks whether to wait for it or cancel it
        self.recent_menu.setEnabled(True)
        for action in (self.save_action, self.save_as_action, self.export_action, self.close_action):
            action.setEnabled(has_document and not busy)

    # --- open ----------------------------------------------------------------------------------------------------
    def ask_open(self) -> None:
        folder = self._session.settings.get("files/last_folder")
        path = dialogs.ask_open_image(self._parent, folder)
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path) -> Job | None:
        """Loads on the worker; the current document is replaced only when the new one loaded.

        During a job the user is asked: open it when the job has finished (queued), or cancel the job and open."""
        path = Path(path)
        runner = self._session.runner
        if runner.busy:
            choice = dialogs.ask_open_while_busy(self._parent, path.name, self._session.job_label)
            if choice == "cancel":
                return None
            if choice == "stop":
                runner.cancel_all()
            runner.call_when_idle(lambda: self.open_path(path))
            self._session.show_message(
                f"{path.name} opens when the current job has {'stopped' if choice == 'stop' else 'finished'}", 10_000)
            return None
        if not self.confirm_discard(lambda: self.open_path(path)):
            return None
        limit = self._session.settings.max_pixels
        job = Job(f"Opening {path.name}", lambda task: _load(path, limit))
        job.succeeded.connect(self._opened)
        job.failed.connect(self._open_failed)
        self._opening = path
        return runner.submit(job)  # started only once every signal is connected

    @Slot(object)
    def _opened(self, result: tuple[Image, DisplayImage]) -> None:
        image, display = result
        path = self._opening
        assert path is not None
        document = Document(image, display, path, self._session.settings.history_limit_bytes)
        self._session.set_document(document)
        self._remember(path)
        if image.meta.frame_count > 1:  # said, not silently dropped: edits and saves use this one frame
            self._session.show_message(
                f"{path.name} is animated: showing frame 1 of {image.meta.frame_count}; "
                "edits and saves use this frame only", 15000)

    @Slot(object, str)
    def _open_failed(self, error: Exception, details: str) -> None:
        message = str(error)
        if isinstance(error, ImageTooLargeError) and "limit" in message:
            message += ". The limit can be raised in Preferences (Largest image)."
        dialogs.show_error(self._parent, "Could not open the image", message, details)

    def open_untitled(self, image: Image, suggested_stem: str) -> bool:
        """A picture made in the app (a gallery image, a variation) as a new untitled document: never an edit of
        the open photo. Asks about unsaved changes first; False when the user kept the current document."""
        session = self._session
        if session.busy:
            session.show_message("Wait for the current job to finish, or cancel it", 5000)
            return False
        if not self.confirm_discard(lambda: self.open_untitled(image, suggested_stem)):
            return False
        image = image.with_pixels(image.rgb.copy(), None if image.alpha is None else image.alpha.copy())
        display = build_display(image)  # gallery images are small: cheap enough for the GUI thread
        session.set_document(Document(image, display, None, session.settings.history_limit_bytes,
                                      suggested_stem=suggested_stem))
        return True

    def _remember(self, path: Path) -> None:
        settings = self._session.settings
        settings.add_recent_file(str(path.resolve()))
        settings.set("files/last_folder", str(path.resolve().parent))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self._session.settings.recent_files()
        for file in files:
            action = self.recent_menu.addAction(Path(file).name)
            action.setToolTip(file)
            action.setStatusTip(file)
            action.triggered.connect(lambda checked=False, f=file: self.open_path(Path(f)))
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu").triggered.connect(
                lambda: self._session.settings.set("files/recent", []))

    # --- save ----------------------------------------------------------------------------------------------------
    def save(self) -> Job | None:
        """Writes to the document's file only once the user chose it in Save As; otherwise this is Save As."""
        document = self._session.document
        if document is None:
            return None
        if document.path is None or not document.save_confirmed:
            return self.save_as()
        settings = self._session.settings
        target = SaveTarget(document.path, None, settings.get("output/quality"), settings.get("output/keep_metadata"))
        # Writing over the opened file was confirmed when the user chose it in Save As.
        return self._start_save(target, becomes_document_path=True, overwrite=document.is_source(document.path))

    def save_as(self) -> Job | None:
        document = self._session.document
        target = self._ask_target("Save As")
        if document is None or target is None:
            return None
        overwrite = document.is_source(target.path)
        if overwrite and not self._confirm_overwrite(target):
            return None
        return self._start_save(target, becomes_document_path=True, overwrite=overwrite)

    def export(self) -> Job | None:
        document = self._session.document
        target = self._ask_target("Export a Copy")
        if document is None or target is None:
            return None
        overwrite = document.is_source(target.path)
        if overwrite and not self._confirm_overwrite(target):
            return None
        return self._start_save(target, becomes_document_path=False, overwrite=overwrite)

    def proposed_path(self) -> Path:
        """Where Save As starts: `<stem>_edited.<ext>` beside the opened photo (a name not taken yet), the file
        this document was saved to, or `<suggested stem>.png` in the last folder for an untitled picture."""
        document = self._session.document
        assert document is not None
        settings = self._session.settings
        chosen = settings.get("output/format")
        source_format = format_for_suffix(document.path.suffix) if document.path else None
        fmt = (source_format or "PNG") if chosen == "same" else chosen
        suffix = SAVE_FORMATS.get(fmt, ".png")
        if document.path is None:
            folder = Path(settings.get("files/last_folder") or Path.home())
            return _free_path(folder / f"{document.suggested_stem}{suffix}")
        if document.save_confirmed and not document.is_source(document.path):
            return document.path.with_suffix(suffix)  # the user's own copy: Save As starts from it
        return _free_path(document.path.with_name(f"{document.path.stem}_edited{suffix}"))

    def _ask_target(self, title: str) -> SaveTarget | None:
        if self._session.document is None:
            return None
        settings = self._session.settings
        suggested = self.proposed_path()
        fmt = format_for_suffix(suggested.suffix) or "PNG"
        return dialogs.ask_save_target(self._parent, title, suggested, fmt, settings.get("output/quality"),
                                       settings.get("output/keep_metadata"))

    def _confirm_overwrite(self, target: SaveTarget) -> bool:
        fmt = target.format or format_for_suffix(target.path.suffix) or target.path.suffix.lstrip(".").upper()
        return dialogs.confirm_overwrite_original(self._parent, target.path.name, fmt, target.quality)

    def _start_save(self, target: SaveTarget, *, becomes_document_path: bool, overwrite: bool) -> Job | None:
        document = self._session.document
        if document is None or self._session.runner.busy:
            return None
        state = document.current_state

        def write(task: Task) -> Path:
            task.report(0.0, f"Saving {target.path.name}")
            return save_image(document.image_of(state), target.path, format=target.format, quality=target.quality,
                              keep_metadata=target.keep_metadata, overwrite_input=overwrite)

        job = Job(f"Saving {target.path.name}", write)
        self._saving_as_document = becomes_document_path
        self._saving_document = document
        self._saving_state = self._session.undo_stack.index()
        job.succeeded.connect(self._saved)
        job.failed.connect(self._save_failed)
        job.cancelled.connect(self._save_cancelled)
        return self._session.runner.submit(job)  # started only once every signal is connected

    @Slot(object)
    def _saved(self, path: Path) -> None:
        session = self._session
        self._remember(Path(path))
        if self._saving_as_document and self._saving_document is session.document:
            session.document.set_path(Path(path))
            if session.undo_stack.index() == self._saving_state:
                session.undo_stack.setClean()
        session.show_message(f"Saved {Path(path).name}", 5000)
        resume, self._resume = self._resume, None
        if resume is not None:  # the Open/Close/Quit that asked for this save, once the save job is gone
            session.runner.call_when_idle(resume)

    @Slot(object, str)
    def _save_failed(self, error: Exception, details: str) -> None:
        self._resume = None
        dialogs.show_error(self._parent, "Could not save the image", str(error), details)

    @Slot()
    def _save_cancelled(self) -> None:
        self._resume = None

    # --- close ---------------------------------------------------------------------------------------------------
    def close_document(self) -> bool:
        if self._session.document is None:
            return True
        if not self.confirm_discard(self.close_document):
            return False
        self._session.set_document(None)
        return True

    def confirm_quit(self) -> bool:
        """True when the window may close now; a chosen Save closes it once the save has finished."""
        return self.confirm_discard(self.quit_requested.emit)

    def confirm_discard(self, resume: Callable[[], object]) -> bool:
        """True when there is nothing unsaved, or the user discards it. A Save starts saving (a Save As for a
        photo not yet saved under a name of the user's choosing) and returns False; `resume` runs once it has
        been written. Cancel, here or in the Save As, returns False and drops `resume`."""
        session = self._session
        if session.document is None or session.undo_stack.isClean():
            return True
        choice = dialogs.ask_unsaved_changes(self._parent, session.document.name)
        if choice == "discard":
            return True
        if choice == "save":
            self._resume = resume
            if self.save() is None:  # Save As or the overwrite question was cancelled
                self._resume = None
        return False


def _free_path(path: Path) -> Path:
    """`path`, or `<stem>-2<ext>`, `<stem>-3<ext>`... : the first that does not exist yet."""
    candidate, number = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate
