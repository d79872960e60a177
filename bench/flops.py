"""Floating-point operations of an ONNX image model at a given input size, counted from the graph itself.

Shapes come from ONNX shape inference with the input's dimensions fixed; where it cannot follow a shape computed at
run time (denoise's pixel unshuffle reshapes by Shape → Div → Concat), from one onnxruntime run of the model on zeros
with every intermediate tensor exposed as an output. A multiply-add counts as 2 FLOPs:
- Conv: N·Cout·Hout·Wout · (Cin/group)·kH·kW MACs, plus one add per output element for the bias;
- ConvTranspose: N·Cin·Hin·Win · (Cout/group)·kH·kW MACs (every input pixel scatters a kernel), plus the bias;
- element-wise arithmetic (PRelu, Add, Mul, Relu, Sigmoid...): 1 FLOP per output element;
- data movement (DepthToSpace, Resize nearest, Reshape, Transpose, Pad, Slice...): 0 FLOPs, but listed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

ELEMENTWISE = frozenset({"PRelu", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Max",
                         "Min", "Sqrt", "Pow", "Exp", "Neg", "Abs", "HardSigmoid", "Elu", "Selu", "Erf"})


@dataclass
class OpTotal:
    nodes: int = 0
    flops: float = 0.0
    elements: float = 0.0  # output elements, for the operations that cost (almost) no arithmetic


@dataclass
class FlopCount:
    input_shape: tuple[int, ...]
    by_op: dict[str, OpTotal] = field(default_factory=lambda: defaultdict(OpTotal))

    @property
    def total(self) -> float:
        return sum(t.flops for t in self.by_op.values())

    @property
    def conv_share(self) -> float:
        conv = sum(t.flops for op, t in self.by_op.items() if op in ("Conv", "ConvTranspose"))
        return conv / self.total if self.total else 0.0


def _fix_input(model: onnx.ModelProto, shape: tuple[int, ...]) -> None:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) != len(shape):
        raise ValueError(f"the model's input has rank {len(dims)}, not {len(shape)}")
    for dim, value in zip(dims, shape, strict=True):
        dim.Clear()
        dim.dim_value = value


def _shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    shapes = {}
    for info in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        dims = info.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            shapes[info.name] = tuple(d.dim_value for d in dims)
    for init in model.graph.initializer:
        shapes[init.name] = tuple(init.dims)
    if any(node.output[0] not in shapes for node in model.graph.node):
        shapes.update(_run_shapes(model))
    return shapes


def _run_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    """Every node output's shape, from running the model once on zeros of its (fixed) input shape."""
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        for name in node.output:
            if name and name not in known:
                probe.graph.output.append(onnx.ValueInfoProto(name=name))
                known.add(name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    first = model.graph.input[0]
    x = np.zeros([d.dim_value for d in first.type.tensor_type.shape.dim], dtype=np.float32)
    names = [o.name for o in session.get_outputs()]
    return {name: tuple(value.shape) for name, value in zip(names, session.run(names, {first.name: x}), strict=True)}


def count_flops(path: Path, input_shape: tuple[int, ...]) -> FlopCount:
    model = onnx.load(str(path))
    _fix_input(model, input_shape)
    shapes = _shapes(model)
    count = FlopCount(tuple(input_shape))
    for node in model.graph.node:
        total = count.by_op[node.op_type]
        total.nodes += 1
        out = shapes.get(node.output[0])
        if out is None:
            raise ValueError(f"shape inference left {node.op_type} output {node.output[0]!r} unknown")
        elements = float(np.prod(out))
        total.elements += elements
        if node.op_type in ("Conv", "ConvTranspose"):
            weight = shapes[node.input[1]]  # Conv: (Cout, Cin/g, kH, kW); ConvTranspose: (Cin, Cout/g, kH, kW)
            kernel = float(np.prod(weight[2:]))
            if node.op_type == "Conv":
                macs = elements * weight[1] * kernel
            else:
                source = shapes[node.input[0]]
                macs = float(np.prod(source)) * weight[1] * kernel
            bias = elements if len(node.input) > 2 and node.input[2] else 0.0
            total.flops += 2 * macs + bias
        elif node.op_type in ELEMENTWISE:
            total.flops += elements
    return count


def parameters(path: Path) -> int:
    return int(sum(numpy_helper.to_array(i).size for i in onnx.load(str(path)).graph.initializer))
