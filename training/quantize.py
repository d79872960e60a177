"""Static int8 variants of the image models: quantized, measured, and shipped only where they run faster.

    python -m training.quantize resources/models/upscale-x4.onnx [...] [--dry-run]

Recipe (onnxruntime's quantization tools): QDQ format, opset of the model, convolutions only, weights int8
symmetric per output channel, activations uint8 asymmetric (onnxruntime's u8s8 kernels use VNNI on x86; symmetric
int8 activations cost 0.02 dB more on upscale-x4, because a post-PReLU tensor is mostly positive and a symmetric
grid wastes half its codes), calibrated with a 99.999th percentile of each tensor's values on `CALIBRATION_PATCHES`
*training* patches degraded as the task is evaluated (training/precision.py), fed through the app's own image
conversion (floats clipped to [0, 1]) so the calibration sees the values the app feeds the model. Tighter clipping
loses: these networks carry edges in the tails of their activations (percentile 99.9: +0.2 dB on upscale-x4, +1 dB
on denoise; onnxruntime's Distribution method +15 dB on denoise), and calibrating on 0–255 pixels instead of the
model's 0–1 costs 16–22 dB. `reduce_range` is off: it exists for CPUs without VNNI, whose u8·s8 dot products
saturate at 16 bits; with VNNI it only throws away a bit.

Layers whose activations carry the image itself at 8 bits (a denoiser's first conv reads the noisy photo, its last
conv writes the residual that is added back) can cost more than the whole budget on their own, so the layers are
ranked by the loss each costs when it alone is quantized (measured on further training patches, never on the
held-out ones) and the worst are kept in fp32, one at a time, until the whole measures within `BUDGET_DB`.

The result is measured as bf16 is (training/precision.py: PSNR(fp32) − PSNR(int8) against the clean held-out
patches, through the app's operation; the worse of onnxruntime int8 and OpenVINO running the QDQ file) and timed
through the app's session path (core/runtime.get_session), onnxruntime fp32 against onnxruntime int8. Only where
int8 is faster (by MIN_SPEEDUP, past the noise) is `<model>.int8.onnx` written beside the model, with the card's
`int8_file` and `precision_loss_db.int8` (core/runtime_choice.py lets auto take it only within 0.05 dB).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from imagestudio.core import model_card
from imagestudio.core.models import INT8_SUFFIX

# lowlight is left out: its network runs once on a copy of at most 512 pixels (core/ops/lowlight_curve.NET_SIDE),
# a fraction of the operation's time, so a faster network would not make the operation faster.
TASKS = ("upscale", "denoise")
CALIBRATION_PATCHES = 64
CALIBRATION_SIZE = 128  # clean side; an upscaler sees it ÷ scale
SENSITIVITY_PATCHES = 16
# The loss on the training probe to stay within (auto's limit is 0.05): the probe is 16 patches, and the held-out
# loss came out up to 2× the probe's on denoise (0.028 → 0.055).
BUDGET_DB = 0.02
PERCENTILE = 99.999
# Only convolutions are quantized (where the work is). Adds, pixel shuffles and resizes stay fp32, so each conv's
# input has its own quantize/dequantize pair and a conv kept in fp32 really is: were a residual Add quantized, the
# tensor it shares with a conv would stay 8-bit whatever the conv (denoise: 8 convs kept, still +0.16 dB).
QUANTIZED_OPS = ("Conv", "ConvTranspose")
THIN_MACS = 64  # see thin_layers()
# "Faster" must be more than the run-to-run noise of a median of 7 on one tile: three runs of the same recipe put the
# ×4 GAN's onnxruntime int8 at ×0.94, ×1.02 and ×1.08 of fp32 (and the full speed run at ×0.67–1.15), so 5 % is a
# floor, not a proof; docs/bench/speed.md has the whole-image figures.
MIN_SPEEDUP = 1.05
SPEED_RUNS = 7
SPEED_SIDE = {"upscale": 128, "denoise": 256}  # input side timed (an upscaler's input is its low resolution)


@dataclass
class Variant:
    """One quantized candidate and what was measured about it."""

    path: Path  # the candidate int8 file (in a scratch folder until shipped)
    excluded: list[str] = field(default_factory=list)  # layers kept in fp32
    sensitivity: dict[str, float] = field(default_factory=dict)  # dB each layer alone costs
    loss_db: float | None = None  # the card's value: the worse of the backends below
    losses: dict[str, float] = field(default_factory=dict)  # {"onnxruntime": dB, "openvino": dB}
    speed_ms: dict[str, float] = field(default_factory=dict)  # {"onnxruntime fp32": ms, "onnxruntime int8": ms, …}

    @property
    def faster(self) -> bool:
        fp32, int8 = self.speed_ms.get("onnxruntime fp32"), self.speed_ms.get("onnxruntime int8")
        return fp32 is not None and int8 is not None and int8 * MIN_SPEEDUP <= fp32


def int8_name(model: Path) -> str:
    """`upscale-x4.onnx` → `upscale-x4.int8.onnx` (core/models.py does not list such files as models)."""
    return model.name[: -len(".onnx")] + INT8_SUFFIX


def training_patches(count: int, size: int, seed: int, photos: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """uint8 patches of the training photos (data/cache/photos-train.npz), half the most detailed of 4, as training
    samples them; never the held-out photos or the benchmark sets."""
    from training.data.photos import PatchSampler, load_photos
    from training.data.sources import DEFAULT_DATA_DIR, photo_paths
    from training.tasks.common import _VALIDATION_PHOTOS

    if photos is None:
        cache = DEFAULT_DATA_DIR / "cache" / "photos-train.npz"
        paths = [] if cache.is_file() else photo_paths(DEFAULT_DATA_DIR)[:-_VALIDATION_PHOTOS]
        photos = load_photos(paths, cache)
    return PatchSampler(photos, size, seed=seed, texture_bias=0.5).batch(count)


def model_inputs(task: str, scale: int, patches: list[np.ndarray], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(NCHW float32 model input, clean HWC float32 target) per patch: degraded as the task is evaluated, then
    through the app's image conversion (which clips floats to [0, 1]), as the operation would feed the model."""
    from imagestudio.core.image import image_from_array
    from training.precision import _degrade

    rng = np.random.default_rng(seed)
    pairs = []
    for clean in patches:
        rgb = image_from_array(_degrade(task, scale, clean, rng)).rgb
        pairs.append((np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32),
                      clean.astype(np.float32) / 255))
    return pairs


