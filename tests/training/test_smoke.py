"""CI smoke test of every training entry point: a few iterations on tiny generated data, export, parity, app load.

Real torch training steps, a real ONNX export, real onnxruntime, and the app's own model loader.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from training.config import dry_run_config, load_config  # noqa: E402
from imagestudio.core import model_card  # noqa: E402
from training.export import check_parity, export_from_config, parity_inputs  # noqa: E402
from training.loop import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

IMAGE_TASKS = [
    ("upscale-x4.toml", "upscale", 4),
    ("upscale-x2.toml", "upscale", 2),
    ("denoise.toml", "denoise", 1),
    ("lowlight.toml", "lowlight", 1),
    ("upscale-x4-gan.toml", "upscale", 4),
]


@pytest.mark.parametrize("config_name, app_task, scale", IMAGE_TASKS)
def test_train_export_and_load_in_app(tmp_path: Path, config_name: str, app_task: str, scale: int) -> None:
    config = dry_run_config(load_config(config_name))
    config["run_dir"] = str(tmp_path / "run")
    model = train(config, resume=False)
    checkpoint = tmp_path / "run" / "last.pt"
    assert checkpoint.is_file()

    out = export_from_config(config, str(checkpoint), str(tmp_path / f"{config['name']}.onnx"), measure=False)
    proto = onnx.load(str(out))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["task"] == app_task and meta["scale"] == str(scale)
    assert set(meta) <= set(model_card.KEYS), "every card key is one of core/model_card.py's"
    assert not list(tmp_path.glob("*.data")), "export must be one self-contained file"
    assert "parity_max_abs" in json.loads(meta["metrics"])
    assert check_parity(model, out, parity_inputs(model, seed=1)) <= 1e-4

    from imagestudio.core.models import find_model

    card = find_model(out)
    assert (card.task, card.scale, card.name) == (app_task, scale, config["name"])


def test_training_resumes_from_checkpoint(tmp_path: Path) -> None:
    config = dry_run_config(load_config("lowlight.toml"))
    config["run_dir"] = str(tmp_path)
    train(config, resume=False)
    first = torch.load(tmp_path / "last.pt", weights_only=True)
    assert first["step"] == 3
    config["train"]["iters"] = 5
    train(config, resume=True)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [1, 2, 3, 4, 5]  # resumed at 4, not restarted at 1


def test_command_line_dry_run() -> None:
    result = subprocess.run([sys.executable, "-m", "training", "denoise", "--config", "denoise.toml", "--dry-run"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "[3/3]" in result.stdout and "it/s" in result.stdout


def test_wrong_config_for_task_is_refused() -> None:
    result = subprocess.run([sys.executable, "-m", "training", "denoise", "--config", "upscale-x4.toml", "--dry-run"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "not 'denoise'" in result.stderr


def test_degradations_change_the_image_but_keep_its_shape() -> None:
    from training.data.degrade import add_noise, bicubic_down, darken, realistic_down
    from training.data.photos import synthetic_photos

    rng = np.random.default_rng(0)
    patch = synthetic_photos(1, 64)[0]
    assert bicubic_down(patch, 4).shape == (16, 16, 3)
    assert realistic_down(patch, 4, rng).shape == (16, 16, 3)
    assert darken(patch, rng).mean() < patch.mean()
    assert not np.array_equal(add_noise(patch, rng), patch)
