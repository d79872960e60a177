"""Where the app keeps the user's own files on this platform (models added, autosaves): one answer for all."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "ImageStudio"


def platform_data_dir() -> Path:
    """~/.local/share/ImageStudio on Linux, %LOCALAPPDATA%\\ImageStudio on Windows, ~/Library/... on macOS."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
