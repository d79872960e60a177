"""Compare actions and bounded history memory in the running window."""

from __future__ import annotations

import numpy as np

from ui_helpers import open_image, run_operation, wait_idle


def test_compare_split_and_ab_toggle_are_exclusive_and_need_an_image(qtbot, photo, same_size_models, window):
    compare = window.compare
    assert not compare.split_action.isEnabled()
    open_image(qtbot, window, photo)
    run_operation(qtbot, window, "denoise")
    assert window.canvas.compare.mode == "split", "after an edit the before/after divider shows by itself"
    compare.split_action.trigger()  # the C key: off
    assert window.canvas.compare.mode == "off"
    compare.split_action.trigger()
    assert window.canvas.compare.mode == "split"
    compare.toggle_action.trigger()  # the A/B key
    assert window.canvas.compare.mode == "before" and not compare.split_action.isChecked()
    compare.toggle_action.trigger()
    assert window.canvas.compare.mode == "off"
    window.files.close_document()
    assert not compare.toggle_action.isEnabled() and window.canvas.compare.mode == "off"


def test_old_states_spill_to_disk_and_undo_reads_them_back_off_the_gui_thread(qtbot, photo, same_size_models,
                                                                            window):
    open_image(qtbot, window, photo)
    window.document.set_memory_limit(1)  # as if the setting were tiny: only the newest state stays in memory
    results = []
    for _ in range(5):
        run_operation(qtbot, window, "denoise")
        results.append(window.document.image.rgb.copy())
    store = window.document.store
    store.flush()
    assert store.memory_bytes <= window.document.image.rgb.nbytes
    first_edit = window.undo_stack.command(0).after
    assert not store.in_memory(first_edit) and window.document.cached_display(first_edit) is None

    jobs = []
    window.runner.job_started.connect(lambda job: jobs.append(job.label))
    window.undo_stack.setIndex(1)  # far back: its display is rebuilt from disk on the worker, once
    qtbot.waitUntil(lambda: window.document.cached_display(first_edit) is not None, timeout=10_000)
    wait_idle(qtbot, window)
    assert jobs == ["Loading the history state"]
    assert window.canvas.display is window.document.cached_display(first_edit)
    np.testing.assert_array_equal(window.document.image.rgb, results[0])
    window.undo_stack.setIndex(5)
    wait_idle(qtbot, window)
    np.testing.assert_array_equal(window.document.image.rgb, results[4])
