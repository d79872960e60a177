"""No photo is ever lost: every way of saving or replacing the open picture, checked on the bytes of real files.

An opened photo's first Save is a Save As proposing `<stem>_edited.<ext>`; writing over the opened file needs a
separate yes; the unsaved-changes prompt saves the same way and then resumes the Open/Close/Quit it interrupted;
a gallery image opens as a new untitled document.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ui_helpers import choose_model, open_image, run_operation, wait_idle
from imagestudio.core.image import save_image
from imagestudio.ui.dialogs import SaveTarget


def reference_bytes(window, tmp_path: Path, fmt: str, quality: int = 95) -> bytes:
    """What the core writes for the shown image with these options, to compare a saved file with."""
    suffix = {"JPEG": ".jpg", "PNG": ".png"}[fmt]
    reference = tmp_path / "reference" / f"expected{suffix}"
    reference.parent.mkdir(exist_ok=True)
    save_image(window.document.image, reference, format=fmt, quality=quality, keep_metadata=True)
    return reference.read_bytes()


@pytest.fixture
def edited_jpeg(qtbot, window, make_photo, same_size_models):
    """holiday.jpg opened and denoised (unsaved), with the file's bytes as they were."""
    photo = make_photo("holiday.jpg", 40, 30)
    original = photo.read_bytes()
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    assert not window.undo_stack.isClean()
    return photo, original


def test_ctrl_s_on_an_edited_photo_is_a_save_as_beside_it_and_later_saves_go_there(
        qtbot, window, edited_jpeg, dialog_recorder, tmp_path):
    photo, original = edited_jpeg
    edited_file = photo.with_name("holiday_edited.jpg")
    dialog_recorder.accept_suggested = True
    window.files.save_action.trigger()
    wait_idle(qtbot, window)
    assert dialog_recorder.save_suggestions == [edited_file]
    assert photo.read_bytes() == original, "the opened photo was written"
    assert edited_file.read_bytes() == reference_bytes(window, tmp_path, "JPEG")
    assert window.undo_stack.isClean() and window.windowTitle() == "ImageStudio — holiday_edited.jpg"
    assert not dialog_recorder.overwrite_prompts and not dialog_recorder.errors

    run_operation(qtbot, window, "denoise")  # a second edit: Save now writes the user's own file, unasked
    window.files.save_action.trigger()
    wait_idle(qtbot, window)
    assert len(dialog_recorder.save_suggestions) == 1
    assert edited_file.read_bytes() == reference_bytes(window, tmp_path, "JPEG")
    assert photo.read_bytes() == original


def test_the_proposed_name_never_takes_an_existing_file(qtbot, window, edited_jpeg, dialog_recorder):
    photo, _original = edited_jpeg
    earlier = photo.with_name("holiday_edited.jpg")
    earlier.write_bytes(b"an earlier session's result")
    dialog_recorder.accept_suggested = True
    window.files.save_action.trigger()
    wait_idle(qtbot, window)
    assert dialog_recorder.save_suggestions == [photo.with_name("holiday_edited-2.jpg")]
    assert earlier.read_bytes() == b"an earlier session's result"


def test_overwriting_the_original_needs_its_own_yes_and_says_it_is_lossy(qtbot, window, edited_jpeg,
                                                                         dialog_recorder, tmp_path):
    photo, original = edited_jpeg
    dialog_recorder.save_target = SaveTarget(photo, "JPEG", 90, True)  # the user picked the original's name
    dialog_recorder.overwrite_answer = False
    window.files.save_as_action.trigger()
    wait_idle(qtbot, window)
    assert dialog_recorder.overwrite_prompts == ["holiday.jpg JPEG 90"]
    assert photo.read_bytes() == original and not window.undo_stack.isClean()

    dialog_recorder.overwrite_answer = True
    window.files.save_as_action.trigger()
    wait_idle(qtbot, window)
    written = photo.read_bytes()
    assert written != original and written == reference_bytes(window, tmp_path, "JPEG", quality=90)
    assert window.undo_stack.isClean() and not dialog_recorder.errors


def test_export_onto_the_original_asks_too(qtbot, window, edited_jpeg, dialog_recorder):
    photo, original = edited_jpeg
    dialog_recorder.save_target = SaveTarget(photo, "JPEG", 95, True)
    window.files.export_action.trigger()
    wait_idle(qtbot, window)
    assert dialog_recorder.overwrite_prompts == ["holiday.jpg JPEG 95"]
    assert photo.read_bytes() == original and not dialog_recorder.errors


def test_unsaved_prompt_save_on_open_saves_beside_the_photo_then_opens_the_other_file(
        qtbot, window, edited_jpeg, make_photo, dialog_recorder, tmp_path):
    photo, original = edited_jpeg
    expected = reference_bytes(window, tmp_path, "JPEG")
    other = make_photo("other.png", 20, 10, seed=3)
    dialog_recorder.unsaved_answer = "save"
    dialog_recorder.accept_suggested = True
    window.files.open_path(other)
    qtbot.waitUntil(lambda: window.document.path == other and not window.runner.busy, timeout=30_000)
    assert dialog_recorder.unsaved_prompts == ["holiday.jpg"]
    assert photo.read_bytes() == original
    assert photo.with_name("holiday_edited.jpg").read_bytes() == expected
    assert window.undo_stack.isClean() and window.canvas.display.width == 20


