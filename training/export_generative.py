"""Export the generative models: the GAN's generator, and the VAE's encoder and decoder as two files.

Same rules as the image models (training/export.py): one self-contained ONNX file each, dynamic batch, the model
card in metadata_props, parity with torch within 1e-4, and a load through imagestudio.core the way the app will.
The generator and decoder take z (N, latent) ~ N(0, I) and give images (N, 3, R, R) in [0, 1]; the encoder takes
images (N, 3, R, R) in [0, 1] at exactly the card's resolution and gives (mu, logvar), each (N, latent).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn

from imagestudio.core import model_card
from training.data.emoji import FACE_SUBGROUPS, LICENCE, describe_emoji_source
from training.checkpoints import RUNS_DIR, load_checkpoint
from training.export import MODELS_DIR, OPSET, WEIGHTS_LICENCE, check_parity, write_card_markdown
from training.onnx_card import write_metadata
from training.registry import TASKS

LATENT_RANGE = "-inf,inf"  # z is unbounded: standard normal, see latent_distribution
_HALF_MIN_SIZE = 1024  # weights smaller than this stay float32: no saving worth a Cast node
WEIGHTS_STORAGE = "float16 weights, computed in float32"


def round_weights_to_half(model: nn.Module) -> None:
    """Rounds every float parameter and buffer to the nearest float16 value (kept as float32).

    The export then stores them as float16 without loss (half the file size), and parity is checked against
    exactly the network that ships; the rounding itself moves outputs by ~1e-3, far below what the eye or the
    metrics (measured on the exported file) can see.
    """
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """A copy in which every (transposed) conv followed by an eval-mode batch norm is one conv with a bias.

    The exporter fuses them anyway; doing it here first means the float16 rounding applies to the weights that
    actually ship (rounding before fusing would leave the fused weights off the float16 grid).
    """
    model = copy.deepcopy(model).eval()
    for parent in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        layers = list(parent)
        fused: list[nn.Module] = []
        i = 0
        while i < len(layers):
            conv, norm = layers[i], layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(norm, nn.BatchNorm2d):
                fused.append(_fold(conv, norm))
                i += 2
            else:
                fused.append(conv)
                i += 1
        for index in range(len(parent)):
            del parent[0]
        for layer in fused:
            parent.append(layer)
    return model


def _fold(conv: nn.Conv2d | nn.ConvTranspose2d, norm: nn.BatchNorm2d) -> nn.Module:
    scale = norm.weight.detach() / torch.sqrt(norm.running_var + norm.eps)
    out = copy.deepcopy(conv)
    out_axis = 1 if isinstance(conv, nn.ConvTranspose2d) else 0  # ConvTranspose weights are (in, out, k, k)
    shape = [1] * conv.weight.dim()
    shape[out_axis] = -1
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(norm.running_mean)
    with torch.no_grad():
        out.weight = nn.Parameter(conv.weight.detach() * scale.view(shape))
        out.bias = nn.Parameter((bias - norm.running_mean) * scale + norm.bias.detach())
    return out


def store_weights_as_half(proto: onnx.ModelProto) -> int:
    """float32 initializers that are exactly float16 values become float16 + a Cast node; returns how many."""
    graph = proto.graph
    casts, kept, count = [], [], 0
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        exact = array.dtype == np.float32 and array.size >= _HALF_MIN_SIZE and np.array_equal(
            array.astype(np.float16).astype(np.float32), array)
        if not exact:
            kept.append(init)
            continue
        half = numpy_helper.from_array(array.astype(np.float16), f"{init.name}__fp16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT,
                                      name=f"{init.name}__to_float"))
        count += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def export_graph(model: nn.Module, path: Path, example: torch.Tensor, input_name: str, output_names: list[str],
                 metadata: dict[str, str]) -> Path:
    """One file (no external data), dynamic batch only: these networks have a fixed resolution."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arg_name = model.forward.__code__.co_varnames[1]  # dynamic_shapes is keyed by the forward argument name
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(model.eval(), (example,), str(tmp), input_names=[input_name], output_names=output_names,
                          opset_version=OPSET, dynamo=True, external_data=False, verbose=False,
                          dynamic_shapes={arg_name: {0: torch.export.Dim("batch", min=1, max=1024)}})
    proto = onnx.load(str(tmp))
    store_weights_as_half(proto)
    onnx.save(proto, str(tmp))
    write_metadata(tmp, metadata)
    tmp.replace(path)
    return path


