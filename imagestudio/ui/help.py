"""The Help menu's windows: keyboard shortcuts read from the window's own actions (so the list cannot go stale),
and the short user guide (user_guide.py, a module so it ships with the package; docs/user-guide.md is the same
text, kept identical by a test)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMainWindow, QMenu, QTextBrowser, QVBoxLayout, QWidget

from imagestudio.ui.user_guide import USER_GUIDE

# What the canvas does with the mouse and keys held down: gestures, not actions, so they are listed here.
CANVAS_GESTURES: tuple[tuple[str, str], ...] = (
    ("Zoom about the pointer", "Mouse wheel"),
    ("Pan", "Drag, or Space + drag, or middle-button drag"),
    ("Fit to window", "Double-click"),
    ("Move the before/after divider", "Drag its round handle"),
)


@dataclass(frozen=True)
class ShortcutRow:
    group: str
    text: str
    keys: str


def action_text(action: QAction) -> str:
    """The menu text without its & mnemonic and trailing ellipsis."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every action reachable from the menu bar that has a key, grouped by its menu, in menu order."""
    rows: list[ShortcutRow] = []
    seen: set[int] = set()

    def walk(menu: QMenu, group: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), group)
                continue
            if action.isSeparator() or id(action) in seen:
                continue
            keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
            if keys:
                seen.add(id(action))
                rows.append(ShortcutRow(group, action_text(action), ", ".join(keys)))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), action_text(top))
    return rows


def shortcuts_html(window: QMainWindow) -> str:
    parts: list[str] = ["<h2>Keyboard shortcuts</h2>"]
    group = None
    for row in shortcut_rows(window):
        if row.group != group:
            if group is not None:
                parts.append("</table>")
            group = row.group
            parts.append(f"<h3>{html.escape(group)}</h3><table cellspacing='6'>")
        parts.append(f"<tr><td><b>{html.escape(row.keys)}</b></td><td>{html.escape(row.text)}</td></tr>")
    if group is not None:
        parts.append("</table>")
    parts.append("<h3>On the canvas</h3><table cellspacing='6'>")
    parts.extend(f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(text)}</td></tr>"
                 for text, keys in CANVAS_GESTURES)
    parts.append("</table>")
    return "".join(parts)


def user_guide_markdown() -> str:
    return USER_GUIDE


class HelpDialog(QDialog):
    """A non-modal reader for one help page."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(620, 640)


def shortcuts_dialog(window: QMainWindow) -> HelpDialog:
    dialog = HelpDialog("Keyboard Shortcuts", window)
    dialog.setObjectName("ShortcutsDialog")
    dialog.view.setHtml(shortcuts_html(window))
    return dialog


def user_guide_dialog(window: QMainWindow) -> HelpDialog:
    dialog = HelpDialog("ImageStudio User Guide", window)
    dialog.setObjectName("UserGuideDialog")
    dialog.view.setMarkdown(user_guide_markdown())
    return dialog
