"""Export a trained network to one ONNX file with its model card, check parity with torch, load it as the app will."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from imagestudio.core import model_card
from imagestudio.core.hashing import file_sha256
from training.checkpoints import RUNS_DIR, load_checkpoint
from training.data.sources import describe_sources, ship_copyright_files
from training.onnx_card import read_metadata, write_metadata
from training.registry import TASKS

MODELS_DIR = Path(__file__).resolve().parents[1] / "resources" / "models"
OPSET = 18
PARITY_TOLERANCE = 1e-4
WEIGHTS_LICENCE = "MIT (weights trained by the ImageStudio project)"


def export_onnx(model: nn.Module, path: Path, example: torch.Tensor, metadata: dict[str, str],
                dynamic_batch: bool = True, spatial: bool = True) -> Path:
    """One self-contained file (no external data), dynamic N (and H, W), metadata_props filled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    dims: dict[int, torch.export.Dim] = {}
    if dynamic_batch:
        dims[0] = torch.export.Dim("batch", min=1, max=1024)
    if spatial:
        dims[2] = torch.export.Dim("height", min=2, max=16384)
        dims[3] = torch.export.Dim("width", min=2, max=16384)
    input_name = "image" if spatial else "z"
    arg_name = model.forward.__code__.co_varnames[1]  # dynamic_shapes is keyed by the forward argument name
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(tmp), input_names=[input_name], output_names=["output"],
                          opset_version=OPSET, dynamic_shapes={arg_name: dims}, dynamo=True, external_data=False,
                          verbose=False)
    write_metadata(tmp, metadata)
    tmp.replace(path)
    return path


def check_parity(model: nn.Module, path: Path, inputs: list[torch.Tensor]) -> float:
    """Largest |onnxruntime - torch| over every output (a model may return a tuple, like the VAE encoder) and every
    input; raises if above PARITY_TOLERANCE."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            expected = model(x)
            expected = expected if isinstance(expected, tuple) else (expected,)
            got = session.run(None, {name: x.numpy()})
            for e, g in zip(expected, got, strict=True):
                if g.shape != tuple(e.shape):
                    raise AssertionError(f"shape mismatch {g.shape} vs {tuple(e.shape)} for input {tuple(x.shape)}")
                worst = max(worst, float(np.abs(g - e.numpy()).max()))
    if worst > PARITY_TOLERANCE:
        raise AssertionError(f"onnxruntime differs from torch by {worst:.2e} (> {PARITY_TOLERANCE})")
    return worst


def odd_image_inputs(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(1, 3, 37, 53, generator=g), torch.rand(2, 3, 31, 29, generator=g),
            torch.rand(1, 3, 64, 17, generator=g)]


def parity_inputs(model: nn.Module, seed: int = 0) -> list[torch.Tensor]:
    """Odd sizes, rounded up to the model's tile multiple (a U-Net needs multiples of 4)."""
    m = int(getattr(model, "tile_multiple", 1))
    return [torch.nn.functional.pad(x, (0, -x.shape[3] % m, 0, -x.shape[2] % m), mode="reflect")
            for x in odd_image_inputs(seed)]


def validate_in_app(path: Path, task: str, scale: int) -> None:
    """Load the export exactly as the app will: through imagestudio.core's model cards and runtime."""
    from imagestudio.core.models import find_model
    from imagestudio.core.runtime import get_session

    card = find_model(path)
    if card.task != task or card.scale != scale or card.probed:
        raise AssertionError(f"the app reads {card.task} ×{card.scale} (probed={card.probed}), expected {task} ×{scale}")
    session = get_session(path, "cpu")
    m = card.tile_multiple
    h, w = -(-(4 * m + 4) // m) * m, -(-(4 * m + 8) // m) * m  # small sizes on the model's multiple
    out = session.run(np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32))
    if card.output_kind in ("curve", "gain-curve"):  # tone-curve parameters for the same small image, not pixels
        if out.shape[:1] + out.shape[2:] != (1, h, w):
            raise AssertionError(f"the app's runtime gave curve maps of shape {out.shape}")
        return
    if out.shape != (1, 3, h * scale, w * scale):
        raise AssertionError(f"the app's runtime gave shape {out.shape}")