def latent_inputs(latent: int, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(1, latent, generator=g), torch.randn(3, latent, generator=g) * 1.5,
            torch.randn(7, latent, generator=g)]


def image_inputs(resolution: int, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(n, 3, resolution, resolution, generator=g) for n in (1, 4)]


def validate_in_app(path: Path, task: str, latent: int, resolution: int) -> None:
    """Load the export exactly as the app will: imagestudio.core's model card and runtime."""
    from imagestudio.core.models import find_model
    from imagestudio.core.runtime import get_session

    card = find_model(path)
    if (card.task, card.latent_size, card.resolution, card.probed) != (task, latent, resolution, False):
        raise AssertionError(f"the app reads task={card.task} latent={card.latent_size} resolution={card.resolution} "
                             f"probed={card.probed}; expected {task}, {latent}, {resolution}")
    session = get_session(path, "cpu")
    if task == "encode":
        out = session.run(np.random.default_rng(0).random((2, 3, resolution, resolution), dtype=np.float32))
        expected: tuple[int, ...] = (2, latent)
    else:
        out = session.run(np.random.default_rng(0).standard_normal((2, latent), dtype=np.float32))
        expected = (2, 3, resolution, resolution)
    if out.shape != expected:
        raise AssertionError(f"the app's runtime gave shape {out.shape}, expected {expected}")


def base_metadata(config: dict, step: int, architecture: str, parameters: int) -> dict[str, str]:
    card = config.get("card", {})
    subgroups = config.get("data", {}).get("subgroups", list(FACE_SUBGROUPS))
    return {
        model_card.NAME: config["name"],
        model_card.TITLE: card.get("title", config["name"]),
        model_card.DESCRIPTION: card.get("description", ""),
        model_card.SCALE: "1",
        model_card.CHANNEL_ORDER: "RGB",
        model_card.LAYOUT: "NCHW",
        model_card.LATENT_SIZE: str(int(config["model"]["latent"])),
        model_card.LATENT_DISTRIBUTION: "standard normal N(0, I)",
        model_card.RESOLUTION: str(int(config["model"].get("resolution", 64))),
        model_card.ARCHITECTURE: architecture,
        model_card.PARAMETERS: str(parameters),
        model_card.WEIGHTS_STORAGE: WEIGHTS_STORAGE,
        model_card.TRAINING_DATA: describe_emoji_source(subgroups),
        model_card.LICENCE: f"{WEIGHTS_LICENCE}; training data: {LICENCE}",
        model_card.TRAINING: json.dumps({"iterations": step, "config": config.get("train", {})}, sort_keys=True),
        model_card.VERSION: "1",
        model_card.EXPORTED: time.strftime("%Y-%m-%d"),
    }


def _finish(path: Path, metadata: dict[str, str], metrics: dict) -> Path:
    metadata[model_card.METRICS] = json.dumps(metrics, sort_keys=True)
    write_metadata(path, metadata)
    write_card_markdown(path, metadata)
    return path


def export_gan(config: dict, checkpoint: Path, out: Path | None, measure: bool) -> list[Path]:
    task = TASKS.get(config["task"])
    (card_task,) = task.card_tasks
    generator = task.build_model(config)
    step = load_checkpoint(checkpoint, {"net": generator})
    generator = fuse_batchnorm(generator.eval())
    round_weights_to_half(generator)
    latent, resolution = generator.latent, generator.resolution
    metadata = base_metadata(config, step, generator.describe(), sum(p.numel() for p in generator.parameters()))
    metadata.update({model_card.TASK: card_task, model_card.INPUT_RANGE: LATENT_RANGE,
                     model_card.OUTPUT_RANGE: "0,1"})
    path = out or MODELS_DIR / f"{config['name']}.onnx"
    export_graph(generator, path, torch.randn(2, latent), "z", ["image"], metadata)
    metrics: dict = {"parity_max_abs": float(f"{check_parity(generator, path, latent_inputs(latent)):.3g}")}
    if measure:
        from training.eval_generative import measure_models

        metrics.update(measure_models(gan=path)["gan"])
    _finish(path, metadata, metrics)
    validate_in_app(path, card_task, latent, resolution)
    print(json.dumps(metrics, indent=1))
    return [path]


