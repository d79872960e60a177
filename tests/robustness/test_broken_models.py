"""Broken and hostile models: refused with a clear message when added, and handled with one when run.

- not ONNX at all (text, a PNG, a pickle, a torch checkpoint): refused, and never unpickled
- an ONNX graph with the wrong input rank: refused on add; with a card that hides it, refused when run
- NaN or infinity in the output (always, or only for dark pixels): refused on add, a ModelError when run
- a card that lies about the scale: refused on add; when run, a ModelError instead of a wrongly sized picture
The CLI says each in one line (exit 2); the GUI's Models dock and edits show one error dialog and keep the image.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnx_models
import pytest
from onnx import TensorProto, helper, numpy_helper

from imagestudio.core.errors import ModelError, UnsupportedModelError
from imagestudio.core.image import image_from_array, load_image
from imagestudio.core.models import install_model, list_models
from imagestudio.core.ops import DenoiseParams, UpscaleParams, denoise, upscale


def _graph_model(path: Path, nodes: list, inits: list, metadata: dict[str, str] | None) -> Path:
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, "H", "W"])
    model = helper.make_model(helper.make_graph(nodes, "broken", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", onnx_models.OPSET)])
    model.ir_version = onnx_models.IR_VERSION
    if metadata:
        helper.set_model_props(model, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def nan_model(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Multiplies by NaN: every output is NaN."""
    nan = numpy_helper.from_array(np.array([np.nan], dtype=np.float32), "nan")
    return _graph_model(path, [helper.make_node("Mul", ["image", "nan"], ["output"])], [nan], metadata)


