"""HEIC and AVIF photos in the window: open (menu filter, drop), edit, and the first save proposes a copy in the
same format beside the original, with EXIF and the colour profile kept."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from ui_helpers import open_image, run_operation, wait_idle
from imagestudio.core.image import load_image
from imagestudio.core.imageio.formats import PHONE_FORMATS
from imagestudio.ui import dialogs
from imagestudio.ui.main_window import _dropped_image

SUFFIX = {"HEIF": ".heic", "AVIF": ".avif"}


@pytest.mark.skipif(not PHONE_FORMATS, reason="neither pillow-heif nor Pillow's AVIF is available")
@pytest.mark.parametrize("fmt", PHONE_FORMATS)
def test_a_phone_photo_opens_edits_and_saves_as_a_copy_in_its_format(qtbot, window, tmp_path, same_size_models,
                                                                     dialog_recorder, fmt):
    from PySide6.QtCore import QUrl

    y, x = np.mgrid[0:40, 0:56]
    pixels = np.stack([x * 4, y * 6, (x + y) * 2], axis=2).clip(0, 255).astype(np.uint8)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = PILImage.Exif()
    exif[0x010F] = "PhoneCam"
    photo = tmp_path / f"IMG_1234{SUFFIX[fmt]}"
    PILImage.fromarray(pixels).save(photo, format=fmt, quality=95, exif=exif.tobytes(), icc_profile=icc)
    original = photo.read_bytes()
    assert f"*{SUFFIX[fmt]}" in dialogs.IMAGE_FILTER
    assert _dropped_image([QUrl.fromLocalFile(str(photo))]) == photo, "dropping it on the window opens it"

    open_image(qtbot, window, photo)
    assert window.document is not None and window.canvas.display.width == 56 and not dialog_recorder.errors
    run_operation(qtbot, window, "denoise")
    dialog_recorder.accept_suggested = True
    window.files.save_action.trigger()
    wait_idle(qtbot, window)
    copy = photo.with_name(f"IMG_1234_edited{SUFFIX[fmt]}")
    assert dialog_recorder.save_suggestions == [copy] and not dialog_recorder.errors
    saved = load_image(copy)
    assert saved.meta.format == fmt and saved.meta.icc_profile == icc
    read = PILImage.Exif()
    read.load(saved.meta.exif)
    assert read[0x010F] == "PhoneCam"
    assert photo.read_bytes() == original
