"""The sha256 of a file, read in blocks: model cards, batch manifests and history entries all name files by it."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex digest of the file's bytes; OSError when it cannot be read (each caller words that for its user)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
