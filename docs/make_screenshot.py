"""Regenerates docs/screenshot-main.png: the real app under X (e.g. `Xvfb :99 &` then DISPLAY=:99) in its default,
canvas-first layout, a photo opened, Denoise and Upscale ×2 run through the worker, the history showing both and
the before/after divider with its handle on the image (it appears by itself after the first edit).

    DISPLAY=:99 python docs/make_screenshot.py /path/to/photo.png [docs/screenshot-main.png]

Uses the installed models when there are some; otherwise stand-in filters from tests/onnx_models.py, labelled so.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _install_stand_ins(folder: Path) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    import onnx_models

    def card(name: str, task: str, scale: int, title: str) -> dict[str, str]:
        props = onnx_models.card(name, task, scale, title=title)
        props["description"] = "Stand-in model for the screenshot (a fixed filter), until the trained model is exported."
        props["training_data"] = "none (hand-written weights)"
        del props["metrics"]
        return props

    onnx_models.blur(folder / "denoise.onnx", card("denoise", "denoise", 1, "Denoise (stand-in)"))
    onnx_models.nearest_upscaler(folder / "upscale-x2.onnx", 2, card("upscale-x2", "upscale", 2, "Upscale ×2 (stand-in)"))


def main(photo: Path, output: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="imagestudio-screenshot-"))
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")  # fresh settings: default layout, no recent files
    from imagestudio.core.models import BUNDLED_DIR_ENV, USER_DIR_ENV, list_models

    if not list_models():
        os.environ[BUNDLED_DIR_ENV] = str(work / "models")
        os.environ[USER_DIR_ENV] = str(work / "user-models")
        _install_stand_ins(work / "models")
    shown = work / photo.name
    shutil.copy(photo, shown)

    from imagestudio.ui.app import create_application, create_window

    app, _ = create_application([])
    window = create_window(shown)
    window.resize(1280, 820)
    window.show()

    def settle(seconds: float = 0.3) -> None:
        while window.runner.busy:
            app.processEvents()
            time.sleep(0.02)
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.01)

    settle()
    for key in ("denoise", "upscale2"):
        window.operations.actions[key].trigger()
        settle()
    window.canvas.setFocus()
    assert window.compare.mode == "split", "the divider should show after an edit"
    window.compare.set_split(0.42)  # off-centre, so the handle does not sit on the image's middle
    settle(0.5)
    window.grab().save(str(output))
    window.undo_stack.setClean()  # no unsaved-changes prompt on the way out
    window.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {output}: {window.windowTitle()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "docs" / "screenshot-main.png")
