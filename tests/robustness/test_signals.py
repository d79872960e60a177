"""Signals (issue 15, class 7): SIGTERM, like SIGINT, during a save leaves no temporary file; a later batch run
removes the stale temporary files it owns (those of a killed process), and nothing else.

SIGTERM's default action ends the process on the spot: a save in progress left `.name.<hex>.tmp` behind. The CLI
now turns SIGTERM (and SIGHUP) into an exception that unwinds every `finally` (the save removes its temporary file),
exits 128 + the signal's number and says so in one line. A batch stops the same way; the save running on its writer
thread finishes (the file and its manifest line are complete) before the process exits. SIGKILL cannot be caught:
the temporary file it leaves names its process id, and the next batch into that folder removes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import assert_one_line_error, cli, temporaries
from PIL import Image as PILImage

from imagestudio.core.batch import MANIFEST_NAME
from imagestudio.core.image import load_image
from imagestudio.core.imageio.atomic import is_stale_temporary, remove_stale_temporaries, temporary_name

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def noisy(path: Path, side: int, seed: int = 0) -> Path:
    """Random pixels: PNG cannot compress them, so encoding the ×2 result takes a while (the window we aim at)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.fromarray(np.random.default_rng(seed).integers(0, 256, (side, side, 3), np.uint8)).save(path)
    return path


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "imagestudio", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "IMAGESTUDIO_THREADS": "1"})


def wait_for_temporary(process: subprocess.Popen[str], folder: Path, timeout: float = 600) -> Path:
    """Polls until a save's temporary file exists in `folder` (the save has begun and not finished)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = temporaries(folder)
        if found:
            return found[0]
        if process.poll() is not None:
            pytest.fail(f"the process ended before its save was seen: {process.communicate()}")
        time.sleep(0.002)
    process.kill()
    pytest.fail("no save started in time")


def test_sigterm_during_a_save_leaves_no_temporary_file(tmp_path: Path, bundled_upscalers) -> None:
    source = noisy(tmp_path / "in.png", 600)
    out = tmp_path / "out"
    out.mkdir()
    process = start("upscale", str(source), "-o", str(out / "big.png"), "--scale", "2", "-q")
    wait_for_temporary(process, out)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=600)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert_one_line_error(done, "stopped by SIGTERM; nothing written", code=128 + signal.SIGTERM)
    assert list(out.iterdir()) == [], "neither the output nor its temporary file"


def test_sigterm_during_a_batch_stops_cleanly_and_resume_finishes(tmp_path: Path, bundled_upscalers) -> None:
    for index in range(4):
        noisy(tmp_path / "in" / f"p{index}.png", 400, seed=index)
    out = tmp_path / "out"
    args = ("batch", str(tmp_path / "in"), str(out), "--pipeline", "upscale-x2", "-q")
    process = start(*args)
    wait_for_temporary(process, out)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=600)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert_one_line_error(done, "stopped by SIGTERM", "rerun with --resume", code=128 + signal.SIGTERM)
    assert temporaries(out) == []
    lines = [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]
    recorded = sorted(line["output"] for line in lines if line["type"] == "done")
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == recorded and len(written) < 4, "every output is complete and in the manifest"
    for name in written:
        assert load_image(out / name).width == 800
    again = cli(*args, "--resume", timeout=900)  # generous: CI machines here share their cores with training
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [f"p{i}.png" for i in range(4)]


def test_a_killed_save_is_cleaned_by_the_next_batch_and_nothing_else(tmp_path: Path, bundled_upscalers) -> None:
    noisy(tmp_path / "in" / "a.png", 600)
    out = tmp_path / "out"
    out.mkdir()
    process = start("upscale", str(tmp_path / "in" / "a.png"), "-o", str(out / "sub-a.png"), "--scale", "2", "-q")
    left = wait_for_temporary(process, out)
    process.kill()  # SIGKILL: nothing runs, the temporary file stays
    process.communicate(timeout=600)
    assert left.exists() and str(process.pid) in left.name
    (out / "sub").mkdir()
    dead = out / "sub" / temporary_name(Path("x.png")).replace(f".{os.getpid()}.", f".{process.pid}.")
    dead.write_bytes(b"left by the killed process")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = out / temporary_name(Path("y.png")).replace(f".{os.getpid()}.", f".{sleeper.pid}.")
        alive.write_bytes(b"a save still running in another process")
        mine = out / ".notes.tmp"  # a user's file that merely looks similar
        mine.write_text("mine")
        outside = tmp_path / "outside.txt"
        outside.write_text("keep")
        link = out / temporary_name(Path("z.png")).replace(f".{os.getpid()}.", f".{process.pid}.")
        link.symlink_to(outside)
        done = cli("batch", str(tmp_path / "in"), str(out), "--pipeline", "upscale-x2", "-q")
        assert done.returncode == 0, done.stderr
        assert "removed 2 temporary files left in" in done.stderr
        assert not left.exists() and not dead.exists()
        assert alive.exists() and mine.exists() and link.is_symlink() and outside.read_text() == "keep"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_what_counts_as_a_stale_temporary(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / temporary_name(Path("a.png")).replace(f".{os.getpid()}.", f".{gone.pid}.")
    stale.write_bytes(b"x")
    ours = tmp_path / temporary_name(Path("b.png"))  # this process is alive: never stale
    ours.write_bytes(b"x")
    legacy_old = tmp_path / ".c.png.0123abcd.tmp"  # the name before the pid was in it
    legacy_old.write_bytes(b"x")
    os.utime(legacy_old, (time.time() - 7200, time.time() - 7200))
    legacy_new = tmp_path / ".d.png.89abcdef.tmp"
    legacy_new.write_bytes(b"x")
    assert is_stale_temporary(tmp_path, stale.name) and is_stale_temporary(tmp_path, legacy_old.name)
    assert not is_stale_temporary(tmp_path, ours.name) and not is_stale_temporary(tmp_path, legacy_new.name)
    assert not is_stale_temporary(tmp_path, "photo.png") and not is_stale_temporary(tmp_path, ".x.tmp")
    assert sorted(p.name for p in remove_stale_temporaries(tmp_path)) == sorted([stale.name, legacy_old.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ours.name, legacy_new.name])
