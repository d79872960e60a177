"""Batches on a real Ray cluster (the session's `ray_cluster`: a head on this machine with 2 worker CPUs, this process
its driver) against local runs of the same plan: same bytes, same report, resume after the driver dies, workers
killed mid-run, corrupt files among good ones. Every run has a deadline, so a stuck cluster fails a test instead of
hanging the suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import onnx_models
import pytest
from batch_helpers import make_tree, snapshot, write_photo

from imagestudio.core.batch import (
    DONE,
    FAILED,
    MANIFEST_NAME,
    SKIPPED,
    BatchReport,
    BatchRunner,
    BatchSpec,
    OutputRule,
    load_pipeline,
    plan_batch,
)
from imagestudio.core.batch.cluster import ClusterOptions, ClusterRunner
from imagestudio.core.progress import Task

pytestmark = pytest.mark.usefixtures("ray_cluster")

RUN_DEADLINE_S = 240.0  # a batch of a few small files takes seconds; past this the run is cancelled and fails
TASK = "imagestudio-batch-file"  # the Ray task's name: its workers are titled ray::<name> while they run one


def cluster_run(plan, **kwargs) -> tuple[BatchReport, ClusterRunner]:
    task = kwargs.pop("task", None) or Task()
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        task.cancel()

    timer = threading.Timer(RUN_DEADLINE_S, expire)
    timer.start()
    try:
        runner = ClusterRunner(plan, ClusterOptions("auto"), task=task, **kwargs)
        report = runner.run()
    finally:
        timer.cancel()
    assert not expired.is_set(), f"the cluster run took more than {RUN_DEADLINE_S:.0f} s"
    return report, runner


def rows(report: BatchReport) -> dict[str, tuple[str, str | None, str]]:
    return {r.input: (r.status, r.output, r.reason) for r in report.results}


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MANIFEST_NAME}


def done_lines(folder: Path) -> list[dict]:
    path = folder / MANIFEST_NAME
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if r["type"] == "done"]


@pytest.fixture
def slow_denoiser(models, model_dirs) -> Path:
    """A conv stack as the bundled denoiser: ~0.1-0.5 s per 160² image, long enough to kill a worker mid-file."""
    return models("heavy", "slow.onnx", model_dirs["bundled"], channels=48, layers=6,
                  metadata=onnx_models.card("denoise", "denoise", 1, receptive_radius="8"))


def photos(folder: Path, count: int, size: tuple[int, int] = (160, 160)) -> Path:
    for index in range(count):
        write_photo(folder / f"p{index}.png", size, seed=index)
    return folder


def test_same_outputs_and_report_as_a_local_run(tmp_path: Path, bundled_upscalers) -> None:
    tree = tmp_path / "in"
    make_tree(tree)  # good files, a truncated PNG, a text file named .jpg, nested folders
    before = snapshot(tree)
    rule = OutputRule(template="{stem}_x2.{ext}")

    def spec(out: str) -> BatchSpec:
        return BatchSpec(tree, tmp_path / out, load_pipeline("upscale-x2"), rule, recursive=True)

    local = BatchRunner(plan_batch(spec("local"))).run()
    remote, runner = cluster_run(plan_batch(spec("cluster")))
    assert outputs(tmp_path / "cluster") == outputs(tmp_path / "local"), "byte for byte"
    assert rows(remote) == rows(local), "same statuses, outputs and reasons"
    assert rows(remote)["broken.png"][0] == FAILED and rows(remote)["fake.jpg"][0] == FAILED
    assert len(remote.done) == 4

    def recorded(folder: Path) -> set[tuple[str, ...]]:
        return {(r["input"], r["input_sha256"], r["pipeline_sha256"], r["output"]) for r in done_lines(folder)}

    assert recorded(tmp_path / "cluster") == recorded(tmp_path / "local"), "same manifest records"
    assert snapshot(tree) == before, "inputs are never modified"
    assert not list((tmp_path / "cluster").rglob("*.tmp")), "no temporary file is left"
    assert all(worker.split(":")[1] != str(os.getpid()) for worker in runner.workers_seen), "ran on workers"

    again, _ = cluster_run(plan_batch(spec("cluster")))  # resume: the workers see the same bytes, nothing redone
    assert {r.input for r in again.skipped if "already done" in r.reason} == {r.input for r in remote.done}
    assert outputs(tmp_path / "cluster") == outputs(tmp_path / "local")


def test_a_worker_killed_mid_run_has_its_files_retried(tmp_path: Path, ray_cluster, slow_denoiser) -> None:
    photos(tmp_path / "in", 6)
    local = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "local", load_pipeline("denoise")))).run()
    killed: list[int] = []

    def on_result(result) -> None:
        if not killed:  # after the first file, every worker busy with one is killed, once
            deadline = time.monotonic() + 30
            while not killed and time.monotonic() < deadline:
                for pid in ray_cluster.worker_pids(busy_with=TASK):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.02)

    report, _ = cluster_run(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "cluster", load_pipeline("denoise"))),
                            on_result=on_result)
    assert killed, "a worker was killed while it ran a file"
    assert [r.status for r in report.results] == [DONE] * 6, rows(report)
    assert outputs(tmp_path / "cluster") == outputs(tmp_path / "local")
    assert len(done_lines(tmp_path / "cluster")) == 6
    assert not list((tmp_path / "cluster").rglob("*.tmp"))


def test_a_file_whose_worker_dies_twice_is_failed(tmp_path: Path, ray_cluster, slow_denoiser) -> None:
    photos(tmp_path / "in", 1, (320, 320))
    stop = threading.Event()
    killed: list[int] = []

    def keep_killing() -> None:  # whoever runs the file dies, attempt after attempt
        while not stop.is_set():
            for pid in ray_cluster.worker_pids(busy_with=TASK):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=keep_killing, daemon=True)
    killer.start()
    try:
        report, _ = cluster_run(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "out", load_pipeline("denoise"))))
    finally:
        stop.set()
        killer.join(5)
    status, output, reason = rows(report)["p0.png"]
    assert status == FAILED and "failed twice" in reason and "died" in reason, reason
    assert len(set(killed)) == 2, "one attempt, one retry"
    assert output is None and not list((tmp_path / "out").glob("p0*")), "nothing half-written is kept"
    assert not done_lines(tmp_path / "out")


def test_resume_after_the_driver_is_killed(tmp_path: Path, ray_cluster, slow_denoiser) -> None:
    photos(tmp_path / "in", 8)
    (tmp_path / "in" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(out), "--pipeline",
               "denoise", "-q", "--cluster", ray_cluster.address]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + RUN_DEADLINE_S
    while len(done_lines(out)) < 2 and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.02)
    driver.send_signal(signal.SIGKILL)  # the driver crashes: the workers' tasks die with its job
    _, stderr = driver.communicate(timeout=30)
    recorded = {r["output"] for r in done_lines(out)}
    assert 2 <= len(recorded) < 8, stderr.decode(errors="replace")
    assert recorded <= set(outputs(out)), "every manifest line names a file in place"

    again = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=RUN_DEADLINE_S)
    assert again.returncode == 1, again.stderr  # 1: the corrupt file failed, every other one is done
    assert again.stdout.count("already done in an earlier run") == len(recorded), again.stdout
    assert "failed   corrupt.png" in again.stdout and "on the Ray cluster" in again.stdout
    local = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "local", load_pipeline("denoise")))).run()
    assert len(local.done) == 8
    assert outputs(out) == outputs(tmp_path / "local"), "the resumed cluster run equals one local run"
    assert not list(out.rglob("*.tmp")), "the killed run's temporary files are removed"


def test_ctrl_c_cancels_the_cluster_run_and_keeps_finished_files(tmp_path: Path, ray_cluster,
                                                                 slow_denoiser) -> None:
    photos(tmp_path / "in", 8)
    out = tmp_path / "out"
    # Through the head's client server (ray://), the address a driver outside the cluster uses.
    address = f"ray://127.0.0.1:{ray_cluster.client_port}" if ray_cluster.client_port else ray_cluster.address
    driver = subprocess.Popen([sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(out),
                               "--pipeline", "denoise", "--cluster", address],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + RUN_DEADLINE_S
    while not done_lines(out) and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.02)
    driver.send_signal(signal.SIGINT)
    stdout, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 130, stderr
    assert "rerun with --resume" in stderr and "not started (cancelled)" in stdout
    assert "Batch" in stderr, "the progress bar was shown"
    written = set(outputs(out))
    assert written == {r["output"] for r in done_lines(out)}, "only finished, recorded files are there"
    assert not list(out.rglob("*.tmp"))
    assert len(written) < 8


def test_skipped_and_conflicting_outputs_follow_the_same_rules(tmp_path: Path, bundled_upscalers) -> None:
    photos(tmp_path / "in", 3, (24, 16))
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0.png").write_bytes(b"not ours")  # exists before the plan: skipped, untouched
    plan = plan_batch(BatchSpec(tmp_path / "in", out, load_pipeline("upscale-x2"), OutputRule(conflict="rename")))
    (out / "p1.png").write_bytes(b"appeared after the plan")  # the rename rule applies at placing time
    report, _ = cluster_run(plan)
    got = rows(report)
    assert got["p0.png"][:2] == (DONE, "p0_1.png") and (out / "p0.png").read_bytes() == b"not ours"
    assert got["p1.png"][:2] == (DONE, "p1_1.png") and (out / "p1.png").read_bytes() == b"appeared after the plan"
    assert got["p2.png"][:2] == (DONE, "p2.png")
    skip = plan_batch(BatchSpec(tmp_path / "in", tmp_path / "out2", load_pipeline("upscale-x2")))
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / "p2.png").write_bytes(b"mine")
    report, _ = cluster_run(skip)
    assert rows(report)["p2.png"][0] == SKIPPED and (tmp_path / "out2" / "p2.png").read_bytes() == b"mine"
