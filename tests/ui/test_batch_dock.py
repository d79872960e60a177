"""The Batch dock end to end: real (tiny) ONNX models, a folder of good, corrupt and non-image files, preview,
run in the background while the window stays usable, pause, cancel, resume, the history as the pipeline, CSV."""

from __future__ import annotations

import re
from pathlib import Path

import onnx_models
import pytest
from photo_files import write_photo
from PIL import Image as PILImage
from ui_helpers import JOB_TIMEOUT_MS, open_image, run_operation

from imagestudio.core.batch import MANIFEST_NAME
from imagestudio.ui.batch_dock import HISTORY, PRESET, BatchDock


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    write_photo(root / "a.png", seed=1)
    write_photo(root / "sub" / "b.jpg", seed=2)
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "readme.txt").write_text("not an image")
    write_photo(root / ".hidden.png")
    return root


def wait_batch(qtbot, dock: BatchDock) -> None:
    qtbot.waitUntil(lambda: not dock.runner.busy, timeout=JOB_TIMEOUT_MS)


def set_up(dock: BatchDock, source: Path, out: Path, pipeline: str = "upscale-x2", **options) -> None:
    dock.input_edit.setText(str(source))
    dock.output_edit.setText(str(out))
    dock.recursive.setChecked(options.get("recursive", True))
    dock.template_edit.setText(options.get("template", "{stem}_x2.{ext}"))
    dock.choose_pipeline(pipeline, options.get("preset"))


def test_choose_folders_through_the_dialogs(qtbot, window, dialog_recorder, folder, tmp_path) -> None:
    dock = window.batch_dock
    dialog_recorder.folders.extend([folder, tmp_path / "out"])
    buttons = [b for b in dock.widget().findChildren(type(dock.run_button)) if b.text() == "…"]
    for button in buttons:
        button.click()
    assert (dock.input_edit.text(), dock.output_edit.text()) == (str(folder), str(tmp_path / "out"))


def test_preview_lists_outputs_and_writes_nothing(qtbot, window, folder, tmp_path, bundled_upscalers) -> None:
    dock = window.batch_dock
    set_up(dock, folder, tmp_path / "out")
    dock.preview_button.click()
    wait_batch(qtbot, dock)
    assert dock.cell("a.png", 1) == "a_x2.png" and dock.cell("sub/b.jpg", 1) == "sub/b_x2.jpg"
    assert dock.cell("a.png", 2) == "to do"
    rows = {dock.table.item(r, 0).text(): dock.table.item(r, 3).text() for r in range(dock.table.rowCount())}
    assert "not an image" in rows["readme.txt"] and ".hidden.png" not in rows
    assert not (tmp_path / "out").exists()


def test_run_reports_each_file_and_exports_csv(qtbot, window, folder, tmp_path, bundled_upscalers,
                                               dialog_recorder) -> None:
    dock = window.batch_dock
    set_up(dock, folder, tmp_path / "out")
    dock.run_button.click()
    assert dock.runner.busy and not window.runner.busy, "the batch runs beside editing, not instead of it"
    assert window.files.open_action.isEnabled()
    wait_batch(qtbot, dock)
    assert (dock.cell("a.png", 2), dock.cell("sub/b.jpg", 2), dock.cell("corrupt.png", 2)) == \
        ("done", "done", "failed")
    assert PILImage.open(tmp_path / "out" / "sub" / "b_x2.jpg").size == (48, 32)
    assert dock.status_label.text().startswith("Finished: 2 done, 1 skipped, 1 failed")
    assert dock.overall.value() == 100
    dialog_recorder.save_path = tmp_path / "report.csv"
    assert dock.export_button.isEnabled()
    dock.export_button.click()
    lines = (tmp_path / "report.csv").read_text().splitlines()
    assert lines[0].startswith("input,status") and any(line.startswith("corrupt.png,failed") for line in lines)

    dock.run_button.click()  # a rerun skips everything that is done
    wait_batch(qtbot, dock)
    assert dock.cell("a.png", 2) == "skipped" and "already done" in dock.cell("a.png", 3)


