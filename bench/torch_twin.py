"""The same network as an ONNX model, in PyTorch eager, with the same weights: the fair peer for onnxruntime.

The class and its sizes come from the model card's `architecture` entry ("CompactSR(scale=4, feat=48, convs=8)");
the weights are the ONNX file's own initializers, so the twin computes what the file computes (checked by
`parity`). Named parameters match by name (the exporter keeps "body.0.weight"); PReLU slopes, which the exporter
renames and may share between layers with equal values, are matched by position: the n-th PRelu node of the graph
is the n-th nn.PReLU of the module.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from imagestudio.core import model_card
from training.archs.compact import CompactSR, ResidualCNN
from training.archs.curve import CurveNet, GainCurveNet
from training.archs.denoise_unet import UnshuffleUNet
from training.archs.unet import ResidualUNet

ARCHITECTURES: dict[str, type[nn.Module]] = {
    "CompactSR": CompactSR,
    "ResidualCNN": ResidualCNN,
    "ResidualUNet": ResidualUNet,
    "UnshuffleUNet": UnshuffleUNet,  # denoise since 2026-12-01
    "CurveNet": CurveNet,
    "GainCurveNet": GainCurveNet,  # lowlight since 2026-12-02
}


class TwinError(RuntimeError):
    """The ONNX model cannot be rebuilt in torch (unknown architecture, or weights that do not map)."""


def architecture_of(model: onnx.ModelProto) -> str:
    props = {p.key: p.value for p in model.metadata_props}
    if model_card.ARCHITECTURE not in props:
        raise TwinError("the model card has no `architecture` entry")
    return props[model_card.ARCHITECTURE]


def build_module(architecture: str) -> nn.Module:
    """'CompactSR(scale=4, feat=48, convs=8)' -> CompactSR(scale=4, feat=48, convs=8); unknown keys are ignored
    (ResidualUNet's `levels=3` describes, it does not configure)."""
    match = re.fullmatch(r"\s*(\w+)\((.*)\)\s*", architecture)
    if not match or match.group(1) not in ARCHITECTURES:
        raise TwinError(f"no torch twin for architecture {architecture!r}")
    cls = ARCHITECTURES[match.group(1)]
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2)) if k in accepted}
    return cls(**kwargs)


def load_onnx_weights(module: nn.Module, model: onnx.ModelProto) -> None:
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    state = module.state_dict()
    filled: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if key in inits and inits[key].size == tensor.numel():
            filled[key] = torch.from_numpy(inits[key].copy()).reshape(tensor.shape)
    prelus = [name for name, m in module.named_modules() if isinstance(m, nn.PReLU)]
    slopes = [node.input[1] for node in model.graph.node if node.op_type == "PRelu"]
    if len(prelus) != len(slopes):
        raise TwinError(f"{len(prelus)} PReLU modules but {len(slopes)} PRelu nodes in the graph")
    for name, slope in zip(prelus, slopes, strict=True):
        key = f"{name}.weight"
        if key in filled:
            continue
        if slope not in inits or inits[slope].size != state[key].numel():
            raise TwinError(f"PRelu slope {slope!r} does not fit {key} {tuple(state[key].shape)}")
        filled[key] = torch.from_numpy(inits[slope].copy()).reshape(state[key].shape)
    missing = sorted(set(state) - set(filled))
    if missing:
        raise TwinError(f"no ONNX initializer for {', '.join(missing[:4])}")
    module.load_state_dict(filled)


def torch_twin(path: Path) -> tuple[nn.Module, str]:
    """(the eval-mode module with the file's weights, its architecture string)."""
    model = onnx.load(str(path))
    architecture = architecture_of(model)
    module = build_module(architecture)
    load_onnx_weights(module, model)
    return module.eval(), architecture


def parity(path: Path, module: nn.Module, size: int = 48) -> float:
    """Largest |onnxruntime - torch| on one random image (float32, CPU)."""
    import onnxruntime as ort

    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.inference_mode():
        got = module(torch.from_numpy(x)).numpy()
    return float(np.abs(expected - got).max())
