"""The fidelity each faster precision costs, measured through the app's own runtime and written into the card.

`precision_loss_db` in a card is what core/runtime_choice.py reads to let auto pick bf16 (or int8): the PSNR against
the clean photo of the app's fp32 result minus that of the precision's result, on held-out validation patches of the
training photo pool (never the benchmark sets), degraded the way the task's evaluation degrades them (bicubic ×s
down, σ=25 noise, a camera-like under-exposure). PSNR over the pooled squared error of all patches, not a mean of
per-patch PSNRs: a flat patch (sky) restores to 70 dB in fp32, and bf16's rounding alone would then weigh as a
loss of 14 dB there. A negative value means the precision happened to score higher.

Run on shipped models (edits the card metadata only; the weights are untouched):
    python -m training.precision resources/models/upscale-x4.onnx [...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from imagestudio.core import model_card
from imagestudio.core.hashing import file_sha256
from training.onnx_card import read_metadata, write_metadata

PATCHES = 48
PATCH = 96  # a multiple of every scale and tile multiple we ship (2, 4, 8)
SIGMA = 25.0  # the denoise protocol's noise level
PRECISIONS = ("bf16",)  # int8 is measured by training/quantize.py, which makes the int8 file


def validation_patches(count: int = PATCHES, size: int = PATCH, seed: int = 0) -> list[np.ndarray]:
    """uint8 patches from the held-out validation photos of the training pool (data/cache/photos-val.npz), half of
    them the most detailed of 4 candidates, as training samples them."""
    from training.data.photos import PatchSampler, load_photos
    from training.data.sources import DEFAULT_DATA_DIR, photo_paths
    from training.tasks.common import _VALIDATION_PHOTOS

    cache = DEFAULT_DATA_DIR / "cache" / "photos-val.npz"
    paths = [] if cache.is_file() else photo_paths(DEFAULT_DATA_DIR)[-_VALIDATION_PHOTOS:]
    return PatchSampler(load_photos(paths, cache), size, seed=seed, texture_bias=0.5).batch(count)


def _squared_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum((np.clip(a, 0, 1).astype(np.float64) - b) ** 2))


def _degrade(task: str, scale: int, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from training.data.degrade import darken
    from training.evaluate import bicubic_lr, noisy_version

    if task == "upscale":
        return bicubic_lr(clean.astype(np.float32) / 255, scale)[1]
    if task == "denoise":
        return noisy_version(clean.astype(np.float32) / 255, SIGMA, int(rng.integers(1 << 30)))
    return darken(clean, rng).astype(np.float32) / 255  # lowlight


def _restore(task: str, path: Path, rgb: np.ndarray, backend: str, precision: str) -> np.ndarray:
    """The app's operation on `rgb`, with the runtime request set to (backend, precision)."""
    from imagestudio.core.image import image_from_array
    from imagestudio.core.ops import DenoiseParams, LowlightParams, UpscaleParams
    from imagestudio.core.pipeline import OPERATIONS
    from imagestudio.core.runtime_choice import requested, set_requested

    if task == "upscale":
        from imagestudio.core.models import read_model_card

        params = UpscaleParams(scale=read_model_card(path).scale, model=str(path), device="cpu")
    else:
        params = (DenoiseParams if task == "denoise" else LowlightParams)(strength=1.0, model=str(path),
                                                                          device="cpu")
    before = requested()
    set_requested(backend, precision)
    try:
        return OPERATIONS[task].function(image_from_array(rgb), params).rgb
    finally:
        set_requested(before.backend, before.precision)


def run_losses(task: str, scale: int, path: Path, runs: list[tuple[str, str]],
               patches: list[np.ndarray] | None = None) -> dict[tuple[str, str], float]:
    """{(backend, precision): dB lost against onnxruntime fp32} for an image model, through the app's operation."""
    patches = validation_patches() if patches is None else patches
    rng = np.random.default_rng(0)
    degraded = [(_degrade(task, scale, clean, rng), clean.astype(np.float32) / 255) for clean in patches]
    errors: dict[tuple[str, str], float] = {}
    for run in (("onnxruntime", "fp32"), *runs):
        errors[run] = sum(_squared_error(_restore(task, path, lr, *run), clean) for lr, clean in degraded)
    reference = max(errors[("onnxruntime", "fp32")], 1e-12)
    # PSNR(fp32) - PSNR(p) = 10 log10(MSE_p / MSE_fp32) over the same pixels
    return {run: round(10 * float(np.log10(errors[run] / reference)), 4) for run in runs}


def precision_losses(task: str, scale: int, path: Path, precisions: tuple[str, ...] = PRECISIONS,
                     patches: list[np.ndarray] | None = None) -> dict[str, float]:
    """{precision: dB lost against fp32 onnxruntime} for an image model (through OpenVINO); {} for other tasks."""
    if task not in ("upscale", "denoise", "lowlight"):
        return {}
    losses = run_losses(task, scale, path, [("openvino", p) for p in precisions], patches)
    return {p: losses[("openvino", p)] for p in precisions}


def update_card(path: Path, losses: dict[str, float], extra_rows: dict[str, str] | None = None) -> None:
    """Merges `losses` into the card's `precision_loss_db` (a precision not measured now keeps its value) in the
    ONNX metadata and its markdown copy (its rows, `extra_rows` already in the metadata, and the file's sha256)."""
    metadata = read_metadata(path)
    try:
        merged = json.loads(metadata.get(model_card.PRECISION_LOSS_DB, "") or "{}")
    except json.JSONDecodeError:
        merged = {}
    merged = {**(merged if isinstance(merged, dict) else {}), **losses}
    metadata[model_card.PRECISION_LOSS_DB] = json.dumps(merged, sort_keys=True)
    write_metadata(path, metadata)
    card = path.with_suffix(".md")
    if card.is_file():
        text = card.read_text(encoding="utf-8")
        for key, value in {model_card.PRECISION_LOSS_DB: metadata[model_card.PRECISION_LOSS_DB],
                           **(extra_rows or {})}.items():
            text = _set_row(text, key, value)
        text = re.sub(r"sha256 `[0-9a-f]{64}`", f"sha256 `{file_sha256(path)}`", text)
        card.write_text(text, encoding="utf-8")


def _set_row(text: str, key: str, value: str) -> str:
    """The markdown card with its `| key | value |` row replaced, else added after the precision_loss_db row or the
    metrics row (else at the end of the table)."""
    row = f"| {key} | {value} |"
    pattern = re.compile(rf"^\| {re.escape(key)} \|.*\|$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda _: row, text)
    anchor = re.search(rf"^\| {model_card.PRECISION_LOSS_DB} \|.*\|$", text, re.MULTILINE) \
        or re.search(rf"^\| {model_card.METRICS} \|.*\|$", text, re.MULTILINE)
    at = anchor.end() if anchor else text.index("\n\nFile:")
    return text[:at] + "\n" + row + text[at:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="measure and print, write nothing")
    args = parser.parse_args(argv)
    from imagestudio.core.models import read_model_card

    patches = validation_patches()
    for path in args.models:
        card = read_model_card(path)
        losses = precision_losses(card.task, card.scale, path, patches=patches)
        print(f"{card.name}: {json.dumps(losses)}", flush=True)
        if losses and not args.dry_run:
            update_card(path, losses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
