"""The CLI as a user runs it: a subprocess, real files, real models, exit codes and stderr."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import onnx_models
import pytest
from PIL import Image as PILImage

from imagestudio import __version__


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagestudio", *args], capture_output=True, text=True,
                          timeout=timeout)


def assert_user_error(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert done.stderr.startswith("imagestudio: ") and message in done.stderr
    assert "Traceback" not in done.stderr


def test_version():
    done = cli("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"imagestudio {__version__}")


def test_models_list_shows_name_task_scale_and_provider(bundled_upscalers, models, model_dirs):
    models("blur", "denoise.onnx", model_dirs["user"], metadata=onnx_models.card("denoise", "denoise", 1))
    done = cli("models", "list")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[0] == ["NAME", "TASK", "SCALE", "PROVIDER", "SOURCE"]
    assert ["upscale-x2", "upscale", "×2", "CPUExecutionProvider", "bundled"] in rows
    assert ["upscale-x4", "upscale", "×4", "CPUExecutionProvider", "bundled"] in rows
    assert ["denoise", "denoise", "×1", "CPUExecutionProvider", "user"] in rows
    assert done.stderr == ""


def test_models_add_installs_into_the_user_folder(models, model_dirs, tmp_path):
    path = models("nearest_upscaler", "fresh.onnx", tmp_path / "downloads", scale=2)
    done = cli("models", "add", str(path))
    assert done.returncode == 0, done.stderr
    assert "installed fresh (upscale ×2)" in done.stdout
    assert (model_dirs["user"] / "fresh.onnx").read_bytes() == path.read_bytes()
    assert "fresh" in cli("models").stdout


def test_models_add_refuses_a_bad_model(models, model_dirs):
    assert_user_error(cli("models", "add", str(models("wrong_channels"))), "1-channel input")
    assert list(model_dirs["user"].iterdir()) == []


def test_upscale_with_a_model_file_writes_the_default_name(models, photo):
    path = models("nearest_upscaler", scale=4)
    done = cli("upscale", str(photo), "--model", str(path), "--tile", "64")
    assert done.returncode == 0, done.stderr
    written = photo.with_name("photo_upscale.png")
    assert f"wrote {written} (192×128) with nearest_upscaler on CPUExecutionProvider" in done.stdout
    with PILImage.open(written) as result, PILImage.open(photo) as original:
        assert result.size == (192, 128)
        assert result.resize((48, 32), PILImage.Resampling.NEAREST).tobytes() == original.tobytes()


def test_upscale_to_an_explicit_output_with_the_models_own_scale(bundled_upscalers, photo, tmp_path):
    out = tmp_path / "big.jpg"
    done = cli("upscale", str(photo), "-o", str(out), "--model", "upscale-x2")
    assert done.returncode == 0, done.stderr
    with PILImage.open(out) as result:
        assert (result.format, result.size) == ("JPEG", (96, 64))


def test_cuda_on_a_cpu_machine_falls_back_with_one_notice(bundled_upscalers, photo):
    from imagestudio.core.runtime import cuda_status

    if cuda_status().usable:
        pytest.skip("this machine has a usable GPU")
    done = cli("upscale", str(photo), "--device", "cuda", "--scale", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "with upscale-x2 on CPUExecutionProvider" in done.stdout
    assert done.stderr.splitlines() == [
        "imagestudio: CUDA was requested but cannot be used (no NVIDIA GPU driver was found); running on the CPU"
    ]


def test_missing_file(bundled_upscalers, tmp_path):
    assert_user_error(cli("upscale", str(tmp_path / "absent.jpg")), "absent.jpg")
    assert list(tmp_path.iterdir()) == []


def test_not_an_image(bundled_upscalers, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("this is text")
    assert_user_error(cli("upscale", str(notes)), "notes.png")
    assert list(tmp_path.iterdir()) == [notes]


def test_unknown_model(bundled_upscalers, photo):
    assert_user_error(cli("upscale", str(photo), "--model", "sharpest"), "no model named 'sharpest'")


def test_no_model_installed(tmp_path):
    smooth = tmp_path / "smooth.png"  # well exposed and clean: enhance only needs the upscaler
    PILImage.linear_gradient("L").convert("RGB").resize((64, 48)).save(smooth)
    assert_user_error(cli("enhance", str(smooth)), "no model is installed for upscale ×2")


def test_wrong_scale(bundled_upscalers, photo):
    assert_user_error(cli("upscale", str(photo), "--model", "upscale-x2", "--scale", "4"),
                      "upscale-x2 upscales ×2, but ×4 was asked for")


def test_never_writes_over_the_input(bundled_upscalers, photo):
    before = photo.read_bytes()
    assert_user_error(cli("upscale", str(photo), "-o", str(photo)), "refusing to write over the input")
    assert photo.read_bytes() == before


def test_unknown_output_type(bundled_upscalers, photo):
    assert_user_error(cli("upscale", str(photo), "-o", str(photo.with_suffix(".xyz"))), "unknown image type")


def test_ctrl_c_leaves_no_output(models, make_photo):
    """SIGINT during a slow run: the run stops between tiles, nothing is written, exit 130."""
    model = models("heavy", channels=64, layers=8)
    photo = make_photo("large.png", width=1024, height=768)
    output = photo.with_name("out.png")
    process = subprocess.Popen(
        [sys.executable, "-m", "imagestudio", "denoise", str(photo), "-o", str(output), "--model", str(model),
         "--tile", "96", "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    first_progress = process.stderr.readline()  # the work has started once the first tile is reported
    assert first_progress.startswith("Denoise: 0%"), first_progress
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "imagestudio: cancelled, nothing written"
    assert "Traceback" not in stderr
    assert sorted(p.name for p in photo.parent.iterdir()) == ["large.png", "models"]


def test_main_sends_files_and_no_arguments_to_the_gui(monkeypatch):
    import types

    from imagestudio import __main__ as entry

    calls: list[list[str]] = []
    fake_app = types.ModuleType("imagestudio.ui.app")
    fake_app.run = lambda argv: calls.append(list(argv)) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "imagestudio.ui.app", fake_app)
    assert entry.main([]) == 0
    assert entry.main(["holiday.jpg"]) == 0
    assert calls == [[], ["holiday.jpg"]]


def test_usage_errors_exit_2(photo):
    done = cli("upscale", str(photo), "--scale", "3")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = cli("models", "add")
    assert done.returncode == 2 and "needs the .onnx FILE" in done.stderr


def test_every_device_option_takes_the_cores_devices() -> None:
    import argparse

    from imagestudio.cli import build_parser
    from imagestudio.core.runtime import DEVICES

    commands = build_parser()._subparsers._group_actions[0].choices
    found = 0
    for command in commands.values():
        subs = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        for parser in [command, *(p for s in subs for p in s.choices.values())]:
            for action in parser._actions:
                if "--device" in action.option_strings:
                    assert tuple(action.choices) == DEVICES, parser.prog
                    found += 1
    assert found >= 7  # upscale, denoise, lowlight, enhance, generate, batch, models


def test_the_entry_point_sends_exactly_the_clis_commands_to_the_cli() -> None:
    from imagestudio.__main__ import CLI_COMMANDS  # kept apart so the GUI path never builds the parser
    from imagestudio.cli import build_parser

    assert CLI_COMMANDS == set(build_parser()._subparsers._group_actions[0].choices)
