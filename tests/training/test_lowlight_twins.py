"""The app's numpy low light (core/ops/lowlight_curve.py) computes what training optimised (archs/curve.py).

A real GainCurveNet with random weights, exported to ONNX, run by the app on a photo small enough that the
network's copy is the photo itself; torch's curve_enhance at factor 1 on the same photo is the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from training.archs.curve import GainCurveNet, curve_enhance  # noqa: E402
from training.export import export_onnx  # noqa: E402


@pytest.mark.parametrize("stats", [False, True], ids=["pooled-features", "tone-statistics"])
def test_app_applies_the_gain_curve_as_training_does(tmp_path: Path, model_dirs: dict[str, Path], stats: bool) -> None:
    from imagestudio.core.image import image_from_array
    from imagestudio.core.ops import LowlightParams, lowlight

    torch.manual_seed(3)
    net = GainCurveNet(feat=8, stats=stats).eval()
    with torch.no_grad():  # larger outputs than at initialisation, so gain, mix and curve all matter
        net.out.weight.mul_(4)
        if stats:  # the zero-initialised statistics branch made to matter, so the export must carry it
            net.stats_branch.weight.normal_(0, 2)
    metadata = {"name": "lowlight", "task": "lowlight", "scale": "1", "tile_multiple": "4", "receptive_radius": "0",
                "output_kind": "gain-curve", "input_range": "0,1", "output_range": "0,1"}
    export_onnx(net, model_dirs["bundled"] / "lowlight.onnx", torch.rand(1, 3, 32, 32), metadata)

    rgb = (np.random.default_rng(0).random((40, 56, 3)) * 0.5).astype(np.float32)
    got = lowlight(image_from_array(rgb), LowlightParams(device="cpu")).rgb
    with torch.no_grad():
        expected = curve_enhance(net, torch.from_numpy(rgb).permute(2, 0, 1)[None], 1)[0].permute(1, 2, 0).numpy()
    assert float(np.abs(expected - rgb).mean()) > 0.02  # the model really changed the photo
    np.testing.assert_allclose(got, np.clip(expected, 0, 1), atol=2e-4)
