"""Help: the shortcuts dialog is generated from the window's actions, and the user guide ships with the app."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from imagestudio.ui.help import action_text, shortcut_rows
from imagestudio.ui.user_guide import USER_GUIDE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_shortcuts_dialog_lists_every_menu_action_with_a_key(qtbot, window):
    dialog = window.show_help("shortcuts")
    qtbot.waitExposed(dialog)
    text = dialog.view.toPlainText()
    rows = shortcut_rows(window)
    menu_actions = {id(a) for a in window.findChildren(QAction) if a.shortcuts()}
    listed = {(row.text, row.keys) for row in rows}
    for action in window.findChildren(QAction):
        if not action.shortcuts() or not action.associatedObjects():
            continue
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
        in_a_menu = any(type(obj).__name__ == "QMenu" for obj in action.associatedObjects())
        if in_a_menu:
            assert (action_text(action), keys) in listed, f"{action.text()} ({keys}) is missing"
            assert action_text(action) in text
    assert len(rows) >= 20 and len(menu_actions) >= len(rows)
    for expected in ("Ctrl+S", "Ctrl+E", "Ctrl+Shift+G", "Compare Side by Side", "Show the Difference", "Mouse wheel"):
        assert expected in text
    groups = [row.group for row in rows]
    assert groups.index("File") < groups.index("Edit") < groups.index("View")


def test_a_new_action_appears_in_the_shortcuts_without_editing_the_dialog(qtbot, window):
    extra = window._window_menu.addAction("Brand-new Panel")
    extra.setShortcut(QKeySequence("Ctrl+Alt+N"))
    text = window.show_help("shortcuts").view.toPlainText()
    assert "Brand-new Panel" in text and "Ctrl+Alt+N" in text


def test_the_user_guide_opens_from_help_and_matches_the_docs_page(qtbot, window):
    assert window.guide_action.shortcut().toString() == "F1"
    window.guide_action.trigger()
    dialog = window._help_dialogs["guide"]
    qtbot.waitExposed(dialog)
    assert not dialog.isModal()
    text = dialog.view.toPlainText()
    assert "Save without losing the original" in text and "_edited" in text
    assert (DOCS / "user-guide.md").read_text(encoding="utf-8") == USER_GUIDE
