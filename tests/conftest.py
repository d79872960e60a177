"""Shared fixtures: isolated model folders, tiny real ONNX models, real image files."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx_models
import pytest
from PIL import Image as PILImage

from imagestudio.core.app_dirs import DATA_DIR_ENV
from imagestudio.core.models import BUNDLED_DIR_ENV, USER_DIR_ENV
from imagestudio.core.runtime_choice import BACKEND_ENV, PRECISION_ENV


@pytest.fixture(autouse=True)
def model_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every test gets empty bundled and user model folders: the real ones are never read or written."""
    root = tmp_path_factory.mktemp("model-dirs")
    dirs = {"bundled": root / "bundled", "user": root / "user"}
    for folder in dirs.values():
        folder.mkdir()
    monkeypatch.setenv(BUNDLED_DIR_ENV, str(dirs["bundled"]))
    monkeypatch.setenv(USER_DIR_ENV, str(dirs["user"]))
    # The user data folder too (the GUI's crash autosave lives there): no test reads or writes the real one.
    monkeypatch.setenv(DATA_DIR_ENV, str(root / "user-data"))
    # The CLI's --backend/--precision and the GUI's setting write the process-wide request into the environment:
    # each test starts from auto and leaves no request behind.
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    return dirs


@pytest.fixture
def models(tmp_path: Path) -> Callable[..., Path]:
    """`models("blur", name="x.onnx", folder=None, **kwargs)` builds a test model (see tests/onnx_models.py)."""

    def build(kind: str, name: str | None = None, folder: Path | None = None, **kwargs) -> Path:
        target = (folder or tmp_path / "models") / (name or f"{kind}.onnx")
        return getattr(onnx_models, kind)(target, **kwargs)

    return build


@pytest.fixture
def bundled_upscalers(models: Callable[..., Path], model_dirs: dict[str, Path]) -> dict[int, Path]:
    """upscale-x2 and upscale-x4 (nearest-neighbour models with cards) in the bundled folder."""
    return {
        scale: models("nearest_upscaler", f"upscale-x{scale}.onnx", model_dirs["bundled"], scale=scale,
                      metadata=onnx_models.card(f"upscale-x{scale}", "upscale", scale, receptive_radius="0"))
        for scale in (2, 4)
    }


@pytest.fixture
def make_photo(tmp_path: Path) -> Callable[..., Path]:
    """`make_photo("name.png", width, height, alpha=False, seed=0)` writes a real noisy image file."""

    def write(name: str = "photo.png", width: int = 48, height: int = 32, alpha: bool = False, seed: int = 0) -> Path:
        rng = np.random.default_rng(seed)
        pixels = rng.integers(0, 256, (height, width, 4 if alpha else 3), dtype=np.uint8)
        path = tmp_path / name
        PILImage.fromarray(pixels, "RGBA" if alpha else "RGB").save(path)
        return path

    return write


@pytest.fixture
def photo(make_photo: Callable[..., Path]) -> Path:
    return make_photo()


@pytest.fixture(scope="session")
def ray_cluster():
    """One real Ray cluster for the whole session: a head on this machine with 2 worker CPUs, started by
    `ray start --head` (tests/ray_cluster.py; stopped at the end, or by its supervisor if pytest dies), and this
    process connected to it as a driver. Tests that use it are skipped where Ray is not installed."""
    ray = pytest.importorskip("ray")
    from ray_cluster import LoopbackCluster

    saved = os.environ.get("RAY_AUTH_MODE")
    # A loopback cluster of the tests' own: no token (a token in ~/.ray would otherwise switch token auth on).
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        with LoopbackCluster(cpus=2, env={"RAY_AUTH_MODE": "disabled"}) as cluster:
            ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.ERROR)
            try:
                yield cluster
            finally:
                ray.shutdown()
    finally:
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved
