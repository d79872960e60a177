"""Tiny real ONNX models with known behaviour, built with onnx.helper (opset 17) for the tests.

Each builder writes a .onnx file and returns its path. `metadata` becomes the model's metadata_props (the model card).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # old enough for every onnxruntime the app supports

# A normalised 3×3 binomial blur: the expected output is easy to compute with numpy.
BLUR_KERNEL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16


def _image_io(channels: int = 3, rank: int = 4,
              out_channels: int = 3) -> tuple[onnx.ValueInfoProto, onnx.ValueInfoProto]:
    dims: list[int | str] = ["N", channels, "H", "W"] if rank == 4 else [channels, "H", "W"][: rank]
    out_dims: list[int | str] = ["N", out_channels, "OH", "OW"] if rank == 4 else list(dims)
    return (
        helper.make_tensor_value_info("image", TensorProto.FLOAT, dims),
        helper.make_tensor_value_info("output", TensorProto.FLOAT, out_dims),
    )


def _save(path: Path, nodes: list, initializers: list, metadata: dict[str, str] | None,
          channels: int = 3, rank: int = 4, out_channels: int = 3) -> Path:
    x, y = _image_io(channels, rank, out_channels)
    graph = helper.make_graph(nodes, "test-model", [x], [y], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
    model.ir_version = IR_VERSION
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def identity(path: Path, metadata: dict[str, str] | None = None) -> Path:
    return _save(path, [helper.make_node("Identity", ["image"], ["output"])], [], metadata)


def _depthwise_blur(input_name: str, output_name: str) -> tuple[list, list]:
    weight = np.broadcast_to(BLUR_KERNEL, (3, 1, 3, 3)).copy()
    node = helper.make_node("Conv", [input_name, "blur_w"], [output_name], group=3, pads=[1, 1, 1, 1])
    return [node], [numpy_helper.from_array(weight, "blur_w")]


def blur(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Same-size 3×3 blur with zero padding: receptive radius 1."""
    nodes, inits = _depthwise_blur("image", "output")
    return _save(path, nodes, inits, metadata)


def _nearest_upscale(input_name: str, output_name: str, scale: int) -> tuple[list, list]:
    # A 1×1 conv copies each channel s*s times; DepthToSpace (CRD) lays the copies out as an s×s block.
    weight = np.zeros((3 * scale * scale, 3, 1, 1), dtype=np.float32)
    for channel in range(3):
        weight[channel * scale * scale : (channel + 1) * scale * scale, channel] = 1
    nodes = [
        helper.make_node("Conv", [input_name, "copy_w"], ["copies"]),
        helper.make_node("DepthToSpace", ["copies"], [output_name], blocksize=scale, mode="CRD"),
    ]
    return nodes, [numpy_helper.from_array(weight, "copy_w")]


def nearest_upscaler(path: Path, scale: int, metadata: dict[str, str] | None = None) -> Path:
    """Pixel-shuffle upscaler whose output is exactly nearest-neighbour: np.repeat on both axes."""
    nodes, inits = _nearest_upscale("image", "output", scale)
    return _save(path, nodes, inits, metadata)


def blur_upscaler(path: Path, scale: int, metadata: dict[str, str] | None = None) -> Path:
    """3×3 blur, then nearest-neighbour ×scale: receptive radius 1, a real test for tiling at scale > 1."""
    blur_nodes, blur_inits = _depthwise_blur("image", "blurred")
    up_nodes, up_inits = _nearest_upscale("blurred", "output", scale)
    return _save(path, blur_nodes + up_nodes, blur_inits + up_inits, metadata)


def multiple_of(path: Path, multiple: int, metadata: dict[str, str] | None = None) -> Path:
    """Identity that only accepts sides divisible by `multiple` (SpaceToDepth then DepthToSpace)."""
    nodes = [
        helper.make_node("SpaceToDepth", ["image"], ["packed"], blocksize=multiple),
        helper.make_node("DepthToSpace", ["packed"], ["output"], blocksize=multiple, mode="DCR"),
    ]
    return _save(path, nodes, [], metadata)


def grid_pool(path: Path, multiple: int, metadata: dict[str, str] | None = None) -> Path:
    """Averages each `multiple`×`multiple` block and spreads it back: the output depends on where the grid sits,
    like a U-Net's pooling. Only accepts sides divisible by `multiple`."""
    scales = numpy_helper.from_array(np.array([1, 1, multiple, multiple], dtype=np.float32), "grid_scales")
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[multiple, multiple],
                         strides=[multiple, multiple]),
        helper.make_node("Resize", ["pooled", "", "grid_scales"], ["output"], mode="nearest"),
    ]
    return _save(path, nodes, [scales], metadata)


