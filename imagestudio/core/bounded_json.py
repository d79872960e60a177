"""JSON and small text files from outside the program (presets, manifests, model cards), read within bounds.

`json.loads` has no depth limit of its own: ten thousand `[` raise RecursionError from deep inside the decoder, and
a preset named `.json` may be a FIFO that blocks a read forever or a file of gigabytes. These helpers refuse all of
that with `JSONLimitError` (a ValueError). Its message completes a sentence about the thing read ("the preset
p.json " + "nests deeper than 8 levels"); each caller turns it into its own error type.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

DEFAULT_MAX_DEPTH = 32


class JSONLimitError(ValueError):
    """The text is not JSON, nests deeper than allowed, or the file is not a small regular file."""


class JSONTooLargeError(JSONLimitError):
    """Valid or not, the text is beyond the bounds (too long, or nested too deep): no honest writer makes it."""


def loads(text: str | bytes, *, max_depth: int = DEFAULT_MAX_DEPTH, max_chars: int | None = None) -> Any:
    """json.loads, refusing more than `max_chars` characters and containers nested deeper than `max_depth`."""
    if max_chars is not None and len(text) > max_chars:
        raise JSONTooLargeError(f"is {len(text):,} characters long (at most {max_chars:,})")
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooLargeError(f"nests deeper than {max_depth} levels") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise JSONLimitError(f"is not valid JSON ({exc})") from None
    if depth(value) > max_depth:
        raise JSONTooLargeError(f"nests deeper than {max_depth} levels")
    return value


def depth(value: Any) -> int:
    """How deeply lists and objects nest (a scalar: 0, `[]`: 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children if isinstance(child, (dict, list)))
    return deepest


def read_small_text(path: Path, *, max_bytes: int) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`; never blocks on a FIFO or a device.

    Raises OSError for what the system refuses and JSONLimitError for a file of the wrong kind or size.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise JSONLimitError("is not a regular file")
        if info.st_size > max_bytes:
            raise JSONLimitError(f"is {info.st_size:,} bytes (at most {max_bytes:,})")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # grew while being read
                raise JSONLimitError(f"grew past {max_bytes:,} bytes")
            chunks.append(chunk)
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONLimitError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
