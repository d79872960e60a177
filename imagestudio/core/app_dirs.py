"""Where the app keeps the user's own files (models added, autosaves): one answer for every part of the app."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ImageStudio"
DATA_DIR_ENV = "IMAGESTUDIO_DATA_DIR"  # portable installs and tests point the whole user data folder elsewhere


def platform_data_dir() -> Path:
    """~/.local/share/ImageStudio on Linux, %LOCALAPPDATA%\\ImageStudio on Windows, ~/Library/... on macOS."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """The user data folder: $IMAGESTUDIO_DATA_DIR when set, else the platform's. Its `models` and `autosave`
    sub-folders hold the user's models and the autosaves."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else platform_data_dir()
