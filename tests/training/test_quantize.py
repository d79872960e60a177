"""training/quantize.py: static int8 on a tiny real model (real onnxruntime), shipped only where it measured faster."""

from __future__ import annotations

import json
import logging

import numpy as np
import onnx
import onnx_models
import pytest

from imagestudio.core.card_values import card_int8_file, card_precision_loss
from imagestudio.core.hashing import file_sha256 as sha256
from imagestudio.core.models import list_models
from imagestudio.core.onnx_metadata import read_metadata_props
from imagestudio.core.runtime import clear_session_cache, get_session
from training import quantize
from training.data.photos import synthetic_photos


@pytest.fixture
def tiny(tmp_path):
    """A small same-size conv stack with a denoise card and its markdown copy, as export writes them."""
    path = onnx_models.heavy(tmp_path / "tiny.onnx", channels=16, layers=2, metadata=onnx_models.card(
        "tiny", "denoise", 1, receptive_radius="4", precision_loss_db='{"bf16": 0.002}'))
    path.with_suffix(".md").write_text(
        "# Tiny\n\n| field | value |\n|---|---|\n| metrics | {} |\n| precision_loss_db | {\"bf16\": 0.002} |\n\n"
        f"File: `tiny.onnx`, sha256 `{sha256(path)}`.\n", encoding="utf-8")
    return path


@pytest.fixture
def small_run(monkeypatch):
    """Calibration and probes cut to seconds; the photos are generated, never the real pool."""
    monkeypatch.setattr(quantize, "CALIBRATION_PATCHES", 6)
    monkeypatch.setattr(quantize, "CALIBRATION_SIZE", 48)
    monkeypatch.setattr(quantize, "SENSITIVITY_PATCHES", 3)
    monkeypatch.setattr(quantize, "SPEED_RUNS", 2)
    monkeypatch.setattr(quantize, "SPEED_SIDE", {"upscale": 32, "denoise": 32})
    yield synthetic_photos(count=3, size=112), [p[:96, :96] for p in synthetic_photos(count=2, size=96, seed=5)]
    clear_session_cache()


