"""Continue training from a shipped .onnx model: its initializers read back into the torch module, then verified.

A session without the previous run's checkpoints (runs/ is not committed) still resumes where the shipped model
stopped. Names are matched first (torch.onnx keeps parameter names for most tensors); tensors the exporter renamed
(PReLU slopes become reshaped `val_N` constants) are matched by shape in graph order. The load is accepted only if
the torch module then reproduces the ONNX model's output on a test input, so a wrong mapping can never train on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import nn


class OnnxWeightsError(ValueError):
    pass


def _initializers(path: Path) -> list[tuple[str, np.ndarray]]:
    model = onnx.load(str(path))
    return [(t.name, numpy_helper.to_array(t)) for t in model.graph.initializer]


def load_onnx_weights(module: nn.Module, path: Path, example: torch.Tensor, tolerance: float = 1e-4) -> int:
    """Copy the ONNX model's weights into `module` (in place); returns how many tensors were copied."""
    tensors = _initializers(path)
    # A module may add parameters the shipped model predates (neutrally initialised, e.g. a zero-init branch); the
    # output-parity check below still proves the rest mapped right and that the new ones change nothing yet.
    new_prefixes = tuple(getattr(module, "new_parameter_prefixes", ()))
    by_name = dict(tensors)
    state = module.state_dict()
    used: set[str] = set()
    loaded: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key in by_name and by_name[key].size == value.numel():
            loaded[key] = torch.from_numpy(by_name[key].copy()).reshape(value.shape).to(value.dtype)
            used.add(key)
    leftovers = [(n, a) for n, a in tensors if n not in used]
    for key, value in state.items():
        if key in loaded or not value.is_floating_point() or key.startswith(new_prefixes):
            continue
        for i, (name, array) in enumerate(leftovers):
            if array.size == value.numel() and array.dtype.kind == "f":
                loaded[key] = torch.from_numpy(array.copy()).reshape(value.shape).to(value.dtype)
                leftovers.pop(i)
                break
    missing = [k for k, v in state.items()
               if k not in loaded and v.is_floating_point() and not k.startswith(new_prefixes)]
    if missing:
        raise OnnxWeightsError(f"{path.name}: no weights for {missing[:4]}")
    module.load_state_dict({**state, **loaded})
    _check_same_output(module, path, example, tolerance)
    return len(loaded)


def _check_same_output(module: nn.Module, path: Path, example: torch.Tensor, tolerance: float) -> None:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: example.numpy()})[0]
    was_training = module.training
    module.eval()
    with torch.no_grad():
        got = module(example).numpy()
    module.train(was_training)
    worst = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
    if worst > tolerance:
        raise OnnxWeightsError(f"{path.name}: the torch module does not reproduce the ONNX output "
                               f"(max |diff| {worst:.3g}); the weights were not mapped correctly")
