"""Runs a batch plan on a Ray cluster: the same plan, manifest, conflict rule and report as on one machine, with the
per-file work (hash, decode, pipeline, encode) done by Ray tasks on the cluster's workers.

    report = ClusterRunner(plan_batch(spec), ClusterOptions("auto")).run()

The split: a worker (`cluster_work.process_file`) writes its output to a temporary file beside the planned output
on the shared storage and returns its name; this process, the driver, alone decides and writes anything that lasts:
it applies the conflict rule to outputs that appeared meanwhile, checks the output folder and the target again,
renames the temporary file into place, appends the manifest line and builds the report (BatchRunner._place, the
code a local run uses). So a killed driver leaves at most temporary files (removed by the next run) and a resumed
run trusts exactly what a local one would.

A worker that dies (killed, out of memory, its node lost) has its file retried once by Ray, on whichever worker is
free; a file whose second attempt dies too is FAILED with the reason. Cancel stops submitting, cancels the running
tasks and discards what they wrote; pause stops submitting and lets the running files finish. Ray is imported only
here and only when a cluster run starts, so the app and the CLI work without it.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagestudio.core.batch.cluster_work import (
    FAILED_HERE,
    UNCHANGED,
    FileJob,
    FileOutcome,
    WorkerSetup,
    pin_models,
    process_file,
)
from imagestudio.core.batch.plan import RESUME, BatchPlan, PlannedFile
from imagestudio.core.batch.report import FAILED, SKIPPED, BatchReport, FileResult
from imagestudio.core.batch.runner import BatchRunner, BatchStatus
from imagestudio.core.errors import ClusterError, ImageSaveError
from imagestudio.core.imageio.atomic import is_temporary_name, place_temporary, remove_stale_temporaries
from imagestudio.core.progress import Task

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'imagestudio[cluster]'"
_ADDRESS = re.compile(r"(ray://)?(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>[0-9]{1,5})")
_POLL_S = 0.1  # how often the driver looks at cancel and pause while tasks run
_CANCEL_WAIT_S = 10.0  # how long cancelled tasks get to stop and clean up before their workers are killed
CONNECT_ATTEMPTS = 3
CONNECT_RETRY_S = 2.0
_RETRIES = 1  # a file whose worker dies is tried once more: "fails twice" is FAILED


@dataclass(frozen=True)
class ClusterOptions:
    address: str  # "auto" (the cluster this machine is part of, or RAY_ADDRESS), "HOST:PORT" or "ray://HOST:PORT"
    cpus_per_task: float = 1.0  # also onnxruntime's thread count in the task
    gpus_per_task: float | None = None  # None: one GPU per task when the cluster has GPUs and the pipeline may use one
    max_in_flight: int | None = None  # None: twice the tasks the cluster can run at once


def check_address(text: str) -> str:
    """`text` as a Ray address, or ClusterError saying what one looks like."""
    text = text.strip()
    if text == "auto":
        return text
    match = _ADDRESS.fullmatch(text)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ClusterError(f"not a Ray cluster address: {text!r} — use auto, HOST:PORT (the head's `ray start "
                           "--head --port`) or ray://HOST:PORT (its client server, usually port 10001)")
    return text


def import_ray() -> Any:
    """The ray module, or ClusterError with the one line that says how to get it."""
    try:
        import ray  # noqa: PLC0415 - lazily: the desktop install has no Ray
    except ImportError:
        raise ClusterError(f"running a batch on a cluster needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


@contextmanager
def connected(address: str) -> Iterator[Any]:
    """Ray connected to the cluster at `address` for the block, or already connected by the caller (then left so).
    Never starts a cluster of its own: "auto" with none running is an error, not a surprise local one."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = check_address(address)
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            # Workers' log lines would interleave with the progress bar; their failures come back as reasons.
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, include_dashboard=False)
            break
        except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError... for one cause
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            # A ray:// head starts one client server per connection; on a busy head that start can fail once
            # ("Starting Ray client server failed") and work on the next try.
            if attempt + 1 < CONNECT_ATTEMPTS and address.startswith("ray://") and "client server" in reason:
                log.warning(f"the Ray cluster at {address} did not start a client server; trying again")
                with suppress(Exception):  # leave no half-made client connection behind the next try
                    ray.shutdown()
                time.sleep(CONNECT_RETRY_S)
                continue
            raise ClusterError(f"cannot connect to the Ray cluster at {address}: {reason}") from None
    try:
        yield ray
    finally:
        ray.shutdown()  # disconnects this driver; the cluster goes on


