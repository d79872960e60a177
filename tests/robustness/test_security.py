"""Security: files never escape their folders and model files are never code.

- Batch never follows a link out of the input tree, and never writes outside the output folder: `..`, absolute
  paths and drive letters in name templates are refused, and a link inside the output folder that points out of it
  is not written through.
- The app loads models as ONNX only (see test_broken_models for pickles refused at run time); no module of the app
  imports pickle-based loaders, `np.load` never allows pickles, and training loads checkpoints with
  `weights_only=True` (or safetensors).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from imagestudio.core.batch import SKIP, BatchSpec, OutputRule, load_pipeline, plan_batch, run_batch
from imagestudio.core.errors import BatchError

REPO = Path(__file__).resolve().parents[2]


def photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.fromarray(np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """in/a.png, in/sub/b.png; outside/secret.png linked in as in/link.png and outside/ as in/linked-folder."""
    photo(tmp_path / "in" / "a.png")
    photo(tmp_path / "in" / "sub" / "b.png")
    secret = photo(tmp_path / "outside" / "secret.png")
    (tmp_path / "in" / "link.png").symlink_to(secret)
    (tmp_path / "in" / "linked-folder").symlink_to(tmp_path / "outside", target_is_directory=True)
    (tmp_path / "in" / "inner-link.png").symlink_to(tmp_path / "in" / "a.png")  # inside the tree: fine
    return tmp_path / "in"


def test_links_out_of_the_input_tree_are_not_followed(tree: Path, bundled_upscalers) -> None:
    plan = plan_batch(BatchSpec(tree, tree.parent / "out", load_pipeline("upscale-x2"), recursive=True))
    taken = {f.input_rel for f in plan.files}
    assert taken == {"a.png", "inner-link.png", "sub/b.png"}
    reasons = {i.relative: i.reason for i in plan.ignored}
    assert "outside the input folder" in reasons["link.png"] and "outside the input folder" in reasons["linked-folder"]
    report = run_batch(BatchSpec(tree, tree.parent / "out", load_pipeline("upscale-x2"), recursive=True))
    assert {r.input for r in report.done} == taken


@pytest.mark.parametrize("template", ["../{stem}.{ext}", "{stem}/../../{stem}.{ext}", "/tmp/{stem}.{ext}",
                                      "C:/x/{stem}.{ext}", "~/{stem}.{ext}", "..\\{stem}.{ext}", "./../{name}"])
def test_name_templates_cannot_leave_the_output_folder(template: str) -> None:
    with pytest.raises(BatchError):
        OutputRule(template=template)


def test_the_cli_refuses_a_climbing_template_in_one_line(tree: Path, bundled_upscalers) -> None:
    done = subprocess.run([sys.executable, "-m", "imagestudio", "batch", str(tree), str(tree.parent / "out"),
                           "--pipeline", "upscale-x2", "--name", "../escaped-{stem}.{ext}"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("imagestudio: ") and ".." in line
    assert not list(tree.parent.glob("escaped-*")) and not (tree.parent / "out").exists()


def test_a_link_inside_the_output_folder_is_not_written_through(tree: Path, bundled_upscalers) -> None:
    out = tree.parent / "out"
    elsewhere = tree.parent / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "x2").symlink_to(elsewhere, target_is_directory=True)  # planted: out/x2 -> ../elsewhere
    (out / "a.png").symlink_to(tree.parent / "outside" / "secret.png")  # an "existing output" that is a link
    rule = OutputRule(template="x2/{stem}.{ext}")
    plan = plan_batch(BatchSpec(tree, out, load_pipeline("upscale-x2"), rule=rule))
    assert all(f.action == SKIP and "outside the output folder" in f.reason for f in plan.files)
    overwrite = OutputRule(conflict="overwrite")
    plan = plan_batch(BatchSpec(tree, out, load_pipeline("upscale-x2"), rule=overwrite))
    [a] = [f for f in plan.files if f.input_rel == "a.png"]
    assert a.action == SKIP and "outside the output folder" in a.reason
    before = (tree.parent / "outside" / "secret.png").read_bytes()
    run_batch(BatchSpec(tree, out, load_pipeline("upscale-x2"), rule=overwrite))
    assert (tree.parent / "outside" / "secret.png").read_bytes() == before and not any(elsewhere.iterdir())


# ---------------------------------------------------------------- model and data files are never code


def _calls(folder: Path) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.extend((path, node) for node in ast.walk(tree) if isinstance(node, ast.Call))
    return found


def _name(call: ast.Call) -> str:
    return ast.unparse(call.func)


def _keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name:
            return ast.literal_eval(keyword.value) if isinstance(keyword.value, ast.Constant) else "?"
    return None


def test_the_app_never_imports_a_pickle_loader() -> None:
    forbidden = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "torch", "cloudpickle"}
    for path in sorted((REPO / "imagestudio").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.relative_to(REPO)} imports {name}"


def test_np_load_never_allows_pickles() -> None:
    for folder in ("imagestudio", "training"):
        for path, call in _calls(REPO / folder):
            if _name(call).endswith("np.load") or _name(call) == "numpy.load":
                assert _keyword(call, "allow_pickle") in (None, False), f"{path.relative_to(REPO)}: {ast.unparse(call)}"


def test_training_loads_checkpoints_as_weights_only() -> None:
    loads = [(p, c) for p, c in _calls(REPO / "training") if _name(c) == "torch.load"]
    for path, call in loads:
        assert _keyword(call, "weights_only") is True, f"{path.relative_to(REPO)}: {ast.unparse(call)}"


def test_a_numpy_pickle_is_refused_by_np_load(tmp_path: Path) -> None:
    """What the history spill and the autosave rely on: numpy's default refuses object arrays."""
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        np.load(path)
    assert os.path.getsize(path) > 0
