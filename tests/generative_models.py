"""Tiny generative ONNX models (GAN, VAE encoder and decoder) built with onnx.helper, for fast gallery tests.

A generator/decoder is latent -> Gemm -> Sigmoid -> (N, 3, R, R); the encoder is image -> flatten -> Gemm -> mu
(plus a logvar output, as the real export has). Random fixed weights: different latents give different images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LATENT = 8
RESOLUTION = 16


def _card(name: str, task: str, **extra: str) -> dict[str, str]:
    return {"name": name, "title": name, "task": task, "latent_size": str(LATENT), "resolution": str(RESOLUTION),
            "input_range": "0,1", "output_range": "0,1", "training_data": "none", "licence": "MIT", **extra}


def _save(path: Path, graph: onnx.GraphProto, metadata: dict[str, str]) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    model.ir_version = 8
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _drawer(path: Path, name: str, task: str, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((LATENT, 3 * RESOLUTION * RESOLUTION)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["latent", "w"], ["flat"]),
        helper.make_node("Sigmoid", ["flat"], ["squashed"]),
        helper.make_node("Reshape", ["squashed", "shape"], ["image"]),
    ]
    inits = [numpy_helper.from_array(weight, "w"),
             numpy_helper.from_array(np.array([-1, 3, RESOLUTION, RESOLUTION], np.int64), "shape")]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["N", LATENT])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, RESOLUTION, RESOLUTION])], inits)
    return _save(path, graph, _card(name, task))


def generator(folder: Path, name: str = "generate-gan") -> Path:
    return _drawer(folder / f"{name}.onnx", name, "generate", seed=1)


def decoder(folder: Path, name: str = "vae-decoder") -> Path:
    return _drawer(folder / f"{name}.onnx", name, "decode", seed=2)


def encoder(folder: Path, name: str = "vae-encoder", pair: str = "vae-decoder") -> Path:
    rng = np.random.default_rng(3)
    weight = (rng.standard_normal((3 * RESOLUTION * RESOLUTION, LATENT)) * 0.05).astype(np.float32)
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w"], ["mu"]),
        helper.make_node("Mul", ["mu", "zero"], ["logvar"]),
    ]
    inits = [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, RESOLUTION, RESOLUTION])],
        [helper.make_tensor_value_info("mu", TensorProto.FLOAT, ["N", LATENT]),
         helper.make_tensor_value_info("logvar", TensorProto.FLOAT, ["N", LATENT])], inits)
    return _save(folder / f"{name}.onnx", graph, _card(name, "encode", pair=pair))


def install_all(folder: Path) -> dict[str, Path]:
    return {"generate-gan": generator(folder), "vae-encoder": encoder(folder), "vae-decoder": decoder(folder)}
