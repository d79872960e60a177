"""The desktop app (PySide6). Widgets call the core; no image or model logic lives here."""
