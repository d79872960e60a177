"""Continuing from a shipped .onnx: weights read back into torch, accepted only when the output matches."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from training.archs.compact import CompactSR  # noqa: E402
from training.onnx_weights import OnnxWeightsError, load_onnx_weights  # noqa: E402


def _export(model: torch.nn.Module, path: Path) -> Path:
    model.eval()
    torch.onnx.export(model, torch.rand(1, 3, 16, 16), str(path), input_names=["image"], output_names=["output"],
                      dynamic_axes={"image": {2: "h", 3: "w"}}, opset_version=18, dynamo=False)
    return path


@pytest.mark.parametrize("hr_feat", [0, 8])  # the output head's PReLU slope is renamed by the exporter
def test_shipped_weights_load_back_exactly(tmp_path, hr_feat):
    torch.manual_seed(0)
    trained = CompactSR(scale=2, feat=8, convs=2, hr_feat=hr_feat)
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # nothing at its initial value, the zero head included
    path = _export(trained, tmp_path / "m.onnx")
    fresh = CompactSR(scale=2, feat=8, convs=2, hr_feat=hr_feat)
    copied = load_onnx_weights(fresh, path, torch.rand(1, 3, 12, 20))
    assert copied == len(fresh.state_dict())
    for (name, a), b in zip(trained.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_a_different_architecture_is_refused(tmp_path):
    path = _export(CompactSR(scale=2, feat=8, convs=2), tmp_path / "m.onnx")
    with pytest.raises(OnnxWeightsError):
        load_onnx_weights(CompactSR(scale=2, feat=8, convs=3), path, torch.rand(1, 3, 12, 20))
    with pytest.raises(OnnxWeightsError):
        load_onnx_weights(CompactSR(scale=4, feat=8, convs=2), path, torch.rand(1, 3, 12, 20))


def test_a_branch_the_shipped_model_predates_starts_neutral(tmp_path):
    from training.archs.curve import GainCurveNet

    torch.manual_seed(1)
    shipped = GainCurveNet(feat=8)
    with torch.no_grad():
        for p in shipped.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = _export(shipped, tmp_path / "lowlight.onnx")
    grown = GainCurveNet(feat=8, stats=True)
    copied = load_onnx_weights(grown, path, torch.rand(1, 3, 16, 24))
    assert copied == len(shipped.state_dict())
    assert torch.count_nonzero(grown.stats_branch.weight) == 0  # left at its zero init, not filled by shape
    with pytest.raises(OnnxWeightsError):  # the new-branch allowance does not excuse a body of another width
        load_onnx_weights(GainCurveNet(feat=4, stats=True), path,
                          torch.rand(1, 3, 16, 24))
