"""Headless core of ImageStudio: no Qt, no torch. Everything the GUI and the CLI do lives here."""
