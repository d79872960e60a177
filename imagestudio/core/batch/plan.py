"""A batch job (inputs + pipeline + output rule) and its plan: every input with its output name and what will happen.

The plan is what the GUI's preview and `imagestudio batch --dry-run` show; the runner carries it out unchanged,
except that an output which appeared since planning is handled by the same conflict rule.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from imagestudio.core.batch.discover import Ignored, SourceFile, discover
from imagestudio.core.batch.errors import BatchError
from imagestudio.core.batch.manifest import Manifest
from imagestudio.core.batch.naming import OutputRule, free_name, inside
from imagestudio.core.image import DEFAULT_MAX_PIXELS
from imagestudio.core.pipeline import Pipeline

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

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)


def check_folders(spec: BatchSpec) -> None:
    if not spec.input_dir.is_dir():
        raise BatchError(f"the input folder {spec.input_dir} does not exist or is not a folder")
    if spec.output_dir.exists() and not spec.output_dir.is_dir():
        raise BatchError(f"the output folder {spec.output_dir} is a file, not a folder")
    if os.path.realpath(spec.input_dir) == os.path.realpath(spec.output_dir):
        raise BatchError("the output folder must differ from the input folder: a batch never writes beside its inputs")


def plan_batch(spec: BatchSpec, manifest: Manifest | None = None) -> BatchPlan:
    """Names every output and applies the conflict rule; reads the manifest (when resuming) but writes nothing."""
    check_folders(spec)
    sources, ignored = discover(spec.input_dir, recursive=spec.recursive, include=spec.include,
                                exclude=spec.exclude, skip=(spec.output_dir,))
    if manifest is None and spec.resume and spec.output_dir.is_dir():
        manifest = Manifest(spec.output_dir)
    inputs = {os.path.realpath(s.path) for s in sources}
    taken: set[Path] = set()  # outputs claimed by earlier files of this batch
    files = [_plan_one(spec, source, index, manifest, inputs, taken) for index, source in enumerate(sources, 1)]
    return BatchPlan(spec, files, ignored)


def _plan_one(spec: BatchSpec, source: SourceFile, index: int, manifest: Manifest | None, inputs: set[str],
              taken: set[Path]) -> PlannedFile:
    try:
        output = inside(spec.output_dir, spec.rule.render(source.relative, index))
    except BatchError as exc:
        return PlannedFile(source, None, SKIP, str(exc))
    entry = manifest.lookup(source.relative.as_posix()) if (manifest is not None and spec.resume) else None
    if entry is not None:
        earlier = spec.output_dir.joinpath(*PurePosixPath(entry.output).parts)
        if earlier.is_file() and earlier not in taken:
            taken.add(earlier)
            return PlannedFile(source, earlier, RESUME, "finished in an earlier run", overwrite=True)
    if os.path.realpath(output) in inputs:
        return PlannedFile(source, None, SKIP, f"its output name {output.name} is an input file")
    clash = output in taken
    if not clash and not output.exists():
        taken.add(output)
        return PlannedFile(source, output, PROCESS)
    rule = spec.rule.conflict
    where = "another input of this batch writes" if clash else "the output exists:"
    if rule == "skip" or (rule == "overwrite" and clash):
        return PlannedFile(source, output, SKIP, f"{where} {output.relative_to(spec.output_dir).as_posix()}")
    if rule == "overwrite":
        taken.add(output)
        return PlannedFile(source, output, PROCESS, "will overwrite the existing output", overwrite=True)
    renamed = free_name(output, taken)
    taken.add(renamed)
    return PlannedFile(source, renamed, PROCESS, f"renamed: {output.name} exists")
