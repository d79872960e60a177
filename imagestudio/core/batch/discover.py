"""Which files of the input folder a batch takes: images by suffix, filtered by include/exclude patterns.

Hidden files and folders are left out. A symbolic link is followed only to a file inside the input folder; a link to
a folder is not descended into (its files are inside the tree already, or outside it, where a batch never reads).
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from imagestudio.core.errors import BatchError
from imagestudio.core.image import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute, as found (it may be a link inside the tree)
    relative: PurePosixPath  # from the input folder; the output mirrors it


@dataclass(frozen=True)
class Ignored:
    relative: str
    reason: str


def split_patterns(text: str | None) -> tuple[str, ...]:
    """'*.jpg; *.png, raw/*' -> ('*.jpg', '*.png', 'raw/*')."""
    if not text:
        return ()
    return tuple(p.strip() for p in text.replace(",", ";").split(";") if p.strip())


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """Case-insensitively, against the whole relative path or the name alone ('*.JPG' matches 'a/b.jpg')."""
    relative = relative.lower()
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative, p.lower()) or fnmatch.fnmatchcase(name, p.lower()) for p in patterns)


def is_hidden(entry: os.DirEntry) -> bool:
    if entry.name.startswith("."):
        return True
    attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)  # Windows only
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def discover(root: Path, *, recursive: bool = False, include: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
             skip: tuple[Path, ...] = ()) -> tuple[list[SourceFile], list[Ignored]]:
    """The input images in a stable order (sorted by path), and what was passed over with a reason.

    `skip`: folders never entered (the output folder, when it lies inside the input folder).
    """
    root = Path(root)
    if not os.path.isdir(root):  # never raises (a name too long, a loop)
        raise BatchError(f"the input folder {root} does not exist or is not a folder")
    real_root = os.path.realpath(root)
    skipped = {os.path.realpath(folder) for folder in skip}
    found: list[SourceFile] = []
    ignored: list[Ignored] = []

    def walk(folder: Path, prefix: PurePosixPath) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            ignored.append(Ignored(str(prefix) if prefix.parts else ".", f"folder cannot be read: {exc.strerror}"))
            return
        for entry in entries:
            relative = prefix / entry.name
            text = relative.as_posix()
            try:
                if is_hidden(entry):
                    continue
                if exclude and _matches(text, exclude):
                    continue
                link = entry.is_symlink()
                target = os.path.realpath(entry.path)
                if link and not _inside(target, real_root):
                    ignored.append(Ignored(text, "a link to somewhere outside the input folder"))
                    continue
                if entry.is_dir(follow_symlinks=True):
                    if link:
                        ignored.append(Ignored(text, "a link to a folder (not followed)"))
                    elif recursive and target not in skipped:
                        walk(Path(entry.path), relative)
                    continue
                if not entry.is_file(follow_symlinks=True):
                    continue  # sockets, devices, dangling links
                if include and not _matches(text, include):
                    continue
                if Path(entry.name).suffix.lower() not in SUPPORTED_SUFFIXES:
                    ignored.append(Ignored(text, "not an image type ImageStudio reads"))
                    continue
                found.append(SourceFile(Path(entry.path).absolute(), relative))
            except OSError as exc:
                ignored.append(Ignored(text, f"cannot be read: {exc.strerror or exc}"))

    walk(root, PurePosixPath())
    return found, ignored
