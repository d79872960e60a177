"""The values a model card may hold, checked before anything uses them.

A card is text in a file anyone can make. Past these bounds a value is a mistake or an attack: a ×100000
"upscaler" asks for terabytes, a tile multiple of a million pads every image to a million pixels, `output_range`
`nan,1` passes a `low >= high` test (NaN compares false) and paints the picture black. Each check raises
UnsupportedModelError with a one-line message naming the file, the key and what is allowed.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from imagestudio.core import bounded_json, model_card
from imagestudio.core.errors import UnsupportedModelError

log = logging.getLogger(__name__)

SCALE_RANGE = {"upscale": (2, 16)}  # every other task: exactly 1
TILE_MULTIPLE_RANGE = (1, 256)
RECEPTIVE_RADIUS_RANGE = (0, 256)
LATENT_SIZE_RANGE = (1, 16384)
RESOLUTION_RANGE = (4, 2048)
RANGE_LIMIT = 1e6  # |low|, |high| of a range of pixel values
CHANNEL_ORDERS = ("RGB", "BGR")
MAX_NAME_CHARS = 100
MAX_TITLE_CHARS = 200
MAX_METRICS_DEPTH = 8
# The side of each model that holds pixels must be finite; a latent side may be unbounded ("-inf,inf").
_LATENT_SIDE = {"generate": model_card.INPUT_RANGE, "decode": model_card.INPUT_RANGE,
                "encode": model_card.OUTPUT_RANGE}


def shown(text: str, limit: int = 40) -> str:
    """A card's text (or a file name) in a one-line message: quoted, control characters escaped, long values cut."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check_within(path: Path, key: str, value: int, low: int, high: int, probed: bool = False) -> None:
    if not low <= value <= high:
        said = "probing found" if probed else "its card says"
        allowed = f"exactly {low}" if low == high else f"from {low} to {high}"
        raise UnsupportedModelError(f"model {path.name}: {said} {key}={value}; it must be {allowed}")


def check_numbers(path: Path, task: str, *, scale: int, tile_multiple: int, receptive_radius: int,
                  latent_size: int | None, resolution: int | None, probed: bool) -> None:
    """Scale (upscale 2–16, any other task 1), tile multiple, receptive radius, latent size and resolution."""
    check_within(path, model_card.SCALE, scale, *SCALE_RANGE.get(task, (1, 1)), probed=probed)
    check_within(path, model_card.TILE_MULTIPLE, tile_multiple, *TILE_MULTIPLE_RANGE, probed=probed)
    check_within(path, model_card.RECEPTIVE_RADIUS, receptive_radius, *RECEPTIVE_RADIUS_RANGE, probed=probed)
    if latent_size is not None:
        check_within(path, model_card.LATENT_SIZE, latent_size, *LATENT_SIZE_RANGE)
    if resolution is not None:
        check_within(path, model_card.RESOLUTION, resolution, *RESOLUTION_RANGE)


def card_text(meta: dict[str, str], key: str, path: Path, limit: int) -> str:
    """A one-line card field shown to people (name, title): printable, at most `limit` characters."""
    text = meta.get(key, "").strip()
    if len(text) > limit:
        raise UnsupportedModelError(f"model {path.name} has a {key} of {len(text)} characters in its card; "
                                    f"at most {limit}")
    if not text.isprintable():
        raise UnsupportedModelError(f"model {path.name} has control characters in the {key} of its card")
    return text


def card_name(meta: dict[str, str], path: Path) -> str:
    """The card's name (else the file's stem): printable, short, and never a path."""
    name = card_text(meta, model_card.NAME, path, MAX_NAME_CHARS) or path.stem
    if any(char in name for char in "/\\") or name in (".", ".."):
        raise UnsupportedModelError(f"model {path.name} has the name {shown(name)} in its card; a name may not "
                                    "contain / or \\")
    return name


def card_channel_order(meta: dict[str, str], path: Path) -> str:
    order = meta.get(model_card.CHANNEL_ORDER, "RGB").strip().upper() or "RGB"
    if order not in CHANNEL_ORDERS:
        raise UnsupportedModelError(f"model {path.name} has channel_order={shown(order)} in its card; "
                                    f"expected {' or '.join(CHANNEL_ORDERS)}")
    return order


def card_int(meta: dict[str, str], key: str, default: int, path: Path) -> int:
    value = optional_card_int(meta, key, path)
    return default if value is None else value