def test_a_bad_setup_is_a_dialog_not_a_crash(qtbot, window, dialog_recorder, folder, tmp_path) -> None:
    dock = window.batch_dock
    dock.run_button.click()
    set_up(dock, folder, tmp_path / "out", template="../{stem}.{ext}")
    dock.run_button.click()
    set_up(dock, folder, tmp_path / "out", pipeline=HISTORY)
    dock.run_button.click()
    set_up(dock, folder, tmp_path / "out")  # no upscale model installed
    dock.run_button.click()
    wait_batch(qtbot, dock)
    messages = [message for _title, message in dialog_recorder.errors]
    assert "choose both an input folder and an output folder" in messages[0]
    assert "inside the output folder" in messages[1] or "'..'" in messages[1]
    assert "no edits in its history" in messages[2]
    assert "no model is installed for upscale" in messages[3]
    assert not (tmp_path / "out").exists()


def test_the_current_image_history_is_the_pipeline(qtbot, window, folder, tmp_path, photo,
                                                   bundled_upscalers) -> None:
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "upscale4")
    dock = window.batch_dock
    set_up(dock, folder, tmp_path / "out", pipeline=HISTORY, template="{stem}.png")
    dock.format_combo.setCurrentIndex(dock.format_combo.findData("PNG"))
    dock.run_button.click()
    wait_batch(qtbot, dock)
    assert PILImage.open(tmp_path / "out" / "a.png").size == (96, 64)
    assert PILImage.open(tmp_path / "out" / "sub" / "b.png").format == "PNG"


def test_a_preset_file_is_the_pipeline(qtbot, window, folder, tmp_path, bundled_upscalers,
                                       dialog_recorder) -> None:
    from imagestudio.core.batch import load_pipeline

    preset = tmp_path / "x4.json"
    preset.write_text(load_pipeline("upscale-x4").to_json())
    dock = window.batch_dock
    dialog_recorder.preset_path = preset
    dock.pipeline_combo.setCurrentIndex(dock.pipeline_combo.findData(PRESET))
    dock.pipeline_combo.activated.emit(dock.pipeline_combo.currentIndex())
    assert dock.pipeline_combo.currentText() == "Preset x4.json"
    set_up(dock, folder, tmp_path / "out", pipeline=PRESET, preset=preset, recursive=False)
    dock.run_button.click()
    wait_batch(qtbot, dock)
    assert PILImage.open(tmp_path / "out" / "a_x2.png").size == (96, 64)


def _done_count(status: str) -> int:
    match = re.search(r"(\d+) done", status)
    return int(match.group(1)) if match else 0


def test_pause_cancel_and_resume(qtbot, window, tmp_path, models, model_dirs) -> None:
    models("heavy", "slow.onnx", model_dirs["bundled"], channels=32, layers=6,
           metadata=onnx_models.card("denoise", "denoise", 1, receptive_radius="8"))
    for index in range(6):
        write_photo(tmp_path / "in" / f"p{index}.png", (96, 96), seed=index)
    dock = window.batch_dock
    set_up(dock, tmp_path / "in", tmp_path / "out", pipeline="denoise", template="{stem}.{ext}")
    dock.run_button.click()
    qtbot.waitUntil(lambda: dock.pause_button.isEnabled(), timeout=JOB_TIMEOUT_MS)
    # At least one file done: polling can miss the moment the label reads exactly "1 done" on a fast machine.
    qtbot.waitUntil(lambda: _done_count(dock.status_label.text()) >= 1, timeout=JOB_TIMEOUT_MS)
    dock.pause_button.click()
    assert dock.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: "paused" in dock.status_label.text(), timeout=JOB_TIMEOUT_MS)
    qtbot.wait(300)  # the writer still saves what the model had finished
    done_while_paused = dock.status_label.text()
    qtbot.wait(400)
    assert dock.status_label.text() == done_while_paused, "nothing moves while paused"
    assert "left" in done_while_paused, "an estimate of the time left is shown"
    dock.cancel_button.click()
    wait_batch(qtbot, dock)
    assert dock.status_label.text().startswith("Cancelled:")
    finished = len(dock.report.done)
    assert 1 <= finished < 6 and dock.pause_button.text() == "Pause"
    assert (tmp_path / "out" / MANIFEST_NAME).is_file()

    dock.run_button.click()  # resumes: the finished files are skipped, the rest are done
    wait_batch(qtbot, dock)
    assert len(dock.report.skipped) == finished and len(dock.report.done) == 6 - finished