def write_card_markdown(path: Path, metadata: dict[str, str]) -> Path:
    """resources/models/<name>.md: the same card, for people browsing the repository."""
    lines = [f"# {metadata[model_card.TITLE]} (`{metadata[model_card.NAME]}`)", "",
             metadata[model_card.DESCRIPTION], ""]
    lines += ["| field | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in metadata.items() if k not in (model_card.TITLE, model_card.DESCRIPTION)]
    lines += ["", f"File: `{path.name}`, sha256 `{file_sha256(path)}`."]
    card = path.with_suffix(".md")
    card.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return card


def export_from_config(config: dict, checkpoint: str | None, out: str | None, measure: bool = True) -> Path:
    task = TASKS.get(config["task"])
    if task.export_kind != "image":
        raise ValueError(f"a {config['task']!r} config exports with training/export_generative.py")
    model = task.build_model(config)
    ckpt = Path(checkpoint) if checkpoint else RUNS_DIR / config["name"] / "last.pt"
    step = load_checkpoint(ckpt, {"net": model})
    model.eval()
    (app_task,) = task.card_tasks  # the app sees a GAN upscaler as just another upscaler
    scale = int(getattr(model, "scale", 1))
    card = config.get("card", {})
    metadata = {
        model_card.NAME: config["name"],
        model_card.TITLE: card.get("title", config["name"]),
        model_card.DESCRIPTION: card.get("description", ""),
        model_card.TASK: app_task,
        model_card.SCALE: str(scale),
        model_card.INPUT_RANGE: "0,1",
        model_card.OUTPUT_RANGE: "0,1",
        model_card.CHANNEL_ORDER: "RGB",
        model_card.LAYOUT: "NCHW",
        model_card.TILE_MULTIPLE: str(getattr(model, "tile_multiple", 1)),
        model_card.RECEPTIVE_RADIUS: str(model.receptive_radius),
        model_card.ARCHITECTURE: model.describe(),
        model_card.PARAMETERS: str(sum(p.numel() for p in model.parameters())),
        model_card.TRAINING_DATA: f"{card.get('data', 'random patches of packaged photographs')}: "
                                  f"{describe_sources()}",
        model_card.LICENCE: f"{WEIGHTS_LICENCE}; training data licences: {describe_sources()}",
        model_card.TRAINING: json.dumps({"iterations": step, "config": config.get("train", {})}, sort_keys=True),
        model_card.VERSION: "1",
        model_card.EXPORTED: time.strftime("%Y-%m-%d"),
    }
    if getattr(model, "output_kind", "image") != "image":
        metadata[model_card.OUTPUT_KIND] = model.output_kind
    path = Path(out) if out else MODELS_DIR / f"{config['name']}.onnx"
    example = torch.rand(1, 3, 32, 32)
    export_onnx(model, path, example, metadata)
    worst = check_parity(model, path, parity_inputs(model))
    metrics: dict[str, float] = {"parity_max_abs": float(f"{worst:.3g}")}
    if measure:
        from training.evaluate import model_metrics

        metrics.update(model_metrics(app_task, scale, path))
    metadata[model_card.METRICS] = json.dumps(metrics, sort_keys=True)
    write_metadata(path, metadata)  # now with the measured metrics in the card
    if measure:
        from imagestudio.core.openvino_session import openvino_missing
        from training.precision import precision_losses

        if openvino_missing() is None:  # without OpenVINO no loss is written, so the app never picks bf16
            losses = precision_losses(app_task, scale, path)
            if losses:
                metadata[model_card.PRECISION_LOSS_DB] = json.dumps(losses, sort_keys=True)
                write_metadata(path, metadata)
    validate_in_app(path, app_task, scale)
    write_card_markdown(path, metadata)
    ship_copyright_files(path.parent)
    print(json.dumps(metrics, indent=1))
    return path
