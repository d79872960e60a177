"""File names measured the way the file system measures them: in bytes, not characters.

Linux allows 255 bytes per name and 4096 per path. A name of 85 CJK characters is 255 bytes and legal; one of 64
emoji is 256 bytes and is not, although it is the shorter string. Every name we make (outputs, temporary files) is
checked or cut in bytes here, so that a long name fails that one file with a clear message, never later with
ENAMETOOLONG from a call that was not expecting it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NAME_MAX = 255
DEFAULT_PATH_MAX = 4096


@dataclass(frozen=True)
class NameLimits:
    name_max: int  # bytes in one file or folder name
    path_max: int  # bytes in a whole path


def encoded_length(name: str) -> int:
    """Bytes the file system stores for `name` (UTF-8 on Linux and macOS; undecodable bytes kept as they were)."""
    return len(os.fsencode(name))


def limits(folder: Path) -> NameLimits:
    """The limits of the file system that holds `folder`, or its nearest existing parent (a folder to be made)."""
    probe = Path(os.path.abspath(folder))
    while not os.path.isdir(probe) and probe != probe.parent:
        probe = probe.parent
    return NameLimits(_pathconf(probe, "PC_NAME_MAX", DEFAULT_NAME_MAX),
                      _pathconf(probe, "PC_PATH_MAX", DEFAULT_PATH_MAX))


def _pathconf(folder: Path, key: str, default: int) -> int:
    try:
        value = os.pathconf(folder, key)
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf; some file systems do not say
        return default
    return value if isinstance(value, int) and value > 0 else default


def name_problem(path: Path, limit: NameLimits | None = None) -> str | None:
    """Why `path` cannot be created on its file system (a name or the whole path too long), or None."""
    path = Path(path)
    limit = limit or limits(path.parent)
    for part in path.parts:
        size = encoded_length(part)
        if size > limit.name_max and part != path.anchor:
            shown = part if len(part) <= 40 else f"{part[:20]}…{part[-12:]}"
            return (f"the name '{shown}' is {size} bytes long; this file system allows at most {limit.name_max} "
                    "bytes per name")
    total = encoded_length(os.path.abspath(path))
    if total >= limit.path_max:
        return f"the path is {total} bytes long; this file system allows at most {limit.path_max - 1}"
    return None


def truncate_to_bytes(text: str, max_bytes: int) -> str:
    """The longest start of `text` that encodes to at most `max_bytes`, never cutting a character in two."""
    if encoded_length(text) <= max_bytes:
        return text
    size = 0
    for index, char in enumerate(text):
        size += encoded_length(char)
        if size > max_bytes:
            return text[:index]
    return text