def log_model(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """log(x): finite for the test images the probe uses, -inf where a photo is pure black."""
    return _graph_model(path, [helper.make_node("Log", ["image"], ["output"])], [], metadata)


class Marker:
    """A pickle payload that would create a file if anything ever unpickled it."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.target,))


def not_onnx(folder: Path, kind: str, marker: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "text":
        return _write(folder / "notes.onnx", b"just some text, not a model\n" * 10)
    if kind == "png":
        return _write(folder / "picture.onnx", onnx_models_png())
    if kind == "pickle":
        return _write(folder / "evil.onnx", pickle.dumps(Marker(marker)))
    if kind == "torch-zip":  # the layout torch.save writes: a zip holding a pickle
        path = folder / "evil.onnx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", pickle.dumps(Marker(marker)))
        return path
    good = onnx_models.blur(folder / "whole.onnx", metadata=onnx_models.card("cut", "denoise", 1))
    return _write(folder / "truncated.onnx", good.read_bytes()[: good.stat().st_size // 2])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def onnx_models_png() -> bytes:
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (4, 4)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "UNPICKLED"


@pytest.mark.parametrize("kind", ["text", "png", "pickle", "torch-zip", "truncated"])
def test_a_file_that_is_not_onnx_is_refused_and_never_unpickled(tmp_path, marker, kind) -> None:
    path = not_onnx(tmp_path / "m", kind, marker)
    with pytest.raises(UnsupportedModelError, match=r"not an ONNX model|not a usable ONNX model") as caught:
        install_model(path)
    assert path.name in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ModelError):
        upscale(image_from_array(np.zeros((8, 8, 3), np.uint8)), UpscaleParams(scale=2, model=str(path)))
    assert not marker.exists(), "a model file was unpickled"


def test_broken_files_in_the_model_folder_do_not_hide_the_good_ones(model_dirs, tmp_path, marker) -> None:
    folder = model_dirs["user"]
    for kind in ("text", "pickle", "truncated"):
        not_onnx(folder / kind, kind, marker).rename(folder / f"{kind}.onnx")
    onnx_models.wrong_rank(folder / "rank3.onnx")
    nan_model(folder / "nan.onnx")
    onnx_models.blur(folder / "good.onnx", metadata=onnx_models.card("good", "denoise", 1))
    assert [card.name for card in list_models()] == ["good"]
    assert not marker.exists()


def test_a_wrong_input_rank_is_refused_on_add(tmp_path) -> None:
    path = onnx_models.wrong_rank(tmp_path / "rank3.onnx")
    with pytest.raises(UnsupportedModelError, match="rank-3 input; image models take N×3×H×W"):
        install_model(path)


def test_a_wrong_rank_hidden_behind_a_card_is_refused_when_run(model_dirs) -> None:
    """Carded models are not probed when listed; the run checks the signature before the first tile."""
    path = onnx_models.wrong_rank(model_dirs["bundled"] / "rank3.onnx")
    meta = onnx.load(str(path))
    helper.set_model_props(meta, onnx_models.card("denoise", "denoise", 1))
    onnx.save(meta, str(path))
    with pytest.raises(UnsupportedModelError, match="rank-3 input"):
        denoise(image_from_array(np.zeros((8, 8, 3), np.uint8)), DenoiseParams())


def test_a_nan_model_is_refused_on_add(tmp_path) -> None:
    with pytest.raises(UnsupportedModelError, match=r"produced invalid values \(NaN or infinity\)"):
        install_model(nan_model(tmp_path / "nan.onnx", onnx_models.card("nan", "denoise", 1)))


@pytest.mark.parametrize("builder", [nan_model, log_model], ids=["always-nan", "inf-on-black"])
def test_nan_or_inf_at_run_time_is_a_model_error_not_black_pixels(model_dirs, builder) -> None:
    builder(model_dirs["bundled"] / "denoise.onnx", onnx_models.card("denoise", "denoise", 1))
    photo = np.full((20, 20, 3), 128, np.uint8)
    photo[5, 5] = 0  # one black pixel: log(0) = -inf
    with pytest.raises(ModelError, match=r"model denoise produced invalid values \(NaN or infinity\)"):
        denoise(image_from_array(photo), DenoiseParams())


def test_a_card_that_lies_about_the_scale(model_dirs, tmp_path) -> None:
    liar = onnx_models.nearest_upscaler(tmp_path / "liar.onnx", 2,
                                        metadata=onnx_models.card("upscale-x4", "upscale", 4, receptive_radius="0"))
    with pytest.raises(ModelError, match=r"declares scale 4 in its card but produces ×2 output"):
        install_model(liar)
    liar.rename(model_dirs["bundled"] / "upscale-x4.onnx")  # copied in by hand: trusted until it runs
    with pytest.raises(ModelError, match=r"turned a 9×7 tile into 18×14, but its card says ×4"):
        upscale(image_from_array(np.zeros((9, 7, 3), np.uint8)), UpscaleParams(scale=4))


# ---------------------------------------------------------------- the CLI and the GUI


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagestudio", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "IMAGESTUDIO_THREADS": "1"}, check=False)


def test_the_cli_says_each_in_one_line(model_dirs, tmp_path, marker, make_photo) -> None:
    photo = make_photo("p.png", 12, 10)
    evil = not_onnx(tmp_path / "m", "pickle", marker)
    nan_model(model_dirs["bundled"] / "denoise.onnx", onnx_models.card("denoise", "denoise", 1))
    for args, expected in ((["models", "add", str(evil)], "not an ONNX model"),
                           (["denoise", str(photo), "-o", str(tmp_path / "out.png"), "-q"], "invalid values")):
        done = _cli(args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith("imagestudio: ") and expected in line
    assert not (tmp_path / "out.png").exists() and not marker.exists()


def test_the_gui_shows_a_dialog_for_a_bad_model_and_for_a_nan_edit(qtbot, window, recorded, wait_idle, model_dirs,
                                                                  tmp_path, marker, make_photo) -> None:
    recorded.open_model = not_onnx(tmp_path / "m", "torch-zip", marker)
    window.models_dock.ask_and_install()
    wait_idle(window)
    [(title, message)] = recorded.errors
    assert title == "Could not add the model" and "not an ONNX model" in message and not marker.exists()

    log_model(model_dirs["bundled"] / "denoise.onnx", onnx_models.card("denoise", "denoise", 1))
    window.models_dock.refresh()
    window.operations.refresh_models()
    black = np.zeros((10, 12, 3), np.uint8)
    from PIL import Image as PILImage

    PILImage.fromarray(black).save(tmp_path / "black.png")
    window.files.open_path(tmp_path / "black.png")
    wait_idle(window)
    window.operations.actions["denoise"].trigger()
    wait_idle(window)
    assert recorded.errors[-1][0] == "Denoise failed" and "invalid values" in recorded.errors[-1][1]
    assert window.undo_stack.count() == 0  # the history holds no broken result
    assert np.array_equal(load_image(tmp_path / "black.png").rgb, window.document.image.rgb)
