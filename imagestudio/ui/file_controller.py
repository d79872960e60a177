"""Open, Save, Save As, Export, Close and Quit, with the recent-files menu and the unsaved-changes prompt.

Loading and saving run on the worker (a 24 MP PNG takes seconds); the window only reacts to the results.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from imagestudio.core.errors import ImageTooLargeError
from imagestudio.core.image import Image, load_image, save_image
from imagestudio.ui import dialogs
from imagestudio.ui.dialogs import SAVE_FORMATS, SaveTarget, format_for_suffix
from imagestudio.ui.display import DisplayImage, build_display
from imagestudio.ui.document import Document
from imagestudio.ui.shortcuts import sequences
from imagestudio.ui.worker import Job

if TYPE_CHECKING:
    from imagestudio.ui.main_window import MainWindow


def _load(path: Path, max_pixels: int) -> tuple[Image, DisplayImage]:
    image = load_image(path, max_pixels=max_pixels)
    return image, build_display(image)


class FileController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._after_save: str | None = None  # "close" or "quit": what a Save chosen in the unsaved prompt unblocks
        self._export_target: SaveTarget | None = None
        self._pending_open: Path | None = None
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
        self.quit_action = self._action("&Quit", sequences("Ctrl+Q", standard.Quit), window.close)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)

    def _action(self, text: str, shortcuts: list[QKeySequence], slot) -> QAction:  # noqa: ANN001
        action = QAction(text, self._window)
        action.setShortcuts(shortcuts)
        action.triggered.connect(lambda checked=False: slot())
        return action

    def update_actions(self, has_document: bool, busy: bool) -> None:
        self.open_action.setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        for action in (self.save_action, self.save_as_action, self.export_action, self.close_action):
            action.setEnabled(has_document and not busy)

    # --- open ----------------------------------------------------------------------------------------------------
    def ask_open(self) -> None:
        folder = self._window.settings.get("files/last_folder")
        path = dialogs.ask_open_image(self._window, folder)
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path) -> Job | None:
        """Loads on the worker; the current document is replaced only when the new one loaded."""
        if self._window.runner.busy:
            self._window.statusBar().showMessage("Wait for the current job to finish, or cancel it", 5000)
            return None
        if not self._confirm_discard("open", pending_open=Path(path)):
            return None
        path = Path(path)
        limit = self._window.settings.max_pixels
        job = Job(f"Opening {path.name}", lambda progress, cancel: _load(path, limit))
        job.succeeded.connect(self._opened)
        job.failed.connect(self._open_failed)
        self._opening = path
        return self._window.runner.submit(job)  # started only once every signal is connected

    @Slot(object)
    def _opened(self, result: tuple[Image, DisplayImage]) -> None:
        image, display = result
        path = self._opening
        assert path is not None
        document = Document(image, display, path, self._window.settings.history_limit_bytes)
        self._window.set_document(document)
        self._remember(path)
        if image.meta.frame_count > 1:  # said, not silently dropped: edits and saves work on this one frame
            self._window.statusBar().showMessage(
                f"{path.name} is animated: showing frame 1 of {image.meta.frame_count}; "
                "edits and saves use this frame only", 15000)

    @Slot(object, str)
    def _open_failed(self, error: Exception, details: str) -> None:
        message = str(error)
        if isinstance(error, ImageTooLargeError) and "limit" in message:
            message += ". The limit can be raised in Preferences (Largest image)."
        dialogs.show_error(self._window, "Could not open the image", message, details)

    def _remember(self, path: Path) -> None:
        settings = self._window.settings
        settings.add_recent_file(str(path.resolve()))
        settings.set("files/last_folder", str(path.resolve().parent))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self._window.settings.recent_files()
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
                lambda: self._window.settings.set("files/recent", []))

    # --- save ----------------------------------------------------------------------------------------------------
    def save(self) -> Job | None:
        document = self._window.document
        if document is None:
            return None
        if document.path is None:
            return self.save_as()
        settings = self._window.settings
        # Save means "write my edits over this file", so the core's guard against overwriting the input is lifted.
        target = SaveTarget(document.path, None, settings.get("output/quality"), settings.get("output/keep_metadata"))
        return self._start_save(target, becomes_document_path=True, overwrite=True)

    def save_as(self) -> Job | None:
        target = self._ask_target("Save As", suffix_tag="")
        return None if target is None else self._start_save(target, becomes_document_path=True, overwrite=True)

    def export(self) -> Job | None:
        target = self._ask_target("Export a Copy", suffix_tag="-edited")
        return None if target is None else self._start_save(target, becomes_document_path=False, overwrite=False)

    def _ask_target(self, title: str, suffix_tag: str) -> SaveTarget | None:
        document = self._window.document
        if document is None:
            return None
        settings = self._window.settings
        chosen = settings.get("output/format")
        source_format = format_for_suffix(document.path.suffix) if document.path else None
        fmt = (source_format or "PNG") if chosen == "same" else chosen
        base = document.path or Path(settings.get("files/last_folder") or Path.home()) / "untitled.png"
        suggested = base.with_name(f"{base.stem}{suffix_tag}{SAVE_FORMATS.get(fmt, '.png')}")
        return dialogs.ask_save_target(self._window, title, suggested, fmt, settings.get("output/quality"),
                                       settings.get("output/keep_metadata"))

    def _start_save(self, target: SaveTarget, *, becomes_document_path: bool, overwrite: bool) -> Job | None:
        document = self._window.document
        if document is None or self._window.runner.busy:
            return None
        state = document.current_state

        def write(progress, cancel) -> Path:  # noqa: ANN001
            progress(0.0, f"Saving {target.path.name}")
            return save_image(document.image_of(state), target.path, format=target.format, quality=target.quality,
                              keep_metadata=target.keep_metadata, overwrite_input=overwrite)

        job = Job(f"Saving {target.path.name}", write)
        self._saving_as_document = becomes_document_path
        self._saving_document = document
        self._saving_state = self._window.undo_stack.index()
        job.succeeded.connect(self._saved)
        job.failed.connect(self._save_failed)
        job.cancelled.connect(self._save_cancelled)
        return self._window.runner.submit(job)  # started only once every signal is connected

    @Slot(object)
    def _saved(self, path: Path) -> None:
        window = self._window
        self._remember(Path(path))
        if self._saving_as_document and self._saving_document is window.document:
            window.document.set_path(Path(path))
            if window.undo_stack.index() == self._saving_state:
                window.undo_stack.setClean()
        window.statusBar().showMessage(f"Saved {Path(path).name}", 5000)
        follow_up, self._after_save = self._after_save, None
        if follow_up == "quit":
            window.close()
        elif follow_up == "close":
            self.close_document()
        elif follow_up == "open" and self._pending_open is not None:
            path, self._pending_open = self._pending_open, None
            self.open_path(path)

    @Slot(object, str)
    def _save_failed(self, error: Exception, details: str) -> None:
        self._after_save = None
        self._pending_open = None
        dialogs.show_error(self._window, "Could not save the image", str(error), details)

    @Slot()
    def _save_cancelled(self) -> None:
        self._after_save = None
        self._pending_open = None

    # --- close ---------------------------------------------------------------------------------------------------
    def close_document(self) -> bool:
        if self._window.document is None:
            return True
        if not self._confirm_discard("close"):
            return False
        self._window.set_document(None)
        return True

    def confirm_quit(self) -> bool:
        """True when the window may close now; a chosen Save closes it once the save has finished."""
        return self._confirm_discard("quit")

    def _confirm_discard(self, then: str, pending_open: Path | None = None) -> bool:
        """True when there is nothing unsaved, or the user discards it. A Save starts saving and returns False."""
        window = self._window
        if window.document is None or window.undo_stack.isClean():
            return True
        choice = dialogs.ask_unsaved_changes(window, window.document.name)
        if choice == "discard":
            return True
        if choice == "save":
            self._after_save, self._pending_open = then, pending_open  # resumed once the save has finished
            if self.save() is None:  # Save As was cancelled
                self._after_save, self._pending_open = None, None
        return False
