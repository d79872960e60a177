"""The autosave on disk: one folder per running app session under the user data folder, crash-safe to write and read.

    <data>/autosave/session-<pid>-<token>/
        lock               held (flock) while the app that owns the folder runs; a crash releases it
        image-<n>.npy      the current image as uint16 (16-bit exact; 8-bit images round-trip unchanged)
        alpha-<n>.npy      its alpha, if any
        autosave.json      written last, by rename: it always names complete image files

A session whose lock can be taken belongs to an app that is gone without a clean exit: the next start offers it.
No Qt here; `ui/autosave.py` schedules writes on a worker thread and restores through the window.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from imagestudio.core.app_dirs import user_data_dir
from imagestudio.core.image import Image, ImageMeta, to_uint16

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_MANIFEST = "autosave.json"
_LOCK = "lock"


def autosave_root() -> Path:
    return user_data_dir() / "autosave"


@dataclass(frozen=True)
class HistoryEntry:
    label: str
    steps: list[dict[str, Any]]  # core pipeline steps as {"op": ..., "params": {...}}


@dataclass(frozen=True)
class Snapshot:
    """What one autosave holds: the shown image, where it came from, and the edits that made it."""

    image: Image
    source: Path | None  # the file the document was opened from (None: made in the app)
    name: str  # the document's name, for the restore prompt
    entries: list[HistoryEntry]


@dataclass(frozen=True)
class SavedSession:
    folder: Path
    saved_at: float  # time.time() of the last write
    name: str
    edits: int

    def summary(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        edits = f"{self.edits} edit{'s' if self.edits != 1 else ''}"
        return f"{self.name} ({edits}, autosaved {when})"


class AutosaveError(Exception):
    """An autosave folder that cannot be read back (damaged, from another version)."""


class SessionFolder:
    """This process's own autosave folder, created on the first write and locked for as long as the app runs."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or autosave_root()
        self.folder = self.root / f"session-{os.getpid()}-{secrets.token_hex(4)}"
        self._lock: IO[bytes] | None = None
        self._counter = 0

    def write(self, snapshot: Snapshot) -> None:
        """Atomically replaces what this session has saved. Raises OSError (a full disk, a read-only home)."""
        self._ensure_locked()
        self._counter += 1
        image_name, alpha_name = f"image-{self._counter}.npy", f"alpha-{self._counter}.npy"
        image = snapshot.image
        _write_array(self.folder / image_name, to_uint16(image.rgb))
        if image.alpha is not None:
            _write_array(self.folder / alpha_name, to_uint16(image.alpha))
        manifest = {
            "version": FORMAT_VERSION,
            "saved_at": time.time(),
            "name": snapshot.name,
            "source": None if snapshot.source is None else str(snapshot.source),
            "image": image_name,
            "alpha": alpha_name if image.alpha is not None else None,
            "meta": _meta_to_json(image.meta),
            "entries": [asdict(entry) for entry in snapshot.entries],
        }
        _write_atomic(self.folder / _MANIFEST, json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
        keep = {image_name, alpha_name}
        for old in self.folder.glob("*.npy"):
            if old.name not in keep:
                with contextlib.suppress(OSError):
                    old.unlink()

    def clear(self) -> None:
        """Nothing unsaved any more (saved, or back to the opened image): forget the autosave, keep the lock."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.name != _LOCK:
                with contextlib.suppress(OSError):
                    path.unlink()

    def remove(self) -> None:
        """A clean exit: the folder goes, lock and all."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                _unlock(self._lock)
            self._lock.close()
            self._lock = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def _ensure_locked(self) -> None:
        if self._lock is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.folder / _LOCK, "a+b")  # noqa: SIM115 - held for the session's life
            if not _try_lock(self._lock):
                raise OSError(f"autosave folder {self.folder} is locked by another process")


