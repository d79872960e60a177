"""Putting an image made elsewhere (the gallery) on the canvas: one undoable history entry on the open document,
or a new untitled document when none is open (like opening a file, which is not an edit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagestudio.core.image import Image
from imagestudio.ui.display import build_display
from imagestudio.ui.document import Document
from imagestudio.ui.history import EditCommand, reachable_states
from imagestudio.ui.operations import EditRecord

if TYPE_CHECKING:
    from imagestudio.ui.main_window import MainWindow


def open_in_canvas(window: MainWindow, image: Image, label: str) -> bool:
    """False when the window is busy with an edit (whose result would land on the wrong image)."""
    if window.runner.busy:
        window.statusBar().showMessage("Wait for the current job to finish, or cancel it", 5000)
        return False
    image = image.with_pixels(image.rgb.copy(), None if image.alpha is None else image.alpha.copy())
    display = build_display(image)  # gallery images are small: cheap enough for the GUI thread
    document = window.document
    if document is None:
        window.set_document(Document(image, display, None, window.settings.history_limit_bytes))
        return True
    before = document.current_state
    after = document.add_state(image, display)
    # No pipeline steps: a replaced picture is not something a preset or a batch can replay.
    window.undo_stack.push(EditCommand(document, before, after, EditRecord(label, ())))
    document.forget_unreachable(reachable_states(window.undo_stack))
    return True
