"""The main window: assembles the canvas, docks, menus and status bar around one `EditorSession`.

The session holds the document, undo stack, job runner and settings; behaviour lives in the controllers (files,
edits, compare) and panels, which take the session. This class builds them and wires their signals to the view. A new dock is one
`add_dock(...)` call: it gets a menu entry under Window and takes part in the saved layout.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from imagestudio import __version__
from imagestudio.core.image import SUPPORTED_SUFFIXES, Image
from imagestudio.core.runtime import expected_provider
from imagestudio.core.runtime_choice import set_requested
from imagestudio.ui import dialogs
from imagestudio.ui import help as help_pages
from imagestudio.ui.autosave import Autosaver
from imagestudio.ui.batch_dock import BatchDock
from imagestudio.ui.canvas import ImageCanvas
from imagestudio.ui.compare import CompareController
from imagestudio.ui.display import DisplayImage
from imagestudio.ui.document import Document
from imagestudio.ui.edit_controller import EditController
from imagestudio.ui.file_controller import FileController
from imagestudio.ui.gallery_dock import GalleryDock
from imagestudio.ui.history import HistoryDock
from imagestudio.ui.models_dock import ModelsDock
from imagestudio.ui.operations import EditRecord
from imagestudio.ui.operations_panel import OperationsPanel
from imagestudio.ui.preview import PreviewRegion, preview_region
from imagestudio.ui.session import EditorSession
from imagestudio.ui.settings import WINDOW_STATE_VERSION, AppSettings
from imagestudio.ui.settings_dialog import SettingsDialog, apply_theme
from imagestudio.ui.shortcuts import sequences
from imagestudio.ui.status_bar import StatusBar
from imagestudio.ui.worker import Job, JobRunner

APP_NAME = "ImageStudio"
DEFAULT_SIDE_PANEL_WIDTH = 270  # History and Models share one narrow column: the canvas gets the rest


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.session = EditorSession(settings, self)
        self._shown: Document | None = None  # the document whose signals the view listens to
        self.canvas = ImageCanvas()
        self.setCentralWidget(self.canvas)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.compare = CompareController(self.canvas, self)
        self.files = FileController(self.session, self)
        self.edits = EditController(self.session, self)
        self.operations = OperationsPanel(self, self.settings.device)
        self.operations.enable_preview(self._preview_source, lambda: self.settings.tile)
        self.history_dock = HistoryDock(self.undo_stack, self)
        self.models_dock = ModelsDock(self.runner, self)
        self.gallery_dock = GalleryDock(self.session, self.files.open_untitled, self)
        self.batch_dock = BatchDock(self.session, self)
        self.autosave = Autosaver(self.session, self)  # the shown image and its history, written after every change
        self._window_menu = QMenu("&Window", self)
        self._help_dialogs: dict[str, help_pages.HelpDialog] = {}
        self._build_menus()
        self.addToolBar(self.operations.toolbar)
        self.addToolBar(self.compare.toolbar)
        self._default_layout()
        self._connect()
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.resizeDocks([self.history_dock], [DEFAULT_SIDE_PANEL_WIDTH], Qt.Orientation.Horizontal)
        self._restore_layout()
        self._update_title()
        self._update_actions()
        self._apply_cpu_request()

    # --- the session, under the names the window has always offered ------------------------------------------------
    @property
    def settings(self) -> AppSettings:
        return self.session.settings

    @property
    def document(self) -> Document | None:
        return self.session.document

    @property
    def undo_stack(self) -> QUndoStack:
        return self.session.undo_stack

    @property
    def runner(self) -> JobRunner:
        return self.session.runner

    def set_document(self, document: Document | None) -> None:
        self.session.set_document(document)

    # --- assembly ------------------------------------------------------------------------------------------------
    def add_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        """Adds a dock with a Window menu entry; give it an objectName so the saved layout can place it."""
        assert dock.objectName(), "docks need an objectName for saveState()"
        self.addDockWidget(area, dock)
        self.restoreDockWidget(dock)  # a dock added after the saved layout was restored still finds its place
        self._window_menu.addAction(dock.toggleViewAction())

    def _default_layout(self) -> None:
        """Canvas first: History and Models as tabs of one narrow right column, Gallery and Batch as tabs on the
        left that start hidden (Window menu, Ctrl+Shift+G / Ctrl+Shift+B). A layout the user changes is saved."""
        right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        self.add_dock(self.history_dock, right)
        self.add_dock(self.models_dock, right)
        self.tabifyDockWidget(self.history_dock, self.models_dock)
        self.history_dock.raise_()
        self.add_dock(self.gallery_dock, left)
        self.add_dock(self.batch_dock, left)
        self.tabifyDockWidget(self.gallery_dock, self.batch_dock)
        self.gallery_dock.raise_()
        self.gallery_dock.hide()
        self.batch_dock.hide()
        for dock, key in ((self.gallery_dock, "Ctrl+Shift+G"), (self.batch_dock, "Ctrl+Shift+B")):
            dock.toggleViewAction().setShortcut(QKeySequence(key))
            dock.visibilityChanged.connect(lambda visible, d=dock: visible and d.raise_())

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.files.open_action)
        file_menu.addMenu(self.files.recent_menu)
        file_menu.addSeparator()
        for action in (self.files.save_action, self.files.save_as_action, self.files.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.files.close_action)
        file_menu.addAction(self.files.quit_action)

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcuts(sequences("Ctrl+Z", QKeySequence.StandardKey.Undo))
        self.undo_action.triggered.connect(self.undo_stack.undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts(sequences("Ctrl+Shift+Z", QKeySequence.StandardKey.Redo))
        self.redo_action.triggered.connect(self.undo_stack.redo)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        self.save_preset_action = edit_menu.addAction("Save History as Preset…")
        self.save_preset_action.triggered.connect(lambda: self.edits.save_history_as_preset())
        self.apply_preset_action = edit_menu.addAction("Apply Preset…")
        self.apply_preset_action.triggered.connect(lambda: self.edits.apply_preset())
        edit_menu.addSeparator()
        preferences = edit_menu.addAction("Preferences…")
        preferences.setShortcuts(sequences("Ctrl+,", QKeySequence.StandardKey.Preferences))
        preferences.triggered.connect(self.show_preferences)

        view_menu = bar.addMenu("&View")
        self.zoom_in_action = self._view_action(
            view_menu, "Zoom &In", sequences("Ctrl++", "Ctrl+=", QKeySequence.StandardKey.ZoomIn), self.canvas.zoom_in)
        self.zoom_out_action = self._view_action(
            view_menu, "Zoom &Out", sequences("Ctrl+-", QKeySequence.StandardKey.ZoomOut), self.canvas.zoom_out)
        self.fit_action = self._view_action(view_menu, "&Fit to Window", sequences("Ctrl+0"), self.canvas.fit_to_window)
        self.actual_size_action = self._view_action(
            view_menu, "&Actual Size (100 %)", sequences("Ctrl+1"), self.canvas.actual_size)
        view_menu.addSeparator()
        for action in self.compare.actions:
            view_menu.addAction(action)
        view_menu.addAction(self.compare.reset_action)

        bar.addMenu(self.operations.menu)
        bar.addMenu(self._window_menu)
        help_menu = bar.addMenu("&Help")
        self.guide_action = help_menu.addAction("&User Guide")
        self.guide_action.setShortcuts(sequences("F1", QKeySequence.StandardKey.HelpContents))
        self.guide_action.triggered.connect(lambda: self.show_help("guide"))
        self.shortcuts_action = help_menu.addAction("&Keyboard Shortcuts")
        self.shortcuts_action.setShortcuts(sequences("Ctrl+/"))
        self.shortcuts_action.triggered.connect(lambda: self.show_help("shortcuts"))
        help_menu.addSeparator()
        help_menu.addAction("About ImageStudio").triggered.connect(
            lambda: dialogs.show_info(self, "About ImageStudio", f"ImageStudio {__version__}"))

    def _view_action(self, menu: QMenu, text: str, shortcuts: list[QKeySequence], slot) -> QAction:  # noqa: ANN001
        action = menu.addAction(text)
        action.setShortcuts(shortcuts)
        action.triggered.connect(lambda checked=False: slot())
        return action

    def _connect(self) -> None:
        canvas, status = self.canvas, self.status
        canvas.zoom_changed.connect(status.show_zoom)
        canvas.cursor_moved.connect(status.show_cursor)
        canvas.cursor_left.connect(status.clear_cursor)
        session = self.session
        self.runner.job_started.connect(self._job_started)
        # Bound slots, not lambdas: Qt drops them when the window goes, before its undo stack is destroyed.
        session.busy_changed.connect(self._update_actions)
        session.document_changed.connect(self._document_changed)
        session.message.connect(self.statusBar().showMessage)
        status.progress.cancel_requested.connect(self.runner.cancel_all)
        status.progress.pause_requested.connect(self.runner.pause_all)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.undo_stack.indexChanged.connect(self._update_actions)
        self.undo_stack.indexChanged.connect(self.autosave.schedule)
        self.undo_stack.cleanChanged.connect(self.autosave.schedule)
        self.operations.run_requested.connect(self.edits.run_operation)
        self.history_dock.save_preset_requested.connect(self.edits.save_history_as_preset)
        self.history_dock.apply_preset_requested.connect(self.edits.apply_preset)
        self.models_dock.models_changed.connect(self.operations.refresh_models)
        self.files.quit_requested.connect(self.close)
        self.edits.edit_landed.connect(self._edit_landed)

    # --- the document --------------------------------------------------------------------------------------------
    @Slot(object, object)
    def _document_changed(self, document: Document | None, _old: Document | None) -> None:
        old, self._shown = self._shown, document
        if old is not None:
            old.state_shown.disconnect(self._show_state)
            old.path_changed.disconnect(self._update_title)
        if document is None:
            self.canvas.set_image(None)
            self.compare.set_before(None)
            self.status.clear_image()
            self.history_dock.set_document_name(None)
        else:
            document.state_shown.connect(self._show_state)
            document.path_changed.connect(self._update_title)
            self.canvas.set_image(document.display)
            self.compare.set_before(document.display_of(document.original_state))
            self.status.show_image_size(document.display.width, document.display.height)
            self.history_dock.set_document_name(document.name)
            self.canvas.setFocus()
        self._update_title()
        self._update_actions()

    @Slot(int)
    def _show_state(self, state_id: int) -> None:
        assert self.document is not None
        display = self.document.cached_display(state_id)
        if display is not None:
            self._show_display(display)
            return
        # Clicking far back in the history undoes several entries at once: load only the state it ends on.
        QTimer.singleShot(0, lambda: self._load_state_display(state_id))

    def _load_state_display(self, state_id: int) -> None:
        document = self.document
        if document is None or document.current_state != state_id:
            return
        display = document.cached_display(state_id)
        if display is not None:
            self._show_display(display)
            return
        # A state undone to from far back: reading it from disk and converting it is worker work.
        job = Job("Loading the history state", lambda task: (state_id, document.load_display(state_id)))
        job.succeeded.connect(self._state_display_loaded)
        self.runner.submit(job)

    @Slot(object)
    def _state_display_loaded(self, loaded: tuple[int, DisplayImage]) -> None:
        state_id, display = loaded
        if self.document is None:
            return
        self.document.remember_display(state_id, display)
        if self.document.current_state == state_id:
            self._show_display(display)

    @Slot(object)
    def _edit_landed(self, record: EditRecord) -> None:
        self.status.show_models_used(record.models)
        self.compare.edit_landed()  # the before/after handle appears on the image

    def _show_display(self, display: DisplayImage) -> None:
        self.canvas.set_image(display, keep_view=True)
        self.status.show_image_size(display.width, display.height)

    @Slot()
    def _update_title(self) -> None:
        if self.document is None:
            self.setWindowTitle(APP_NAME)
            return
        marker = "" if self.undo_stack.isClean() else " •"  # unsaved changes
        self.setWindowTitle(f"{APP_NAME} — {self.document.name}{marker}")

    @Slot()
    def _update_actions(self) -> None:
        busy = self.runner.busy
        has_document = self.document is not None
        self.files.update_actions(has_document, busy)
        self.operations.set_enabled(has_document and not busy, has_document)
        self.undo_action.setEnabled(self.undo_stack.canUndo() and not busy)
        self.redo_action.setEnabled(self.undo_stack.canRedo() and not busy)
        self.undo_action.setText(f"&Undo {self.undo_stack.undoText()}".strip())
        self.redo_action.setText(f"&Redo {self.undo_stack.redoText()}".strip())
        self.history_dock.view.setEnabled(not busy)  # the edit running was computed from the shown state
        self.save_preset_action.setEnabled(self.undo_stack.index() > 0)
        self.apply_preset_action.setEnabled(has_document and not busy)
        self.history_dock.apply_button.setEnabled(has_document and not busy)
        self.models_dock.add_button.setEnabled(not busy)
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action, self.actual_size_action):
            action.setEnabled(has_document)

    def _preview_source(self) -> tuple[Image, PreviewRegion] | None:
        """What an operation's popover previews: the shown image and the part of it on screen (≤ 512²)."""
        document = self.document
        if document is None or self.runner.busy:
            return None
        image = document.image
        return image, preview_region(self.canvas.visible_image_rect(), image.width, image.height)

    # --- jobs ----------------------------------------------------------------------------------------------------
    @Slot(object)
    def _job_started(self, job: Job) -> None:
        self.status.progress.start(job.label, pausable=job.pausable)
        job.progressed.connect(self.status.progress.update_progress)
        job.done.connect(self._job_done)

    @Slot(object)
    def _job_done(self, job: Job) -> None:
        if not self.runner.busy:  # the runner forgets a job before this slot runs
            self.status.progress.finish()

    # --- help ----------------------------------------------------------------------------------------------------
    def show_help(self, page: str) -> help_pages.HelpDialog:
        """Non-modal, one window per page, rebuilt each time (the shortcuts follow the current actions)."""
        old = self._help_dialogs.pop(page, None)
        if old is not None:
            old.close()
            old.deleteLater()
        dialog = help_pages.shortcuts_dialog(self) if page == "shortcuts" else help_pages.user_guide_dialog(self)
        self._help_dialogs[page] = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    # --- settings and layout -------------------------------------------------------------------------------------
    def show_preferences(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            dialog.apply()
            self.apply_settings()

    def apply_settings(self) -> None:
        apply_theme(self.settings.get("ui/theme_follows_system"))
        self.operations.set_default_device(self.settings.device)
        if self.document is not None:
            self.document.set_memory_limit(self.settings.history_limit_bytes)
        self._apply_cpu_request()

    def _apply_cpu_request(self) -> None:
        """The CPU backend/precision setting becomes the core's request: sessions made from now on follow it."""
        request = self.settings.cpu_request
        set_requested(request.backend, request.precision)
        self.status.show_expected_device(self.settings.device, expected_provider(self.settings.device))

    def _restore_layout(self) -> None:
        geometry = self.settings.get("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.settings.get("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, WINDOW_STATE_VERSION)  # a layout from another version is ignored

    def save_layout(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState(WINDOW_STATE_VERSION))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.files.confirm_quit():
            event.ignore()
            return
        self.runner.cancel_all()
        self.operations.stop_preview()
        self.operations.preview.wait(10_000)
        self.batch_dock.shutdown()  # finished files stay in its manifest: a rerun resumes
        self.runner.wait(10_000)
        self.autosave.shutdown()  # a clean exit: nothing to offer at the next start
        self.save_layout()
        if self.document is not None:
            self.document.close()
        event.accept()

    # --- drag and drop -------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _dropped_image(event.mimeData().urls()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_image(event.mimeData().urls())
        if path is not None:
            event.acceptProposedAction()
            self.files.open_path(path)


def _dropped_image(urls: list[QUrl]) -> Path | None:
    for url in urls:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                return path
    return None
