"""The end-of-batch report: one row per file (done, skipped, failed or cancelled, with the reason), as text or CSV."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from imagestudio.core.batch.manifest import MANIFEST_NAME
from imagestudio.core.errors import BatchError
from imagestudio.core.file_names import name_problem
from imagestudio.core.imageio.atomic import atomic_write

DONE, SKIPPED, FAILED, CANCELLED = "done", "skipped", "failed", "cancelled"
CSV_COLUMNS = ("input", "status", "output", "reason", "seconds")


@dataclass(frozen=True)
class FileResult:
    input: str  # relative to the input folder
    status: str  # DONE | SKIPPED | FAILED | CANCELLED
    output: str | None = None  # relative to the output folder
    reason: str = ""
    seconds: float = 0.0  # wall time spent on this file by the pipeline


@dataclass
class BatchReport:
    input_dir: Path
    output_dir: Path
    results: list[FileResult] = field(default_factory=list)
    elapsed: float = 0.0
    cancelled: bool = False

    def with_status(self, status: str) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def done(self) -> list[FileResult]:
        return self.with_status(DONE)

    @property
    def skipped(self) -> list[FileResult]:
        return self.with_status(SKIPPED)

    @property
    def failed(self) -> list[FileResult]:
        return self.with_status(FAILED)

    def images_per_second(self) -> float:
        return len(self.done) / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        parts = [f"{len(self.done)} done", f"{len(self.skipped)} skipped", f"{len(self.failed)} failed"]
        left = len(self.with_status(CANCELLED))
        if left:
            parts.append(f"{left} not started (cancelled)")
        return f"{', '.join(parts)} in {self.elapsed:.1f} s"

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.results:
            writer.writerow([r.input, r.status, r.output or "", r.reason, f"{r.seconds:.3f}"])
        return out.getvalue()

    def run_files(self) -> dict[Path, str]:
        """Every file this run read or wrote, with what it is: a report must never replace one of them."""
        files = {self.output_dir / MANIFEST_NAME: "the batch manifest"}
        for result in self.results:
            files[self.input_dir.joinpath(*PurePosixPath(result.input).parts)] = "an input"
            if result.output:
                files[self.output_dir.joinpath(*PurePosixPath(result.output).parts)] = "an output"
        return files

    def to_csv(self, path: Path) -> Path:
        """Writes the report atomically (temporary file, then rename); refuses to replace a file of this run."""
        path = Path(path)
        check_report_path(path, self.run_files())
        data = self.csv_text().encode("utf-8")
        atomic_write(path, lambda out: out.write(data))
        return path


def check_report_path(path: Path, run_files: dict[Path, str], created: Path | None = None) -> None:
    """Refuses (BatchError) a report path that is empty, a folder, too long, in a missing folder (other than
    `created`, the output folder a run is about to make), or that is, links to or is a hard link of an input, an
    output or the manifest of the run (`run_files`: path -> what it is)."""
    if not str(path) or str(path) == ".":
        raise BatchError("the report needs a file name, e.g. --report report.csv")
    path = Path(path)
    if os.path.isdir(path):
        raise BatchError(f"the report {path} is a folder; give a file name, e.g. {path / 'report.csv'}")
    made = created is not None and os.path.abspath(path.parent) == os.path.abspath(created)
    if not os.path.isdir(path.parent) and not made:
        raise BatchError(f"cannot write the report {path}: the folder {path.parent} does not exist")
    problem = name_problem(path)
    if problem is not None:
        raise BatchError(f"cannot write the report {path.name}: {problem}")
    real = os.path.realpath(path)
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    for other, what in run_files.items():
        same = os.path.realpath(other) == real
        if not same and existing is not None:
            try:
                info = os.stat(other)
            except OSError:
                continue
            same = (info.st_dev, info.st_ino) == (existing.st_dev, existing.st_ino)  # a hard link
        if same:
            raise BatchError(f"will not write the report over {path}: it is {what} of this batch ({other}); "
                             "choose another --report file")
