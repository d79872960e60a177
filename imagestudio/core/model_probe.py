"""Learns what an image model does by running it on small test inputs.

A model without a model card is still usable: its input must be float32 NCHW with 3 channels; the output size gives
the scale, the smallest input size it accepts gives the tile multiple, and how far a one-pixel change spreads gives
the receptive radius that tiling needs as context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imagestudio.core.errors import ModelError, UnsupportedModelError
from imagestudio.core.runtime import ModelSession, get_session

_MULTIPLES = (1, 2, 4, 8, 16, 32)
_MIN_SIDE = 33  # small enough to be fast, large enough for a few downsampling stages
_RADIUS_SIDE = 96  # probe for the receptive radius: spreads beyond ~45 px are reported as the cap
_CHANGE_THRESHOLD = 1e-6


@dataclass(frozen=True)
class ProbeResult:
    scale: int
    tile_multiple: int
    receptive_radius: int


def check_image_model_signature(session: ModelSession) -> None:
    """Refuses models whose input is not a float32 NCHW RGB image tensor."""
    name = session.path.name
    shape = session.input_shape
    if session.input_count != 1:
        raise UnsupportedModelError(f"model {name} takes {session.input_count} inputs; image models take one")
    if len(shape) != 4:
        raise UnsupportedModelError(f"model {name} takes a rank-{len(shape)} input; image models take N×3×H×W (rank 4)")
    if isinstance(shape[1], int) and shape[1] != 3:
        raise UnsupportedModelError(f"model {name} takes {shape[1]}-channel input; image models take 3 channels (RGB)")
    if isinstance(shape[2], int) or isinstance(shape[3], int):
        raise UnsupportedModelError(
            f"model {name} only accepts {shape[2]}×{shape[3]} inputs; image models must accept any size"
        )
    if session.input_type != "tensor(float)":
        raise UnsupportedModelError(f"model {name} takes {session.input_type}; image models take float32")
    if len(session.output_shape) not in (0, 4):
        raise UnsupportedModelError(
            f"model {name} gives a rank-{len(session.output_shape)} output; image models give N×3×H×W"
        )


def probe_model(path: Path) -> ProbeResult:
    """Runs the model on the CPU with test inputs; raises UnsupportedModelError when it is no image model."""
    # Probing learns what the model does, so it runs the reference path (fp32), never a faster approximation.
    session = get_session(Path(path), "cpu", backend="onnxruntime", precision="fp32")
    check_image_model_signature(session)
    rng = np.random.default_rng(0)

    for multiple in _MULTIPLES:
        height = multiple * math.ceil(_MIN_SIDE / multiple)
        width = height + multiple  # not square, so swapped axes show up
        x = rng.random((1, 3, height, width), dtype=np.float32)
        try:
            y = session.run(x)
        except ModelError:
            continue
        scale = _scale_of(session, x.shape, y.shape)
        if not np.isfinite(y).all():  # refused when added, not discovered later as black pixels in a photo
            raise UnsupportedModelError(
                f"model {session.path.name} produced invalid values (NaN or infinity) on a test image"
            )
        radius = _receptive_radius(session, multiple, scale, rng)
        return ProbeResult(scale=scale, tile_multiple=multiple, receptive_radius=radius)
    raise UnsupportedModelError(
        f"model {session.path.name} did not run on any small test image (tried sides that are multiples of "
        f"up to {_MULTIPLES[-1]})"
    )


def _scale_of(session: ModelSession, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    name = session.path.name
    if len(out_shape) != 4 or out_shape[1] != 3:
        raise UnsupportedModelError(f"model {name} gives a {out_shape} output; image models give N×3×H×W")
    height_ratio = out_shape[2] / in_shape[2]
    width_ratio = out_shape[3] / in_shape[3]
    if height_ratio != width_ratio or height_ratio < 1 or not height_ratio.is_integer():
        raise UnsupportedModelError(
            f"model {name} turns {in_shape[2]}×{in_shape[3]} into {out_shape[2]}×{out_shape[3]}, "
            "which is no whole-number scale"
        )
    return int(height_ratio)


def _receptive_radius(session: ModelSession, multiple: int, scale: int, rng: np.random.Generator) -> int:
    """How many input pixels on each side influence an output pixel: the spread of a one-pixel change."""
    side = multiple * math.ceil(_RADIUS_SIDE / multiple)
    base = rng.random((1, 3, side, side), dtype=np.float32) * 0.5 + 0.25
    centre = side // 2
    bumped = base.copy()
    bumped[:, :, centre, centre] += 0.2
    change = np.abs(session.run(bumped) - session.run(base)).max(axis=(0, 1))
    rows, cols = np.nonzero(change > _CHANGE_THRESHOLD)
    if rows.size == 0:
        return 0
    # Output pixel o sees input o // scale; distance from the bumped input pixel, in input pixels.
    distance = max(
        np.abs(rows // scale - centre).max(initial=0),
        np.abs(cols // scale - centre).max(initial=0),
    )
    return int(min(distance, centre))
