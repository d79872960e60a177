"""The manifest in the output folder: one JSON line per finished file, so a rerun knows what is already done.

A line is appended (and fsync'd) only after its output file has been renamed into place, so every line names a
complete file. A crash can at most tear the last line, which loading ignores. A file counts as done when its input
bytes (sha256), the pipeline hash and the output name all match a line, and that output still exists.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from imagestudio.core.batch.errors import BatchError
from imagestudio.core.batch.naming import OutputRule
from imagestudio.core.batch.pipelines import pipeline_models
from imagestudio.core.pipeline import Pipeline

log = logging.getLogger(__name__)

MANIFEST_NAME = ".imagestudio-batch.jsonl"  # hidden: a later batch over the output folder skips it
# Parameters that change where or how fast a step runs but not its result: a rerun on another device resumes.
_RESULT_NEUTRAL = ("device", "tile")


@dataclass(frozen=True)
class ManifestEntry:
    input: str  # relative to the input folder, POSIX separators
    input_sha256: str
    pipeline_sha256: str
    output: str  # relative to the output folder
    finished: str  # ISO time


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pipeline_hash(pipeline: Pipeline, rule: OutputRule) -> str:
    """What decides an output's pixels and encoding: the steps, the models they resolve to, format and quality."""
    steps = [{"op": s.op, "params": {k: v for k, v in sorted(s.params.items()) if k not in _RESULT_NEUTRAL}}
             for s in pipeline.steps]
    models = sorted(card.sha256 for card in pipeline_models(pipeline))
    output = {"format": rule.format, "quality": rule.quality, "keep_metadata": rule.keep_metadata}
    text = json.dumps({"steps": steps, "models": models, "output": output}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


class Manifest:
    """What earlier runs finished, and the append-only log this run adds to; safe to record from any thread."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / MANIFEST_NAME
        self._entries: dict[str, ManifestEntry] = {}
        self._lock = threading.Lock()
        self._torn_tail = False  # the last line was cut short by a crash: the next append starts a new line
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BatchError(f"cannot read the batch manifest {self.path}: {exc.strerror or exc}") from None
        self._torn_tail = bool(text) and not text.endswith("\n")
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                if record.get("type") == "done":
                    entry = ManifestEntry(**{k: record[k] for k in ManifestEntry.__dataclass_fields__})
                    self._entries[entry.input] = entry  # the latest run's line wins
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                log.warning("batch manifest %s: line %d is damaged and was ignored", self.path.name, number)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, input_rel: str) -> ManifestEntry | None:
        return self._entries.get(input_rel)

    def is_done(self, input_rel: str, input_sha256: str, pipeline_sha256: str) -> bool:
        entry = self._entries.get(input_rel)
        return (entry is not None and entry.input_sha256 == input_sha256 and entry.pipeline_sha256 == pipeline_sha256
                and self.output_dir.joinpath(*PurePosixPath(entry.output).parts).is_file())

    def start_run(self, pipeline: Pipeline, pipeline_sha256: str) -> None:
        """A header line per run: what was asked for, for a person reading the manifest later."""
        steps = [{"op": s.op, "params": s.params} for s in pipeline.steps]
        self._append({"type": "run", "started": _now(), "pipeline_sha256": pipeline_sha256, "steps": steps})

    def record(self, input_rel: str, input_sha256: str, pipeline_sha256: str, output_rel: str) -> ManifestEntry:
        entry = ManifestEntry(input_rel, input_sha256, pipeline_sha256, output_rel, _now())
        self._append({"type": "done", **asdict(entry)})
        with self._lock:
            self._entries[input_rel] = entry
        return entry

    def _append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            # One write() of a whole line in append mode, then fsync: a crash leaves whole lines and at most one torn.
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            except OSError as exc:
                raise BatchError(f"cannot write the batch manifest {self.path}: {exc.strerror or exc}") from None
            start = -1
            try:
                start = os.fstat(fd).st_size
                _write_all(fd, b"\n" + line if self._torn_tail else line)
                os.fsync(fd)
                self._torn_tail = False
            except OSError as exc:
                # On a full disk write() may store part of the line (found by the disk-full test): cut it off so
                # the manifest keeps whole lines only; if that fails too, the next line starts on a fresh one.
                try:
                    os.ftruncate(fd, start)
                except (OSError, ValueError):
                    self._torn_tail = True
                raise BatchError(f"cannot write the batch manifest {self.path}: {exc.strerror or exc}") from None
            finally:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked (a full disk); a short write is retried and a zero write is ENOSPC."""
    view = memoryview(data)
    while view:
        count = os.write(fd, view)
        if count <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[count:]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
