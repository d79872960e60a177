"""Shared checks for the hostile-input tests (issue 15): run the real CLI, and assert what every refusal must be.

Every failure: exit code as documented, exactly one line on stderr starting `imagestudio: `, no traceback, no
temporary or partial file, inputs untouched (bytes and modification time).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from imagestudio.core.batch import MANIFEST_NAME, OutputRule, file_sha256, load_pipeline, pipeline_hash

TEMPORARY = re.compile(r"\..*\.tmp", re.DOTALL)


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagestudio", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd, check=False)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str, code: int = 2) -> str:
    """The run failed with `code`, one stderr line `imagestudio: ...` holding every fragment, no traceback."""
    assert done.returncode == code, (done.returncode, done.stderr, done.stdout)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("imagestudio: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def temporaries(folder: Path) -> list[Path]:
    """Temporary files (`.name....tmp`) anywhere under `folder`, links included."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if TEMPORARY.fullmatch(p.name))


def state(root: Path) -> dict[str, tuple[str, int]]:
    """Every regular file under `root` with its sha256 and mtime: proof that nothing was touched."""
    result = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            result[path.relative_to(root).as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                         path.stat().st_mtime_ns)
    return result


def photo(path: Path, size: tuple[int, int] = (12, 8), seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(path)
    return path


def done_line(input_rel: str, source: Path, output_rel: str, pipeline: str = "upscale-x2",
              rule: OutputRule | None = None) -> str:
    """A manifest "done" record exactly as a real run writes it for `source`, naming `output_rel`: every hash is
    right, so only the output name can make it a lie."""
    record = {"type": "done", "input": input_rel, "input_sha256": file_sha256(source),
              "pipeline_sha256": pipeline_hash(load_pipeline(pipeline), rule or OutputRule()),
              "output": output_rel, "finished": "2026-01-01T00:00:00+0000"}
    return json.dumps(record) + "\n"


def plant_manifest(out: Path, *lines: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / MANIFEST_NAME
    path.write_text("".join(lines), encoding="utf-8")
    return path


def env_with(**values: str) -> dict[str, str]:
    return {**os.environ, **values}
