"""Undo commands and the History dock. A command only asks the document to show a state; it holds no pixels."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from imagestudio.core.pipeline import Pipeline, Step
from imagestudio.ui.document import Document
from imagestudio.ui.operations import EditRecord


class EditCommand(QUndoCommand):
    def __init__(self, document: Document, before: int, after: int, record: EditRecord) -> None:
        super().__init__(record.label)
        self.document = document
        self.before = before
        self.after = after
        self.record = record

    def redo(self) -> None:
        self.document.show_state(self.after)

    def undo(self) -> None:
        self.document.show_state(self.before)


def commands(stack: QUndoStack) -> list[EditCommand]:
    return [command for index in range(stack.count()) if isinstance(command := stack.command(index), EditCommand)]


def applied_steps(stack: QUndoStack) -> list[Step]:
    """The steps of the entries up to the current one: what turned the opened image into the shown one."""
    steps: list[Step] = []
    for command in commands(stack)[: stack.index()]:
        steps.extend(command.record.steps)
    return steps


def history_pipeline(stack: QUndoStack) -> Pipeline:
    return Pipeline(applied_steps(stack))


def reachable_states(stack: QUndoStack) -> set[int]:
    states: set[int] = set()
    for command in commands(stack):
        states.update((command.before, command.after))
    return states


class HistoryDock(QDockWidget):
    """The undo stack as a list (click an entry to jump there) plus what the selected entry did."""

    save_preset_requested = Signal()
    apply_preset_requested = Signal()

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__("History", parent)
        self.setObjectName("HistoryDock")  # saveState() finds docks by object name
        self._stack = stack
        self.view = QUndoView(stack)
        self.view.setEmptyLabel("Opened")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setObjectName("HistoryDetails")
        self.save_button = QPushButton("Save as preset…")
        self.save_button.setToolTip("Save the steps up to the selected entry as a pipeline preset (JSON)")
        self.apply_button = QPushButton("Apply preset…")
        self.apply_button.setToolTip("Run a saved pipeline preset on this image as one history entry")
        self.save_button.clicked.connect(self.save_preset_requested)
        self.apply_button.clicked.connect(self.apply_preset_requested)

        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.apply_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self.setWidget(body)
        stack.indexChanged.connect(self._show_details)
        self._show_details(stack.index())

    def set_document_name(self, name: str | None) -> None:
        self.view.setEmptyLabel(f"Opened {name}" if name else "Opened")

    def _show_details(self, index: int) -> None:
        entries = commands(self._stack)
        self.save_button.setEnabled(index > 0)
        if index <= 0 or index > len(entries):
            self.details.setText("The image as opened." if self._stack.count() else "")
            return
        self.details.setText(entries[index - 1].record.describe())
