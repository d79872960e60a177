"""A batch job (inputs + pipeline + output rule) and its plan: every input with its output name and what will happen.

The plan is what the GUI's preview and `imagestudio batch --dry-run` show; the runner carries it out unchanged,
except that an output which appeared since planning is handled by the same conflict rule.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from imagestudio.core.batch.discover import Ignored, SourceFile, discover
from imagestudio.core.batch.manifest import MANIFEST_NAME, Manifest, ManifestEntry
from imagestudio.core.batch.naming import OutputRule, free_name, inside, is_renamed
from imagestudio.core.errors import BatchError
from imagestudio.core.file_names import NameLimits, limits, name_problem
from imagestudio.core.image import DEFAULT_MAX_PIXELS
from imagestudio.core.pipeline import Pipeline

log = logging.getLogger(__name__)
_REPORTED_REJECTS = 3  # manifest entries named one by one in the warning; the rest are counted

# What the runner does with each planned file.
PROCESS = "process"  # run the pipeline and write the output
RESUME = "resume"  # finished by an earlier run: skipped if its input and pipeline hash still match, else redone
SKIP = "skip"  # not run; `reason` says why


@dataclass
class BatchSpec:
    input_dir: Path
    output_dir: Path
    pipeline: Pipeline
    rule: OutputRule = field(default_factory=OutputRule)
    recursive: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    resume: bool = True  # trust the manifest: skip what an earlier run finished with the same input and pipeline
    max_pixels: int | None = DEFAULT_MAX_PIXELS  # larger inputs fail before decoding (ImageTooLargeError)

    def __post_init__(self) -> None:
        self.input_dir, self.output_dir = Path(self.input_dir), Path(self.output_dir)


@dataclass(frozen=True)
class PlannedFile:
    source: SourceFile
    output: Path | None  # absolute; None when skipped before naming
    action: str  # PROCESS | RESUME | SKIP
    reason: str = ""
    overwrite: bool = False  # the output exists and the rule (or the manifest, for our own output) allows replacing it
    fails: bool = False  # SKIP because it cannot work (its output name is too long): reported as FAILED

    @property
    def input_rel(self) -> str:
        return self.source.relative.as_posix()

    def output_rel(self, output_dir: Path) -> str | None:
        return None if self.output is None else self.output.relative_to(output_dir).as_posix()


@dataclass
class BatchPlan:
    spec: BatchSpec
    files: list[PlannedFile]
    ignored: list[Ignored]
    manifest_rejected: list[str] = field(default_factory=list)  # manifest entries that were not trusted, and why

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)

    def run_files(self) -> dict[Path, str]:
        """Every file the run will read or may write, with what it is (for checks like `--report`'s)."""
        files = {self.spec.output_dir / MANIFEST_NAME: "the batch manifest"}
        for planned in self.files:
            files[planned.source.path] = "an input"
            if planned.output is not None:
                files[planned.output] = "an output"
        return files


def check_folders(spec: BatchSpec) -> None:
    if not os.path.isdir(spec.input_dir):  # os.path: never raises, even for a name too long
        raise BatchError(f"the input folder {spec.input_dir} does not exist or is not a folder")
    if os.path.lexists(spec.output_dir) and not os.path.isdir(spec.output_dir):
        raise BatchError(f"the output folder {spec.output_dir} is a file, not a folder")
    if os.path.realpath(spec.input_dir) == os.path.realpath(spec.output_dir):
        raise BatchError("the output folder must differ from the input folder: a batch never writes beside its inputs")


def plan_batch(spec: BatchSpec, manifest: Manifest | None = None) -> BatchPlan:
    """Names every output and applies the conflict rule; reads the manifest (when resuming) but writes nothing."""
    check_folders(spec)
    sources, ignored = discover(spec.input_dir, recursive=spec.recursive, include=spec.include,
                                exclude=spec.exclude, skip=(spec.output_dir,))
    if manifest is None and spec.resume and os.path.isdir(spec.output_dir):
        manifest = Manifest(spec.output_dir)
    inputs = {os.path.realpath(s.path) for s in sources}
    taken: set[Path] = set()  # outputs claimed by earlier files of this batch
    rejected = list(manifest.rejected) if manifest is not None and spec.resume else []
    limit = limits(spec.output_dir)
    files = [_plan_one(spec, source, index, manifest, inputs, taken, rejected, limit)
             for index, source in enumerate(sources, 1)]
    _report_rejected(spec, rejected)
    return BatchPlan(spec, files, ignored, rejected)


def _report_rejected(spec: BatchSpec, rejected: list[str]) -> None:
    if not rejected:
        return
    named = "; ".join(rejected[:_REPORTED_REJECTS])
    more = f"; and {len(rejected) - _REPORTED_REJECTS} more" if len(rejected) > _REPORTED_REJECTS else ""
    log.warning("batch manifest in %s: %d entr%s not trusted and ignored (%s%s)", spec.output_dir, len(rejected),
                "y" if len(rejected) == 1 else "ies", named, more)


def _plan_one(spec: BatchSpec, source: SourceFile, index: int, manifest: Manifest | None, inputs: set[str],
              taken: set[Path], rejected: list[str], limit: NameLimits) -> PlannedFile:
    try:
        relative = spec.rule.render(source.relative, index)
    except BatchError as exc:
        return PlannedFile(source, None, SKIP, str(exc))
    entry = manifest.lookup(source.relative.as_posix()) if (manifest is not None and spec.resume) else None
    # Judged before anything else, so that an entry that is not trusted is reported even when the file is skipped.
    earlier = _trusted_output(spec, entry, relative, inputs, rejected) if entry is not None else None
    problem = name_problem(spec.output_dir.joinpath(*relative.parts), limit)
    if problem is not None:  # measured in bytes, before any call that would fail with ENAMETOOLONG
        return PlannedFile(source, None, SKIP, f"cannot name the output: {problem}", fails=True)
    try:
        output = inside(spec.output_dir, relative)
    except BatchError as exc:
        return PlannedFile(source, None, SKIP, str(exc))
    if os.path.realpath(output) in inputs:
        return PlannedFile(source, None, SKIP, f"its output name {output.name} is an input file")
    if earlier is not None and earlier not in taken:
        taken.add(earlier)
        return PlannedFile(source, earlier, RESUME, "finished in an earlier run", overwrite=True)
    clash = output in taken
    if not clash and not os.path.lexists(output):
        taken.add(output)
        return PlannedFile(source, output, PROCESS)
    rule = spec.rule.conflict
    where = "another input of this batch writes" if clash else "the output exists:"
    if rule == "skip" or (rule == "overwrite" and clash):
        return PlannedFile(source, output, SKIP, f"{where} {output.relative_to(spec.output_dir).as_posix()}")
    if rule == "overwrite":
        taken.add(output)
        return PlannedFile(source, output, PROCESS, "will overwrite the existing output", overwrite=True)
    try:
        renamed = free_name(output, taken)
    except BatchError as exc:
        return PlannedFile(source, None, SKIP, str(exc), fails=True)
    taken.add(renamed)
    return PlannedFile(source, renamed, PROCESS, f"renamed: {output.name} exists")


def _trusted_output(spec: BatchSpec, entry: ManifestEntry, rendered: PurePosixPath, inputs: set[str],
                    rejected: list[str]) -> Path | None:
    """The earlier output an entry names, if the runner may trust it: the name the current template (or the rename
    rule) gives this input, inside the output folder after resolving links, a regular file and not an input."""
    claimed = PurePosixPath(entry.output)
    earlier = spec.output_dir.joinpath(*claimed.parts)

    def refuse(reason: str) -> None:
        rejected.append(f"{entry.input} -> {entry.output}: {reason}")

    if not is_renamed(claimed, rendered):
        refuse(f"not the name the template gives it ({rendered.as_posix()})")
        return None
    try:
        inside(spec.output_dir, claimed)
    except BatchError:
        refuse("leaves the output folder")
        return None
    try:
        info = os.lstat(earlier)
    except OSError:
        return None  # gone since: the file is simply done again
    if stat.S_ISLNK(info.st_mode):
        refuse("it is a link")
        return None
    if not stat.S_ISREG(info.st_mode) or os.path.realpath(earlier) in inputs:
        refuse("not an output file")
        return None
    return earlier
