"""GUI entry point: `run(argv)` starts ImageStudio, optionally opening one image."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from imagestudio import __version__
from imagestudio.ui.main_window import MainWindow
from imagestudio.ui.settings import APPLICATION, ORGANISATION, AppSettings
from imagestudio.ui.settings_dialog import apply_theme


def create_application(argv: list[str]) -> tuple[QApplication, list[str]]:
    """The application, and argv without the options Qt took for itself (-platform, -style...)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):  # already made (tests, or an embedding host): argv is ours alone
        remaining = list(argv)
    else:
        app = QApplication([sys.argv[0] if sys.argv else "imagestudio", *argv])
        remaining = app.arguments()[1:]
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName(APPLICATION)
    return app, remaining


def create_window(image_path: Path | None = None) -> MainWindow:
    settings = AppSettings()
    apply_theme(settings.get("ui/theme_follows_system"))
    window = MainWindow(settings)
    if image_path is not None:
        window.files.open_path(image_path)
    return window


def run(argv: list[str]) -> int:
    """argv: the arguments after the program name; at most one image path (Qt options are passed to Qt)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app, arguments = create_application(argv)
    paths = [arg for arg in arguments if not arg.startswith("-")]
    window = create_window(Path(paths[0]) if paths else None)
    window.show()
    return app.exec()


def main() -> int:
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
