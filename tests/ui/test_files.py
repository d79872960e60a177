"""Save, Save As, Export and the unsaved-changes prompt, with metadata carried over."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from ui_helpers import open_image, run_operation, wait_idle
from imagestudio.core.image import load_image
from imagestudio.ui.dialogs import SaveTarget

CAMERA_MAKE = 0x010F


@pytest.fixture
def camera_jpeg(tmp_path):
    """A JPEG with EXIF (camera make) and an sRGB ICC profile, as a camera would write it."""
    pixels = np.random.default_rng(5).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    exif = PILImage.Exif()
    exif[CAMERA_MAKE] = "TestCam"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "camera.jpg"
    PILImage.fromarray(pixels).save(path, quality=95, exif=exif.tobytes(), icc_profile=icc)
    return path, icc


def test_save_as_then_reopen_keeps_the_edit_and_the_metadata(qtbot, window, camera_jpeg, same_size_models,
                                                            dialog_recorder, tmp_path):
    source, icc = camera_jpeg
    open_image(qtbot, window, source)
    run_operation(qtbot, window, "denoise")
    edited = window.document.image.rgb.copy()
    target = tmp_path / "out" / "edited.png"
    target.parent.mkdir()
    dialog_recorder.save_target = SaveTarget(target, "PNG", 95, keep_metadata=True)
    window.files.save_as_action.trigger()
    wait_idle(qtbot, window)
    assert not dialog_recorder.errors
    assert window.undo_stack.isClean() and window.windowTitle() == "ImageStudio — edited.png"

    window.files.close_document()
    open_image(qtbot, window, target)
    reopened = window.document.image
    np.testing.assert_allclose(reopened.rgb, edited, atol=1 / 255 + 1e-6)  # 8-bit PNG: rounding only
    assert reopened.meta.icc_profile == icc
    exif = PILImage.Exif()
    exif.load(reopened.meta.exif)
    assert exif[CAMERA_MAKE] == "TestCam"
    assert load_image(source).rgb.shape == reopened.rgb.shape, "the input was not touched"


def test_save_after_save_as_writes_the_chosen_file_and_marks_it_clean(qtbot, window, photo, same_size_models,
                                                                     dialog_recorder, tmp_path):
    open_image(qtbot, window, photo)
    original = photo.read_bytes()
    run_operation(qtbot, window, "denoise")
    dialog_recorder.accept_suggested = True
    window.files.save_action.trigger()  # the first save of an opened photo asks where
    wait_idle(qtbot, window)
    mine = photo.with_name("photo_edited.png")
    run_operation(qtbot, window, "denoise")
    window.files.save_action.trigger()  # then Save writes there
    wait_idle(qtbot, window)
    assert window.undo_stack.isClean() and len(dialog_recorder.save_suggestions) == 1
    np.testing.assert_allclose(load_image(mine).rgb, window.document.image.rgb, atol=1 / 255 + 1e-6)
    assert photo.read_bytes() == original


def test_export_writes_a_copy_without_changing_the_document(qtbot, window, photo, same_size_models,
                                                           dialog_recorder, tmp_path):
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    copy = tmp_path / "copy.jpg"
    dialog_recorder.save_target = SaveTarget(copy, "JPEG", 80, keep_metadata=False)
    window.files.export_action.trigger()
    wait_idle(qtbot, window)
    assert copy.is_file() and load_image(copy).meta.format == "JPEG"
    assert window.document.path == photo and not window.undo_stack.isClean()


def test_a_failed_save_is_a_dialog(qtbot, window, photo, same_size_models, dialog_recorder, tmp_path):
    open_image(qtbot, window, photo)
    dialog_recorder.save_target = SaveTarget(tmp_path / "missing-folder" / "x.png", "PNG", 95, True)
    window.files.save_as()
    wait_idle(qtbot, window)
    [(title, _message)] = dialog_recorder.errors
    assert title == "Could not save the image"


def test_quit_with_unsaved_changes_asks_and_cancel_keeps_the_window(qtbot, window, photo, same_size_models,
                                                                    dialog_recorder):
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    dialog_recorder.unsaved_answer = "cancel"
    assert not window.close()
    assert window.isVisible() and dialog_recorder.unsaved_prompts == ["photo.png"]
    dialog_recorder.unsaved_answer = "discard"
    assert window.close()


def test_quit_with_save_saves_beside_the_photo_first_then_closes(qtbot, window, photo, same_size_models,
                                                                  dialog_recorder):
    open_image(qtbot, window, photo)
    original = photo.read_bytes()
    run_operation(qtbot, window, "denoise")
    edited = window.document.image.rgb.copy()
    dialog_recorder.unsaved_answer = "save"
    dialog_recorder.accept_suggested = True
    window.close()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    np.testing.assert_allclose(load_image(photo.with_name("photo_edited.png")).rgb, edited, atol=1 / 255 + 1e-6)
    assert photo.read_bytes() == original


def test_save_options_say_when_the_format_is_lossy(qtbot):
    from imagestudio.ui.dialogs import SaveOptionsDialog

    dialog = SaveOptionsDialog("JPEG", 90, True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.lossy_note.isVisible() and "lossy" in dialog.lossy_note.text()
    dialog._format.setCurrentText("PNG")
    assert not dialog.lossy_note.isVisible()


def test_the_bmp_preference_saves_a_bmp_that_reads_back(qtbot, window, photo, same_size_models, dialog_recorder):
    window.settings.set("output/format", "BMP")
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    dialog_recorder.accept_suggested = True
    window.files.save_action.trigger()
    wait_idle(qtbot, window)
    written = photo.with_name("photo_edited.bmp")
    assert not dialog_recorder.errors and dialog_recorder.save_suggestions == [written]
    back = load_image(written)
    assert back.meta.format == "BMP"
    np.testing.assert_allclose(back.rgb, window.document.image.rgb, atol=1 / 255 + 1e-6)