def _input_name(path: Path) -> str:
    return onnx.load(str(path), load_external_data=False).graph.input[0].name


def prepare(model: Path, out: Path) -> Path:
    """onnxruntime's pre-processing (constant folding, shape inference) that quantization expects, and a name for
    every node. The symbolic pass cannot follow dynamic H × W through the pixel (un)shuffles, so it is skipped;
    ONNX's own inference runs."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quant_pre_process(str(model), str(out), skip_symbolic_shape=True)
    proto = onnx.load(str(out))
    names = {node.name for node in proto.graph.node}
    for index, node in enumerate(proto.graph.node):  # layers are kept in fp32 by name: every node needs one
        if not node.name:
            node.name = next(f"{node.op_type}_{index}{suffix}" for suffix in ("", *range(len(names) + 1))
                             if f"{node.op_type}_{index}{suffix}" not in names)
            names.add(node.name)
    onnx.save(proto, str(out))
    return out


def quantize(prepared: Path, out: Path, inputs: list[np.ndarray], exclude: list[str] | None = None,
             only: list[str] | None = None) -> Path:
    """The recipe above on `prepared` (see prepare()), calibrated on `inputs` (NCHW float32)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    name = _input_name(prepared)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter([{name: x} for x in inputs])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    with contextlib.redirect_stdout(io.StringIO()):  # the calibrator prints its histogram settings per call
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=False, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.Percentile, op_types_to_quantize=list(QUANTIZED_OPS),
                        nodes_to_exclude=exclude or None,
                        nodes_to_quantize=only, extra_options={"CalibPercentile": PERCENTILE})
    return out


def quantizable_layers(prepared: Path) -> list[str]:
    return [node.name for node in onnx.load(str(prepared)).graph.node if node.op_type in QUANTIZED_OPS]


def thin_layers(prepared: Path) -> list[str]:
    """Convs with few channels on one side (min(in, out) × kernel area < THIN_MACS): little arithmetic per byte
    they read and write, so quantizing and dequantizing their tensors costs more than int8 saves. The ×4 GAN's two
    convs at the output resolution (3→16→3) made its onnxruntime int8 slower than fp32 (86 ms vs 86 ms at 128²;
    kept in fp32, 67 ms)."""
    proto = onnx.load(str(prepared))
    shapes = {init.name: list(init.dims) for init in proto.graph.initializer}
    thin = []
    for node in proto.graph.node:
        weight = shapes.get(node.input[1]) if node.op_type in QUANTIZED_OPS and len(node.input) > 1 else None
        if weight and len(weight) == 4 and min(weight[0], weight[1]) * weight[2] * weight[3] < THIN_MACS:
            thin.append(node.name)
    return thin


