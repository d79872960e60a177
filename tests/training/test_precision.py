"""training/precision.py: the per-precision loss measured through the app's runtime and written into the card."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import onnx_models
import pytest

from imagestudio.core.cpu_features import cpu_features
from imagestudio.core.hashing import file_sha256
from imagestudio.core.models import read_model_card
from imagestudio.core.onnx_metadata import read_metadata_props
from training.precision import precision_losses, update_card

if importlib.util.find_spec("openvino") is None:
    pytest.skip("OpenVINO is not installed (the optional backend)", allow_module_level=True)


def test_the_loss_is_measured_through_the_app_and_written_into_both_cards(tmp_path):
    path = onnx_models.blur(tmp_path / "blur.onnx", metadata=onnx_models.card("blur", "denoise", 1))
    card_md = path.with_suffix(".md")
    card_md.write_text("# Blur\n\n| field | value |\n|---|---|\n| metrics | {} |\n\nFile: `blur.onnx`, sha256 "
                       f"`{file_sha256(path)}`.\n", encoding="utf-8")
    patches = [np.random.default_rng(seed).integers(0, 256, (96, 96, 3), dtype=np.uint8) for seed in range(3)]
    losses = precision_losses("denoise", 1, path, patches=patches)
    assert set(losses) == {"bf16"}
    if cpu_features().has_bf16:
        assert abs(losses["bf16"]) < 0.05  # a blur loses next to nothing in bf16
    else:
        assert losses["bf16"] == 0  # no bf16 units: the request ran fp32, so nothing was lost
    update_card(path, losses)
    assert json.loads(read_metadata_props(path)["precision_loss_db"]) == losses
    text = card_md.read_text(encoding="utf-8")
    assert f"| precision_loss_db | {json.dumps(losses)} |" in text and file_sha256(path) in text
    assert read_model_card(path).name == "blur"  # still a valid model with the same card otherwise


def test_models_without_an_image_task_have_no_loss(tmp_path):
    assert precision_losses("generate", 1, tmp_path / "none.onnx") == {}