def orphaned_sessions(root: Path | None = None, exclude: Path | None = None) -> list[SavedSession]:
    """Sessions left behind by an app that did not exit cleanly, newest first (unlocked, with a manifest)."""
    root = root or autosave_root()
    found = []
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("session-") and p != exclude]
    except OSError:
        return []
    for folder in folders:
        if _locked_by_someone(folder):
            continue  # another ImageStudio is running and owns it
        try:
            manifest = _read_manifest(folder)
        except AutosaveError:
            if not any(folder.glob("*.npy")):  # an empty session (nothing was ever unsaved): tidy it away
                shutil.rmtree(folder, ignore_errors=True)
            continue
        found.append(SavedSession(folder, float(manifest.get("saved_at", 0.0)), str(manifest.get("name", "image")),
                                  len(manifest.get("entries", []))))
    return sorted(found, key=lambda s: s.saved_at, reverse=True)


def read_snapshot(folder: Path) -> Snapshot:
    """The saved image and history; AutosaveError when the folder is damaged."""
    manifest = _read_manifest(folder)
    try:
        meta = _meta_from_json(manifest["meta"])
        rgb = _read_array(folder / manifest["image"], 3)
        alpha = _read_array(folder / manifest["alpha"], 2) if manifest.get("alpha") else None
        if alpha is not None and alpha.shape != rgb.shape[:2]:
            raise AutosaveError("the autosaved alpha does not match the image")
        entries = [HistoryEntry(str(e["label"]), list(e["steps"])) for e in manifest.get("entries", [])]
        source = Path(manifest["source"]) if manifest.get("source") else None
        image = Image(rgb.astype(np.float32) / np.float32(65535),
                      None if alpha is None else alpha.astype(np.float32) / np.float32(65535), meta)
        return Snapshot(image, source, str(manifest.get("name", "image")), entries)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise AutosaveError(f"the autosave in {folder} is damaged ({exc})") from exc


def remove_session(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# --- files ---------------------------------------------------------------------------------------------------------


def _write_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as file:
        np.save(file, array, allow_pickle=False)
        file.flush()
        os.fsync(file.fileno())


def _read_array(path: Path, ndim: int) -> np.ndarray:
    array = np.load(path, allow_pickle=False)  # never pickle: the folder is on disk, so treat it as untrusted
    if array.dtype != np.uint16 or array.ndim != ndim or (ndim == 3 and array.shape[2] != 3) or 0 in array.shape:
        raise AutosaveError(f"{path.name} is not an autosaved image")
    return array


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AutosaveError(f"no readable autosave in {folder}") from exc
    if not isinstance(manifest, dict) or manifest.get("version") != FORMAT_VERSION:
        raise AutosaveError(f"the autosave in {folder} is from another version")
    return manifest


def _meta_to_json(meta: ImageMeta) -> dict[str, Any]:
    return {
        "source_path": None if meta.source_path is None else str(meta.source_path),
        "format": meta.format, "mode": meta.mode, "bit_depth": meta.bit_depth, "has_alpha": meta.has_alpha,
        "greyscale": meta.greyscale, "dpi": None if meta.dpi is None else list(meta.dpi),
        "frame_count": meta.frame_count,
        "exif": None if meta.exif is None else base64.b64encode(meta.exif).decode("ascii"),
        "icc_profile": None if meta.icc_profile is None else base64.b64encode(meta.icc_profile).decode("ascii"),
    }


def _meta_from_json(data: dict[str, Any]) -> ImageMeta:
    dpi = data.get("dpi")
    return ImageMeta(
        source_path=Path(data["source_path"]) if data.get("source_path") else None,
        format=data.get("format"), mode=str(data["mode"]), bit_depth=int(data["bit_depth"]),
        has_alpha=bool(data["has_alpha"]), greyscale=bool(data["greyscale"]),
        exif=base64.b64decode(data["exif"]) if data.get("exif") else None,
        icc_profile=base64.b64decode(data["icc_profile"]) if data.get("icc_profile") else None,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi else None, frame_count=int(data.get("frame_count", 1)),
    )


# --- locks: flock on POSIX, a byte-range lock on Windows; both vanish with the process ---------------------------


def _try_lock(file: IO[bytes]) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(file: IO[bytes]) -> None:
    if os.name == "nt":
        import msvcrt

        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def _locked_by_someone(folder: Path) -> bool:
    try:
        with open(folder / _LOCK, "a+b") as file:
            if not _try_lock(file):
                return True
            _unlock(file)
    except OSError:
        return False  # no lock file: nobody holds it
    return False
