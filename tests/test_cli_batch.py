"""`imagestudio batch` and `imagestudio generate` as a user runs them: subprocesses, real files, tiny real models."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import generative_models
import numpy as np
import onnx_models
import pytest
from photo_files import write_photo
from PIL import Image as PILImage

from imagestudio.core.batch import MANIFEST_NAME


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagestudio", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    write_photo(root / "a.png", seed=1)
    write_photo(root / "nested" / "deep" / "b.jpg", seed=2)
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "notes.txt").write_text("hi")
    return root


def test_dry_run_previews_and_writes_nothing(folder: Path, tmp_path: Path, bundled_upscalers) -> None:
    done = cli("batch", str(folder), str(tmp_path / "out"), "--pipeline", "upscale-x4", "--recursive",
               "--name", "{stem}_x4.{ext}", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "process  a.png -> a_x4.png" in done.stdout
    assert "process  nested/deep/b.jpg -> nested/deep/b_x4.jpg" in done.stdout
    assert "ignore   notes.txt  (not an image type ImageStudio reads)" in done.stdout
    assert "3 to process, 0 skipped, 1 ignored" in done.stdout
    assert not (tmp_path / "out").exists()


def test_batch_runs_logs_the_bad_file_and_reports(folder: Path, tmp_path: Path, bundled_upscalers) -> None:
    out, report = tmp_path / "out", tmp_path / "report.csv"
    done = cli("batch", str(folder), str(out), "--pipeline", "upscale-x4", "--recursive", "--format", "png",
               "--name", "{stem}_x4.{ext}", "--device", "cpu", "--report", str(report), "-q")
    assert done.returncode == 1, done.stderr  # one file failed; the others were done
    assert "imagestudio: batch: corrupt.jpg failed" in done.stderr and "Traceback" not in done.stderr
    assert PILImage.open(out / "nested" / "deep" / "b_x4.png").size == (96, 64)
    assert "2 done, 1 skipped, 1 failed" in done.stdout and "images/s on CPUExecutionProvider" in done.stdout
    rows = {row["input"]: row for row in csv.DictReader(report.open())}
    assert rows["corrupt.jpg"]["status"] == "failed" and rows["a.png"]["output"] == "a_x4.png"
    assert (out / MANIFEST_NAME).is_file()


def test_rerun_with_resume_skips_everything(tmp_path: Path, bundled_upscalers) -> None:
    for index in range(3):
        write_photo(tmp_path / "in" / f"p{index}.png", seed=index)
    args = ("batch", str(tmp_path / "in"), str(tmp_path / "out"), "--pipeline", "upscale-x2", "--resume", "-q")
    assert cli(*args).returncode == 0
    again = cli(*args, "--conflict", "overwrite")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already done in an earlier run") == 3 and "0 done, 3 skipped" in again.stdout


def test_a_killed_run_resumes_and_leaves_no_partial_files(tmp_path: Path, models, model_dirs) -> None:
    models("heavy", "slow.onnx", model_dirs["bundled"], channels=48, layers=6,
           metadata=onnx_models.card("denoise", "denoise", 1, receptive_radius="8"))
    for index in range(8):
        write_photo(tmp_path / "in" / f"p{index}.png", (160, 160), seed=index)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(out), "--pipeline",
               "denoise", "-q"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("p*.png")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
    process.wait(30)
    finished = sorted(p.name for p in out.glob("p*.png"))
    assert 1 <= len(finished) < 8, "killed mid-run"
    for name in finished:  # atomic writes: whatever is there is a whole image
        PILImage.open(out / name).load()
    again = cli(*command[3:], "--resume")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.glob("p*.png")) == [f"p{i}.png" for i in range(8)]
    assert again.stdout.count("already done in an earlier run") >= len(finished) - 1


def test_ctrl_c_stops_and_says_how_to_resume(tmp_path: Path, models, model_dirs) -> None:
    models("heavy", "slow.onnx", model_dirs["bundled"], channels=48, layers=6,
           metadata=onnx_models.card("denoise", "denoise", 1, receptive_radius="8"))
    for index in range(6):
        write_photo(tmp_path / "in" / f"p{index}.png", (160, 160), seed=index)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(out),
                                "--pipeline", "denoise", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("p*.png")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "rerun with --resume" in stderr and "not started (cancelled)" in stdout


@pytest.mark.parametrize("args, message", [
    (("--name", "../{stem}.{ext}"), "may not use '..'"),
    (("--pipeline", "sharpen"), "unknown pipeline 'sharpen'"),
    (("--quality", "0"), "quality must be a whole number from 1 to 100"),
])
def test_mistakes_are_one_line_errors(folder: Path, tmp_path: Path, bundled_upscalers, args, message) -> None:
    done = cli("batch", str(folder), str(tmp_path / "out"), *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("imagestudio: ") and message in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def tiny_generative(model_dirs: dict[str, Path]) -> dict[str, Path]:
    return generative_models.install_all(model_dirs["bundled"])


def test_generate_writes_one_file_per_seed(tmp_path: Path, tiny_generative) -> None:
    from imagestudio.core.ops.generate import generate

    done = cli("generate", "-n", "4", "--seed", "7", "-o", str(tmp_path / "outdir"), "-q")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "outdir").iterdir()} == {f"seed-{s}.png" for s in range(7, 11)}
    assert "wrote 4 images" in done.stdout
    expected = np.round(generate(1, 9)[0].rgb * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / "outdir" / "seed-9.png")), expected)
    again = cli("generate", "-n", "4", "--seed", "7", "-o", str(tmp_path / "outdir"))
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_generate_blends_two_images_or_two_seeds(tmp_path: Path, tiny_generative) -> None:
    a, b = write_photo(tmp_path / "A.png", seed=1), write_photo(tmp_path / "B.png", seed=2)
    done = cli("generate", "--blend", str(a), str(b), "--steps", "5", "-o", str(tmp_path / "blend"), "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "blend").iterdir()) == [f"blend-{i:02d}.png" for i in range(5)]
    seeds = cli("generate", "--blend", "3", "9", "-o", str(tmp_path / "seeds"), "-q")
    assert seeds.returncode == 0, seeds.stderr
    assert len(list((tmp_path / "seeds").glob("blend-3-9-*.png"))) == 8
    vary = cli("generate", "--vary", str(a), "-n", "3", "--strength", "0.5", "-o", str(tmp_path / "vary"), "-q")
    assert vary.returncode == 0 and len(list((tmp_path / "vary").glob("A-var-*.png"))) == 3


def test_generate_without_models_is_a_one_line_error(tmp_path: Path) -> None:
    done = cli("generate", "-o", str(tmp_path / "x"))
    assert done.returncode == 2 and "no model is installed for generate" in done.stderr


def test_batch_and_generate_never_load_qt() -> None:
    code = ("from imagestudio.cli import build_parser; import imagestudio.cli.batch, imagestudio.cli.generate; "
            "build_parser().parse_args(['batch', 'a', 'b']); import sys; "
            "assert 'PySide6' not in sys.modules and 'torch' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_batch_format_takes_exactly_the_cores_output_choices(capsys) -> None:
    from imagestudio.cli import build_parser
    from imagestudio.core.imageio.formats import OUTPUT_CHOICES

    parser = build_parser()
    for choice in OUTPUT_CHOICES:
        assert parser.parse_args(["batch", "in", "out", "--format", choice.lower()]).format == choice
    with pytest.raises(SystemExit):
        parser.parse_args(["batch", "in", "out", "--format", "gif"])
    assert "unknown format 'gif'" in capsys.readouterr().err
    batch_help = next(a for a in parser._subparsers._group_actions[0].choices["batch"]._actions
                      if "--format" in a.option_strings).help
    assert batch_help.startswith(f"output format: {', '.join(c.lower() for c in OUTPUT_CHOICES)} ")
