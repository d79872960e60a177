"""Model cards: what each installed ONNX model does, read from its metadata_props or learned by probing it.

Models live in two folders: the bundled one (`resources/models/` beside the package, or its copy inside a
PyInstaller bundle) and the user's (`models` in the user data folder, core/app_dirs.py). A user model shadows a
bundled one of the same name.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG

from imagestudio.core import model_card
from imagestudio.core.app_dirs import user_data_dir
from imagestudio.core.card_values import (
    MAX_TITLE_CHARS,
    card_channel_order,
    card_int,
    card_metrics,
    card_name,
    card_range,
    card_text,
    check_numbers,
    optional_card_int,
    shown,
)
from imagestudio.core.errors import ModelError, ModelNotFoundError, UnsupportedModelError
from imagestudio.core.hashing import file_sha256
from imagestudio.core.model_probe import probe_model
from imagestudio.core.onnx_metadata import read_metadata_props
from imagestudio.core.runtime import get_session

log = logging.getLogger(__name__)

IMAGE_TASKS = ("upscale", "denoise", "lowlight")
TASKS = (*IMAGE_TASKS, "generate", "encode", "decode")
# The names our training exports use; `default_model` prefers them over any other model for the task.
DEFAULT_NAMES = {
    ("upscale", 4): "upscale-x4",
    ("upscale", 2): "upscale-x2",
    ("denoise", 1): "denoise",
    ("lowlight", 1): "lowlight",
}
TASK_WORDS = {
    "upscale": "upscale",
    "denoise": "denoise",
    "lowlight": "low-light",
    "generate": "generate",
    "encode": "encode",
    "decode": "decode",
}

# Environment overrides: a portable install, and tests that must not touch the real folders.
USER_DIR_ENV = "IMAGESTUDIO_USER_MODELS_DIR"
BUNDLED_DIR_ENV = "IMAGESTUDIO_BUNDLED_MODELS_DIR"
_DEFAULT_RECEPTIVE_RADIUS = 16  # assumed for carded models that do not say; generous for small SR/denoise nets

# An int8 variant lies beside its model (named in the card's int8_file): a precision of that model, not a model.
INT8_SUFFIX = ".int8.onnx"
MAX_MODEL_BYTES = 2 << 30  # protobuf's limit: a larger .onnx cannot be a self-contained model
# The values a card may hold are checked in core/card_values.py.


@dataclass(frozen=True)
class ModelCard:
    name: str
    path: Path
    task: str
    scale: int
    title: str
    description: str
    tile_multiple: int
    receptive_radius: int
    latent_size: int | None
    resolution: int | None
    input_range: tuple[float, float]
    output_range: tuple[float, float]
    channel_order: str
    training_data: str
    licence: str
    metrics: dict = field(hash=False)
    sha256: str
    probed: bool  # True when scale/tiling were learned by running the model rather than read from its card
    source: str = "file"  # "bundled" | "user" | "file"
    # "image": the model outputs pixels; "curve" / "gain-curve": a low-light model that outputs tone-curve (and
    # exposure-gain) parameters for a small copy of the photo, applied at full resolution by core/ops/lowlight_curve.py
    output_kind: str = "image"

    @property
    def is_image_model(self) -> bool:
        return self.task in IMAGE_TASKS

    def summary(self) -> str:
        scale = f" ×{self.scale}" if self.task == "upscale" else ""
        return f"{self.name} ({TASK_WORDS.get(self.task, self.task)}{scale})"


def bundled_models_dir() -> Path:
    """<repo>/resources/models for a source or editable install, or the copy inside a PyInstaller bundle."""
    override = os.environ.get(BUNDLED_DIR_ENV)
    if override:
        return Path(override)
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root:
        return Path(bundle_root) / "resources" / "models"
    package_dir = Path(__file__).resolve().parents[1]
    inside_package = package_dir / "resources" / "models"
    if inside_package.is_dir():  # a wheel that ships the models inside the package
        return inside_package
    return package_dir.parent / "resources" / "models"  # a source checkout or an editable install


def user_models_dir() -> Path:
    override = os.environ.get(USER_DIR_ENV)
    if override:
        return Path(override)
    return user_data_dir() / "models"


_cards: dict[tuple[str, int, int, str], ModelCard | ModelError] = {}
_cards_lock = threading.Lock()
_reported_broken: set[tuple[str, int]] = set()  # each broken file is reported once per process


def read_model_card(path: Path, source: str = "file") -> ModelCard:
    """The card of one .onnx file: from its metadata when it has a task and scale, else by probing it.

    Cached per (path, mtime, size), failures too: a broken file in the model folder is probed once, not on every
    listing.
    """
    label = shown(Path(path).name, 80)
    try:
        path = Path(os.path.realpath(path, strict=True))
        stat = path.stat()
    except FileNotFoundError:
        raise ModelNotFoundError(f"model file '{path}' not found") from None
    except (OSError, RuntimeError) as exc:  # a link loop, a name too long, a folder we may not enter
        reason = getattr(exc, "strerror", None) or "it cannot be read"
        raise ModelError(f"model file {label} cannot be used: {reason}") from None
    if not S_ISREG(stat.st_mode):
        raise ModelError(f"model file {label} is not a regular file")
    if stat.st_size > MAX_MODEL_BYTES:
        raise UnsupportedModelError(f"model file {label} is {stat.st_size >> 20} MB; a self-contained ONNX model "
                                    f"is at most {MAX_MODEL_BYTES >> 30} GB")
    key = (str(path), stat.st_mtime_ns, stat.st_size, source)
    with _cards_lock:
        cached = _cards.get(key)
    if cached is None:
        try:
            cached = _build_card(path, read_metadata_props(path), source)
        except ModelError as exc:
            cached = exc
        with _cards_lock:
            _cards[key] = cached
    if isinstance(cached, ModelError):
        raise cached.with_traceback(None)
    return cached


def _build_card(path: Path, meta: dict[str, str], source: str) -> ModelCard:
    task = meta.get(model_card.TASK, "").strip().lower()
    if task and task not in TASKS:
        raise UnsupportedModelError(f"model {path.name} declares task {shown(task)}, which ImageStudio does not know")
    needs_probe = not task or (task in IMAGE_TASKS and model_card.SCALE not in meta)
    if needs_probe:
        probe = probe_model(path)
        task = task or _task_from_probe(path, probe.scale)
        scale, tile_multiple, radius = probe.scale, probe.tile_multiple, probe.receptive_radius
    else:
        scale = card_int(meta, model_card.SCALE, 1, path)
        tile_multiple = card_int(meta, model_card.TILE_MULTIPLE, 1, path)
        radius = card_int(meta, model_card.RECEPTIVE_RADIUS, _DEFAULT_RECEPTIVE_RADIUS, path)
    latent_size = optional_card_int(meta, model_card.LATENT_SIZE, path)
    resolution = optional_card_int(meta, model_card.RESOLUTION, path)
    check_numbers(path, task, scale=scale, tile_multiple=tile_multiple, receptive_radius=radius,
                  latent_size=latent_size, resolution=resolution, probed=needs_probe)
    name = card_name(meta, path)
    return ModelCard(
        name=name,
        path=path,
        task=task,
        scale=scale,
        title=card_text(meta, model_card.TITLE, path, MAX_TITLE_CHARS) or name,
        description=meta.get(model_card.DESCRIPTION, ""),
        tile_multiple=tile_multiple,
        receptive_radius=radius,
        latent_size=latent_size,
        resolution=resolution,
        input_range=card_range(meta, model_card.INPUT_RANGE, path, task),
        output_range=card_range(meta, model_card.OUTPUT_RANGE, path, task),
        channel_order=card_channel_order(meta, path),
        training_data=meta.get(model_card.TRAINING_DATA, ""),
        licence=meta.get(model_card.LICENCE, ""),
        metrics=card_metrics(meta, path),
        sha256=_sha256(path),
        probed=needs_probe,
        source=source,
        output_kind=_output_kind(meta, task, path),
    )


OUTPUT_KINDS = ("image", "curve", "gain-curve")


def _output_kind(meta: dict[str, str], task: str, path: Path) -> str:
    kind = meta.get(model_card.OUTPUT_KIND, "image").strip().lower()
    if kind not in OUTPUT_KINDS or (kind != "image" and task != "lowlight"):
        raise UnsupportedModelError(f"model {path.name} declares output_kind '{kind[:40]}', which ImageStudio "
                                    f"cannot use for {task or 'this task'}")
    return kind


def _task_from_probe(path: Path, scale: int) -> str:
    if scale > 1:
        return "upscale"
    # A same-size model could denoise or brighten; only its file name can tell.
    return "lowlight" if "light" in path.stem.lower() else "denoise"


def _sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise ModelError(f"model file {shown(path.name, 80)} cannot be read: {exc.strerror or exc}") from None


def _cards_in(folder: Path, source: str) -> list[ModelCard]:
    """The cards of the folder's .onnx files. A file that cannot be used is skipped with one warning line (once per
    process), so that one bad file never breaks the listing, a default model or a batch."""
    try:
        paths = sorted(entry.path for entry in os.scandir(folder)
                       if entry.name.endswith(".onnx") and not entry.name.startswith(".")
                       and not entry.name.endswith(INT8_SUFFIX))
    except OSError:  # no folder, not a folder, or not readable: no models from it
        return []
    cards = []
    for text in paths:
        path = Path(text)
        try:
            cards.append(read_model_card(path, source))
        except ModelError as exc:  # one broken file must not hide the others
            try:
                key = (text, os.lstat(path).st_mtime_ns)
            except OSError:
                key = (text, 0)
            if key not in _reported_broken:
                _reported_broken.add(key)
                log.warning("skipping model %s: %s", shown(path.name, 80), exc)
    return cards


def list_models() -> list[ModelCard]:
    """Every installed model, bundled first; a user model shadows a bundled one with the same name."""
    user = _cards_in(user_models_dir(), "user")
    user_names = {card.name for card in user}
    bundled = [card for card in _cards_in(bundled_models_dir(), "bundled") if card.name not in user_names]
    return bundled + user


def _looks_like_path(name_or_path: str | Path) -> bool:
    if isinstance(name_or_path, Path):
        return True
    return name_or_path.lower().endswith(".onnx") or "/" in name_or_path or os.sep in name_or_path


def find_model(name_or_path: str | Path) -> ModelCard:
    """A model by its card name (`upscale-x4`) or by the path of an .onnx file."""
    if _looks_like_path(name_or_path):
        return read_model_card(Path(name_or_path).expanduser())
    models = list_models()
    for card in models:
        if card.name == name_or_path:
            return card
    known = ", ".join(card.name for card in models) or "none"
    raise ModelNotFoundError(f"no model named '{name_or_path}' — installed models: {known}")


def describe_task(task: str, scale: int | None = None) -> str:
    words = TASK_WORDS.get(task, task)
    return f"{words} ×{scale}" if task == "upscale" and scale else words


def default_model(task: str, scale: int | None = None) -> ModelCard:
    """Our named default for the task (upscale-x4, upscale-x2, denoise, lowlight), else any model that fits."""
    if task in ("denoise", "lowlight") and scale is None:
        scale = 1
    candidates = [c for c in list_models() if c.task == task and (scale is None or c.scale == scale)]
    preferred = DEFAULT_NAMES.get((task, scale or 0))
    for card in candidates:
        if card.name == preferred:
            return card
    if candidates:
        return candidates[0]
    raise ModelNotFoundError(
        f"no model is installed for {describe_task(task, scale)} — add one with "
        f"`imagestudio models add FILE.onnx` or copy it into {user_models_dir()}"
    )


def validate_model(card: ModelCard) -> None:
    """Runs an image model on test inputs and checks it does what its card says."""
    if not card.is_image_model:
        get_session(card.path, "cpu")  # building the session proves onnxruntime can load it
        return
    probe = probe_model(card.path)
    if probe.scale != card.scale:
        raise ModelError(
            f"model {card.name} declares scale {card.scale} in its card but produces ×{probe.scale} output"
        )


def install_model(path: Path) -> ModelCard:
    """Validates an .onnx file and copies it into the user's model folder as <name>.onnx."""
    source_card = read_model_card(Path(path).expanduser())
    validate_model(source_card)
    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^\w.-]+", "_", source_card.name).strip("._") or "model"
    target = folder / f"{safe_name}.onnx"
    if target.resolve() != source_card.path:
        # Copy beside the target, then rename: a half-copied model must never be listed.
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{safe_name}.", suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(source_card.path, temporary)
            os.replace(temporary, target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise ModelError(f"could not install {source_card.name} into {folder}: {exc.strerror or exc}") from exc
    return read_model_card(target, "user")
