"""The start-up probe used by the packaging smoke test and the app benchmark, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def _run_app(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN="1",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "imagestudio", str(path)], env=env, capture_output=True, text=True,
                          timeout=120)


def test_reports_first_window_with_the_photo_then_exits(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(photo)
    result = _run_app(photo, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imagestudio-smoke: shown" in result.stdout
    assert result.stdout.strip().endswith("title ImageStudio — photo.png")


def test_a_file_that_fails_to_open_exits_with_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    result = _run_app(broken, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
