"""The layering rules of ../shared/ARCHITECTURE.md, checked on the real import graph."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "code",
    [
        "import imagestudio.cli, imagestudio.core.pipeline",
        # The entry point running a CLI command, as `imagestudio models` does.
        "from imagestudio.__main__ import main; assert main(['models']) == 0",
    ],
)
def test_headless_paths_load_neither_qt_nor_torch(code):
    script = f"{code}; import sys; assert 'PySide6' not in sys.modules and 'torch' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
