"""Writing into the output folder safely: its identity (so a vanished or unmounted folder is noticed), and each
output's sub-folders and path checked at the moment of writing, so that a link planted after the plan is never
written through, not even by the `mkdir` of a sub-folder."""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path, PurePosixPath

from imagestudio.core.batch.naming import inside
from imagestudio.core.errors import BatchError


def identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder, or None when it is not there (deleted, moved, or its drive unmounted)."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def prepare_target(out_dir: Path, target: Path) -> None:
    """Makes the target's sub-folders and checks, now, that the target lies inside the output folder (links
    resolved) and is not itself a link. Raises BatchError."""
    make_subfolders(out_dir, target.parent)
    relative = target.relative_to(out_dir).as_posix()
    inside(out_dir, PurePosixPath(relative))
    if os.path.islink(target):
        raise BatchError(f"{relative} is a link; outputs are never written through links")


def make_subfolders(out_dir: Path, folder: Path) -> None:
    """Creates the template's sub-folders, never the output folder itself: if that vanished mid-batch (a drive
    unplugged, a folder deleted), recreating it would scatter outputs where the user no longer looks."""
    if not os.path.isdir(out_dir):
        raise BatchError(f"the output folder {out_dir} has disappeared (deleted, moved or unmounted)")
    for part in reversed([folder, *folder.parents][: len(folder.relative_to(out_dir).parts)]):
        # A link among them (planted after the plan) would make the next mkdir create a folder wherever it points.
        if os.path.islink(part):
            raise BatchError(f"'{part.relative_to(out_dir).as_posix()}' in the output folder is a link; outputs are "
                             "never written through links (it would be written outside the output folder)")
        with suppress(FileExistsError):
            part.mkdir()
