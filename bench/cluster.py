"""Batch on a Ray cluster: images/s with 1 and 2 worker CPUs against a local run, and the driver's overhead per file.

Each configuration gets a private Ray head on this machine (tests/ray_cluster.py: `ray start --head --num-cpus N`)
and this process as its driver. The pipeline is upscale-x4 on photo-like JPEGs written as PNG, the model
resources/models/upscale-x4.onnx when present, else bench/batch.py's CompactSR-sized net. One warm-up batch per
cluster starts its workers and their onnxruntime sessions; then `--runs` timed batches (median, min–max).

The driver's overhead is measured on tiny files (24×16, the same model), where the workers have next to nothing to
do: the driver's own CPU time per file (submit, wait, fetch, checks, rename, manifest line with fsync) and the
end-to-end wall time per file.

    python bench/cluster.py [--files 16] [--size 192x144] [--runs 3] [--quick]

Writes docs/bench/cluster.md unless --quick or --no-report. Not a test: the numbers depend on the machine and on
what else runs on it (printed with the table).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from batch import _inputs, _model_folder  # noqa: E402
from machine import describe  # noqa: E402
from ray_cluster import LoopbackCluster  # noqa: E402

from imagestudio.core.batch import BatchRunner, BatchSpec, OutputRule, load_pipeline, plan_batch  # noqa: E402
from imagestudio.core.batch.cluster import ClusterOptions, ClusterRunner  # noqa: E402
from imagestudio.core.models import BUNDLED_DIR_ENV, USER_DIR_ENV  # noqa: E402
from imagestudio.core.runtime import THREADS_ENV  # noqa: E402

REPORT = ROOT / "docs" / "bench" / "cluster.md"


def _spec(inputs: Path, out: Path) -> BatchSpec:
    return BatchSpec(inputs, out, load_pipeline("upscale-x4"), OutputRule(format="PNG"), resume=False)


def _timed(make_runner, inputs: Path, workdir: Path, label: str, runs: int) -> list[tuple[float, float, int]]:
    """(wall seconds, driver CPU seconds, files) per run, after one warm-up run."""
    results = []
    for run in range(runs + 1):
        out = workdir / f"out-{label}-{run}"
        plan = plan_batch(_spec(inputs, out))
        cpu, started = time.process_time(), time.perf_counter()
        report = make_runner(plan).run()
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        assert not report.failed, report.failed
        shutil.rmtree(out, ignore_errors=True)
        if run:  # the first run starts workers and sessions
            results.append((wall, used, len(report.done)))
        print(f"  {label} run {run}: {len(report.done)} files in {wall:.2f} s", file=sys.stderr, flush=True)
    return results


def _spread(values: list[float], unit: str = "", digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--size", default="192x144", help="input WIDTHxHEIGHT (default 192x144)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="6 files, 1 run; prints only")
    parser.add_argument("--no-report", action="store_true", help=f"print only; do not write {REPORT.name}")
    args = parser.parse_args()
    if args.quick:
        args.files, args.runs, args.no_report, args.size = 6, 1, True, "96x72"
    width, height = (int(v) for v in args.size.split("x"))
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private loopback cluster: no token
    import ray

    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    rows: list[str] = []
    try:
        folder, model_note = _model_folder(workdir)
        os.environ[BUNDLED_DIR_ENV] = str(folder)
        os.environ[USER_DIR_ENV] = str(workdir / "user-models")
        _inputs(workdir / "in", args.files, width, height)
        _inputs(workdir / "tiny", args.files, 24, 16)

        os.environ[THREADS_ENV] = "1"  # a local run on one core: the unit a worker CPU is compared with
        local = _timed(lambda plan: BatchRunner(plan), workdir / "in", workdir, "local1", args.runs)
        os.environ.pop(THREADS_ENV)
        local2 = _timed(lambda plan: BatchRunner(plan), workdir / "in", workdir, "local2", args.runs)
        rows.append(("local, 1 thread", local))
        rows.append(("local, 2 threads", local2))
        overhead = None
        for cpus in (1, 2):
            with LoopbackCluster(cpus=cpus, env={"RAY_AUTH_MODE": "disabled"}) as cluster:
                ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.ERROR)
                try:
                    timed = _timed(lambda plan: ClusterRunner(plan, ClusterOptions("auto")), workdir / "in",
                                   workdir, f"ray{cpus}", args.runs)
                    rows.append((f"Ray, {cpus} worker CPU{'s' if cpus > 1 else ''}", timed))
                    if cpus == 2:
                        overhead = _timed(lambda plan: ClusterRunner(plan, ClusterOptions("auto")),
                                          workdir / "tiny", workdir, "tiny", args.runs)
                finally:
                    ray.shutdown()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    machine = describe()
    lines = [f"Machine: {machine}. Load at the end: {os.getloadavg()[0]:.1f} (1-min average).",
             f"Model: {model_note}; {args.files} JPEGs of {width}×{height} -> PNG ×4; {args.runs} timed run(s) "
             "after one warm-up; median (min–max).", "",
             "| run | images/s | vs local 1 thread |", "| --- | --- | --- |"]
    base = statistics.median(files / wall for wall, _cpu, files in rows[0][1])
    for label, timed in rows:
        rates = [files / wall for wall, _cpu, files in timed]
        lines.append(f"| {label} | {_spread(rates)} | {statistics.median(rates) / base:.2f}× |")
    if overhead:
        cpu_ms = [1000 * cpu / files for _wall, cpu, files in overhead]
        wall_ms = [1000 * wall / files for wall, _cpu, files in overhead]
        lines += ["", f"Driver overhead on {args.files} tiny files (24×16), 2 worker CPUs: driver CPU "
                      f"{_spread(cpu_ms, ' ms', 1)} per file; end to end {_spread(wall_ms, ' ms', 1)} per file."]
    text = "\n".join(lines)
    print(text)
    if not args.no_report:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text("# Batch on a Ray cluster (bench/cluster.py)\n\n" + text + "\n")
        print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