class ClusterRunner(BatchRunner):
    """A BatchRunner whose per-file work runs on a Ray cluster (same callbacks, pause, cancel and report)."""

    def __init__(self, plan: BatchPlan, options: ClusterOptions, *,
                 on_status: Callable[[BatchStatus], None] | None = None,
                 on_result: Callable[[FileResult], None] | None = None, task: Task | None = None) -> None:
        super().__init__(plan, on_status=on_status, on_result=on_result, task=task)
        self.options = options
        self._ray: Any = None
        self._in_flight: dict[Any, tuple[PlannedFile, FileJob]] = {}
        self.workers_seen: set[str] = set()  # host:pid of every worker that returned a file

    def run(self) -> BatchReport:
        with connected(self.options.address) as ray:  # before anything is written: an unreachable cluster changes nothing
            self._ray = ray
            try:
                return super().run()
            finally:
                self._ray = None

    # --- what the cluster can take -----------------------------------------------------------------------------
    def _task_shape(self) -> tuple[float, float, int]:
        """(CPUs, GPUs) per task and how many tasks fit at once."""
        resources = self._ray.cluster_resources()
        cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
        per_cpu = max(float(self.options.cpus_per_task), 0.01)
        per_gpu = self.options.gpus_per_task
        if per_gpu is None:
            may_use_cuda = any(step.params.get("device", "auto") != "cpu" for step in self.spec.pipeline.steps)
            per_gpu = 1.0 if gpus >= 1 and may_use_cuda else 0.0
        slots = int(cpus // per_cpu)
        if per_gpu > 0:
            slots = min(slots, int(gpus // per_gpu))
        if slots < 1:
            raise ClusterError(f"the Ray cluster has {cpus:g} CPUs and {gpus:g} GPUs: not enough for one task of "
                               f"{per_cpu:g} CPU{f' and {per_gpu:g} GPU' if per_gpu else ''}")
        return per_cpu, per_gpu, slots

    def _setup(self, cpus: float) -> WorkerSetup:
        pinned, models = pin_models(self.spec.pipeline)
        rule = self.spec.rule
        return WorkerSetup(pinned.to_json(), models, str(self.spec.output_dir.absolute()),
                           None if rule.format == "same" else rule.format, rule.quality, rule.keep_metadata,
                           self.spec.max_pixels, max(1, int(cpus)))

    # --- the run -------------------------------------------------------------------------------------------------
    def _execute(self, work: list[PlannedFile]) -> None:
        ray = self._ray
        cpus, gpus, slots = self._task_shape()
        task = ray.remote(process_file).options(num_cpus=cpus, num_gpus=gpus, max_retries=_RETRIES,
                                                retry_exceptions=False, name="imagestudio-batch-file")
        setup = ray.put(self._setup(cpus))
        window = self.options.max_in_flight or 2 * slots  # enough to keep every worker fed, few to cancel
        pending: deque[tuple[PlannedFile, bool]] = deque((planned, True) for planned in work)
        try:
            while pending or self._in_flight:
                if self._stopping():
                    break
                while not self.task.paused and pending and len(self._in_flight) < window:
                    planned, trust_manifest = pending.popleft()
                    job = self._job(planned, trust_manifest)
                    self._in_flight[task.remote(setup, job)] = (planned, job)
                self._current = next(iter(self._in_flight.values()))[0].input_rel if self._in_flight else None
                self._status(message=f"{len(self._in_flight)} file(s) on the cluster")
                if not self._in_flight:
                    time.sleep(_POLL_S)  # paused
                    continue
                ready, _ = ray.wait(list(self._in_flight), num_returns=1, timeout=_POLL_S)
                for ref in ready:
                    planned, job = self._in_flight.pop(ref)
                    self._take(planned, job, self._fetch(ref), pending)
        finally:
            self._current = None
            self._stop_in_flight()
            self._remove_leftovers()

    def _job(self, planned: PlannedFile, trust_manifest: bool) -> FileJob:
        """The task's input; for a file finished by an earlier run, the input hash that lets the worker skip it."""
        assert planned.output is not None and self._manifest is not None
        known = None
        if trust_manifest and planned.action == RESUME:
            entry = self._manifest.lookup(planned.input_rel)
            if entry is not None and entry.pipeline_sha256 == self._pipeline_sha \
                    and entry.output == planned.output_rel(self.spec.output_dir):
                known = entry.input_sha256
        return FileJob(planned.input_rel, str(planned.source.path.absolute()), str(planned.output.absolute()), known)

    def _fetch(self, ref: Any) -> FileOutcome | str:
        """The task's outcome, or why the cluster could not give one (after Ray's retry)."""
        exceptions = self._ray.exceptions
        try:
            return self._ray.get(ref)
        except exceptions.TaskCancelledError:
            return "cancelled"
        except exceptions.RayTaskError as exc:  # a bug in the task itself: not retried, like a local run's
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            return f"unexpected error on the worker: {type(cause).__name__}: {' '.join(str(cause).split())[:300]}"
        except exceptions.RayError as exc:  # its worker or node died on both attempts
            what = " ".join(str(exc).split()).split(". ")[0][:200]
            return (f"failed twice on the cluster: the worker processing it died each time (the file may crash or "
                    f"exhaust the worker; {type(exc).__name__}: {what})")

    def _take(self, planned: PlannedFile, job: FileJob, outcome: FileOutcome | str,
              pending: deque[tuple[PlannedFile, bool]]) -> None:
        if isinstance(outcome, str):
            if outcome != "cancelled":
                self._finish(planned, FAILED, outcome)
            return
        self.workers_seen.add(outcome.worker)
        assert self._manifest is not None
        if outcome.kind == FAILED_HERE:
            self._finish(planned, FAILED, outcome.reason)
        elif outcome.kind == UNCHANGED:
            output_rel = planned.output_rel(self.spec.output_dir) or ""
            if self._manifest.is_done(planned.input_rel, outcome.sha256, self._pipeline_sha, output_rel):
                self._finish(planned, SKIPPED, "already done in an earlier run (same input and pipeline)",
                             output=output_rel)
            else:  # the earlier output went missing since: the file is done again, in full
                pending.appendleft((planned, False))
        else:
            self._place_outcome(planned, outcome)

    def _place_outcome(self, planned: PlannedFile, outcome: FileOutcome) -> None:
        assert outcome.temporary is not None
        temporary = Path(outcome.temporary)
        try:
            if self._stopping():
                return  # cancelled (or the output folder went) meanwhile: nothing more is written
            self._place(planned, outcome.sha256, lambda target: self._move(temporary, target),
                        seconds=outcome.seconds, frames=outcome.frames)
        finally:
            with suppress(OSError):
                if os.path.lexists(temporary):  # skipped by the conflict rule, or refused: not kept
                    os.unlink(temporary)

    def _move(self, temporary: Path, target: Path) -> Path:
        """The worker's temporary file renamed onto `target`, after checking it is one: a regular file (not a link)
        named like ours, beside the target. What a worker returns is checked like anything on shared storage."""
        try:
            regular = stat.S_ISREG(os.lstat(temporary).st_mode)
        except OSError:
            regular = False
        if temporary.parent != target.parent or not is_temporary_name(temporary.name) or not regular:
            raise ImageSaveError(f"cannot save {target.name}: the worker's temporary file {temporary.name} is gone "
                                 "or is not a file of ours beside it")
        place_temporary(temporary, target)
        return target

    def _stop_in_flight(self) -> None:
        """Cancelled or interrupted: running tasks are asked to stop (their saves clean up), and what they finished
        anyway is discarded; after a short wait the rest are killed."""
        if not self._in_flight:
            return
        ray = self._ray
        refs = list(self._in_flight)
        for ref in refs:
            with suppress(Exception):
                ray.cancel(ref, force=False)
        deadline = time.monotonic() + _CANCEL_WAIT_S
        left = refs
        while left and time.monotonic() < deadline:
            ready, left = ray.wait(left, num_returns=len(left), timeout=_POLL_S)
            for ref in ready:
                outcome = self._fetch(ref)
                if isinstance(outcome, FileOutcome) and outcome.temporary:
                    with suppress(OSError):
                        os.unlink(outcome.temporary)
        for ref in left:
            with suppress(Exception):
                ray.cancel(ref, force=True)
        self._in_flight.clear()

    def _remove_leftovers(self) -> None:
        """Temporary files of workers killed mid-save (their pid is gone): removed now, not only by the next run."""
        removed = remove_stale_temporaries(self.spec.output_dir)
        if removed:
            log.info("removed %d temporary file(s) left by workers that died", len(removed))