def direct_error(path: Path, pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Pooled squared error of the model's clipped output against the clean targets (onnxruntime, whole patch)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    total = 0.0
    for x, clean in pairs:
        y = session.run(None, {name: x})[0][0].transpose(1, 2, 0)
        total += float(np.sum((np.clip(y, 0, 1).astype(np.float64) - clean) ** 2))
    return total


def _db(error: float, reference: float) -> float:
    return 10 * float(np.log10(max(error, 1e-12) / max(reference, 1e-12)))


def build(model: Path, prepared: Path, workdir: Path, calibration: list[np.ndarray],
          probe: list[tuple[np.ndarray, np.ndarray]], budget_db: float = BUDGET_DB,
          log: Callable[[str], None] = print) -> Variant:
    """The int8 candidate for `model`: all layers quantized if that is within the budget on `probe`; else the layers
    ranked by what each costs when it alone is quantized, and the worst kept in fp32 one by one, re-measuring the
    whole model each time (the losses of single layers do not add up: they share the tensors between them), until
    it is within the budget or nothing is left to keep."""
    reference = direct_error(model, probe)
    candidate = quantize(prepared, workdir / int8_name(model), calibration)
    measured = _db(direct_error(candidate, probe), reference)
    log(f"  all layers int8: {measured:+.4f} dB on {len(probe)} training patches")
    variant = Variant(candidate)
    if measured <= budget_db:
        return variant
    for layer in quantizable_layers(prepared):
        alone = quantize(prepared, workdir / "one-layer.onnx", calibration, only=[layer])
        variant.sensitivity[layer] = round(_db(direct_error(alone, probe), reference), 5)
    for layer in sorted(variant.sensitivity, key=lambda name: variant.sensitivity[name], reverse=True):
        if measured <= budget_db:
            break
        variant.excluded.append(layer)
        quantize(prepared, candidate, calibration, exclude=variant.excluded)
        measured = _db(direct_error(candidate, probe), reference)
        log(f"  + {layer} in fp32 (alone {variant.sensitivity[layer]:+.4f} dB): {measured:+.4f} dB")
    return variant


def stage(model: Path, candidate: Path, folder: Path) -> Path:
    """A copy of `model` whose card names `candidate` (copied beside it) as its int8 file: how the app will see it."""
    from training.onnx_card import read_metadata, write_metadata

    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / model.name
    shutil.copyfile(model, staged)
    shutil.copyfile(candidate, folder / int8_name(model))
    metadata = read_metadata(staged)
    metadata[model_card.INT8_FILE] = int8_name(model)
    write_metadata(staged, metadata)
    return staged


def measure_loss(task: str, scale: int, staged: Path, patches: list[np.ndarray]) -> dict[str, float]:
    """{backend: dB lost by int8 against onnxruntime fp32} on the held-out patches, through the app's operation."""
    from imagestudio.core.openvino_session import openvino_missing
    from imagestudio.core.runtime import clear_session_cache
    from training.precision import run_losses

    backends = ["onnxruntime"] + ([] if openvino_missing() else ["openvino"])
    clear_session_cache()
    losses = run_losses(task, scale, staged, [(backend, "int8") for backend in backends], patches)
    return {backend: losses[(backend, "int8")] for backend in backends}


def measure_speed(staged: Path, side: int, runs: int = SPEED_RUNS) -> dict[str, float]:
    """Median ms of one session.run on a side × side input, per backend and precision, through the app's sessions
    (core/runtime.get_session: the threads, options and files the app uses). Runs alternate between the variants so
    that a change of load on the machine hits them alike."""
    from imagestudio.core.cpu_features import cpu_features
    from imagestudio.core.openvino_session import openvino_missing
    from imagestudio.core.runtime import clear_session_cache, get_session

    clear_session_cache()
    variants = [("onnxruntime", "fp32"), ("onnxruntime", "int8")]
    if not openvino_missing():
        variants += [("openvino", "fp32"), ("openvino", "int8")] + ([("openvino", "bf16")]
                                                                      if cpu_features().has_bf16 else [])
    sessions = {f"{b} {p}": get_session(staged, "cpu", backend=b, precision=p) for b, p in variants}
    for label, session in sessions.items():
        if session.precision != label.split()[1]:
            raise RuntimeError(f"{label} asked for but {session.describe()} ran ({session.notice})")
    x = np.random.default_rng(0).random((1, 3, side, side), dtype=np.float32)
    times: dict[str, list[float]] = {label: [] for label in sessions}
    for session in sessions.values():
        session.run(x)  # warm-up: first-run allocations and kernel selection
    for _ in range(runs):
        for label, session in sessions.items():
            start = time.perf_counter()
            session.run(x)
            times[label].append(time.perf_counter() - start)
    clear_session_cache()
    return {label: round(float(np.median(t)) * 1e3, 2) for label, t in times.items()}


def ship(model: Path, variant: Variant) -> Path:
    """Writes `<model>.int8.onnx` beside the model, its recipe in its metadata, and the card's `int8_file` and
    `precision_loss_db.int8` (the `.onnx` metadata and the `.md`)."""
    from training.onnx_card import read_metadata, write_metadata
    from training.precision import update_card

    if variant.loss_db is None:
        raise ValueError("an int8 variant is shipped only with its measured loss")
    target = model.with_name(int8_name(model))
    scratch = target.with_name(target.name + ".tmp")
    shutil.copyfile(variant.path, scratch)
    recipe = {"of": model.name, "format": "QDQ", "ops": list(QUANTIZED_OPS), "weights": "int8 symmetric per channel",
              "activations": "uint8 asymmetric", "calibration": f"percentile {PERCENTILE}",
              "calibration_patches": CALIBRATION_PATCHES, "fp32_layers": variant.excluded}
    write_metadata(scratch, {"name": model.stem + "-int8", "quantization": json.dumps(recipe)})
    scratch.replace(target)
    metadata = read_metadata(model)
    metadata[model_card.INT8_FILE] = target.name
    write_metadata(model, metadata)
    update_card(model, {"int8": variant.loss_db}, extra_rows={model_card.INT8_FILE: target.name})
    return target


def quantize_model(model: Path, calibration_photos: list[np.ndarray] | None = None,
                   held_out: list[np.ndarray] | None = None, budget_db: float = BUDGET_DB,
                   write: bool = True, log: Callable[[str], None] = print) -> Variant | None:
    """The whole step for one model; None for a task without int8 (generative models, lowlight)."""
    from imagestudio.core.models import read_model_card
    from training.precision import validation_patches

    card = read_model_card(model)
    if card.task not in TASKS:
        log(f"{card.name}: {card.task} models are not quantized")
        return None
    calibration_size = max(CALIBRATION_SIZE // card.scale * card.scale, card.scale)
    calibration = [x for x, _ in model_inputs(card.task, card.scale, training_patches(
        CALIBRATION_PATCHES, calibration_size, seed=1, photos=calibration_photos), seed=1)]
    probe = model_inputs(card.task, card.scale, training_patches(
        SENSITIVITY_PATCHES, 96, seed=2, photos=calibration_photos), seed=2)
    with tempfile.TemporaryDirectory(prefix="int8-") as scratch:
        work = Path(scratch)
        log(f"{card.name}: calibrating on {len(calibration)} training patches")
        prepared = prepare(model, work / "prepared.onnx")
        variant = build(model, prepared, work, calibration, probe, budget_db, log)
        held = validation_patches() if held_out is None else held_out
        _evaluate(model, card.task, card.scale, variant, held, work, log)
        thin = [layer for layer in thin_layers(prepared) if layer not in variant.excluded]
        if not variant.faster and thin:
            variant.excluded += thin
            log(f"  not faster; the thin convs {', '.join(thin)} kept in fp32 as well")
            quantize(prepared, variant.path, calibration, exclude=variant.excluded)
            _evaluate(model, card.task, card.scale, variant, held, work, log)
        if not variant.faster:
            log(f"{card.name}: onnxruntime int8 is not faster than fp32 on this CPU; no int8 file written")
        elif write:
            variant.path = ship(model, variant)
            log(f"{card.name}: wrote {variant.path.name} and the card's {model_card.INT8_FILE}")
    return variant


def _evaluate(model: Path, task: str, scale: int, variant: Variant, held_out: list[np.ndarray], work: Path,
              log: Callable[[str], None]) -> None:
    """The variant's loss on the held-out patches and its speed, both through the app (a staged copy of the model
    whose card names the candidate)."""
    staged = stage(model, variant.path, work / "staged")
    variant.losses = measure_loss(task, scale, staged, held_out)
    variant.loss_db = round(max(variant.losses.values()), 4)
    variant.speed_ms = measure_speed(staged, SPEED_SIDE[task])
    log(f"{model.stem}: int8 loss {json.dumps(variant.losses)} dB; {variant.path.stat().st_size / 1e6:.2f} MB; "
        f"ms per run {json.dumps(variant.speed_ms)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--budget-db", type=float, default=BUDGET_DB,
                        help=f"estimated int8 loss to keep within by leaving layers in fp32 (default {BUDGET_DB})")
    parser.add_argument("--dry-run", action="store_true", help="measure and print, write nothing")
    args = parser.parse_args(argv)
    from training.data.photos import load_photos
    from training.data.sources import DEFAULT_DATA_DIR
    from training.precision import validation_patches

    cache = DEFAULT_DATA_DIR / "cache" / "photos-train.npz"
    photos = load_photos([], cache) if cache.is_file() else None
    held_out = validation_patches()
    for model in args.models:
        quantize_model(model, photos, held_out, args.budget_db, write=not args.dry_run,
                       log=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
