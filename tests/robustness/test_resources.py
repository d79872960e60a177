"""Resources running out for real: a full disk and an output folder that vanishes mid-batch, and images too large to
decode, refused from the header with a limit the user can set (GUI Preferences, CLI --max-megapixels, batch spec).

Full disks are a small tmpfs; vanishing folders are deleted or lazily unmounted while the batch runs. Afterwards: the
failing file is reported, no partial or temporary file is left, every manifest line parses and names a complete
output, and a rerun with --resume finishes the job.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fs_helpers import read_only_folder, small_disk
from make_corpus import _png
from PIL import Image as PILImage

from imagestudio.core.batch import DONE, MANIFEST_NAME, BatchRunner, BatchSpec, load_pipeline, plan_batch
from imagestudio.core.errors import ImageTooLargeError
from imagestudio.core.image import load_image

NOISE_SIDE = 48  # random pixels do not compress: each ×2 PNG output is ~27 KB


def noisy_inputs(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        pixels = np.random.default_rng(index).integers(0, 256, (NOISE_SIDE, NOISE_SIDE, 3), dtype=np.uint8)
        path = folder / f"photo-{index:02d}.png"
        PILImage.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def assert_consistent(out: Path) -> list[dict]:
    """No temporary or partial file; every manifest line is JSON and every 'done' line names a loadable output."""
    leftovers = [p.name for p in out.rglob(".*") if p.name != MANIFEST_NAME]
    assert leftovers == [], f"temporary files left: {leftovers}"
    records = [json.loads(line) for line in (out / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()]
    done = [r for r in records if r["type"] == "done"]
    for record in done:
        assert load_image(out / record["output"]).width == NOISE_SIDE * 2
    outputs = sorted(p.name for p in out.iterdir() if p.suffix == ".png")
    assert outputs == sorted(r["output"] for r in done), "an output not in the manifest, or the other way round"
    return records


def test_a_full_disk_fails_the_file_leaves_nothing_partial_and_resume_finishes(tmp_path, bundled_upscalers) -> None:
    inputs = noisy_inputs(tmp_path / "in", 8)
    with small_disk(tmp_path / "out", size_kb=96) as out:
        spec = BatchSpec(tmp_path / "in", out, load_pipeline("upscale-x2"))
        report = BatchRunner(plan_batch(spec)).run()
        failed = {r.input: r.reason for r in report.failed}
        assert report.done and failed, "the disk should fill up partway"
        assert all("the disk is full" in reason or "No space left" in reason for reason in failed.values()), failed
        records = assert_consistent(out)
        assert len([r for r in records if r["type"] == "done"]) == len(report.done)

        subprocess.run(["mount", "-o", "remount,size=2m", str(out)], check=True)  # space freed
        again = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", out, load_pipeline("upscale-x2")))).run()
        assert {r.input for r in again.done} == set(failed)  # only what failed is redone
        assert len(again.skipped) == len(report.done)
        assert len([r for r in assert_consistent(out) if r["type"] == "done"]) == len(inputs)


def test_the_cli_reports_a_full_disk_per_file_and_exits_1(tmp_path, bundled_upscalers) -> None:
    noisy_inputs(tmp_path / "in", 6)
    with small_disk(tmp_path / "out", size_kb=64) as out:
        done = subprocess.run([sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(out),
                               "--pipeline", "upscale-x2", "-q"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "IMAGESTUDIO_THREADS": "1"}, check=False)
        assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout, done.stderr
        failed = [line for line in done.stdout.splitlines() if line.startswith("failed")]
        assert failed and all("disk is full" in line or "No space left" in line for line in failed), done.stdout
        assert_consistent(out)


def _delete(out: Path) -> None:
    shutil.rmtree(out)


def _unmount(out: Path) -> None:
    subprocess.run(["umount", "-l", str(out)], check=True)  # the mount point stays, empty, on the parent disk


@pytest.mark.parametrize("vanish", [_delete, _unmount], ids=["deleted", "unmounted"])
def test_an_output_folder_that_vanishes_stops_the_batch_and_is_not_recreated(tmp_path, bundled_upscalers,
                                                                            vanish) -> None:
    noisy_inputs(tmp_path / "in", 6)
    out = tmp_path / "out"
    mounted = vanish is _unmount
    context = small_disk(out, size_kb=4096) if mounted else None
    if context is not None:
        context.__enter__()
    try:
        gone: list[str] = []

        def on_result(result) -> None:  # noqa: ANN001 - runs on the writer thread, between two files
            if result.status == DONE and not gone:
                gone.append(result.input)
                vanish(out)

        report = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", out, load_pipeline("upscale-x2"))),
                             on_result=on_result).run()
        assert [r.input for r in report.done] == gone
        assert len(report.failed) == 5 and not report.cancelled
        assert all("output folder" in r.reason and "disappeared" in r.reason for r in report.failed)
        assert not out.exists() or list(out.iterdir()) == []  # nothing written where the folder used to be
    finally:
        if context is not None:
            context.__exit__(None, None, None)


# ---------------------------------------------------------------- too large: refused before decoding


def header_only_png(path: Path, width: int, height: int) -> Path:
    """A header declaring width×height over junk pixel data: decoding it would fail as 'damaged'."""
    path.write_bytes(_png(width, height, idat=b"junk"))
    return path


def test_the_batch_refuses_a_too_large_input_before_decoding(tmp_path, bundled_upscalers) -> None:
    noisy_inputs(tmp_path / "in", 2)
    header_only_png(tmp_path / "in" / "huge.png", 3000, 2000)
    spec = BatchSpec(tmp_path / "in", tmp_path / "out", load_pipeline("upscale-x2"), max_pixels=5_000_000)
    report = BatchRunner(plan_batch(spec)).run()
    [failure] = report.failed
    assert failure.input == "huge.png" and "over the limit of 5 megapixels" in failure.reason
    assert len(report.done) == 2


def test_the_gui_limit_is_a_preference_and_the_dialog_names_it(qtbot, window, recorded, wait_idle,
                                                              tmp_path) -> None:
    from imagestudio.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window)
    assert dialog.max_megapixels.value() == 200  # the default, shown
    dialog.max_megapixels.setValue(2)
    dialog.apply()
    window.apply_settings()
    big = header_only_png(tmp_path / "big.png", 2000, 1500)  # 3 MP
    window.files.open_path(big)
    wait_idle(window)
    [(title, message)] = recorded.errors
    assert title == "Could not open the image"
    assert "over the limit of 2 megapixels" in message and "Preferences" in message  # refused from the header
    assert window.document is None

    dialog.max_megapixels.setValue(4)
    dialog.apply()
    window.files.open_path(big)
    wait_idle(window)
    assert "damaged" in recorded.errors[-1][1]  # now allowed: it gets to decoding, which finds the junk


def test_the_default_limit_and_the_error_type(tmp_path) -> None:
    from imagestudio.core.image import DEFAULT_MAX_PIXELS

    with pytest.raises(ImageTooLargeError, match=f"over the limit of {DEFAULT_MAX_PIXELS / 1e6:g} megapixels"):
        load_image(header_only_png(tmp_path / "h.png", 20_000, 12_000))


# ---------------------------------------------------------------- the manifest itself on a full disk


def test_a_manifest_line_cut_short_by_a_full_disk_is_removed(tmp_path) -> None:
    """write() on a full disk stores what fits in the last page and returns a short count: a torn line that
    would otherwise swallow the next record. The manifest must keep whole lines only."""
    from imagestudio.core.batch import Manifest
    from imagestudio.core.errors import BatchError

    with small_disk(tmp_path / "out", size_kb=16) as out:
        manifest = Manifest(out)
        path = out / MANIFEST_NAME
        while (path.stat().st_size if path.exists() else 0) < 4096 - 150:  # most of a page; a record is ~200 B
            manifest.record(f"in-{len(manifest)}.png", "a" * 64, "b" * 64, f"in-{len(manifest)}.png")
        filler = out / "filler"
        with open(filler, "wb", buffering=0) as file:  # every other page of the disk
            try:
                while file.write(b"\0" * 4096):
                    pass
            except OSError:
                pass
        long_name = "x" * 400  # longer than the room left in the manifest's last page
        with pytest.raises(BatchError, match="cannot write the batch manifest"):
            manifest.record(long_name, "a" * 64, "b" * 64, long_name)
        text = (out / MANIFEST_NAME).read_text(encoding="utf-8")
        assert text.endswith("\n") and all(json.loads(line) for line in text.splitlines())
        filler.unlink()
        manifest.record("after.png", "a" * 64, "b" * 64, "after.png")
        reread = Manifest(out)
        assert reread.lookup("after.png") is not None and reread.lookup(long_name) is None


def test_an_output_whose_manifest_line_cannot_be_written_is_removed(tmp_path, bundled_upscalers) -> None:
    """The image is in place but the manifest refuses its line: a FAILED file must leave no output behind."""
    if not shutil.which("chattr"):
        pytest.skip("needs chattr to make the manifest immutable")
    noisy_inputs(tmp_path / "in", 4)
    out = tmp_path / "out"
    locked: list[Path] = []

    def on_result(result) -> None:
        if result.status == DONE and not locked:
            if subprocess.run(["chattr", "+i", str(out / MANIFEST_NAME)], check=False).returncode != 0:
                pytest.skip("this file system does not support chattr +i")
            locked.append(out / MANIFEST_NAME)

    try:
        report = BatchRunner(plan_batch(BatchSpec(tmp_path / "in", out, load_pipeline("upscale-x2"))),
                             on_result=on_result).run()
    finally:
        for path in locked:
            subprocess.run(["chattr", "-i", str(path)], check=False)
    assert len(report.done) == 1 and len(report.failed) == 3
    assert all("cannot write the batch manifest" in r.reason for r in report.failed)
    assert_consistent(out)


def test_a_batch_into_a_read_only_folder_is_one_line_and_writes_nothing(tmp_path, bundled_upscalers) -> None:
    noisy_inputs(tmp_path / "in", 2)
    with read_only_folder(tmp_path / "locked") as out:
        done = subprocess.run([sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(out),
                               "--pipeline", "upscale-x2", "-q"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "IMAGESTUDIO_THREADS": "1"}, check=False)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith("imagestudio: cannot write the batch manifest") and "not permitted" in line.lower()
        assert list(out.iterdir()) == []
