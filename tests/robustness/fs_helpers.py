"""Real ways to make a folder read-only or a disk full, for tests that must see the operating system refuse.

We run as root in CI containers, where permission bits stop nothing: read-only folders use `chattr +i` (or a
read-only bind mount), full disks a tiny tmpfs. Nothing here mocks a failure away; where no real mechanism exists the
test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """`folder` (created) made truly unwritable, even for root; skips the test where that cannot be done."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix" and os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") and _run("chattr", "+i", str(folder)):
        try:
            yield folder
        finally:
            _run("chattr", "-i", str(folder))
        return
    if _run("mount", "--bind", str(folder), str(folder)):
        if _run("mount", "-o", "remount,ro,bind", str(folder)):
            try:
                yield folder
            finally:
                _run("umount", str(folder))
            return
        _run("umount", str(folder))
    pytest.skip("no way to make a folder read-only for root here (no chattr +i, no bind mount)")


@contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[Path]:
    """A real file system of `size_kb` KB mounted at `folder` (tmpfs); skips where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    if not _run("mount", "-t", "tmpfs", "-o", f"size={size_kb}k,nr_inodes=256", "tmpfs", str(folder)):
        pytest.skip("cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        if not _run("umount", str(folder)):
            _run("umount", "-l", str(folder))