def heavy(path: Path, channels: int = 48, layers: int = 6, metadata: dict[str, str] | None = None) -> Path:
    """A slow same-size conv stack (for cancel tests): radius `layers + 2`."""
    rng = np.random.default_rng(1)
    nodes, inits, current = [], [], "image"
    shapes = [(channels, 3)] + [(channels, channels)] * layers + [(3, channels)]
    for index, (out_channels, in_channels) in enumerate(shapes):
        weight = (rng.standard_normal((out_channels, in_channels, 3, 3)) * 0.05).astype(np.float32)
        name = f"w{index}"
        target = "output" if index == len(shapes) - 1 else f"h{index}"
        nodes.append(helper.make_node("Conv", [current, name], [target], pads=[1, 1, 1, 1]))
        inits.append(numpy_helper.from_array(weight, name))
        current = target
    return _save(path, nodes, inits, metadata)


def wrong_rank(path: Path) -> Path:
    """Takes a rank-3 tensor: not an image model the app can run."""
    return _save(path, [helper.make_node("Identity", ["image"], ["output"])], [], None, rank=3)


def wrong_channels(path: Path) -> Path:
    """Takes one channel: not an RGB model."""
    return _save(path, [helper.make_node("Identity", ["image"], ["output"])], [], None, channels=1)


def card(name: str, task: str, scale: int, **extra: str) -> dict[str, str]:
    """A model card (metadata_props) with the contract's keys."""
    props = {
        "name": name,
        "title": extra.pop("title", name.replace("-", " ").title()),
        "description": "test model",
        "task": task,
        "scale": str(scale),
        "input_range": "0,1",
        "output_range": "0,1",
        "channel_order": "RGB",
        "layout": "NCHW",
        "tile_multiple": "1",
        "receptive_radius": "1",
        "training_data": "none",
        "licence": "MIT",
        "metrics": '{"psnr": 1.0}',
        "version": "1",
    }
    props.update(extra)
    return props


def blur_reference(rgb: np.ndarray) -> np.ndarray:
    """What the blur model computes, for (H, W, 3) float arrays (zero padding, like the Conv's pads=1)."""
    padded = np.pad(rgb, ((1, 1), (1, 1), (0, 0)))
    height, width = rgb.shape[:2]
    result = np.zeros_like(rgb)
    for dy in range(3):
        for dx in range(3):
            result += BLUR_KERNEL[dy, dx] * padded[dy : dy + height, dx : dx + width]
    return result


def curve(path: Path, metadata: dict[str, str] | None = None, steps: int = 8) -> Path:
    """A low-light curve model: α_k = 1 − R for every one of `steps` maps (1×1 conv on the red channel), so dark
    pixels get the strongest lift and a constant image gets a known curve."""
    weight = np.zeros((steps, 3, 1, 1), dtype=np.float32)
    weight[:, 0] = -1.0
    bias = np.ones(steps, dtype=np.float32)
    node = helper.make_node("Conv", ["image", "curve_w", "curve_b"], ["output"])
    inits = [numpy_helper.from_array(weight, "curve_w"), numpy_helper.from_array(bias, "curve_b")]
    return _save(path, [node], inits, metadata, out_channels=steps)


def curve_reference(value: float, steps: int = 8) -> float:
    """What the curve model does to a constant grey image of `value`."""
    alpha = 1.0 - value
    for _ in range(steps):
        value = value + alpha * value * (1 - value)
    return value


def gain_curve(path: Path, metadata: dict[str, str] | None = None, gain_t: float = 0.0, mix_t: float = 0.0,
               alpha: float = 0.0, steps: int = 2) -> Path:
    """A "gain-curve" low-light model with constant maps: [t_gain, t_mix, α × steps] (a 1×1 conv, zero weights)."""
    weight = np.zeros((2 + steps, 3, 1, 1), dtype=np.float32)
    bias = np.array([gain_t, mix_t] + [alpha] * steps, dtype=np.float32)
    node = helper.make_node("Conv", ["image", "gain_w", "gain_b"], ["output"])
    inits = [numpy_helper.from_array(weight, "gain_w"), numpy_helper.from_array(bias, "gain_b")]
    return _save(path, [node], inits, metadata, out_channels=2 + steps)