def test_unsaved_prompt_save_on_close_saves_then_closes(qtbot, window, edited_jpeg, dialog_recorder, tmp_path):
    photo, original = edited_jpeg
    expected = reference_bytes(window, tmp_path, "JPEG")
    dialog_recorder.unsaved_answer = "save"
    dialog_recorder.accept_suggested = True
    assert not window.files.close_document()  # not yet: it closes once the save has been written
    qtbot.waitUntil(lambda: window.document is None and not window.runner.busy, timeout=30_000)
    assert photo.with_name("holiday_edited.jpg").read_bytes() == expected
    assert photo.read_bytes() == original


def test_unsaved_prompt_save_on_quit_saves_beside_the_photo_then_quits(qtbot, window, edited_jpeg,
                                                                       dialog_recorder, tmp_path):
    photo, original = edited_jpeg
    expected = reference_bytes(window, tmp_path, "JPEG")
    dialog_recorder.unsaved_answer = "save"
    dialog_recorder.accept_suggested = True
    assert not window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert photo.with_name("holiday_edited.jpg").read_bytes() == expected
    assert photo.read_bytes() == original


@pytest.mark.parametrize("step", ["save as", "overwrite"])
def test_cancelling_the_save_keeps_the_document_and_drops_the_close(qtbot, window, edited_jpeg, dialog_recorder,
                                                                    step):
    photo, original = edited_jpeg
    dialog_recorder.unsaved_answer = "save"
    if step == "overwrite":  # the user picked the original's own name, then said no to overwriting it
        dialog_recorder.save_target = SaveTarget(photo, "JPEG", 95, True)
    assert not window.files.close_document()
    wait_idle(qtbot, window)
    assert window.document is not None and not window.undo_stack.isClean()
    assert photo.read_bytes() == original
    assert sorted(p.name for p in photo.parent.iterdir() if p.suffix == ".jpg") == ["holiday.jpg"]

    dialog_recorder.accept_suggested = True  # a later, unrelated save must not close the document
    window.files.save_action.trigger()
    wait_idle(qtbot, window)
    qtbot.wait(50)
    assert window.document is not None and window.undo_stack.isClean()


def test_discard_in_the_prompt_writes_nothing(qtbot, window, edited_jpeg, make_photo, dialog_recorder):
    photo, original = edited_jpeg
    before = sorted(photo.parent.iterdir())
    other = make_photo("other.png", seed=4)
    open_image(qtbot, window, other)
    assert dialog_recorder.unsaved_prompts == ["holiday.jpg"] and window.document.path == other
    assert photo.read_bytes() == original
    assert sorted(photo.parent.iterdir()) == sorted([*before, other] if other not in before else before)


def test_open_during_a_job_can_wait_for_it(qtbot, window, make_photo, same_size_models, dialog_recorder):
    first, second = make_photo("first.png", 256, 256), make_photo("second.png", 30, 20, seed=2)
    window.settings.set("processing/tile_size", 64)  # many tiles: time to ask while it runs
    open_image(qtbot, window, first)
    choose_model(window, "denoise", "slow-denoise")
    window.operations.actions["denoise"].trigger()
    assert window.runner.busy
    assert window.files.open_action.isEnabled(), "Open is offered while a job runs"
    window.files.open_path(second)
    assert dialog_recorder.busy_open_prompts == [("second.png", "Denoise")]
    assert window.document.path == first, "nothing opens before the job has finished"
    dialog_recorder.unsaved_answer = "discard"  # the edit lands first, so the switch asks about it
    qtbot.waitUntil(lambda: window.document.path == second and not window.runner.busy, timeout=60_000)
    assert dialog_recorder.unsaved_prompts == ["first.png"]


def test_open_during_a_job_can_stop_it(qtbot, window, make_photo, same_size_models, dialog_recorder):
    first, second = make_photo("first.png", 256, 256), make_photo("second.png", 30, 20, seed=2)
    window.settings.set("processing/tile_size", 64)  # many tiles: time to ask while it runs
    open_image(qtbot, window, first)
    choose_model(window, "denoise", "slow-denoise")
    window.operations.actions["denoise"].trigger()
    dialog_recorder.busy_open_answer = "stop"
    window.files.open_path(second)
    qtbot.waitUntil(lambda: window.document.path == second and not window.runner.busy, timeout=60_000)
    assert not dialog_recorder.unsaved_prompts, "the stopped edit left nothing unsaved"


def test_open_during_a_job_can_be_cancelled(qtbot, window, make_photo, same_size_models, dialog_recorder):
    first, second = make_photo("first.png", 256, 256), make_photo("second.png", 30, 20, seed=2)
    window.settings.set("processing/tile_size", 64)  # many tiles: time to ask while it runs
    open_image(qtbot, window, first)
    choose_model(window, "denoise", "slow-denoise")
    window.operations.actions["denoise"].trigger()
    dialog_recorder.busy_open_answer = "cancel"
    window.files.open_path(second)
    wait_idle(qtbot, window, timeout=60_000)
    qtbot.wait(50)
    assert window.document.path == first and window.runner.queued == 0
