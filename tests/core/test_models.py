from __future__ import annotations

import os
import sys
from pathlib import Path

import onnx_models
import pytest

from imagestudio.core import models as models_module
from imagestudio.core.app_dirs import DATA_DIR_ENV, user_data_dir
from imagestudio.core.errors import ModelError, ModelNotFoundError, UnsupportedModelError
from imagestudio.core.models import (
    bundled_models_dir,
    default_model,
    find_model,
    install_model,
    list_models,
    read_model_card,
    user_models_dir,
)
from imagestudio.core.onnx_metadata import read_metadata_props


def test_card_is_read_from_metadata_without_probing(models):
    metadata = onnx_models.card("upscale-x4", "upscale", 4, title="Upscale ×4 (fidelity)", receptive_radius="8",
                                tile_multiple="2", metrics='{"set5_psnr_y": 30.5}')
    card = read_model_card(models("nearest_upscaler", scale=4, metadata=metadata))
    assert (card.name, card.task, card.scale, card.title) == ("upscale-x4", "upscale", 4, "Upscale ×4 (fidelity)")
    assert (card.tile_multiple, card.receptive_radius) == (2, 8)
    assert card.metrics == {"set5_psnr_y": 30.5}
    assert card.input_range == (0.0, 1.0) and card.channel_order == "RGB"
    assert card.licence == "MIT" and card.training_data == "none"
    assert len(card.sha256) == 64 and not card.probed


def test_metadata_reader_matches_onnx(models):
    metadata = onnx_models.card("denoise", "denoise", 1, description="ünïcode — ×")
    assert read_metadata_props(models("blur", metadata=metadata)) == metadata
    assert read_metadata_props(models("identity")) == {}


@pytest.mark.parametrize(
    ("kind", "kwargs", "task", "scale", "multiple", "radius"),
    [
        ("identity", {}, "denoise", 1, 1, 0),
        ("blur", {}, "denoise", 1, 1, 1),
        ("nearest_upscaler", {"scale": 2}, "upscale", 2, 1, 0),
        ("blur_upscaler", {"scale": 4}, "upscale", 4, 1, 1),
        ("multiple_of", {"multiple": 8}, "denoise", 1, 8, 0),
        ("heavy", {"layers": 3}, "denoise", 1, 1, 5),
    ],
)
def test_models_without_metadata_are_probed(models, kind, kwargs, task, scale, multiple, radius):
    card = read_model_card(models(kind, **kwargs))
    assert card.probed
    assert (card.name, card.task, card.scale) == (kind, task, scale)
    assert (card.tile_multiple, card.receptive_radius) == (multiple, radius)


def test_probed_same_size_model_named_for_light_is_lowlight(models):
    assert read_model_card(models("identity", "night-light.onnx")).task == "lowlight"


@pytest.mark.parametrize(
    ("kind", "message"),
    [("wrong_rank", "rank-3 input"), ("wrong_channels", "1-channel input")],
)
def test_models_of_the_wrong_shape_are_refused(models, kind, message):
    with pytest.raises(UnsupportedModelError, match=message):
        read_model_card(models(kind))


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path):
    path = tmp_path / "photo.onnx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(UnsupportedModelError, match="not an ONNX model"):
        read_model_card(path)


def test_list_models_reads_both_folders_and_user_shadows_bundled(models, model_dirs):
    models("blur", "denoise.onnx", model_dirs["bundled"], metadata=onnx_models.card("denoise", "denoise", 1))
    models("nearest_upscaler", "x2.onnx", model_dirs["bundled"], scale=2)
    models("identity", "mine.onnx", model_dirs["user"], metadata=onnx_models.card("denoise", "denoise", 1))
    (model_dirs["user"] / "broken.onnx").write_text("nope")  # skipped, not fatal
    listed = {(card.name, card.source) for card in list_models()}
    assert listed == {("x2", "bundled"), ("denoise", "user")}
    assert find_model("denoise").path.name == "mine.onnx"


def test_find_model_by_name_or_path(models, model_dirs):
    path = models("blur", "soft.onnx", model_dirs["user"])
    assert find_model("soft").path == path.resolve()
    assert find_model(path).source == "file"
    with pytest.raises(ModelNotFoundError, match="no model named 'sharp' — installed models: soft"):
        find_model("sharp")
    with pytest.raises(ModelNotFoundError, match="not found"):
        find_model(str(path.with_name("absent.onnx")))


def test_default_model_prefers_our_names(models, model_dirs, bundled_upscalers):
    models("nearest_upscaler", "another-x4.onnx", model_dirs["user"], scale=4)
    assert default_model("upscale", 4).name == "upscale-x4"
    assert default_model("upscale", 2).name == "upscale-x2"


def test_default_model_falls_back_to_any_model_for_the_task(models, model_dirs):
    models("blur", "smooth.onnx", model_dirs["user"])
    assert default_model("denoise").name == "smooth"


def test_default_model_says_what_is_missing(model_dirs):
    with pytest.raises(ModelNotFoundError, match=r"^no model is installed for upscale ×4 — .*models add"):
        default_model("upscale", 4)
    with pytest.raises(ModelNotFoundError, match="no model is installed for low-light"):
        default_model("lowlight")


def test_install_model_validates_and_copies(models, model_dirs, tmp_path: Path):
    source = models("nearest_upscaler", "downloaded.onnx", tmp_path / "downloads", scale=2,
                    metadata=onnx_models.card("crisp-x2", "upscale", 2))
    card = install_model(source)
    assert card.path == (model_dirs["user"] / "crisp-x2.onnx").resolve()
    assert card.source == "user" and card.scale == 2
    assert card.path.read_bytes() == source.read_bytes()
    assert [c.name for c in list_models()] == ["crisp-x2"]
    assert not list(model_dirs["user"].glob("*.part"))


def test_install_refuses_a_card_that_lies_about_its_scale(models, model_dirs):
    source = models("nearest_upscaler", scale=2, metadata=onnx_models.card("liar", "upscale", 4))
    with pytest.raises(ModelError, match="declares scale 4 .* produces ×2"):
        install_model(source)
    assert list(model_dirs["user"].iterdir()) == []


def test_install_refuses_unusable_models(models, model_dirs):
    with pytest.raises(UnsupportedModelError):
        install_model(models("wrong_rank"))
    assert list(model_dirs["user"].iterdir()) == []


def test_model_folders(monkeypatch, tmp_path: Path):
    monkeypatch.delenv(models_module.BUNDLED_DIR_ENV)
    monkeypatch.delenv(models_module.USER_DIR_ENV)
    repo_root = Path(models_module.__file__).resolve().parents[2]
    assert bundled_models_dir() == repo_root / "resources" / "models"
    # The user's models live in the one user data folder (the autosaves' too), wherever that folder is moved.
    assert user_models_dir() == user_data_dir() / "models"
    assert user_data_dir() == Path(os.environ[DATA_DIR_ENV])
    monkeypatch.delenv(DATA_DIR_ENV)
    assert user_models_dir().name == "models" and "ImageStudio" in str(user_models_dir())
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundled_models_dir() == tmp_path / "resources" / "models"
