"""The GPU machine's one command, dry-run on the CPU: patches packed under the size limit, both models trained a
few steps, checkpoints that `training export` turns into app-loadable models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from training.config import load_config  # noqa: E402
from training.data.photos import synthetic_photos  # noqa: E402
from training.export import export_from_config  # noqa: E402
from training.gpu_job import run  # noqa: E402
from training.pack_patches import pack  # noqa: E402
from training.tasks.upscale_real import PackedPatches  # noqa: E402


def test_patches_pack_under_the_limit_and_read_back(tmp_path):
    out = tmp_path / "p.npz"
    count = pack(out, 64, limit_mib=0.5, photos=synthetic_photos(count=3, size=96))
    assert out.stat().st_size <= 0.5 * 2**20 and count > 10
    batch = PackedPatches(out, 48, seed=0).batch(5)
    assert len(batch) == 5 and all(p.shape == (48, 48, 3) and p.dtype == np.uint8 for p in batch)


def test_gpu_job_dry_run_writes_checkpoints_that_export(tmp_path):
    results = run(tmp_path / "out", minutes=0.2, patches=tmp_path / "none.npz", dry_run=True)
    assert [r["model"] for r in results] == ["upscale-x4-real", "upscale-x2-real"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["gpu_job.json", "upscale-x2-real.pt",
                                                                   "upscale-x4-real.pt"]
    assert json.loads((tmp_path / "out" / "gpu_job.json").read_text())[0]["steps"] == 3
    onnx_path = export_from_config(load_config("upscale-x2-real.toml", []), str(tmp_path / "out" / "upscale-x2-real.pt"),
                                   str(tmp_path / "x2.onnx"), measure=False)
    from imagestudio.core.models import find_model

    card = find_model(Path(onnx_path))
    assert (card.task, card.scale) == ("upscale", 2)
