"""The Gallery dock end to end: real (tiny) generative ONNX models on the worker, the grid filling in chunks,
blends, variations, Open in canvas as an undoable step, upscaling it and saving; then the shipped models."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import generative_models
import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton
from ui_helpers import open_image, run_operation, wait_idle

from imagestudio.core.gallery import GAN, VAE, reproduce
from imagestudio.core.image import load_image
from imagestudio.core.ops.generate import generate
from imagestudio.ui.main_window import MainWindow

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "models"
SHIPPED_NAMES = ("generate-gan", "vae-encoder", "vae-decoder")
MAX_GUI_GAP_S = 0.100  # as in test_edits: the GUI thread must keep ticking while models run


@pytest.fixture
def tiny_models(model_dirs: dict[str, Path]) -> dict[str, Path]:
    return generative_models.install_all(model_dirs["bundled"])


def generate_grid(qtbot, window: MainWindow, count: int, seed: int) -> list:
    dock = window.gallery_dock
    dock.count.setValue(count)
    dock.seed.setValue(seed)
    dock.generate_button.click()
    assert window.runner.busy, "generation runs on the worker"
    wait_idle(qtbot, window)
    return dock.grid.gallery_model().items


def test_generate_fills_the_grid_in_chunks_and_each_item_keeps_its_seed(qtbot, window, tiny_models) -> None:
    dock = window.gallery_dock
    sizes: list[int] = []
    dock.grid.model().rowsInserted.connect(lambda *args: sizes.append(dock.grid.model().rowCount()))
    items = generate_grid(qtbot, window, 10, 7)
    assert sizes == [4, 8, 10], "the grid fills progressively, a chunk at a time"
    assert [item.seed for item in items] == list(range(7, 17))
    assert all(item.space == GAN and item.latent is not None for item in items)
    np.testing.assert_array_equal(reproduce(items[3]).rgb, items[3].image.rgb)
    np.testing.assert_allclose(generate(1, 10)[0].rgb, items[3].image.rgb, atol=1e-6)
    assert "seed 10" in dock.grid.model().index(3, 0).data(0)

    dock.grid.clearSelection()
    dock.more_button.click()  # nothing selected: the grid goes on with the next seeds
    wait_idle(qtbot, window)
    assert [item.seed for item in dock.grid.gallery_model().items[10:]] == list(range(17, 27))


def test_more_like_this_stays_near_the_selected_image(qtbot, window, tiny_models) -> None:
    dock = window.gallery_dock
    items = generate_grid(qtbot, window, 4, 0)
    dock.grid.select_rows([2])
    dock.strength.setValue(0)
    dock.more_button.click()
    wait_idle(qtbot, window)
    near = dock.grid.gallery_model().items[4:]
    assert len(near) == 4 and all(item.space == GAN for item in near)
    for item in near:  # strength 0: the selected image itself
        np.testing.assert_allclose(item.image.rgb, items[2].image.rgb, atol=1e-5)


def test_blend_strip_between_two_gan_images_and_keep_a_frame(qtbot, window, tiny_models) -> None:
    dock = window.gallery_dock
    items = generate_grid(qtbot, window, 4, 3)
    assert not dock.blend_button.isEnabled()
    dock.grid.select_rows([0, 3])
    assert dock.blend_button.isEnabled()
    dock.steps.setValue(6)
    dock.blend_button.click()
    wait_idle(qtbot, window)
    frames = dock.strip.gallery_model().items
    assert len(frames) == 6 and all(frame.space == GAN for frame in frames)
    np.testing.assert_allclose(frames[0].image.rgb, items[0].image.rgb, atol=1e-5)
    np.testing.assert_allclose(frames[-1].image.rgb, items[3].image.rgb, atol=1e-5)
    dock.strip.select_rows([2])
    dock.keep_button.click()
    assert dock.grid.gallery_model().items[-1] is frames[2]


def test_vary_is_offered_for_gallery_images_only_and_new_results_are_selected_in_view(
        qtbot, window, tiny_models, photo) -> None:
    dock = window.gallery_dock
    open_image(qtbot, window, photo)
    assert not dock.vary_button.isEnabled(), "a photo on the canvas is not something the VAE can vary"
    assert not [b for b in dock.findChildren(QPushButton) if "canvas" in b.text().lower() and "vary" in
                b.text().lower()]
    dock.grid.setFixedHeight(120)  # a small grid: the new images land below what it shows
    generate_grid(qtbot, window, 12, 0)
    dock.grid.select_rows([0])
    assert dock.vary_button.isEnabled()
    dock.strength.setValue(50)
    dock.count.setValue(3)
    dock.vary_button.click()
    wait_idle(qtbot, window)
    variations = dock.grid.gallery_model().items[12:]
    assert len(variations) == 3 and all(item.space == VAE for item in variations)
    assert "seed 0" in variations[0].recipe and "strength 0.50" in variations[0].recipe
    assert dock.grid.selected_items() == variations, "the new results are selected"
    first_new = dock.grid.visualRect(dock.grid.model().index(12, 0))
    assert dock.grid.viewport().rect().intersects(first_new), "the first new result was scrolled into view"
    assert dock.grid.verticalScrollBar().value() > 0

    dock.grid.select_rows([12, 14])
    dock.blend_button.click()
    wait_idle(qtbot, window)
    frames = dock.strip.gallery_model().items
    np.testing.assert_allclose(frames[0].image.rgb, variations[0].image.rgb, atol=1e-5)  # VAE latents kept


def test_variations_of_a_gallery_item_with_the_strength_slider(qtbot, window, tiny_models) -> None:
    dock = window.gallery_dock
    generate_grid(qtbot, window, 2, 0)
    dock.grid.select_rows([1])
    dock.count.setValue(4)

    def spread(strength: int) -> float:
        dock.strength.setValue(strength)
        before = dock.grid.gallery_model().rowCount()
        dock.grid.select_rows([1])
        dock.vary_button.click()
        wait_idle(qtbot, window)
        made = dock.grid.gallery_model().items[before:]
        assert len(made) == 4 and all(item.space == VAE for item in made)
        return float(np.std([item.image.rgb for item in made], axis=0).mean())

    assert spread(10) < spread(90)


def test_open_in_canvas_makes_a_new_untitled_document_and_never_touches_the_photo(
        qtbot, window, tiny_models, make_photo, bundled_upscalers, same_size_models, dialog_recorder) -> None:
    dock = window.gallery_dock
    items = generate_grid(qtbot, window, 4, 5)
    photo = make_photo("portrait.png", 40, 30)
    original = photo.read_bytes()
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")  # an unsaved edit of the photo

    dock.grid.select_rows([2])
    dialog_recorder.unsaved_answer = "cancel"
    assert not dock.open_button.click() and window.document.path == photo, "Cancel keeps the photo open"
    dialog_recorder.unsaved_answer = "discard"
    dock.open_button.click()
    assert dialog_recorder.unsaved_prompts == ["portrait.png", "portrait.png"]
    assert window.document.name == "Untitled" and window.document.path is None
    assert window.undo_stack.count() == 0, "a gallery image is a document of its own, not an edit of the photo"
    np.testing.assert_array_equal(window.document.image.rgb, items[2].image.rgb)
    assert (window.canvas.display.width, window.canvas.display.height) == (16, 16)

    run_operation(qtbot, window, "upscale4")  # enhance it with the ×4 model
    assert window.document.image.width == 64
    dialog_recorder.accept_suggested = True
    window.files.save_action.trigger()  # Ctrl+S on the untitled picture: Save As, named after its seed
    wait_idle(qtbot, window)
    [proposed] = dialog_recorder.save_suggestions
    assert proposed == photo.with_name("seed-7.png")  # the last folder used
    assert load_image(proposed).width == 64 and dialog_recorder.errors == []
    assert photo.read_bytes() == original


def test_open_in_canvas_after_save_in_the_prompt_saves_the_photo_as_a_copy_first(
        qtbot, window, tiny_models, make_photo, same_size_models, dialog_recorder) -> None:
    dock = window.gallery_dock
    items = generate_grid(qtbot, window, 2, 0)
    photo = make_photo("portrait.png", 40, 30)
    original = photo.read_bytes()
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    edited = window.document.image.rgb.copy()
    dock.grid.select_rows([1])
    dialog_recorder.unsaved_answer = "save"
    dialog_recorder.accept_suggested = True
    dock.open_button.click()
    qtbot.waitUntil(lambda: window.document.path is None and not window.runner.busy, timeout=30_000)
    np.testing.assert_array_equal(window.document.image.rgb, items[1].image.rgb)
    np.testing.assert_allclose(load_image(photo.with_name("portrait_edited.png")).rgb, edited, atol=1 / 255 + 1e-6)
    assert photo.read_bytes() == original


def test_save_selected_writes_named_files(qtbot, window, tiny_models, dialog_recorder, tmp_path) -> None:
    dock = window.gallery_dock
    generate_grid(qtbot, window, 3, 40)
    dock.grid.select_rows([0, 2])
    dialog_recorder.folders.append(tmp_path / "picked")
    (tmp_path / "picked").mkdir()
    dock.save_button.click()
    wait_idle(qtbot, window)
    assert sorted(p.name for p in (tmp_path / "picked").iterdir()) == ["seed-40.png", "seed-42.png"]
    dialog_recorder.folders.append(tmp_path / "picked")
    dock.save_button.click()  # saving again never overwrites
    assert window.runner.busy
    wait_idle(qtbot, window)
    assert len(list((tmp_path / "picked").iterdir())) == 4


def test_without_generative_models_the_user_is_told(qtbot, window, dialog_recorder) -> None:
    window.gallery_dock.generate_button.click()
    wait_idle(qtbot, window)
    [(title, message)] = dialog_recorder.errors
    assert title == "Generate failed" and "no model is installed for generate" in message


@pytest.mark.skipif(not all((SHIPPED / f"{n}.onnx").is_file() for n in SHIPPED_NAMES),
                    reason="the shipped generative models are not in resources/models yet")
def test_the_shipped_models_fill_the_grid_without_blocking_the_gui(qtbot, window, model_dirs, photo) -> None:
    for name in SHIPPED_NAMES:
        shutil.copy(SHIPPED / f"{name}.onnx", model_dirs["bundled"] / f"{name}.onnx")
    dock = window.gallery_dock
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    items = generate_grid(qtbot, window, 32, 7)
    timer.stop()
    assert len(items) == 32 and items[0].image.rgb.shape == (64, 64, 3)
    assert max(gaps) < MAX_GUI_GAP_S, f"the GUI thread stalled for {max(gaps) * 1000:.0f} ms"
    np.testing.assert_allclose(reproduce(items[5]).rgb, items[5].image.rgb, atol=1e-6)

    dock.grid.select_rows([0, 1])
    dock.blend_button.click()
    wait_idle(qtbot, window)
    assert dock.strip.gallery_model().rowCount() == dock.steps.value()
    open_image(qtbot, window, photo)
    dock.grid.select_rows([4])
    dock.vary_button.click()
    wait_idle(qtbot, window)
    assert dock.grid.gallery_model().items[-1].space == VAE
    dock.strip.select_rows([3])
    dock.open_button.click()  # a new untitled document: the photo was not edited, so nothing is asked
    assert window.document.path is None and window.document.image.width == 64
