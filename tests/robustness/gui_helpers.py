"""GUI test helpers: the modal recorder (the `dialogs` module is the app's one hook for modals) and settings in tmp."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Dialogs:
    """Stands in for every modal the app shows (the `dialogs` module is its one hook): records and answers."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    restore_offers: list[str] = field(default_factory=list)
    open_model: Path | None = None
    save_target: object = None

    def install(self, patch: pytest.MonkeyPatch) -> Dialogs:
        from imagestudio.ui import dialogs

        patch.setattr(dialogs, "show_error", lambda parent, title, message, details=None:
                      self.errors.append((title, message)))
        patch.setattr(dialogs, "show_info", lambda parent, title, message: None)
        patch.setattr(dialogs, "ask_unsaved_changes", lambda parent, name: "discard")
        patch.setattr(dialogs, "ask_restore_session", lambda parent, summary: self.restore_offers.append(summary)
                      or False)
        patch.setattr(dialogs, "ask_open_model", lambda parent: self.open_model)
        patch.setattr(dialogs, "ask_save_target", lambda *args, **kwargs: self.save_target)
        return self


def isolate_settings(folder: Path) -> None:
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
