"""The Models dock: installed models with a short, readable card each (the full card, with file, hash and
metrics, in a dialog), and adding an ONNX file through the core's install_model."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from imagestudio.core.errors import ImageStudioError
from imagestudio.core.models import ModelCard, describe_task, install_model, list_models
from imagestudio.ui import dialogs
from imagestudio.ui.worker import Job, JobRunner

log = logging.getLogger(__name__)


class ModelsDock(QDockWidget):
    models_changed = Signal()

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__("Models", parent)
        self.setObjectName("ModelsDock")
        self._runner = runner
        self._cards: dict[str, ModelCard] = {}
        self.list = QListWidget()
        self.list.setObjectName("ModelsList")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setSpacing(1)
        self.card_view = QTextBrowser()
        self.card_view.setOpenExternalLinks(False)
        self.details_button = QPushButton("Full card…")
        self.details_button.setToolTip("Everything the model's card says: file, SHA-256, metrics, training data")
        self.details_button.clicked.connect(lambda: self.show_full_card())
        self.add_button = QPushButton("Add model…")
        self.add_button.setToolTip("Validate an ONNX model file and install it for this user")
        self.add_button.clicked.connect(self.ask_and_install)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        buttons.addWidget(self.details_button)
        buttons.addWidget(self.add_button)
        buttons.addWidget(refresh)
        self.card_dialog: ModelCardDialog | None = None
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(self.card_view)
        splitter.setSizes([120, 200])
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.list.currentItemChanged.connect(self._show_card)
        self.list.itemDoubleClicked.connect(lambda item: self.show_full_card())
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        current = select or (self.list.currentItem().data(Qt.ItemDataRole.UserRole) if self.list.currentItem()
                             else None)
        try:
            cards = list_models()
        except ImageStudioError as exc:
            log.warning("could not list models: %s", exc)
            cards = []
        self._cards = {card.name: card for card in cards}
        self.list.clear()
        for card in cards:
            item = QListWidgetItem(card.title)  # one line each: the short card below says the rest
            item.setToolTip(f"{card.title} ({card.name}) · {card.summary()} · {card.source}")
            item.setData(Qt.ItemDataRole.UserRole, card.name)
            self.list.addItem(item)
            if card.name == current:
                self.list.setCurrentItem(item)
        if not cards:
            self.card_view.setHtml("<p>No models are installed. Add an ONNX model file to get started.</p>")
        elif self.list.currentItem() is None:
            self.list.setCurrentRow(0)

    def ask_and_install(self) -> None:
        path = dialogs.ask_open_model(self)
        if path is not None:
            self.install(path)

    def install(self, path: Path) -> Job:
        """Validating a model runs it on test inputs, so it happens on the worker."""
        job = Job(f"Adding model {path.name}", lambda task: install_model(path))
        job.succeeded.connect(self._installed)
        job.failed.connect(self._install_failed)
        return self._runner.submit(job)  # started only once every signal is connected

    def _installed(self, card: ModelCard) -> None:
        self.refresh(select=card.name)
        self.models_changed.emit()

    def _install_failed(self, error: Exception, details: str) -> None:
        dialogs.show_error(self, "Could not add the model", str(error), details)

    def current_card(self) -> ModelCard | None:
        item = self.list.currentItem()
        return self._cards.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _show_card(self, item: QListWidgetItem | None) -> None:
        card = self._cards.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None
        self.card_view.setHtml(short_card_html(card) if card is not None else "")
        self.details_button.setEnabled(card is not None)
        if card is not None and self.card_dialog is not None and self.card_dialog.isVisible():
            self.card_dialog.show_card(card)

    def show_full_card(self) -> ModelCardDialog | None:
        """The whole card in a window wide enough for it (not modal: the dock's list keeps working)."""
        card = self.current_card()
        if card is None:
            return None
        if self.card_dialog is None:
            self.card_dialog = ModelCardDialog(self)
        self.card_dialog.show_card(card)
        self.card_dialog.show()
        self.card_dialog.raise_()
        return self.card_dialog


class ModelCardDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ModelCardDialog")
        self.setWindowTitle("Model card")
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(720, 520)

    def show_card(self, card: ModelCard) -> None:
        self.setWindowTitle(f"Model card — {card.title}")
        self.view.setHtml(card_html(card))


def short_card_html(card: ModelCard) -> str:
    """For the narrow dock: one fact a line, label first, so nothing has to fit in a table column."""
    def line(label: str, value: object) -> str:
        return f"<b>{html.escape(label)}:</b> {html.escape(str(value))}<br>" if value else ""

    task = describe_task(card.task, card.scale if card.task == "upscale" else None)
    description = f"<p>{html.escape(card.description)}</p>" if card.description else ""
    facts = "".join([line("Name", card.name), line("Task", task), line("In short", card.summary()),
                     line("Licence", card.licence),
                     line("Trained on", card.training_data),
                     line("Source", f"{card.source}{' (no card: learned by probing)' if card.probed else ''}")])
    return f"<h3>{html.escape(card.title)}</h3>{description}<p>{facts}</p>"


def card_html(card: ModelCard) -> str:
    def row(label: str, value: object) -> str:
        return f"<tr><td><b>{html.escape(label)}</b></td><td>{html.escape(str(value))}</td></tr>" if value else ""

    metrics = json.dumps(card.metrics, ensure_ascii=False) if card.metrics else ""
    rows = "".join([
        row("Name", card.name),
        row("Task", describe_task(card.task, card.scale if card.task == "upscale" else None)),
        row("Tile multiple", card.tile_multiple if card.tile_multiple > 1 else ""),
        row("Receptive radius", card.receptive_radius),
        row("Training data", card.training_data),
        row("Licence", card.licence),
        row("Metrics", metrics),
        row("Source", f"{card.source}{' (learned by probing: no card)' if card.probed else ''}"),
        row("File", card.path),
        row("SHA-256", card.sha256),
    ])
    description = f"<p>{html.escape(card.description)}</p>" if card.description else ""
    return f"<h3>{html.escape(card.title)}</h3>{description}<table cellspacing='4'>{rows}</table>"