class _Encoder(nn.Module):
    """The VAE's encoder as a module of its own; outputs named mu and logvar."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(image)


def export_vae(config: dict, checkpoint: Path, out: Path | None, measure: bool) -> list[Path]:
    """Two files: <name>-encoder.onnx and <name>-decoder.onnx (out, when given, names the encoder)."""
    task = TASKS.get(config["task"])
    enc_task, dec_task = task.card_tasks
    vae = task.build_model(config)
    step = load_checkpoint(checkpoint, {"net": vae})
    vae.eval()
    round_weights_to_half(vae)
    latent, resolution, name = vae.latent, vae.resolution, config["name"]
    enc_path = out or MODELS_DIR / f"{name}-encoder.onnx"
    dec_path = enc_path.with_name(enc_path.name.replace("-encoder", "-decoder")) if out else \
        MODELS_DIR / f"{name}-decoder.onnx"
    if dec_path == enc_path:
        dec_path = enc_path.with_name(enc_path.stem + "-decoder.onnx")
    encoder = _Encoder(vae.encoder).eval()
    card = config.get("card", {})
    enc_meta = base_metadata(config, step, vae.describe() + ".encoder",
                             sum(p.numel() for p in vae.encoder.parameters()))
    enc_meta.update({model_card.NAME: f"{name}-encoder", model_card.TITLE: f"{card.get('title', name)}: encoder",
                     model_card.TASK: enc_task, model_card.INPUT_RANGE: "0,1", model_card.OUTPUT_RANGE: LATENT_RANGE,
                     model_card.PAIR: f"{name}-decoder",
                     model_card.OUTPUTS: "mu (N, latent), logvar (N, latent): the Gaussian posterior q(z|image)"})
    dec_meta = base_metadata(config, step, vae.describe() + ".decoder",
                             sum(p.numel() for p in vae.decoder.parameters()))
    dec_meta.update({model_card.NAME: f"{name}-decoder", model_card.TITLE: f"{card.get('title', name)}: decoder",
                     model_card.TASK: dec_task, model_card.INPUT_RANGE: LATENT_RANGE, model_card.OUTPUT_RANGE: "0,1",
                     model_card.PAIR: f"{name}-encoder"})
    export_graph(encoder, enc_path, torch.rand(2, 3, resolution, resolution), "image", ["mu", "logvar"], enc_meta)
    export_graph(vae.decoder, dec_path, torch.randn(2, latent), "z", ["image"], dec_meta)
    enc_metrics: dict = {"parity_max_abs": float(f"{check_parity(encoder, enc_path, image_inputs(resolution)):.3g}")}
    dec_metrics: dict = {"parity_max_abs": float(f"{check_parity(vae.decoder, dec_path, latent_inputs(latent)):.3g}")}
    if measure:
        from training.eval_generative import measure_models

        measured = measure_models(vae_encoder=enc_path, vae_decoder=dec_path)
        dec_metrics.update(measured["vae"])
        enc_metrics.update({k: v for k, v in measured["vae"].items() if k.startswith(("recon", "floor"))})
    _finish(enc_path, enc_meta, enc_metrics)
    _finish(dec_path, dec_meta, dec_metrics)
    validate_in_app(enc_path, enc_task, latent, resolution)
    validate_in_app(dec_path, dec_task, latent, resolution)
    print(json.dumps({"encoder": enc_metrics, "decoder": dec_metrics}, indent=1))
    return [enc_path, dec_path]


def export_from_config(config: dict, checkpoint: str | None, out: str | None, measure: bool = True) -> list[Path]:
    kind = TASKS.get(config["task"]).export_kind
    if kind not in ("gan", "vae"):
        raise ValueError(f"a {config['task']!r} config exports with training/export.py")
    ckpt = Path(checkpoint) if checkpoint else RUNS_DIR / config["name"] / "last.pt"
    exporter = export_gan if kind == "gan" else export_vae
    return exporter(config, ckpt, Path(out) if out else None, measure)
