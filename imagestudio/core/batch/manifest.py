"""The manifest in the output folder: one JSON line per finished file, so a rerun knows what is already done.

A line is appended (and fsync'd) only after its output file has been renamed into place, so every line names a
complete file. A crash can at most tear the last line, which loading ignores. A file counts as done when its input
bytes (sha256), the pipeline hash and the output name all match a line, and that output still exists.

The manifest lies in a folder anyone may have written to, so it is untrusted input: it is opened without following
links and never blocks (a FIFO), a line longer than `MAX_LINE_BYTES` or nesting deeper than a record does is
skipped, and an entry whose input or output is not a plain relative path (absolute, `..`, `.`, a drive, a backslash,
control characters) is rejected here and reported through `rejected`. The planner further accepts an entry only
when its output is the name the current template gives that input and lies inside the output folder.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import stat
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from imagestudio.core import bounded_json
from imagestudio.core.batch.naming import OutputRule
from imagestudio.core.batch.pipelines import pipeline_models
from imagestudio.core.errors import BatchError
from imagestudio.core.hashing import file_sha256
from imagestudio.core.pipeline import Pipeline

log = logging.getLogger(__name__)

MANIFEST_NAME = ".imagestudio-batch.jsonl"  # hidden: a later batch over the output folder skips it
# Parameters that change where or how fast a step runs but not its result: a rerun on another device resumes.
_RESULT_NEUTRAL = ("device", "tile")
MAX_LINE_BYTES = 64 * 1024  # a record names two relative paths (at most 4 KB each) and two hashes
MAX_MANIFEST_BYTES = 512 * 1024 * 1024  # about two million records
_MAX_DEPTH = 8  # a "run" line holds the pipeline's steps and their flat parameters
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class ManifestEntry:
    input: str  # relative to the input folder, POSIX separators
    input_sha256: str
    pipeline_sha256: str
    output: str  # relative to the output folder
    finished: str  # ISO time


def pipeline_hash(pipeline: Pipeline, rule: OutputRule) -> str:
    """What decides an output's pixels and encoding: the steps, the models they resolve to, format and quality."""
    steps = [{"op": s.op, "params": {k: v for k, v in sorted(s.params.items()) if k not in _RESULT_NEUTRAL}}
             for s in pipeline.steps]
    models = sorted(card.sha256 for card in pipeline_models(pipeline))
    output = {"format": rule.format, "quality": rule.quality, "keep_metadata": rule.keep_metadata}
    text = json.dumps({"steps": steps, "models": models, "output": output}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def safe_relative(text: object) -> PurePosixPath | None:
    """`text` as a relative POSIX path that stays where it is put (no '..', '.', root, drive, backslash or control
    characters), or None."""
    if not isinstance(text, str) or not text or len(text) > 4096 or not text.isprintable() or "\\" in text:
        return None
    path = PurePosixPath(text)
    if path.is_absolute() or text.startswith("~") or path.as_posix() != text:  # also refuses 'a//b' and 'a/'
        return None
    if any(part in ("..", ".") or ":" in part for part in path.parts):
        return None
    return path


def _entry_from(record: object) -> ManifestEntry | str | None:
    """A "done" record as an entry, the reason it is refused, or None for other (informational) records."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("type") != "done":
        return None
    values = {name: record.get(name) for name in ManifestEntry.__dataclass_fields__}
    if not all(isinstance(value, str) for value in values.values()):
        return "a field is missing or is not text"
    if safe_relative(values["input"]) is None:
        return f"its input {values['input']!r} is not a plain relative path"
    if safe_relative(values["output"]) is None:
        return f"its output {values['output']!r} is not a plain relative path inside the output folder"
    if not (_SHA256.fullmatch(values["input_sha256"]) and _SHA256.fullmatch(values["pipeline_sha256"])):
        return "its hashes are not sha256 digests"
    return ManifestEntry(**values)


class Manifest:
    """What earlier runs finished, and the append-only log this run adds to; safe to record from any thread."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / MANIFEST_NAME
        self._entries: dict[str, ManifestEntry] = {}
        self.rejected: list[str] = []  # "line 3: its output '../x.png' is not ...", for the plan to report
        self._lock = threading.Lock()
        self._torn_tail = False  # the last line was cut short by a crash: the next append starts a new line
        self._load()

    def _open(self, flags: int) -> int:
        """The manifest's descriptor; refuses a link (it could point anywhere) and anything but a regular file."""
        try:
            fd = os.open(self.path, flags | _NO_FOLLOW | _NON_BLOCKING, 0o666)
        except OSError as exc:
            if exc.errno == errno.ELOOP or os.path.islink(self.path):
                raise BatchError(f"the batch manifest {self.path} is a link; ImageStudio does not follow it — "
                                 "remove it or choose another output folder") from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise BatchError(f"the batch manifest {self.path} is not a regular file; remove it or choose another "
                             "output folder")
        os.set_blocking(fd, True)
        return fd

    def _load(self) -> None:
        try:
            fd = self._open(os.O_RDONLY)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BatchError(f"cannot read the batch manifest {self.path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_MANIFEST_BYTES:
                raise BatchError(f"the batch manifest {self.path} is {size >> 20} MB, more than any batch writes; "
                                 "remove it or choose another output folder")
            last = b"\n"
            number = 0
            while True:
                try:
                    line = file.readline(MAX_LINE_BYTES + 1)
                except OSError as exc:
                    raise BatchError(f"cannot read the batch manifest {self.path}: {exc.strerror or exc}") from None
                if not line:
                    break
                number += 1
                last = line[-1:]
                if len(line) > MAX_LINE_BYTES and last != b"\n":
                    while last != b"\n":  # skip the rest of the over-long line, a piece at a time
                        line = file.readline(MAX_LINE_BYTES + 1)
                        if not line:
                            break
                        last = line[-1:]
                    self._reject(number, f"longer than {MAX_LINE_BYTES} bytes")
                    continue
                self._parse(number, line)
        self._torn_tail = last != b"\n"

    def _parse(self, number: int, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            return
        try:
            record = bounded_json.loads(text, max_depth=_MAX_DEPTH)
        except bounded_json.JSONLimitError:
            log.warning("batch manifest %s: line %d is damaged and was ignored", self.path.name, number)
            return
        entry = _entry_from(record)
        if isinstance(entry, str):
            self._reject(number, entry)
        elif entry is not None:
            self._entries[entry.input] = entry  # the latest run's line wins

    def _reject(self, number: int, reason: str) -> None:
        self.rejected.append(f"line {number}: {reason}")

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, input_rel: str) -> ManifestEntry | None:
        return self._entries.get(input_rel)

    def is_done(self, input_rel: str, input_sha256: str, pipeline_sha256: str, output_rel: str) -> bool:
        """Whether an earlier run finished this input, with this pipeline, into `output_rel` (which the planner
        checked), and that output is still a regular file there (not a link)."""
        entry = self._entries.get(input_rel)
        if entry is None or entry.output != output_rel:
            return False
        if entry.input_sha256 != input_sha256 or entry.pipeline_sha256 != pipeline_sha256:
            return False
        try:
            info = os.lstat(self.output_dir.joinpath(*PurePosixPath(entry.output).parts))
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode)

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
                fd = self._open(os.O_WRONLY | os.O_APPEND | os.O_CREAT)
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
