"""Runs a batch plan on three overlapping stages: read+decode -> pipeline -> encode+write, joined by small queues.

The pipeline runs on the calling thread (the model keeps every core busy); a reader thread decodes the next files
and a writer thread encodes and saves finished ones meanwhile, so the model never waits on the disk. A bad file
becomes a FAILED row and the run goes on. Pause holds the stages between tiles; cancel stops them, writes nothing
more and marks the files not started. Every written file is recorded in the manifest after it is in place.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagestudio.core.batch.manifest import Manifest, pipeline_hash
from imagestudio.core.batch.naming import free_name
from imagestudio.core.batch.output_folder import identity, prepare_target
from imagestudio.core.batch.plan import RESUME, SKIP, BatchPlan, BatchSpec, PlannedFile, plan_batch
from imagestudio.core.batch.report import CANCELLED, DONE, FAILED, SKIPPED, BatchReport, FileResult
from imagestudio.core.errors import BatchError, Cancelled, ImageStudioError
from imagestudio.core.hashing import file_sha256
from imagestudio.core.image import Image, load_image, save_image
from imagestudio.core.imageio.atomic import remove_stale_temporaries
from imagestudio.core.progress import Task

log = logging.getLogger(__name__)

_END = object()  # end of a stage's stream
_POLL_S = 0.1  # how often a waiting stage looks at cancel and pause
_STATUS_INTERVAL_S = 0.05


@dataclass(frozen=True)
class BatchStatus:
    """A snapshot for progress displays: overall and per-file progress, counts and the estimated time left."""

    total: int  # files in the plan
    finished: int  # of them, with a result (done, skipped or failed)
    done: int
    skipped: int
    failed: int
    current: str | None  # the file in the pipeline now
    file_fraction: float
    fraction: float  # overall, 0..1
    elapsed: float  # seconds, pauses excluded
    eta: float | None  # seconds left, None until it can be estimated
    paused: bool
    message: str


@dataclass
class _Work:
    planned: PlannedFile
    sha256: str
    image: Image
    seconds: float = 0.0
    frames: int = 1  # of the input: animated files are processed as their first frame, and the report says so


class BatchRunner:
    def __init__(self, plan: BatchPlan, *, on_status: Callable[[BatchStatus], None] | None = None,
                 on_result: Callable[[FileResult], None] | None = None, task: Task | None = None,
                 queue_size: int = 2) -> None:
        self.plan = plan
        self.spec: BatchSpec = plan.spec
        self.task = task if task is not None else Task()  # cancel and pause of the whole batch
        self._on_status, self._on_result = on_status, on_result
        self._decoded: queue.Queue[Any] = queue.Queue(queue_size)
        self._computed: queue.Queue[Any] = queue.Queue(queue_size)
        self._abort = threading.Event()  # a stage crashed, or the output folder is gone: the others stop
        self._crash: BaseException | None = None
        self._stop_reason: str | None = None  # why the batch stopped early (not a cancel): the output folder went
        self._output_identity: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._results: dict[str, FileResult] = {}
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._started = 0.0
        self._current: str | None = None
        self._last_status = 0.0
        self._pipeline_sha = ""
        self._manifest: Manifest | None = None

    # --- control (any thread) ------------------------------------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            if not self.task.paused:
                self._paused_at = time.monotonic()
                self.task.pause()
        self._status(force=True, message="paused")

    def resume(self) -> None:
        with self._lock:
            if self.task.paused:
                self._paused_total += time.monotonic() - (self._paused_at or time.monotonic())
                self._paused_at = None
                self.task.resume()
        self._status(force=True, message="running")

    @property
    def paused(self) -> bool:
        return self.task.paused

    # --- the run -------------------------------------------------------------------------------------------------
    def run(self) -> BatchReport:
        """Runs every planned file; returns the report (raises only for a problem with the whole batch)."""
        report, work = self._begin()
        self._execute(work)
        return self._conclude(report, work)

    def _begin(self) -> tuple[BatchReport, list[PlannedFile]]:
        """The manifest opened, stale temporary files removed, skipped files reported: what is left to do."""
        spec = self.spec
        self._started = time.monotonic()
        self._pipeline_sha = pipeline_hash(spec.pipeline, spec.rule)  # also finds a missing model before any work
        try:
            spec.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(f"cannot create the output folder {spec.output_dir}: {exc.strerror}") from None
        self._manifest = Manifest(spec.output_dir)
        self._manifest.start_run(spec.pipeline, self._pipeline_sha)
        self._output_identity = identity(spec.output_dir)
        stale = remove_stale_temporaries(spec.output_dir)
        if stale:
            log.warning("removed %d temporary file%s left in %s by an interrupted save", len(stale),
                        "" if len(stale) == 1 else "s", spec.output_dir)
        report = BatchReport(spec.input_dir, spec.output_dir)
        report.results.extend(FileResult(i.relative, SKIPPED, None, i.reason) for i in self.plan.ignored)
        work = []
        for planned in self.plan.files:
            if planned.action == SKIP:
                self._finish(planned, FAILED if planned.fails else SKIPPED, planned.reason,
                             output=planned.output_rel(spec.output_dir))
            else:
                work.append(planned)
        self._status(force=True, message="starting")
        return report, work

    def _execute(self, work: list[PlannedFile]) -> None:
        """The three overlapped stages on this machine (ClusterRunner runs the files on a Ray cluster instead)."""
        stages = [threading.Thread(target=self._guard, args=(self._read, work), name="batch-reader", daemon=True),
                  threading.Thread(target=self._guard, args=(self._write,), name="batch-writer", daemon=True)]
        for stage in stages:
            stage.start()
        try:
            self._guard(self._infer)
        finally:
            for stage in stages:
                stage.join()
        if self._crash is not None:
            raise self._crash

    def _conclude(self, report: BatchReport, work: list[PlannedFile]) -> BatchReport:
        for planned in work:
            if planned.input_rel not in self._results:
                if self._stop_reason is not None:
                    self._finish(planned, FAILED, f"not processed: {self._stop_reason}")
                else:
                    self._finish(planned, CANCELLED, "the batch was cancelled before this file")
        report.results.extend(self._results[f.input_rel] for f in self.plan.files)
        report.elapsed = time.monotonic() - self._started
        report.cancelled = self.task.cancelled
        self._current = None
        self._status(force=True, message="cancelled" if report.cancelled else "finished")
        return report

    def _guard(self, stage: Callable[..., None], *args: Any) -> None:
        """A bug in one stage must stop the others instead of leaving them blocked on a queue."""
        try:
            stage(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised by run() on the calling thread
            with self._lock:
                self._crash = self._crash or exc
            self._abort.set()

    def _stopping(self) -> bool:
        return self.task.cancelled or self._abort.is_set()

    def _wait_running(self) -> None:
        while not self.task.wait_resumed(_POLL_S):
            if self._stopping():
                raise Cancelled("the batch was cancelled")

    def _put(self, target: queue.Queue, item: Any) -> bool:
        while True:
            try:
                target.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                if self._stopping():  # cancelled or crashed: the next stage may have stopped reading
                    return False

    def _get(self, source: queue.Queue) -> Any:
        while True:
            try:
                return source.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stopping():
                    return _END

    # --- stage 1: read and decode --------------------------------------------------------------------------------
    def _read(self, work: list[PlannedFile]) -> None:
        try:
            for planned in work:
                self._wait_running()
                if self._stopping():
                    break
                loaded = self._load(planned)
                if loaded is not None and not self._put(self._decoded, loaded):
                    break
        except Cancelled:
            pass
        finally:
            self._put(self._decoded, _END)

    def _load(self, planned: PlannedFile) -> _Work | None:
        try:
            sha256 = file_sha256(planned.source.path)
            assert self._manifest is not None
            output_rel = planned.output_rel(self.spec.output_dir) or ""
            if planned.action == RESUME and self._manifest.is_done(planned.input_rel, sha256, self._pipeline_sha,
                                                                   output_rel):
                self._finish(planned, SKIPPED, "already done in an earlier run (same input and pipeline)",
                             output=planned.output_rel(self.spec.output_dir))
                return None
            image = load_image(planned.source.path, max_pixels=self.spec.max_pixels)
            return _Work(planned, sha256, image, frames=image.meta.frame_count)
        except ImageStudioError as exc:
            self._finish(planned, FAILED, _one_line(exc))
        except OSError as exc:
            self._finish(planned, FAILED, f"cannot read the file: {exc.strerror or exc}")
        except MemoryError:
            self._finish(planned, FAILED, "not enough memory to decode it")
        return None

    # --- stage 2: the pipeline (calling thread) ------------------------------------------------------------------
    def _infer(self) -> None:
        try:
            while True:
                item = self._get(self._decoded)
                if item is _END or self._stopping():
                    break
                self._run_pipeline(item)
        finally:
            self._current = None
            self._put(self._computed, _END)
            self._drain(self._decoded)  # unblocks a reader stopped by cancel

    def _run_pipeline(self, item: _Work) -> None:
        planned = item.planned
        self._current = planned.input_rel

        def progress(fraction: float, message: str) -> None:
            if self._abort.is_set():  # another stage failed: stop this file at the next tile too
                raise Cancelled("the batch stopped")
            self._status(file_fraction=fraction, message=message)

        started = time.monotonic()
        self._status(force=True, file_fraction=0.0, message=f"processing {planned.input_rel}")
        try:
            self._wait_running()
            # The batch's own task: a pause takes effect between tiles (task.check), not only between files.
            result = self.spec.pipeline.run(item.image, self.task.reporting_to(progress)).image
        except Cancelled:
            return
        except ImageStudioError as exc:
            self._finish(planned, FAILED, _one_line(exc))
            return
        except MemoryError:
            self._finish(planned, FAILED, "not enough memory to process it")
            return
        except Exception as exc:  # noqa: BLE001 - one file's unexpected failure is logged, the batch goes on
            log.exception("batch: %s failed unexpectedly", planned.input_rel)
            self._finish(planned, FAILED, f"unexpected error: {type(exc).__name__}: {_one_line(exc)}")
            return
        item.image, item.seconds = result, time.monotonic() - started
        self._put(self._computed, item)

    # --- stage 3: encode and write -------------------------------------------------------------------------------
    def _write(self) -> None:
        while True:
            item = self._get(self._computed)
            if item is _END:
                break
            if self._stopping():
                continue  # cancelled: nothing more is written; the files count as not done
            self._save(item)
        self._drain(self._computed)

    def _save(self, item: _Work) -> None:
        rule = self.spec.rule
        fmt = None if rule.format == "same" else rule.format
        self._place(item.planned, item.sha256,
                    lambda target: save_image(item.image, target, format=fmt, quality=rule.quality,
                                              keep_metadata=rule.keep_metadata),
                    seconds=item.seconds, frames=item.frames)

    def _place(self, planned: PlannedFile, sha256: str, write: Callable[[Path], Path], *, seconds: float,
               frames: int) -> None:
        """Puts one finished file in place with `write(target) -> path written`, under the conflict rule and the
        write-time checks of the output folder, then records it in the manifest."""
        rule, out_dir = self.spec.rule, self.spec.output_dir
        target = planned.output
        assert target is not None and self._manifest is not None
        if os.path.lexists(target) and not planned.overwrite:  # appeared since the plan was made
            if rule.conflict == "skip":
                self._finish(planned, SKIPPED, f"the output appeared meanwhile: {target.relative_to(out_dir)}")
                return
            if rule.conflict == "rename":
                try:
                    target = free_name(target, set())
                except BatchError as exc:
                    self._finish(planned, FAILED, _one_line(exc))
                    return
        written: Path | None = None
        if identity(out_dir) != self._output_identity:
            # Deleted, moved, or its drive unmounted (which leaves an empty mount point that would swallow the
            # outputs): every remaining file would fail the same way, so the batch stops here.
            reason = f"the output folder {out_dir} has disappeared (deleted, moved or unmounted)"
            with self._lock:
                self._stop_reason = self._stop_reason or reason
            self._abort.set()
            self._finish(planned, FAILED, reason)
            return
        try:
            prepare_target(out_dir, target)
            written = write(target)
            output_rel = target.relative_to(out_dir).as_posix()
            self._manifest.record(planned.input_rel, sha256, self._pipeline_sha, output_rel)
        except (ImageStudioError, OSError, MemoryError) as exc:
            if written is not None:
                # Written but not recorded (the disk filled up before the manifest line): a FAILED file must not
                # leave an output that a rerun would take for finished work.
                with suppress(OSError):
                    written.unlink()
            if isinstance(exc, MemoryError):
                reason = f"not enough memory to save {target.name}"
            elif isinstance(exc, ImageStudioError):
                reason = _one_line(exc)
            else:
                reason = f"cannot write {target.name}: {exc.strerror or exc}"
            self._finish(planned, FAILED, reason)
            return
        note = planned.reason if planned.action != RESUME else "redone: input or pipeline changed since the earlier run"
        if frames > 1:
            note = "; ".join(filter(None, [note, f"animated: only the first of {frames} frames was processed"]))
        self._finish(planned, DONE, note, output=output_rel, seconds=seconds)

    @staticmethod
    def _drain(source: queue.Queue) -> None:
        while True:
            try:
                source.get_nowait()
            except queue.Empty:
                return

    # --- results and status --------------------------------------------------------------------------------------
    def _finish(self, planned: PlannedFile, status: str, reason: str = "", *, output: str | None = None,
                seconds: float = 0.0) -> None:
        result = FileResult(planned.input_rel, status, output, reason, round(seconds, 3))
        with self._lock:
            self._results[planned.input_rel] = result
        if status != CANCELLED:
            if status == FAILED:
                log.warning("batch: %s failed: %s", planned.input_rel, reason)
            if self._on_result is not None:
                self._on_result(result)
            self._status(force=True, message=f"{status}: {planned.input_rel}")

    def _status(self, *, force: bool = False, file_fraction: float = 0.0, message: str = "") -> None:
        if self._on_status is None:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_status < _STATUS_INTERVAL_S:
                return
            self._last_status = now
            counts = {s: 0 for s in (DONE, SKIPPED, FAILED)}
            for result in self._results.values():
                if result.status in counts:
                    counts[result.status] += 1
            paused_now = (now - self._paused_at) if self._paused_at is not None else 0.0
        total = len(self.plan.files)
        finished = sum(counts.values())
        current = self._current
        fraction_now = min(max(file_fraction, 0.0), 1.0) if current else 0.0
        elapsed = max(0.0, now - self._started - self._paused_total - paused_now) if self._started else 0.0
        units = finished + fraction_now
        eta = elapsed * (total - units) / units if units >= 0.05 and elapsed > 0 else None
        self._on_status(BatchStatus(
            total=total, finished=finished, done=counts[DONE], skipped=counts[SKIPPED], failed=counts[FAILED],
            current=current, file_fraction=fraction_now, fraction=units / total if total else 1.0,
            elapsed=elapsed, eta=eta, paused=self.paused, message=message,
        ))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def run_batch(spec: BatchSpec, *, on_status: Callable[[BatchStatus], None] | None = None,
              on_result: Callable[[FileResult], None] | None = None,
              task: Task | None = None) -> BatchReport:
    """Plans and runs a batch in one call (what the CLI does after its preview)."""
    return BatchRunner(plan_batch(spec), on_status=on_status, on_result=on_result, task=task).run()
