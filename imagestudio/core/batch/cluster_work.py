"""What a cluster worker does with one file of a batch: hash, decode, run the pipeline, encode into a temporary file
beside the planned output. No Ray in here: `process_file` is a plain function that Ray runs as a task (and that the
tests can call directly), and nothing here writes the manifest, picks a name or renames into place: the driver
(`cluster.py`) alone does that, so resume, the conflict rule and "never over an input" are decided in one place.

Models are pinned on the driver: each step names the exact file the driver's pipeline hash was computed from, with
its sha256. A worker uses that file when it sees the same bytes at the same path (shared storage), else a model of
its own with the same sha256 (the same models installed on every node), else the file fails with a reason.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from imagestudio.core.batch.output_folder import prepare_target
from imagestudio.core.batch.pipelines import step_model_cards
from imagestudio.core.errors import ImageStudioError, ModelError, ModelNotFoundError
from imagestudio.core.hashing import file_sha256
from imagestudio.core.image import load_image
from imagestudio.core.imageio.atomic import disown_temporary
from imagestudio.core.imageio.save import save_image_unplaced
from imagestudio.core.models import list_models, read_model_card
from imagestudio.core.pipeline import Pipeline, Step
from imagestudio.core.runtime import THREADS_ENV

log = logging.getLogger(__name__)

# FileOutcome.kind
WRITTEN = "written"  # the output is in `temporary`, for the driver to place
UNCHANGED = "unchanged"  # the input's bytes are the ones an earlier run finished: nothing was decoded
FAILED_HERE = "failed"  # `reason` says why; nothing was left behind


@dataclass(frozen=True)
class PinnedModel:
    step: int  # index into the pipeline's steps
    param: str  # the step parameter that names it ("model", "upscale_model"...)
    name: str
    path: str  # where the driver found it
    sha256: str


@dataclass(frozen=True)
class WorkerSetup:
    """The same for every file of a batch: sent once to the object store."""

    pipeline_json: str  # the batch's pipeline, every model parameter naming the driver's file
    models: tuple[PinnedModel, ...]
    output_dir: str
    format: str | None  # None: the input's own format
    quality: int
    keep_metadata: bool
    max_pixels: int | None
    threads: int  # onnxruntime threads for one task: its share of the node's cores


@dataclass(frozen=True)
class FileJob:
    input_rel: str
    source: str  # absolute, the same path on every node (shared storage)
    target: str  # the planned output, absolute
    known_sha256: str | None = None  # an earlier run finished these bytes: if they still match, skip the work


@dataclass(frozen=True)
class FileOutcome:
    input_rel: str
    kind: str  # WRITTEN | UNCHANGED | FAILED_HERE
    sha256: str = ""
    temporary: str | None = None
    reason: str = ""
    seconds: float = 0.0  # the pipeline's wall time, as a local run reports it
    frames: int = 1
    worker: str = ""  # host:pid, for the report's log and the tests


def pin_models(pipeline: Pipeline) -> tuple[Pipeline, tuple[PinnedModel, ...]]:
    """The pipeline with each model it will use named by its file, and those files with their hashes. A missing
    optional model stays unnamed (as in a local run, it fails only the files that need it)."""
    steps, pinned = [], []
    for index, step in enumerate(pipeline.steps):
        params = dict(step.params)
        for param, card in step_model_cards(step):
            params[param] = str(card.path.absolute())
            pinned.append(PinnedModel(index, param, card.name, params[param], card.sha256))
        steps.append(Step(step.op, params))
    return Pipeline(steps), tuple(pinned)


_pipelines: dict[str, Pipeline] = {}  # per worker process: sessions are cached by model path in core/runtime.py
_pipelines_lock = threading.Lock()


def _local_model(pin: PinnedModel) -> str:
    """The driver's model file as seen from this node: the same path with the same bytes, or an installed model
    with the same sha256."""
    try:
        if os.path.isfile(pin.path) and read_model_card(Path(pin.path)).sha256 == pin.sha256:
            return pin.path
    except ModelError:
        pass
    for card in list_models():
        if card.sha256 == pin.sha256:
            return str(card.path)
    raise ModelNotFoundError(
        f"model {pin.name} is not on worker {socket.gethostname()}: neither {pin.path} with the same contents nor "
        "an installed model with them — put the models on the shared storage or install the same ones on every node")


def _pipeline_for(setup: WorkerSetup) -> Pipeline:
    key = hashlib.sha256(repr((setup.pipeline_json, setup.models)).encode()).hexdigest()
    with _pipelines_lock:
        cached = _pipelines.get(key)
    if cached is not None:
        return cached
    pipeline = Pipeline.from_json(setup.pipeline_json)
    for pin in setup.models:
        pipeline.steps[pin.step].params[pin.param] = _local_model(pin)
    with _pipelines_lock:
        _pipelines[key] = pipeline
    return pipeline


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def process_file(setup: WorkerSetup, job: FileJob) -> FileOutcome:
    """One file, start to temporary output. Every failure a file can cause comes back as FAILED_HERE with the same
    reason a local run gives; only an interruption (Ray's cancel) escapes."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    # onnxruntime sizes its thread pool when the first session is made: the task's share, not the whole node.
    os.environ[THREADS_ENV] = str(max(1, setup.threads))

    def failed(reason: str, sha256: str = "") -> FileOutcome:
        return FileOutcome(job.input_rel, FAILED_HERE, sha256, reason=reason, worker=worker)

    try:
        sha256 = file_sha256(Path(job.source))
    except OSError as exc:
        return failed(f"cannot read the file: {exc.strerror or exc}")
    if job.known_sha256 is not None and sha256 == job.known_sha256:
        return FileOutcome(job.input_rel, UNCHANGED, sha256, worker=worker)
    try:
        image = load_image(Path(job.source), max_pixels=setup.max_pixels)
    except ImageStudioError as exc:
        return failed(_one_line(exc), sha256)
    except OSError as exc:
        return failed(f"cannot read the file: {exc.strerror or exc}", sha256)
    except MemoryError:
        return failed("not enough memory to decode it", sha256)
    frames = image.meta.frame_count
    started = time.monotonic()
    try:
        result = _pipeline_for(setup).run(image).image
    except ImageStudioError as exc:
        return failed(_one_line(exc), sha256)
    except MemoryError:
        return failed("not enough memory to process it", sha256)
    except Exception as exc:  # noqa: BLE001 - one file's unexpected failure is logged, the batch goes on
        log.exception("batch: %s failed unexpectedly", job.input_rel)
        return failed(f"unexpected error: {type(exc).__name__}: {_one_line(exc)}", sha256)
    seconds = time.monotonic() - started
    del image
    target = Path(job.target)
    try:
        prepare_target(Path(setup.output_dir), target)  # sub-folders made and checked here, and again on placing
        temporary = save_image_unplaced(result, target, format=setup.format, quality=setup.quality,
                                        keep_metadata=setup.keep_metadata)
    except MemoryError:
        return failed(f"not enough memory to save {target.name}", sha256)
    except ImageStudioError as exc:
        return failed(_one_line(exc), sha256)
    except OSError as exc:
        return failed(f"cannot write {target.name}: {exc.strerror or exc}", sha256)
    disown_temporary(temporary)  # the driver places it; this process's exit must not remove it
    return FileOutcome(job.input_rel, WRITTEN, sha256, str(temporary), seconds=seconds, frames=frames, worker=worker)
