"""The torch twin rebuilds an exported model with the file's own weights and computes what the file computes."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch_twin import TwinError, build_module, parity, torch_twin  # noqa: E402

from training.archs.compact import CompactSR  # noqa: E402
from training.archs.unet import ResidualUNet  # noqa: E402
from training.export import export_onnx  # noqa: E402


@pytest.mark.parametrize("network", [CompactSR(scale=2, feat=8, convs=2), ResidualUNet(feat=4),
                                     CompactSR(scale=4, feat=8, convs=2, hr_feat=4)],
                         ids=["CompactSR", "ResidualUNet", "CompactSR-gan-head"])
def test_twin_has_the_files_weights(tmp_path: Path, network: torch.nn.Module) -> None:
    torch.manual_seed(0)
    for module in network.modules():  # distinct PReLU slopes: the exporter shares equal ones between layers
        if isinstance(module, torch.nn.PReLU):
            module.weight.data.uniform_(0.05, 0.5)
    for parameter in network.parameters():  # zero-initialised layers (the GAN head) get weights to be copied
        if not parameter.data.any():
            parameter.data.normal_(0, 0.1)
    path = export_onnx(network.eval(), tmp_path / "m.onnx", torch.rand(1, 3, 32, 32),
                       {"architecture": network.describe()})
    twin, architecture = torch_twin(path)
    assert architecture == network.describe()
    assert parity(path, twin, size=32) < 1e-5


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(TwinError):
        build_module("SwinIR(embed=60)")