def test_quantize_makes_a_qdq_int8_model_close_to_fp32(tiny, tmp_path):
    photos = synthetic_photos(count=3, size=96)
    pairs = quantize.model_inputs("denoise", 1, quantize.training_patches(6, 48, 1, photos), seed=1)
    prepared = quantize.prepare(tiny, tmp_path / "prepared.onnx")
    out = quantize.quantize(prepared, tmp_path / "tiny.int8.onnx", [x for x, _ in pairs])
    graph = onnx.load(str(out)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    scales = [init for init in graph.initializer if init.name.endswith("_scale") and len(init.dims) == 1]
    assert scales and all(s.dims[0] in (16, 3) for s in scales)  # weights per output channel
    assert quantize._db(quantize.direct_error(out, pairs), quantize.direct_error(tiny, pairs)) < 1.0


def test_the_step_writes_the_variant_and_the_card_keys_where_int8_is_faster(tiny, small_run, monkeypatch):
    photos, held_out = small_run
    monkeypatch.setattr(quantize, "measure_speed",
                        lambda staged, side: {"onnxruntime fp32": 10.0, "onnxruntime int8": 6.0})
    variant = quantize.quantize_model(tiny, photos, held_out, log=lambda line: None)
    assert variant is not None and variant.faster
    target = tiny.with_name("tiny.int8.onnx")
    assert variant.path == target and target.is_file()
    meta = read_metadata_props(tiny)
    assert meta["int8_file"] == "tiny.int8.onnx" and card_int8_file(meta, tiny) == target
    losses = card_precision_loss(meta, tiny)
    assert losses == {"bf16": 0.002, "int8": variant.loss_db}  # bf16's measured value is kept
    assert variant.loss_db == max(variant.losses.values())
    recipe = json.loads(read_metadata_props(target)["quantization"])
    assert recipe["of"] == "tiny.onnx" and recipe["format"] == "QDQ"
    text = tiny.with_suffix(".md").read_text(encoding="utf-8")
    assert "| int8_file | tiny.int8.onnx |" in text and f'"int8": {variant.loss_db}' in text
    assert sha256(tiny) in text
    session = get_session(tiny, "cpu", backend="onnxruntime", precision="int8")
    assert session.precision == "int8" and session.backend == "onnxruntime"


def test_a_variant_no_faster_than_fp32_is_not_written(tiny, small_run, monkeypatch):
    photos, held_out = small_run
    before = tiny.read_bytes()
    timed = []

    def never_faster(staged, side):
        timed.append(staged)
        return {"onnxruntime fp32": 5.0, "onnxruntime int8": 5.0}

    monkeypatch.setattr(quantize, "measure_speed", never_faster)
    variant = quantize.quantize_model(tiny, photos, held_out, log=lambda line: None)
    assert variant is not None and not variant.faster
    # tried again with the thin convs (3 channels in, 3 out: 27 MACs per output) in fp32, then given up
    assert len(timed) == 2 and len(variant.excluded) >= 2
    assert not tiny.with_name("tiny.int8.onnx").exists() and tiny.read_bytes() == before


def test_thin_convs_are_the_ones_with_few_channels_on_a_side(tiny, tmp_path):
    prepared = quantize.prepare(tiny, tmp_path / "prepared.onnx")
    layers = quantize.quantizable_layers(prepared)
    assert quantize.thin_layers(prepared) == [layers[0], layers[-1]]  # 3→16 and 16→3; 16→16 is not thin


def test_the_speed_is_timed_through_the_app_sessions(tiny, small_run, tmp_path):
    staged = quantize.stage(tiny, onnx_models.heavy(tmp_path / "fake-int8.onnx", channels=16, layers=2),
                            tmp_path / "staged")
    assert read_metadata_props(staged)["int8_file"] == "tiny.int8.onnx"
    speeds = quantize.measure_speed(staged, 32)
    assert {"onnxruntime fp32", "onnxruntime int8"} <= set(speeds) and all(v > 0 for v in speeds.values())


def test_the_layers_that_cost_most_are_kept_in_fp32(tiny, tmp_path):
    photos = synthetic_photos(count=3, size=96)
    calibration = [x for x, _ in quantize.model_inputs("denoise", 1, quantize.training_patches(6, 48, 1, photos), 1)]
    probe = quantize.model_inputs("denoise", 1, quantize.training_patches(3, 48, 2, photos), seed=2)
    prepared = quantize.prepare(tiny, tmp_path / "prepared.onnx")
    variant = quantize.build(tiny, prepared, tmp_path, calibration, probe, budget_db=-1.0, log=lambda line: None)
    # An impossible budget: every layer was ranked, and all were kept in fp32 one by one, the worst first.
    assert set(variant.sensitivity) == set(variant.excluded) and len(variant.excluded) == 4
    assert variant.excluded[0] == max(variant.sensitivity, key=variant.sensitivity.get)
    quantized = [n for n in onnx.load(str(variant.path)).graph.node if n.op_type == "QuantizeLinear"]
    assert not quantized


def test_a_card_naming_an_int8_path_is_refused_and_the_variant_is_not_a_model(tiny, model_dirs, caplog):
    folder = model_dirs["bundled"]
    model = onnx_models.heavy(folder / "m.onnx", channels=4, layers=1, metadata=onnx_models.card(
        "m", "denoise", 1, int8_file="../m.int8.onnx", precision_loss_db='{"int8": "none"}'))
    (folder / "m.int8.onnx").write_bytes(tiny.read_bytes())
    with caplog.at_level(logging.WARNING):
        meta = read_metadata_props(model)
        assert card_int8_file(meta, model) is None  # a path, not a plain name beside the model
        assert card_precision_loss(meta, model) == {}
    assert "not a plain .onnx file name" in caplog.text
    session = get_session(model, "cpu", backend="onnxruntime", precision="int8")
    assert session.precision == "fp32" and "no int8 variant" in (session.notice or "")
    assert [card.name for card in list_models()] == ["m"]


def test_lowlight_and_generative_models_are_not_quantized(tmp_path):
    lowlight = onnx_models.blur(tmp_path / "l.onnx", metadata=onnx_models.card("l", "lowlight", 1))
    assert quantize.quantize_model(lowlight, [], [], log=lambda line: None) is None
    assert quantize.int8_name(lowlight) == "l.int8.onnx"
    assert np.isclose(quantize._db(2.0, 1.0), 3.0103, atol=1e-3)
