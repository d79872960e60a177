"""Running batches for real: tiny ONNX upscalers on a folder of good, corrupt and non-image files."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import onnx_models
import pytest
from batch_helpers import make_tree, snapshot, write_photo
from PIL import Image as PILImage

from imagestudio.core.batch import (
    CANCELLED,
    DONE,
    FAILED,
    MANIFEST_NAME,
    SKIPPED,
    BatchRunner,
    BatchSpec,
    Manifest,
    OutputRule,
    load_pipeline,
    plan_batch,
    run_batch,
)
from imagestudio.core.errors import ModelNotFoundError
from imagestudio.core.image import load_image
from imagestudio.core.imageio.formats import FORMATS, OUTPUT_FORMATS
from imagestudio.core.progress import Task


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make_tree(tmp_path / "in")
    return tmp_path / "in"


def spec_for(tree: Path, **kwargs) -> BatchSpec:
    kwargs.setdefault("pipeline", load_pipeline("upscale-x2"))
    kwargs.setdefault("recursive", True)
    return BatchSpec(tree, tree.parent / "out", **kwargs)


def by_input(report) -> dict[str, tuple[str, str | None, str]]:
    return {r.input: (r.status, r.output, r.reason) for r in report.results}


def test_a_mixed_folder_runs_to_the_end_with_reasons(tree: Path, bundled_upscalers) -> None:
    before = snapshot(tree)
    rule = OutputRule(template="{stem}_x2.{ext}", format="PNG")
    report = run_batch(spec_for(tree, rule=rule))
    rows = by_input(report)
    assert rows["a.png"][:2] == (DONE, "a_x2.png")
    assert rows["sub/deeper/d.webp"][:2] == (DONE, "sub/deeper/d_x2.png")
    assert rows["broken.png"][0] == FAILED and "broken.png" in rows["broken.png"][2]
    assert rows["fake.jpg"][0] == FAILED
    assert rows["notes.txt"][0] == SKIPPED and "not an image" in rows["notes.txt"][2]
    assert (len(report.done), len(report.failed), len(report.skipped)) == (4, 2, 1)
    written = PILImage.open(tree.parent / "out" / "sub" / "c_x2.png")
    assert written.size == (48, 32)
    original = np.asarray(PILImage.open(tree / "sub" / "c.png"))
    np.testing.assert_array_equal(np.asarray(written), original.repeat(2, 0).repeat(2, 1))
    assert snapshot(tree) == before, "inputs are never modified"
    assert not list((tree.parent / "out").rglob("*.tmp")), "no temporary files are left"


def test_rerun_skips_everything_done(tree: Path, bundled_upscalers) -> None:
    run_batch(spec_for(tree))
    out = tree.parent / "out"
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.*") if p.name != MANIFEST_NAME}
    again = run_batch(spec_for(tree, rule=OutputRule(conflict="overwrite")))
    rows = by_input(again)
    for name in ("a.png", "b.jpg", "sub/c.png", "sub/deeper/d.webp"):
        assert rows[name][0] == SKIPPED and "already done" in rows[name][2]
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes, "nothing was rewritten"
    assert [r.input for r in again.failed] == ["broken.png", "fake.jpg"], "failures are retried"


def test_changed_input_or_pipeline_is_redone(tree: Path, bundled_upscalers) -> None:
    run_batch(spec_for(tree))
    write_photo(tree / "a.png", seed=99)
    rows = by_input(run_batch(spec_for(tree)))
    assert rows["a.png"][0] == DONE and "changed" in rows["a.png"][2]
    assert rows["b.jpg"][0] == SKIPPED
    rows = by_input(run_batch(spec_for(tree, pipeline=load_pipeline("upscale-x4"))))
    assert rows["b.jpg"][0] == DONE
    assert PILImage.open(tree.parent / "out" / "b.jpg").size == (96, 64)


def test_an_interrupted_run_resumes_where_it_stopped(tree: Path, bundled_upscalers) -> None:
    task = Task()
    finished: list[str] = []

    def on_result(result) -> None:
        if result.status == DONE:
            finished.append(result.input)
            task.cancel()  # stop after the first written file

    first = BatchRunner(plan_batch(spec_for(tree)), on_result=on_result, task=task).run()
    assert first.cancelled and len(first.done) == 1
    assert first.with_status(CANCELLED), "the files not started are listed"
    manifest = Manifest(tree.parent / "out")
    assert len(manifest) == 1 and manifest.lookup(finished[0]) is not None

    second = run_batch(spec_for(tree))
    rows = by_input(second)
    assert rows[finished[0]][0] == SKIPPED and "already done" in rows[finished[0]][2]
    assert len(second.done) == 3 and not second.cancelled


def test_a_torn_manifest_line_is_ignored_and_repaired(tree: Path, bundled_upscalers) -> None:
    run_batch(spec_for(tree))
    path = tree.parent / "out" / MANIFEST_NAME
    lines = path.read_text().splitlines()
    done = [line for line in lines if json.loads(line)["type"] == "done"]
    path.write_text("\n".join(lines[:-1]) + "\n" + done[-1][: len(done[-1]) // 2])  # a crash mid-line
    skipping = by_input(run_batch(spec_for(tree)))  # default rule: an output without a line is kept, not redone
    assert [row[2] for row in skipping.values() if row[0] == SKIPPED].count("the output exists: sub/deeper/d.webp") == 1
    rows = by_input(run_batch(spec_for(tree, rule=OutputRule(conflict="overwrite"))))
    redone = [name for name, row in rows.items() if row[0] == DONE]
    assert redone == ["sub/deeper/d.webp"], "only the file whose line was torn is done again"
    assert len(Manifest(tree.parent / "out")) == 4


def test_a_missing_model_stops_the_batch_before_any_work(tree: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        run_batch(spec_for(tree))
    assert not (tree.parent / "out").exists()


def test_progress_reports_counts_fraction_and_eta(tree: Path, bundled_upscalers) -> None:
    statuses = []
    run_batch(spec_for(tree), on_status=statuses.append)
    last = statuses[-1]
    assert (last.total, last.finished, last.done, last.failed, last.fraction) == (6, 6, 4, 2, 1.0)
    fractions = [s.fraction for s in statuses]
    assert fractions == sorted(fractions)
    assert any(s.eta is not None for s in statuses)


def test_pause_holds_the_run_and_resume_finishes_it(tmp_path: Path, models, model_dirs) -> None:
    models("heavy", "slow.onnx", model_dirs["bundled"], channels=32, layers=4,
           metadata=onnx_models.card("denoise", "denoise", 1, receptive_radius="6"))
    for index in range(4):
        write_photo(tmp_path / "in" / f"p{index}.png", (64, 64), seed=index)
    results = []
    runner = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "out", load_pipeline("denoise"))),
                         on_result=results.append)
    runner.pause()
    thread = threading.Thread(target=runner.run)
    thread.start()
    time.sleep(0.6)
    assert results == [] and runner.paused, "nothing finishes while paused"
    runner.resume()
    thread.join(60)
    assert [r.status for r in results] == [DONE] * 4


def test_cancel_while_paused_stops_at_once(tmp_path: Path, bundled_upscalers) -> None:
    for index in range(3):
        write_photo(tmp_path / "in" / f"p{index}.png", seed=index)
    task = Task()
    runner = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "out", load_pipeline("upscale-x2"))),
                         task=task)
    runner.pause()
    threading.Timer(0.3, task.cancel).start()
    report = runner.run()
    assert report.cancelled and len(report.with_status(CANCELLED)) == 3
    assert not [p for p in (tmp_path / "out").iterdir() if p.suffix == ".png"]


def test_report_csv(tree: Path, bundled_upscalers, tmp_path: Path) -> None:
    report = run_batch(spec_for(tree))
    text = report.to_csv(tmp_path / "report.csv").read_text()
    lines = text.splitlines()
    assert lines[0] == "input,status,output,reason,seconds"
    assert any(line.startswith("broken.png,failed,,") for line in lines)
    assert any(line.startswith("notes.txt,skipped,,not an image") for line in lines)
    assert "4 done, 1 skipped, 2 failed" in report.summary()


def test_the_output_template_cannot_overwrite_an_input(tmp_path: Path, bundled_upscalers) -> None:
    source = write_photo(tmp_path / "photos" / "raw" / "a.png")
    before = source.read_bytes()
    # The output folder is the input's parent: "raw/a.png" mirrored would land on the input itself.
    spec = BatchSpec(tmp_path / "photos" / "raw", tmp_path / "photos", load_pipeline("upscale-x2"),
                     rule=OutputRule(template="raw/{stem}.{ext}", conflict="overwrite"))
    report = run_batch(spec)
    assert report.results[0].status == SKIPPED and "is an input file" in report.results[0].reason
    assert source.read_bytes() == before


@pytest.mark.parametrize("queue_size", [1, 2])
def test_cancel_mid_run_never_deadlocks(tmp_path: Path, bundled_upscalers, queue_size: int) -> None:
    for index in range(8):
        write_photo(tmp_path / "in" / f"p{index}.png", seed=index)
    task = Task()
    runner = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", tmp_path / "out", load_pipeline("upscale-x2"))),
                         on_result=lambda result: task.cancel(), task=task, queue_size=queue_size)
    reports = []
    thread = threading.Thread(target=lambda: reports.append(runner.run()))
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the stages stopped"
    assert reports[0].cancelled and len(reports[0].done) <= 1


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_each_output_format_is_written_with_its_suffix_and_reads_back(tmp_path: Path, bundled_upscalers,
                                                                        fmt: str) -> None:
    write_photo(tmp_path / "in" / "a.png", seed=1)
    report = run_batch(spec_for(tmp_path / "in", rule=OutputRule(format=fmt)))
    written = tmp_path / "out" / f"a{FORMATS[fmt].suffix}"
    assert by_input(report)["a.png"][:2] == (DONE, written.name)
    back = load_image(written)
    source = load_image(tmp_path / "in" / "a.png")
    assert back.meta.format == fmt and (back.width, back.height) == (source.width * 2, source.height * 2)
    if not FORMATS[fmt].lossy:  # a nearest-neighbour ×2: every pixel is one of the input's, exactly
        assert np.array_equal(back.rgb[::2, ::2], source.rgb)
