"""Where the app's bundled resources (icons) are: the source tree, or the copy inside a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def resources_dir() -> Path:
    bundle_root = getattr(sys, "_MEIPASS", None)  # same rule as the core's bundled_models_dir()
    if bundle_root:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    """The application icon from its PNG sizes (the SVG would need QtSvg, which the bundle leaves out)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = resources_dir() / "icons" / "png" / f"imagestudio-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon
