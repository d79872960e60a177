"""GUI entry point: `run(argv)` starts ImageStudio, optionally opening one image."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from imagestudio import __version__
from imagestudio.ui.main_window import MainWindow
from imagestudio.ui.resources import app_icon
from imagestudio.ui.settings import APPLICATION, ORGANISATION, AppSettings
from imagestudio.ui.settings_dialog import apply_theme
from imagestudio.ui.smoke import report_when_shown, smoke_mode


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
    # No setApplicationDisplayName: Qt would append it to every title ("ImageStudio — a.jpg — ImageStudio").
    app.setDesktopFileName("imagestudio")  # Wayland docks match the window to imagestudio.desktop and its icon
    app.setWindowIcon(app_icon())
    return app, remaining


def create_window(image_path: Path | None = None) -> MainWindow:
    settings = AppSettings()
    apply_theme(settings.get("ui/theme_follows_system"))
    window = MainWindow(settings)
    # Work lost in a crash comes first; the file asked for opens only if nothing was restored over it.
    restoring = None if smoke_mode() else window.autosave.offer_restore()
    if image_path is not None and restoring is None:
        window.files.open_path(image_path)
    return window


def run(argv: list[str]) -> int:
    """argv: the arguments after the program name; at most one image path (Qt options are passed to Qt)."""
    started = time.perf_counter()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app, arguments = create_application(argv)
    paths = [arg for arg in arguments if not arg.startswith("-")]
    window = create_window(Path(paths[0]) if paths else None)
    window.show()
    if smoke_mode():
        report_when_shown(window, expecting_image=bool(paths), started=started)
    return app.exec()


def main() -> int:
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