def optional_card_int(meta: dict[str, str], key: str, path: Path) -> int | None:
    text = meta.get(key, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise UnsupportedModelError(
            f"model {path.name} has {key}={shown(text)} in its card; expected a whole number"
        ) from None


def card_range(meta: dict[str, str], key: str, path: Path, task: str) -> tuple[float, float]:
    """'low,high' with low < high, never NaN. The pixel side of a model must be finite, within ±RANGE_LIMIT and wide
    enough to hold an image; a latent side (a generator's input, an encoder's output) may be '-inf,inf'."""
    text = meta.get(key, "").strip()
    if not text:
        return (0.0, 1.0)
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise UnsupportedModelError(
            f"model {path.name} has {key}={shown(text)} in its card; expected 'low,high'") from None
    if math.isnan(low) or math.isnan(high):
        raise UnsupportedModelError(f"model {path.name} has {key}={shown(text)} in its card; NaN is no bound")
    if not low < high:
        raise UnsupportedModelError(f"model {path.name} has an empty {key} {shown(text)} (low must be below high)")
    if _LATENT_SIDE.get(task) != key:
        if not (math.isfinite(low) and math.isfinite(high)) or max(abs(low), abs(high)) > RANGE_LIMIT:
            raise UnsupportedModelError(f"model {path.name} has {key}={shown(text)} in its card; pixel values "
                                        f"need finite bounds within ±{RANGE_LIMIT:g}")
        if high - low < 1e-6 * max(1.0, abs(low), abs(high)):
            raise UnsupportedModelError(f"model {path.name} has {key}={shown(text)} in its card; the range is "
                                        "too narrow to hold an image")
    return (low, high)


def card_metrics(meta: dict[str, str], path: Path) -> dict:
    """The metrics JSON object; a typo is ignored with a warning, nesting past any honest card refuses the model."""
    text = meta.get(model_card.METRICS, "").strip()
    if not text:
        return {}
    try:
        value = bounded_json.loads(text, max_depth=MAX_METRICS_DEPTH)
    except bounded_json.JSONTooLargeError as exc:
        raise UnsupportedModelError(f"model {path.name} has metrics in its card that {exc}") from None
    except bounded_json.JSONLimitError:
        log.warning("model %s: metrics in its card are not JSON; ignored", path.name)
        return {}
    return value if isinstance(value, dict) else {}


_LOSS_PRECISIONS = ("bf16", "int8")
_MAX_LOSS_DB = 1000.0


def card_precision_loss(meta: dict[str, str], path: Path) -> dict[str, float]:
    """`precision_loss_db`: {"bf16": 0.004, "int8": 0.31}, the fidelity lost against fp32 as export measured it.
    Only finite numbers within ±1000 dB count; anything else is dropped with a warning, and a precision without a
    loss is never picked by auto (so a card that lies badly can only make a model slower, never wrong)."""
    text = meta.get(model_card.PRECISION_LOSS_DB, "").strip()
    if not text:
        return {}
    try:
        value = bounded_json.loads(text, max_depth=2)
    except bounded_json.JSONLimitError:  # also too large or too deep: a bad card field, not a bad model
        log.warning("model %s: %s in its card is not a small JSON object; ignored", path.name,
                    model_card.PRECISION_LOSS_DB)
        return {}
    if not isinstance(value, dict):
        log.warning("model %s: %s in its card is not a JSON object; ignored", path.name, model_card.PRECISION_LOSS_DB)
        return {}
    losses: dict[str, float] = {}
    for precision in _LOSS_PRECISIONS:
        loss = value.get(precision)
        if loss is None:
            continue
        if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not math.isfinite(loss) \
                or abs(loss) > _MAX_LOSS_DB:
            log.warning("model %s: %s for %s in its card is %s, not a number of dB; ignored", path.name,
                        model_card.PRECISION_LOSS_DB, precision, shown(str(loss)))
            continue
        losses[precision] = float(loss)
    return losses


def card_int8_file(meta: dict[str, str], path: Path) -> Path | None:
    """`int8_file`: the name of the int8 variant beside the model (`upscale-x4.int8.onnx`). A bare file name only,
    never a path (a card must not point the runtime at files elsewhere); None when absent, unusable or missing."""
    name = meta.get(model_card.INT8_FILE, "").strip()
    if not name:
        return None
    if (len(name) > MAX_NAME_CHARS or not name.isprintable() or any(c in name for c in "/\\")
            or name.startswith(".") or not name.endswith(".onnx")):
        log.warning("model %s: %s %s in its card is not a plain .onnx file name; ignored", path.name,
                    model_card.INT8_FILE, shown(name))
        return None
    candidate = path.parent / name
    if candidate == path or not candidate.is_file():
        return None
    return candidate
