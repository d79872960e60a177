"""The main window: opening (menu, drop, recent), errors as dialogs, layout memory."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from ui_helpers import open_image, wait_idle
from imagestudio.ui.main_window import MainWindow
from imagestudio.ui.settings import AppSettings


def test_opening_shows_the_image_its_size_and_the_title(qtbot, window, make_photo):
    photo = make_photo("photo.png", 48, 32)
    open_image(qtbot, window, photo)
    assert window.windowTitle() == "ImageStudio — photo.png"
    assert window.canvas.display.width == 48
    assert window.status.size_label.text().startswith("48 × 32 px")
    assert window.status.zoom_label.text() == "100 %"
    assert window.settings.recent_files() == [str(photo.resolve())]
    assert window.operations.actions["denoise"].isEnabled()


def test_a_corrupt_file_shows_a_readable_error_and_nothing_breaks(qtbot, window, tmp_path, dialog_recorder):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a PNG")
    open_image(qtbot, window, broken)
    [(title, message)] = dialog_recorder.errors
    assert title == "Could not open the image" and "broken.png" in message
    assert window.document is None and window.windowTitle() == "ImageStudio"
    assert window.files.open_action.isEnabled()


def test_ctrl_o_asks_for_a_file_and_opens_it(qtbot, window, photo, dialog_recorder):
    dialog_recorder.open_image = photo
    window.files.open_action.trigger()
    wait_idle(qtbot, window)
    assert window.document is not None and window.document.path == photo


def test_dropping_an_image_on_the_window_opens_it(qtbot, window, photo):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    enter = QDragEnterEvent(QPoint(50, 50).toPointF(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(QPoint(50, 50).toPointF(), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # QApplication only delivers drop events during a real drag, so the handlers are called as Qt would.
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(drop)
    wait_idle(qtbot, window)
    assert window.document is not None and window.document.path == photo


def test_the_recent_menu_lists_opened_files_and_reopens_them(qtbot, window, make_photo):
    first, second = make_photo("first.png"), make_photo("second.png", seed=1)
    open_image(qtbot, window, first)
    open_image(qtbot, window, second)
    window.files._fill_recent_menu()
    entries = [a for a in window.files.recent_menu.actions() if a.text().endswith(".png")]
    assert [a.text() for a in entries] == ["second.png", "first.png"]
    entries[1].trigger()
    wait_idle(qtbot, window)
    assert window.document.path.name == "first.png"


def test_window_layout_is_saved_with_a_version_and_restored(qtbot, window):
    window.models_dock.hide()
    window.save_layout()
    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    again.show()
    assert not again.models_dock.isVisible()
    assert again.history_dock.isVisible()


def test_adding_a_dock_gives_it_a_window_menu_entry(qtbot, window):
    from PySide6.QtWidgets import QDockWidget

    dock = QDockWidget("Gallery")
    dock.setObjectName("GalleryDock")
    window.add_dock(dock, Qt.DockWidgetArea.LeftDockWidgetArea)
    assert dock.toggleViewAction() in window._window_menu.actions()


def test_closing_an_untouched_document_asks_nothing(qtbot, window, photo, dialog_recorder):
    open_image(qtbot, window, photo)
    assert window.files.close_document()
    assert window.document is None and not dialog_recorder.unsaved_prompts


def test_run_opens_the_file_given_on_the_command_line(qtbot, photo, monkeypatch):
    from imagestudio.ui import app as app_module

    windows = []
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    real_create = app_module.create_window
    monkeypatch.setattr(app_module, "create_window", lambda path: windows.append(real_create(path)) or windows[-1])
    assert app_module.run([str(photo)]) == 0
    window = windows[0]
    qtbot.addWidget(window)
    wait_idle(qtbot, window)
    assert window.windowTitle() == f"ImageStudio — {Path(photo).name}"


def test_every_shortcut_belongs_to_exactly_one_action(window):
    from PySide6.QtGui import QAction

    owners: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            key = sequence.toString()
            assert key not in owners, f"{key} is bound to both {owners[key]!r} and {action.text()!r}"
            owners[key] = action.text()
    for key in ("Ctrl+O", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+W", "Ctrl+Q", "Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+0",
                "Ctrl+1", "Ctrl++", "Ctrl+-", "Ctrl+E", "C", "\\", "V", "X"):
        assert key in owners, f"nothing answers {key}"
