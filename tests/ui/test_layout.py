"""Canvas first: the default layout gives the canvas most of the window; Gallery and Batch are tabs that start
hidden and are remembered once the user shows them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from imagestudio.ui.main_window import MainWindow
from imagestudio.ui.settings import AppSettings


def shown_window(qtbot) -> MainWindow:
    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_default_layout_gives_the_canvas_most_of_the_window(qtbot, window):
    assert window.size().width() == 1280
    assert not window.gallery_dock.isVisible() and not window.batch_dock.isVisible()
    assert window.canvas.width() >= 0.7 * window.width(), f"canvas {window.canvas.width()} of {window.width()}"
    assert window.canvas.height() >= 0.75 * window.height()
    assert window.tabifiedDockWidgets(window.history_dock) == [window.models_dock]
    # History's tab in front (Qt keeps a back tab "visible" but moves it off screen: nothing of it is painted).
    assert not window.history_dock.visibleRegion().isEmpty() and window.models_dock.visibleRegion().isEmpty()


def test_gallery_and_batch_are_tabs_one_shortcut_away_and_remembered(qtbot, window):
    gallery, batch = window.gallery_dock.toggleViewAction(), window.batch_dock.toggleViewAction()
    assert gallery.shortcut().toString() == "Ctrl+Shift+G" and batch.shortcut().toString() == "Ctrl+Shift+B"
    assert gallery in window._window_menu.actions() and batch in window._window_menu.actions()
    gallery.trigger()
    qtbot.waitUntil(window.gallery_dock.isVisible)
    assert window.dockWidgetArea(window.gallery_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    batch.trigger()
    qtbot.waitUntil(window.batch_dock.isVisible)  # shown in front of the Gallery, as its neighbouring tab
    assert window.tabifiedDockWidgets(window.batch_dock) == [window.gallery_dock]
    assert window.canvas.width() >= 0.5 * window.width(), "the docks stay narrow beside the canvas"
    window.save_layout()

    again = shown_window(qtbot)
    assert again.batch_dock.isVisible() and not again.gallery_dock.isHidden()
    batch_action = again.batch_dock.toggleViewAction()
    batch_action.trigger()
    again.gallery_dock.toggleViewAction().trigger()
    again.save_layout()
    third = shown_window(qtbot)
    assert third.gallery_dock.isHidden() and third.batch_dock.isHidden()


def test_a_layout_saved_by_the_old_version_is_ignored(qtbot, window):
    window.gallery_dock.show()
    window.settings.set("window/state", window.saveState(1))  # what version 1 saved: the Gallery open
    window.settings.sync()
    again = shown_window(qtbot)
    assert again.gallery_dock.isHidden()
