"""Runs an image model tile by tile, so memory is bounded by the tile and not by the image.

Windows along each axis overlap by `2 * context + blend` input pixels. A window's output is trusted only where the
model saw at least `context` (the model's receptive radius) real pixels on every side, or where it touches the image
border; there its weight rises smoothly from 0 to 1 over `blend` pixels. Per-axis 1-D weights are normalised to a
partition of unity, so the 2-D weights (their outer product) sum to exactly 1 over all windows: no full-size weight
buffer is needed, and each tile is added straight into the float32 output. Where the receptive radius is right,
tiled output equals untiled output up to float rounding.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imagestudio.core.errors import DeviceError, DeviceOutOfMemoryError, ModelError, NotEnoughMemoryError
from imagestudio.core.model_probe import check_image_model_signature
from imagestudio.core.models import ModelCard
from imagestudio.core.models_ran import record_session_run
from imagestudio.core.progress import NO_TASK, Task
from imagestudio.core.runtime import ModelSession, get_session

DEFAULT_BLEND = 8
AUTO_TILE = {"cuda": 1024, "cpu": 512}
# On the CPU a tile's working set grows with its *output* pixels, so a model that does not enlarge can take bigger
# input tiles for the same memory: less of every tile is overlap re-computed for context (the denoiser's 80-pixel
# receptive radius makes each 512-pixel window ~45 % overlap; at 1024 one megapixel is one tile). Measured on the
# denoiser at 1 MP: 1024-pixel tiles 1.7× faster than 512, peak 475 against 230 MiB.
CPU_OUTPUT_SIDE = 2048
CPU_MAX_TILE = 1024
MIN_TILE = 32

log = logging.getLogger(__name__)

RunTile = Callable[[np.ndarray], np.ndarray]  # (1, 3, h, w) float32 -> (1, 3, h*scale, w*scale)


@dataclass(frozen=True)
class Window:
    start: int  # input pixels, half-open
    stop: int


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def plan_windows(length: int, tile: int, overlap: int, multiple: int = 1) -> list[Window]:
    """Fewest equal windows of at most `tile` pixels covering [0, length), neighbours sharing at least `overlap`.

    The windows are as small as that count allows (a 600-pixel side with 512-pixel tiles gets two ~314-pixel
    windows, not two of 512), a multiple of `multiple`, and spread evenly. When `length` and `tile` are multiples of
    `multiple`, every window also *starts* on a multiple of it: a network that pools by `multiple` (a U-Net) then
    sees each tile on the same grid as the whole image, so tiled and untiled results agree.
    """
    if length <= tile:
        return [Window(0, length)]
    if tile <= overlap:
        raise ValueError(f"tile {tile} must be larger than the overlap {overlap}")
    grid = multiple
    if length % multiple or tile % multiple or tile <= _round_up(overlap, multiple):
        grid = 1  # cannot align: plain placement
    # With a grid, the overlap is counted in whole grid cells so that snapping starts to the grid never shrinks it.
    overlap = _round_up(overlap, grid)
    count = max(2, math.ceil((length - overlap) / (tile - overlap)))
    size = min(tile, _round_up(math.ceil((length + (count - 1) * overlap) / count), multiple))
    # Steps are roundings of (length - size) / (count - 1) in grid cells, at most size - overlap (both whole cells).
    cells = (length - size) // grid
    return [Window(s, s + size) for s in (grid * round(i * cells / (count - 1)) for i in range(count))]


def _ramp(distance: np.ndarray, blend: int) -> np.ndarray:
    """0 at or below distance 0, rising as a raised cosine to 1 at distance `blend` (input pixels)."""
    t = np.clip(distance / max(blend, 1e-9), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * t)


def axis_weights(windows: list[Window], length: int, scale: int, context: int, blend: int) -> list[np.ndarray]:
    """Per window, the output-pixel weights along one axis; across windows they sum to 1 at every pixel."""
    raw = []
    total = np.zeros(length * scale, dtype=np.float64)
    for window in windows:
        # Output pixel q of this window lies at input position start + (q + 0.5) / scale.
        centres = window.start + (np.arange((window.stop - window.start) * scale) + 0.5) / scale
        weight = np.ones_like(centres)
        if window.start > 0:  # an inner edge: the model saw too little context near it
            weight *= _ramp(centres - (window.start + context), blend)
        if window.stop < length:
            weight *= _ramp((window.stop - context) - centres, blend)
        raw.append(weight)
        total[window.start * scale : window.stop * scale] += weight
    if not np.all(total > 0):
        raise ValueError("windows leave pixels without a trusted tile; the overlap is too small for the context")
    return [
        (weight / total[window.start * scale : window.stop * scale]).astype(np.float32)
        for window, weight in zip(windows, raw, strict=True)
    ]


def auto_tile(device: str, scale: int = 1) -> int:
    """The default input tile side: the GPU's, or on the CPU the largest whose output stays CPU_OUTPUT_SIDE wide."""
    if device == "cuda":
        return AUTO_TILE["cuda"]
    return max(AUTO_TILE["cpu"], min(CPU_MAX_TILE, CPU_OUTPUT_SIDE // max(1, scale)))


def choose_tile(tile: int | None, device: str, context: int, blend: int, multiple: int, scale: int = 1) -> int:
    """The tile side to use: the caller's or the device's default for a ×`scale` model, at least twice the overlap,
    a multiple of `multiple`."""
    side = tile if tile else auto_tile(device, scale)
    side = max(side, 2 * (2 * context + blend), MIN_TILE)
    return _round_up(side, multiple)


def _pad_to_multiple(x: np.ndarray, multiple: int) -> np.ndarray:
    """Pads the bottom/right of an NCHW batch by reflection so H and W are multiples of `multiple`."""
    pad_h = -x.shape[2] % multiple
    pad_w = -x.shape[3] % multiple
    if not (pad_h or pad_w):
        return x
    # "symmetric" copes with pads larger than the image (a 1-pixel-wide strip), where "reflect" cannot.
    return np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")


def tiled_apply(
    run_tile: RunTile,
    rgb: np.ndarray,
    *,
    scale: int,
    tile: int,
    context: int,
    blend: int = DEFAULT_BLEND,
    multiple: int = 1,
    task: Task = NO_TASK,
) -> np.ndarray:
    """Applies `run_tile` to (H, W, 3) float32 `rgb` in overlapping tiles; returns (H*scale, W*scale, 3) float32."""
    height, width = rgb.shape[:2]
    overlap = 2 * context + blend
    # Windows are planned on the image as the untiled model sees it, padded to `multiple`; a window reaching into
    # that padding reads the image up to its edge and is padded the same way (symmetric) by _pad_to_multiple.
    padded_h, padded_w = _round_up(height, multiple), _round_up(width, multiple)
    rows = plan_windows(padded_h, tile, overlap, multiple)
    cols = plan_windows(padded_w, tile, overlap, multiple)
    row_weights = axis_weights(rows, padded_h, scale, context, blend)
    col_weights = axis_weights(cols, padded_w, scale, context, blend)
    try:
        output = np.zeros((height * scale, width * scale, 3), dtype=np.float32)
    except MemoryError:  # the result alone does not fit (RAM, or an address-space limit such as ulimit -v)
        gigabytes = height * scale * width * scale * 3 * 4 / 2**30
        raise NotEnoughMemoryError(
            f"not enough memory for this image: the {width * scale}×{height * scale} result needs {gigabytes:.1f} GB"
        ) from None
    total = len(rows) * len(cols)
    done = 0
    for row, row_weight in zip(rows, row_weights, strict=True):
        for col, col_weight in zip(cols, col_weights, strict=True):
            task.check()
            task.report(done / total, f"tile {done + 1} of {total}")
            row_stop, col_stop = min(row.stop, height), min(col.stop, width)
            patch = rgb[row.start : row_stop, col.start : col_stop].transpose(2, 0, 1)[None]
            patch = _pad_to_multiple(np.ascontiguousarray(patch, dtype=np.float32), multiple)
            result = run_tile(patch)
            out_h, out_w = (row_stop - row.start) * scale, (col_stop - col.start) * scale
            tile_hwc = result[0, :, :out_h, :out_w].transpose(1, 2, 0)
            weight = row_weight[:out_h, None, None] * col_weight[None, :out_w, None]
            output[row.start * scale : row_stop * scale, col.start * scale : col_stop * scale] += tile_hwc * weight
            done += 1
    task.report(1.0, f"{total} tile{'s' if total != 1 else ''} done")
    return output


def _card_adapter(card: ModelCard, session: ModelSession) -> RunTile:
    """Converts our [0,1] RGB tiles to the model's input range and channel order, and its output back."""
    in_low, in_high = card.input_range
    out_low, out_high = card.output_range
    bgr = card.channel_order == "BGR"

    def run(patch: np.ndarray) -> np.ndarray:
        x = patch * np.float32(in_high - in_low) + np.float32(in_low) if card.input_range != (0.0, 1.0) else patch
        if bgr:
            x = np.ascontiguousarray(x[:, ::-1])
        y = np.asarray(session.run(x), dtype=np.float32)
        height, width = patch.shape[2:]
        if y.shape != (1, 3, height * card.scale, width * card.scale):
            raise ModelError(
                f"model {card.name} turned a {height}×{width} tile into {'×'.join(map(str, y.shape[2:]))}, "
                f"but its card says ×{card.scale}"
            )
        if not np.isfinite(y).all():
            # NaN would be saved as black and inf as white without a word; a broken model must say so instead.
            raise ModelError(
                f"model {card.name} produced invalid values (NaN or infinity) for a {height}×{width} tile; "
                "its output was discarded — the model file is broken or was exported wrongly"
            )
        if bgr:
            y = y[:, ::-1]
        if card.output_range != (0.0, 1.0):
            y = (y - np.float32(out_low)) / np.float32(out_high - out_low)
        return y

    return run


def run_model_tiled(
    card: ModelCard,
    rgb: np.ndarray,
    *,
    device: str = "auto",
    tile: int | None = None,
    blend: int = DEFAULT_BLEND,
    task: Task = NO_TASK,
) -> np.ndarray:
    """Runs `card`'s model over (H, W, 3) float32 [0,1] `rgb`, tiled; returns the unclipped float32 result.

    Out of memory: halve the tile and start again; at the smallest tile on the GPU, move to the CPU.
    """
    session = get_session(card.path, device)  # a CUDA fallback is logged once by the runtime
    # A carded model is never probed: a wrong input rank or channel count would otherwise surface as an
    # onnxruntime error per tile instead of one clear refusal.
    check_image_model_signature(session)
    side = choose_tile(tile, session.device, card.receptive_radius, blend, card.tile_multiple, card.scale)
    smallest = choose_tile(MIN_TILE, session.device, card.receptive_radius, blend, card.tile_multiple)
    while True:
        try:
            result = tiled_apply(
                _card_adapter(card, session),
                rgb,
                scale=card.scale,
                tile=side,
                context=card.receptive_radius,
                blend=blend,
                multiple=card.tile_multiple,
                task=task,
            )
            record_session_run(card, session)
            return result
        except DeviceOutOfMemoryError:
            if side > smallest:
                side = choose_tile(
                    max(smallest, side // 2), session.device, card.receptive_radius, blend, card.tile_multiple
                )
                message = f"out of memory on the {session.device.upper()}; retrying with {side}-pixel tiles"
            elif session.device == "cuda":
                session = get_session(card.path, "cpu")
                side = choose_tile(tile, "cpu", card.receptive_radius, blend, card.tile_multiple, card.scale)
                message = "the GPU ran out of memory; continuing on the CPU"
            else:
                raise DeviceError(f"not enough memory to run {card.name}, even with {side}-pixel tiles") from None
            log.warning(message)
            task.report(0.0, message)
