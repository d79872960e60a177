"""The end-of-batch report: one row per file (done, skipped, failed or cancelled, with the reason), as text or CSV."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from imagestudio.core.errors import ImageSaveError

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

    def to_csv(self, path: Path) -> Path:
        """Writes the report atomically (temporary file, then rename)."""
        path = Path(path)
        temporary: str | None = None
        try:
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
                file.write(self.csv_text())
            os.replace(temporary, path)
            temporary = None
        except OSError as exc:
            raise ImageSaveError(f"cannot write the report {path}: {exc.strerror or exc}") from None
        finally:
            if temporary is not None:
                with suppress(OSError):
                    os.unlink(temporary)
        return path
