"""Writing a file atomically: a temporary file beside the target, renamed into place; and the temporary files.

The temporary file is named `.<name, cut to 100 bytes>.<pid>.<8 hex>.tmp`, so it always fits the file system's
255-byte names and says which process owns it. It is removed on any exception (SIGINT and the CLI's SIGTERM handler
arrive as exceptions) and, for saves still running on another thread when the interpreter exits, by an atexit hook;
`remove_stale_temporaries` removes those a killed process left behind (its pid no longer runs).
"""

from __future__ import annotations

import atexit
import errno
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from imagestudio.core.errors import ImageSaveError
from imagestudio.core.file_names import truncate_to_bytes

_TEMP_PREFIX_BYTES = 100  # '.' + 100 + '.' + pid (<= 10) + '.' + 8 + '.tmp' = 125 bytes, under every name limit
_TEMP_NAME = re.compile(r"\.(?P<prefix>.*)\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{8}\.tmp", re.DOTALL)
_LEGACY_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.tmp", re.DOTALL)  # before the pid was in the name
_LEGACY_STALE_S = 3600.0
_in_flight: set[Path] = set()  # temporary files being written by this process
_in_flight_lock = threading.Lock()


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write to a temporary file beside the target, then rename it into place; remove it on any failure, including
    an interrupting exception (KeyboardInterrupt, the CLI's SIGTERM). Raises ImageSaveError."""
    path = Path(path)
    temp = write_temporary(path, write)
    place_temporary(temp, path)


def write_temporary(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """The first half of `atomic_write`: the data written and fsync'd to a temporary file beside `path`, returned
    for `place_temporary` to rename (a cluster worker writes it, the batch's driver places it). Removed on any
    failure. Raises ImageSaveError."""
    path = Path(path)
    temp: Path | None = None
    try:
        temp, handle = _create_temp(path)
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        written, temp = temp, None
        return written
    except OSError as error:
        raise ImageSaveError(_os_message(path, error)) from error
    except MemoryError:
        raise
    except Exception as error:  # encoder refusals (e.g. EXIF too long for JPEG): the user's data, not a bug here
        raise ImageSaveError(f"cannot save {path.name}: {error}") from error
    finally:
        if temp is not None:
            with suppress(OSError):
                os.unlink(temp)
            _forget(temp)


def place_temporary(temp: Path, path: Path) -> None:
    """The second half: `temp` (beside `path`) renamed onto `path`, keeping an existing file's permissions, and the
    rename made durable. The temporary file is removed if that fails. Raises ImageSaveError."""
    path = Path(path)
    placed = False
    try:
        _keep_permissions(path, temp)
        os.replace(temp, path)
        placed = True
        _forget(temp)
        _sync_folder(path.parent)
    except OSError as error:
        raise ImageSaveError(_os_message(path, error)) from error
    finally:
        if not placed:  # also on an interrupting exception between the two halves
            with suppress(OSError):
                os.unlink(temp)
            _forget(temp)


def disown_temporary(temp: Path) -> None:
    """This process hands `temp` on to another (a cluster worker to the batch's driver): its exit hook must not
    remove it."""
    _forget(Path(temp))


def temporary_name(path: Path) -> str:
    """`.<name cut to 100 bytes>.<pid>.<8 hex>.tmp`: fits any name limit, and names the process that owns it."""
    return f".{truncate_to_bytes(path.name, _TEMP_PREFIX_BYTES)}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def is_temporary_name(name: str) -> bool:
    """Whether `name` is one `temporary_name` gives."""
    return _TEMP_NAME.fullmatch(name) is not None


def _create_temp(path: Path) -> tuple[Path, int]:
    # os.open with 0o666 lets the umask decide the permissions, like any new file (mkstemp would force 0600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _attempt in range(100):
        temp = path.parent / temporary_name(path)
        with _in_flight_lock:  # registered first: an exit between open and return still finds it
            _in_flight.add(temp)
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            _forget(temp)
        except BaseException:
            _forget(temp)
            raise
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def _forget(temp: Path) -> None:
    with _in_flight_lock:
        _in_flight.discard(temp)


@atexit.register
def _remove_in_flight() -> None:
    """At exit, saves still running on daemon threads (a batch stopped by a signal) leave no temporary file."""
    with _in_flight_lock:
        left = list(_in_flight)
        _in_flight.clear()
    for temp in left:
        with suppress(OSError):
            os.unlink(temp)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # another user's process, or we cannot tell: not ours to judge
    return True


def is_stale_temporary(folder: Path, name: str, now: float | None = None) -> bool:
    """Whether `name` in `folder` is a temporary file of ours whose writer is gone: our naming pattern, a regular
    file (never a link or folder), and its process no longer running (or, for the older pattern without a pid,
    untouched for an hour). The current process's own files in flight are never stale."""
    match = _TEMP_NAME.fullmatch(name)
    legacy = match is None and _LEGACY_TEMP_NAME.fullmatch(name) is not None
    if match is None and not legacy:
        return False
    path = folder / name
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    with _in_flight_lock:
        if path in _in_flight:
            return False
    if legacy:
        return (now if now is not None else time.time()) - info.st_mtime > _LEGACY_STALE_S
    assert match is not None
    return not _process_alive(int(match["pid"]))


def remove_stale_temporaries(folder: Path, *, recursive: bool = True) -> list[Path]:
    """Removes the temporary files that killed saves left in `folder` (and its sub-folders, links not followed);
    returns what was removed. Files of a save still running, in this or another live process, are kept."""
    removed: list[Path] = []
    now = time.time()
    pending = [Path(folder)]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        pending.append(Path(entry.path))
                    continue
            except OSError:
                continue
            if entry.name.endswith(".tmp") and is_stale_temporary(current, entry.name, now):
                with suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _keep_permissions(path: Path, temp: Path) -> None:
    with suppress(FileNotFoundError):
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode):
            os.chmod(temp, stat.S_IMODE(info.st_mode))


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    with suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _os_message(path: Path, error: OSError) -> str:
    reasons = {
        errno.ENOENT: f"the folder {path.parent} does not exist",
        errno.ENOTDIR: f"{path.parent} is not a folder",
        errno.EACCES: f"permission denied in {path.parent}",
        errno.EPERM: f"permission denied in {path.parent}",
        errno.ENOSPC: "the disk is full",
        errno.EROFS: f"{path.parent} is on a read-only disk",
        errno.EISDIR: "a folder with that name already exists",
        errno.ENAMETOOLONG: "the file name is too long",
    }
    if hasattr(errno, "EDQUOT"):
        reasons[errno.EDQUOT] = "the disk quota is exceeded"
    return f"cannot save {path.name}: {reasons.get(error.errno or 0, error.strerror or str(error))}"
