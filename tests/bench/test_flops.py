"""FLOP counting from an ONNX graph, against counts done by hand (no timing anywhere)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from flops import count_flops, parameters
from onnx import TensorProto, helper, numpy_helper


def _graph(path: Path) -> Path:
    """Conv 3→8 (3×3, bias) → PRelu → ConvTranspose 8→4 (2×2, stride 2, bias) → DepthToSpace(2) → Add itself."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.random(shape, dtype=np.float32), name) for name, shape in
             [("w1", (8, 3, 3, 3)), ("b1", (8,)), ("slope", (8, 1, 1)), ("w2", (8, 4, 2, 2)), ("b2", (4,))]]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("PRelu", ["c1", "slope"], ["p1"]),
        helper.make_node("ConvTranspose", ["p1", "w2", "b2"], ["t1"], strides=[2, 2]),
        helper.make_node("DepthToSpace", ["t1"], ["d1"], blocksize=2),
        helper.make_node("Add", ["d1", "d1"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                         ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_counts_match_hand_arithmetic(tmp_path: Path) -> None:
    path = _graph(tmp_path / "g.onnx")
    h, w = 10, 6
    count = count_flops(path, (1, 3, h, w))
    conv = 2 * (8 * h * w) * (3 * 3 * 3) + 8 * h * w  # MACs × 2 + one bias add per output
    transpose = 2 * (8 * h * w) * (4 * 2 * 2) + 4 * (2 * h) * (2 * w)  # every input pixel scatters a 4×2×2 kernel
    assert count.by_op["Conv"].flops == conv
    assert count.by_op["ConvTranspose"].flops == transpose
    assert count.by_op["PRelu"].flops == 8 * h * w
    assert count.by_op["DepthToSpace"].flops == 0 and count.by_op["DepthToSpace"].elements == 1 * (4 * h) * (4 * w)
    assert count.by_op["Add"].flops == 1 * (4 * h) * (4 * w)
    assert count.total == pytest.approx(conv + transpose + 8 * h * w + 16 * h * w)
    assert parameters(path) == 8 * 27 + 8 + 8 + 8 * 16 + 4


def test_scales_with_the_input_and_batch(tmp_path: Path) -> None:
    path = _graph(tmp_path / "g.onnx")
    one = count_flops(path, (1, 3, 8, 8)).total
    assert count_flops(path, (2, 3, 8, 8)).total == pytest.approx(2 * one)
    assert count_flops(path, (1, 3, 16, 16)).total == pytest.approx(4 * one)


def test_shapes_computed_at_run_time_are_found_by_running_the_model(tmp_path: Path) -> None:
    """A reshape whose target comes from Shape → Div (as denoise's pixel unshuffle): ONNX inference cannot follow it."""
    inits = [numpy_helper.from_array(np.ones(4, dtype=np.int64), "one"),
             numpy_helper.from_array(np.ones((8, 3, 3, 3), dtype=np.float32), "w")]
    nodes = [
        helper.make_node("Shape", ["image"], ["shape"]),
        helper.make_node("Div", ["shape", "one"], ["target"]),
        helper.make_node("Reshape", ["image", "target"], ["same"]),
        helper.make_node("Conv", ["same", "w"], ["output"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                         ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "runtime-shape.onnx"
    onnx.save(model, str(path))
    count = count_flops(path, (1, 3, 10, 12))
    assert count.by_op["Conv"].flops == 2 * (8 * 10 * 12) * (3 * 3 * 3)
