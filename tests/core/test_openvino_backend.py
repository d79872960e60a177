"""OpenVINO as a CPU backend beside onnxruntime: real OpenVINO on tiny real ONNX models.

Tiled output must equal untiled output for every backend × precision, and every run records what really computed.
bf16 is asserted where this CPU has bf16 units; elsewhere the same requests must run fp32 and say so.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import onnx_models
import pytest

from imagestudio.core.card_values import card_int8_file, card_precision_loss
from imagestudio.core.cpu_features import cpu_features
from imagestudio.core.errors import Cancelled
from imagestudio.core.models import list_models, read_model_card
from imagestudio.core.models_ran import recording_models
from imagestudio.core.progress import Task
from imagestudio.core.runtime import clear_session_cache, get_session
from imagestudio.core.runtime_choice import set_requested
from imagestudio.core.tiling import run_model_tiled

# Not pytest.importorskip: a plain `import openvino` would send OpenVINO's telemetry, which the app never lets happen.
if importlib.util.find_spec("openvino") is None:
    pytest.skip("OpenVINO is not installed (the optional backend)", allow_module_level=True)

HAS_BF16 = cpu_features().has_bf16
# bf16 keeps 8 bits of mantissa: a [0,1] pixel is off by up to 2^-9 before any arithmetic.
BF16_TOLERANCE = 1e-2
RUNTIMES = [("onnxruntime", "fp32"), ("openvino", "fp32"), ("openvino", "bf16"), ("auto", "auto")]


@pytest.fixture(autouse=True)
def fresh_sessions():
    clear_session_cache()
    yield
    clear_session_cache()


def _rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def _expected_precision(requested: str) -> str:
    return "fp32" if requested == "bf16" and not HAS_BF16 else requested


def test_openvino_fp32_computes_what_onnxruntime_computes(models):
    path = models("blur")
    x = np.ascontiguousarray(_rgb(37, 53).transpose(2, 0, 1)[None])
    reference = get_session(path, "cpu", backend="onnxruntime", precision="fp32").run(x)
    session = get_session(path, "cpu", backend="openvino", precision="fp32")
    assert (session.backend, session.precision, session.device, session.provider) == \
        ("openvino", "fp32", "cpu", "OpenVINO CPU")
    assert session.input_shape[1] == 3 and session.input_type == "tensor(float)"
    np.testing.assert_allclose(session.run(x), reference, atol=1e-6)


def test_openvino_bf16_runs_bf16_where_the_cpu_has_the_units(models):
    path = models("blur")
    x = np.ascontiguousarray(_rgb(40, 40).transpose(2, 0, 1)[None])
    reference = onnx_models.blur_reference(x[0].transpose(1, 2, 0)).transpose(2, 0, 1)[None]
    session = get_session(path, "cpu", backend="openvino", precision="bf16")
    assert session.precision == _expected_precision("bf16")
    assert (session.notice is None) == HAS_BF16
    out = session.run(x)
    np.testing.assert_allclose(out, reference, atol=BF16_TOLERANCE)
    if HAS_BF16:
        assert np.abs(out - reference).max() > 1e-6  # really computed in bf16, not silently in fp32


@pytest.mark.parametrize(("backend", "precision"), RUNTIMES)
@pytest.mark.parametrize(("height", "width", "tile"), [(97, 131, 32), (40, 300, 48), (5, 7, 32)])
def test_tiled_equals_untiled_for_every_backend_and_precision(models, backend, precision, height, width, tile):
    card = read_model_card(models("blur_upscaler", scale=2, metadata=onnx_models.card(
        "blur-x2", "upscale", 2, precision_loss_db='{"bf16": 0.01}')))
    set_requested(backend, precision)
    rgb = _rgb(height, width)
    untiled = run_model_tiled(card, rgb, device="cpu", tile=4096)
    tiled = run_model_tiled(card, rgb, device="cpu", tile=tile)
    exact = precision in ("fp32",) or not HAS_BF16
    assert np.abs(tiled - untiled).max() < (1e-5 if exact else 1 / 255)
    expected = np.repeat(np.repeat(onnx_models.blur_reference(rgb), 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(tiled, expected, atol=1e-5 if exact else BF16_TOLERANCE)


def test_cancel_still_stops_between_tiles_on_openvino(models):
    card = read_model_card(models("blur", metadata=onnx_models.card("blur", "denoise", 1)))
    set_requested("openvino", "auto")
    def progress(fraction: float, message: str) -> None:
        if message.startswith("tile 2"):
            task.cancel()

    task = Task(progress)
    with pytest.raises(Cancelled):
        run_model_tiled(card, _rgb(200, 200), device="cpu", tile=32, task=task)


def test_auto_follows_the_cards_measured_loss_and_records_what_ran(models):
    small = read_model_card(models("blur", "small.onnx", metadata=onnx_models.card(
        "small-loss", "denoise", 1, precision_loss_db='{"bf16": 0.004}')))
    large = read_model_card(models("blur", "large.onnx", metadata=onnx_models.card(
        "large-loss", "denoise", 1, precision_loss_db='{"bf16": 0.3}')))
    with recording_models() as ran:
        run_model_tiled(small, _rgb(30, 30), device="cpu")
        run_model_tiled(large, _rgb(30, 30), device="cpu")
    assert [(r.card.name, r.backend, r.precision, r.device) for r in ran] == [
        ("small-loss", "openvino" if HAS_BF16 else "onnxruntime", "bf16" if HAS_BF16 else "fp32", "cpu"),
        ("large-loss", "onnxruntime", "fp32", "cpu"),
    ]
    assert ran[0].runtime_words() == ("OpenVINO bf16 on the CPU" if HAS_BF16 else "onnxruntime fp32 on the CPU")


def test_int8_runs_the_variant_the_card_names_and_is_not_listed_as_a_model(models, model_dirs):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    folder = model_dirs["bundled"]
    fp32 = models("heavy", "tiny.onnx", folder, channels=8, layers=1, metadata=onnx_models.card(
        "tiny", "denoise", 1, receptive_radius="3", int8_file="tiny.int8.onnx",
        precision_loss_db='{"int8": 0.01}'))

    class Patches(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{"image": _rgb(24, 24, seed).transpose(2, 0, 1)[None].copy()} for seed in range(4)])

        def get_next(self) -> dict | None:
            return next(self.batches, None)

    quantize_static(str(fp32), str(folder / "tiny.int8.onnx"), Patches(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    assert [card.name for card in list_models()] == ["tiny"]  # the variant is a precision, not a model
    card = read_model_card(fp32)
    rgb = _rgb(48, 48)
    set_requested("auto", "fp32")
    reference = run_model_tiled(card, rgb, device="cpu")
    set_requested("auto", "int8")
    with recording_models() as ran:
        tiled = run_model_tiled(card, rgb, device="cpu", tile=16)
        untiled = run_model_tiled(card, rgb, device="cpu", tile=4096)
    assert (ran[0].backend, ran[0].precision) == ("openvino", "int8")
    assert np.abs(tiled - untiled).max() < 1 / 255
    assert 0 < np.abs(untiled - reference).max() < 0.05  # quantized: close, not equal


def test_a_card_cannot_point_the_runtime_elsewhere_or_feed_it_nonsense(tmp_path: Path, caplog):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"")
    (tmp_path / "other.onnx").write_bytes(b"")
    assert card_int8_file({"int8_file": "../secret.onnx"}, path) is None
    assert card_int8_file({"int8_file": "/etc/passwd.onnx"}, path) is None
    assert card_int8_file({"int8_file": "missing.onnx"}, path) is None
    assert card_int8_file({"int8_file": "m.onnx"}, path) is None  # itself
    assert card_int8_file({"int8_file": "other.onnx"}, path) == tmp_path / "other.onnx"
    assert card_precision_loss({"precision_loss_db": '{"bf16": 0.01, "int8": "low", "fp8": 1}'}, path) == \
        {"bf16": 0.01}
    assert card_precision_loss({"precision_loss_db": '{"bf16": NaN}'}, path) == {}
    assert card_precision_loss({"precision_loss_db": '{"bf16": 1e308}'}, path) == {}
    assert card_precision_loss({"precision_loss_db": '{"bf16": true}'}, path) == {}
    assert card_precision_loss({"precision_loss_db": "[[[[[[0]]]]]]"}, path) == {}
    assert card_precision_loss({"precision_loss_db": "not json"}, path) == {}
    assert "precision_loss_db" in caplog.text


def test_loading_openvino_sends_no_telemetry(models):
    get_session(models("blur"), "cpu", backend="openvino", precision="fp32")
    telemetry = sys.modules.get("openvino.tools.ovc.telemetry_utils")
    if telemetry is not None:  # OpenVINO's converter is imported by `import openvino`; its telemetry is the stub
        assert telemetry.tm.__name__.endswith("telemetry_stub")
    assert "openvino_telemetry" not in sys.modules


def test_the_cli_says_which_backend_and_precision_ran(bundled_upscalers, make_photo, tmp_path, capsys):
    from imagestudio.cli import main

    photo = make_photo("p.png", 24, 16)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out.png"), "-q", "--scale", "2",
                 "--backend", "openvino", "--precision", "bf16"]) == 0
    out = capsys.readouterr()
    assert f"with upscale-x2 on OpenVINO CPU [openvino {_expected_precision('bf16')}, cpu]" in out.out
    assert ("no bf16 units" in out.err) == (not HAS_BF16)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out2.png"), "--backend", "onnxruntime",
                 "--precision", "bf16"]) == 2
    assert "onnxruntime has no bf16 path on the CPU" in capsys.readouterr().err