def test_the_batch_settings_are_remembered_across_a_restart(qtbot, window, folder, tmp_path) -> None:
    from imagestudio.ui.main_window import MainWindow
    from imagestudio.ui.settings import AppSettings

    preset = tmp_path / "look.json"
    preset.write_text('{"steps": [{"op": "upscale", "params": {"scale": 2}}]}')
    dock = window.batch_dock
    set_up(dock, folder, tmp_path / "out", PRESET, preset=preset, template="{stem}_big.{ext}")
    dock.include_edit.setText("*.png")
    dock.exclude_edit.setText("raw/*")
    dock.format_combo.setCurrentIndex(dock.format_combo.findData("PNG"))
    dock.quality.setValue(80)
    dock.conflict_combo.setCurrentIndex(2)
    dock.resume_check.setChecked(False)
    window.close()  # a clean exit writes the settings

    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    restored = again.batch_dock
    assert (restored.input_edit.text(), restored.output_edit.text()) == (str(folder), str(tmp_path / "out"))
    assert restored.recursive.isChecked() and not restored.resume_check.isChecked()
    assert (restored.include_edit.text(), restored.exclude_edit.text()) == ("*.png", "raw/*")
    assert restored.template_edit.text() == "{stem}_big.{ext}" and restored.quality.value() == 80
    assert restored.format_combo.currentData() == "PNG"
    assert restored.conflict_combo.currentIndex() == 2
    assert restored.pipeline_combo.currentData() == PRESET and restored.pipeline_combo.currentText() == "Preset look.json"
    assert restored.pipeline().steps[0].op == "upscale"


def test_a_remembered_preset_that_is_gone_falls_back_to_the_default_pipeline(qtbot, window, tmp_path) -> None:
    from imagestudio.ui.main_window import MainWindow
    from imagestudio.ui.settings import AppSettings

    window.settings.set("batch/pipeline", PRESET)
    window.settings.set("batch/preset", str(tmp_path / "deleted.json"))
    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    assert again.batch_dock.pipeline_combo.currentIndex() == 0


def test_run_on_a_ray_cluster_gives_the_local_outputs(qtbot, window, folder, tmp_path, bundled_upscalers,
                                                      ray_cluster) -> None:
    dock = window.batch_dock
    set_up(dock, folder, tmp_path / "local")
    dock.run_button.click()
    wait_batch(qtbot, dock)
    local = {r.input: (r.status, r.output) for r in dock.report.results}
    set_up(dock, folder, tmp_path / "cluster")
    dock.cluster_edit.setText("auto")  # this process is already the session cluster's driver
    dock.run_button.click()
    wait_batch(qtbot, dock)
    assert {r.input: (r.status, r.output) for r in dock.report.results} == local
    assert dock.cell("corrupt.png", 2) == "failed" and dock.cell("a.png", 2) == "done"
    for name in ("a_x2.png", "sub/b_x2.jpg"):
        assert (tmp_path / "cluster" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert window.settings.get("batch/cluster") == "auto", "remembered with the other batch settings"


def test_a_bad_cluster_address_is_said_before_any_work(qtbot, window, dialog_recorder, folder, tmp_path,
                                                       bundled_upscalers) -> None:
    dock = window.batch_dock
    set_up(dock, folder, tmp_path / "out")
    dock.cluster_edit.setText("ray://no port here")
    assert dock.run() is None
    assert "not a Ray cluster address" in dialog_recorder.errors[-1][1]
    assert not (tmp_path / "out").exists()
