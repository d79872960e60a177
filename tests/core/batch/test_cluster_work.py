"""The cluster's pieces that need no cluster: a worker's per-file work called directly, model pinning, addresses, and
what the CLI says without Ray installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from photo_files import write_photo

from imagestudio.core.batch import BatchSpec, load_pipeline
from imagestudio.core.batch.cluster import check_address
from imagestudio.core.batch.cluster_work import (
    FAILED_HERE,
    UNCHANGED,
    WRITTEN,
    FileJob,
    WorkerSetup,
    pin_models,
    process_file,
)
from imagestudio.core.errors import ClusterError
from imagestudio.core.hashing import file_sha256
from imagestudio.core.image import load_image
from imagestudio.core.imageio.atomic import is_temporary_name
from imagestudio.core.runtime import THREADS_ENV


@pytest.fixture
def setup(tmp_path: Path, bundled_upscalers, monkeypatch: pytest.MonkeyPatch) -> WorkerSetup:
    monkeypatch.setenv(THREADS_ENV, "1")  # process_file sets it for its task: keep this process's value scoped
    pinned, models = pin_models(load_pipeline("upscale-x2"))
    (tmp_path / "out").mkdir()
    return WorkerSetup(pinned.to_json(), models, str(tmp_path / "out"), None, 95, True, None, 1)


def job(tmp_path: Path, name: str, known: str | None = None) -> FileJob:
    return FileJob(name, str(tmp_path / "in" / name), str(tmp_path / "out" / "sub" / name), known)


def test_a_worker_leaves_its_output_in_a_temporary_file_for_the_driver(tmp_path: Path, setup) -> None:
    source = write_photo(tmp_path / "in" / "a.png", seed=1)
    outcome = process_file(setup, job(tmp_path, "a.png"))
    assert outcome.kind == WRITTEN and outcome.sha256 == file_sha256(source)
    temporary = Path(outcome.temporary)
    assert temporary.parent == tmp_path / "out" / "sub" and is_temporary_name(temporary.name)
    assert not (tmp_path / "out" / "sub" / "a.png").exists(), "placing is the driver's job"
    assert load_image(temporary).width == 48
    assert outcome.worker == f"{os.uname().nodename}:{os.getpid()}"


def test_same_bytes_as_an_earlier_run_are_not_decoded_again(tmp_path: Path, setup) -> None:
    source = write_photo(tmp_path / "in" / "a.png", seed=1)
    outcome = process_file(setup, job(tmp_path, "a.png", known=file_sha256(source)))
    assert outcome.kind == UNCHANGED and outcome.temporary is None
    assert not (tmp_path / "out" / "sub").exists()
    changed = process_file(setup, job(tmp_path, "a.png", known="0" * 64))
    assert changed.kind == WRITTEN


def test_a_corrupt_file_fails_with_the_local_reason(tmp_path: Path, setup) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    outcome = process_file(setup, job(tmp_path, "bad.png"))
    assert outcome.kind == FAILED_HERE and "bad.png" in outcome.reason and outcome.sha256
    missing = process_file(setup, job(tmp_path, "gone.png"))
    assert missing.kind == FAILED_HERE and missing.reason.startswith("cannot read the file")
    assert not list((tmp_path / "out").rglob("*")), "nothing left behind"


def test_models_are_pinned_by_file_and_found_by_contents(tmp_path: Path, setup, bundled_upscalers) -> None:
    assert [(m.name, m.param) for m in setup.models] == [("upscale-x2", "model")]
    assert setup.models[0].path == str(bundled_upscalers[2].absolute())
    moved = tmp_path / "elsewhere.onnx"  # another node's copy: the same bytes under its own folder
    bundled_upscalers[2].rename(moved)
    write_photo(tmp_path / "in" / "a.png", seed=1)
    assert process_file(setup, job(tmp_path, "a.png")).kind == FAILED_HERE
    moved.rename(bundled_upscalers[2].with_name("renamed.onnx"))  # installed there under another name
    assert process_file(setup, job(tmp_path, "a.png")).kind == WRITTEN


def test_a_model_with_other_contents_is_not_used(tmp_path: Path, setup, bundled_upscalers, models) -> None:
    models("blur_upscaler", "upscale-x2.onnx", bundled_upscalers[2].parent, scale=2)  # same name, other weights
    write_photo(tmp_path / "in" / "a.png", seed=1)
    outcome = process_file(setup, job(tmp_path, "a.png"))
    assert outcome.kind == FAILED_HERE and "model upscale-x2 is not on worker" in outcome.reason


@pytest.mark.parametrize("text", ["auto", "127.0.0.1:6379", "head.lan:6379", "ray://10.0.0.1:10001", "[::1]:6379"])
def test_addresses(text: str) -> None:
    assert check_address(f" {text} ") == text


@pytest.mark.parametrize("text", ["", "localhost", "ray://host", "host:0", "host:99999", "http://h:1", "a b:1"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ClusterError, match="not a Ray cluster address"):
        check_address(text)


def test_without_ray_the_cli_says_how_to_get_it_in_one_line(tmp_path: Path, bundled_upscalers) -> None:
    write_photo(tmp_path / "in" / "a.png")
    shadow = tmp_path / "no-ray"
    (shadow / "ray").mkdir(parents=True)
    (shadow / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")  # as if not installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), *sys.path])}
    done = subprocess.run([sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(tmp_path / "out"),
                           "--pipeline", "upscale-x2", "--cluster", "auto"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "needs Ray, which is not installed: pip install 'imagestudio[cluster]'" in done.stderr
    assert not (tmp_path / "out").exists(), "nothing written"
    dry = subprocess.run([sys.executable, "-m", "imagestudio", "batch", str(tmp_path / "in"), str(tmp_path / "out"),
                          "--pipeline", "upscale-x2", "--cluster", "auto", "--dry-run"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert dry.returncode == 0 and "1 to process" in dry.stdout, "a dry run needs no cluster"


def test_a_bad_address_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "imagestudio", "batch", str(tmp_path), str(tmp_path / "out"),
                           "--cluster", "nowhere"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not a Ray cluster address" in done.stderr and done.stderr.count("\n") == 1


def test_the_spec_is_unchanged_by_pinning(tmp_path: Path, bundled_upscalers) -> None:
    pipeline = load_pipeline("upscale-x2")
    spec = BatchSpec(tmp_path, tmp_path / "out", pipeline)
    before = pipeline.to_json()
    pin_models(spec.pipeline)
    assert spec.pipeline.to_json() == before, "the manifest's pipeline hash is computed from the unpinned one"
