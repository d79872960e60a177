"""Output names: the name template (`{stem}_x4.{ext}`), the output format, and the conflict rule.

A template may add sub-folders ("x4/{stem}.{ext}") but never climb out of the output folder: `..`, absolute paths and
drive letters are refused when the rule is made, and every final path is checked to lie inside the output folder.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from imagestudio.core.errors import BatchError
from imagestudio.core.file_names import NameLimits, name_problem
from imagestudio.core.imageio.formats import FORMATS, OUTPUT_CHOICES, SAME, SUFFIX_FORMATS, output_format

CONFLICT_RULES = ("skip", "overwrite", "rename")
TEMPLATE_FIELDS = ("stem", "ext", "name", "index")
DEFAULT_TEMPLATE = "{stem}.{ext}"
_MAX_RENAMES = 10_000
MAX_TEMPLATE_CHARS = 1024
MAX_INDEX_WIDTH = 12  # {index:012d}: a trillion files; '{index:999999999}' would build a gigabyte name
_INDEX_SPEC = re.compile(r"(?P<zero>0?)(?P<width>[0-9]{0,3})d?")


@dataclass(frozen=True)
class OutputRule:
    """How each result is written: format ("same": the input's), quality, name template, and what to do when the
    output file already exists ("skip", "overwrite" or "rename" to name_1.ext, name_2.ext...)."""

    format: str = SAME
    quality: int = 95
    template: str = DEFAULT_TEMPLATE
    conflict: str = "skip"
    keep_metadata: bool = True

    def __post_init__(self) -> None:
        fmt = output_format(self.format)
        if fmt is None:
            raise BatchError(f"the output format must be one of {', '.join(OUTPUT_CHOICES)}, not {self.format!r}")
        object.__setattr__(self, "format", fmt)
        if isinstance(self.quality, bool) or not isinstance(self.quality, int) or not 1 <= self.quality <= 100:
            raise BatchError(f"quality must be a whole number from 1 to 100, not {self.quality!r}")
        if self.conflict not in CONFLICT_RULES:
            raise BatchError(f"the conflict rule must be one of {', '.join(CONFLICT_RULES)}, not {self.conflict!r}")
        check_template(self.template, self.format)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def extension_for(self, source: Path) -> str:
        """{ext}: the output format's usual suffix, or the input's own for "same"."""
        if self.format == SAME:
            return source.suffix.lower().lstrip(".")
        return FORMATS[self.format].suffix.lstrip(".")

    def render(self, source: PurePosixPath, index: int) -> PurePosixPath:
        """The output path relative to the output folder: the input's sub-folders, then the rendered name."""
        values = {"stem": source.stem, "ext": self.extension_for(Path(source.name)), "name": source.name,
                  "index": index}
        rendered = PurePosixPath(self.template.format(**values))
        if rendered.is_absolute() or any(part in ("..", ".") for part in rendered.parts):  # from a file's own name
            raise BatchError(f"'{source.name}' gives the output name '{rendered}', which leaves the output folder")
        if rendered.suffix.lower() not in SUFFIX_FORMATS:
            raise BatchError(f"the name template '{self.template}' gives '{rendered.name}', which is not an image "
                             f"file name (end it with .{{ext}} or an image extension)")
        return source.parent / rendered


def check_template(template: str, fmt: str = SAME) -> None:
    """Refuses a template that names an unknown field, is empty, or could write outside the output folder."""
    if not isinstance(template, str) or not template.strip():
        raise BatchError("the name template is empty; try {stem}.{ext}")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise BatchError(f"the name template is {len(template)} characters long; at most {MAX_TEMPLATE_CHARS}")
    if not template.isprintable():
        raise BatchError("the name template contains control characters (a tab, a line break...)")
    if "\\" in template or "\0" in template:
        raise BatchError(f"the name template '{template}' may only use / to make sub-folders")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise BatchError(f"the name template '{template}' is malformed: {exc}") from None
    for _text, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            known = ", ".join("{" + name + "}" for name in TEMPLATE_FIELDS)
            raise BatchError(f"the name template '{template}' uses {{{field}}}; it may use {known}")
        if conversion or (spec and field != "index"):
            raise BatchError(f"the name template '{template}' formats {{{field}}}; only {{index}} takes a format")
        if spec:
            match = _INDEX_SPEC.fullmatch(spec)
            if match is None or int(match["width"] or 0) > MAX_INDEX_WIDTH:
                raise BatchError(f"the name template '{template}' formats {{index}} as '{spec}'; use a width of at "
                                 f"most {MAX_INDEX_WIDTH} digits, e.g. {{index:03d}}")
    try:
        sample = PurePosixPath(template.format(stem="photo", ext="png", name="photo.png", index=1))
    except (ValueError, TypeError) as exc:
        raise BatchError(f"the name template '{template}' is malformed: {exc}") from None
    _check_relative(sample, template)
    suffix = sample.suffix.lower()
    if suffix not in SUFFIX_FORMATS or not sample.stem or sample.name.startswith("."):
        kinds = ", ".join(sorted(info.suffix for info in FORMATS.values()))
        what = f"ends in '{suffix}', which is not an image type" if suffix else "has no file extension"
        if sample.name.startswith("."):
            what = "makes hidden file names (they start with '.')"
        raise BatchError(f"the name template '{template}' {what}; end it with .{{ext}} or one of {kinds}")
    if "{ext}" not in template and suffix in SUFFIX_FORMATS and fmt != SAME and SUFFIX_FORMATS[suffix] != fmt:
        raise BatchError(f"the name template '{template}' ends in {suffix} but the output format is {fmt}; "
                         "use .{ext} or pick the matching format")


def _check_relative(path: PurePosixPath, template: str) -> None:
    if path.is_absolute() or template.startswith(("/", "~")) or any(":" in part for part in path.parts):
        raise BatchError(f"the name template '{template}' must name a file inside the output folder")
    if any(part in ("..", ".") for part in path.parts) or not path.parts:
        raise BatchError(f"the name template '{template}' may not use '..' or '.': outputs stay in the output folder")


def checked_output(folder: Path, relative: PurePosixPath, limit: NameLimits | None = None) -> Path:
    """folder / relative, refused (BatchError) when a name is too long for the file system or the path would
    resolve, through links already there, outside the folder."""
    target = folder.joinpath(*relative.parts)
    problem = name_problem(target, limit)
    if problem is not None:
        raise BatchError(f"cannot name the output {relative}: {problem}")
    return inside(folder, relative)


def inside(folder: Path, relative: PurePosixPath) -> Path:
    """folder / relative, refused when it would resolve (through links already there) outside the folder."""
    target = folder.joinpath(*relative.parts)
    root = Path(os.path.realpath(folder))
    real = Path(os.path.realpath(target))
    if real != root and root not in real.parents:
        raise BatchError(f"'{relative}' would be written outside the output folder {folder}")
    return target


def renamed(path: Path, attempt: int) -> Path:
    return path.with_name(f"{path.stem}_{attempt}{path.suffix}")


def free_name(path: Path, taken: set[Path]) -> Path:
    """The first of path, name_1.ext, name_2.ext... that neither exists nor is taken by another file of the batch."""
    candidate = path
    for attempt in range(1, _MAX_RENAMES):
        problem = name_problem(candidate)
        if problem is not None:
            raise BatchError(f"no free name for {path.name}: {problem}")
        if candidate not in taken and not os.path.lexists(candidate):
            return candidate
        candidate = renamed(path, attempt)
    raise BatchError(f"no free name for {path.name} after {_MAX_RENAMES} tries")


def is_renamed(candidate: PurePosixPath, original: PurePosixPath) -> bool:
    """Whether `candidate` is `original` or one of the names the rename rule gives it (name_1.ext, name_2.ext...)."""
    if candidate == original:
        return True
    if candidate.parent != original.parent or candidate.suffix != original.suffix:
        return False
    stem, prefix = candidate.stem, original.stem + "_"
    number = stem[len(prefix):]
    return stem.startswith(prefix) and number.isascii() and number.isdigit() and not number.startswith("0") \
        and int(number) < _MAX_RENAMES
