from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from itertools import pairwise
from pathlib import Path

import numpy as np
import onnx_models
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagestudio.core.errors import Cancelled, ModelError
from imagestudio.core.models import read_model_card
from imagestudio.core.progress import Task
from imagestudio.core.runtime import get_session
from imagestudio.core.tiling import axis_weights, choose_tile, plan_windows, run_model_tiled, tiled_apply

TOLERANCE = 1 / 255


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiling-models")
    return {
        "blur": onnx_models.blur(folder / "blur.onnx"),
        "blur_x2": onnx_models.blur_upscaler(folder / "blur_x2.onnx", 2),
        "multiple_4": onnx_models.multiple_of(folder / "multiple_4.onnx", 4),
        "grid_pool_4": onnx_models.grid_pool(folder / "grid_pool_4.onnx", 4, metadata=onnx_models.card(
            "grid-pool", "denoise", 1, tile_multiple="4", receptive_radius="4")),
    }


def _random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


@given(length=st.integers(1, 600), tiles=st.integers(5, 75), overlap=st.integers(0, 19),
       multiple=st.sampled_from([1, 2, 4]))
def test_windows_cover_the_axis_with_the_overlap(length, tiles, overlap, multiple):
    tile = tiles * multiple
    if tile <= overlap:
        return
    windows = plan_windows(length, tile, overlap, multiple)
    assert windows[0].start == 0 and windows[-1].stop == length
    sizes = {w.stop - w.start for w in windows}
    assert len(sizes) == 1  # equal windows: one shape for the provider
    size = sizes.pop()
    assert size <= tile
    aligned = length % multiple == 0 and tile > -(-overlap // multiple) * multiple
    if length > tile:
        assert size % multiple == 0
        cells = -(-overlap // multiple) * multiple if aligned else overlap  # overlap in whole grid cells
        assert len(windows) == max(2, -(-(length - cells) // (tile - cells)))  # the fewest possible
        if aligned:  # on the pooling grid of the whole image
            assert all(w.start % multiple == 0 for w in windows)
    for left, right in pairwise(windows):
        assert left.stop - right.start >= overlap
        assert right.start > left.start


@given(length=st.integers(1, 400), tile=st.integers(24, 200), context=st.integers(0, 6),
       blend=st.integers(1, 8), scale=st.sampled_from([1, 2, 4]))
def test_axis_weights_are_a_partition_of_unity_and_zero_where_context_is_missing(
    length, tile, context, blend, scale
):
    windows = plan_windows(length, tile, 2 * context + blend)
    weights = axis_weights(windows, length, scale, context, blend)
    total = np.zeros(length * scale)
    for window, weight in zip(windows, weights, strict=True):
        total[window.start * scale : window.stop * scale] += weight
        if window.start > 0:  # the first `context` input pixels of an inner edge are never trusted
            assert np.all(weight[: context * scale] == 0)
        if window.stop < length:
            assert np.all(weight[len(weight) - context * scale :] == 0)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(height=st.integers(1, 90), width=st.integers(1, 90), tile=st.integers(12, 64), blend=st.integers(1, 6))
def test_tiled_blur_equals_untiled(model_files, height, width, tile, blend):
    session = get_session(model_files["blur"], "cpu")
    rgb = _random_rgb(height, width, seed=height * 100 + width)
    untiled = session.run(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]))[0].transpose(1, 2, 0)
    tiled = tiled_apply(session.run, rgb, scale=1, tile=tile, context=1, blend=blend)
    np.testing.assert_allclose(tiled, untiled, atol=1e-5)
    np.testing.assert_allclose(tiled, onnx_models.blur_reference(rgb), atol=1e-5)


@pytest.mark.parametrize(("height", "width", "tile"), [(97, 131, 32), (40, 300, 48), (64, 64, 64), (5, 7, 32)])
def test_tiled_upscale_equals_untiled_and_the_reference(model_files, height, width, tile):
    card = read_model_card(model_files["blur_x2"])
    rgb = _random_rgb(height, width)
    untiled = run_model_tiled(card, rgb, device="cpu", tile=4096)
    tiled = run_model_tiled(card, rgb, device="cpu", tile=tile)
    expected = np.repeat(np.repeat(onnx_models.blur_reference(rgb), 2, axis=0), 2, axis=1)
    assert tiled.shape == (height * 2, width * 2, 3) and tiled.dtype == np.float32
    assert np.abs(tiled - untiled).max() < TOLERANCE
    np.testing.assert_allclose(tiled, expected, atol=1e-5)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 70), (45, 33), (130, 97)])
def test_tile_multiple_is_respected_by_reflect_padding(model_files, height, width):
    card = read_model_card(model_files["multiple_4"])
    assert card.tile_multiple == 4
    rgb = _random_rgb(height, width)
    np.testing.assert_allclose(run_model_tiled(card, rgb, device="cpu", tile=40), rgb, atol=1e-6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(height=st.integers(1, 120), width=st.integers(1, 120), tile=st.sampled_from([32, 40, 48]))
def test_a_pooling_model_tiles_exactly_on_its_grid(model_files, height, width, tile):
    """A ×4 pool-then-unpool model (a U-Net's grid in miniature): every tile must sit on the image's own grid, or
    blocks are averaged across different pixels and the seams show."""
    card = read_model_card(model_files["grid_pool_4"])
    rgb = _random_rgb(height, width, seed=height * 1000 + width)
    untiled = run_model_tiled(card, rgb, device="cpu", tile=4096)
    tiled = run_model_tiled(card, rgb, device="cpu", tile=tile)
    np.testing.assert_allclose(tiled, untiled, atol=1e-5)


def test_tile_size_is_chosen_for_the_device_and_model():
    assert choose_tile(None, "cpu", 8, 8, 1) == 1024  # a same-size model: output 1024 wide
    assert choose_tile(None, "cpu", 8, 8, 1, scale=2) == 1024  # output 2048 wide
    assert choose_tile(None, "cpu", 8, 8, 1, scale=4) == 512  # output 2048 wide, as before
    assert choose_tile(None, "cuda", 8, 8, 1) == 1024
    assert choose_tile(10, "cpu", 8, 8, 1) == 48  # at least twice the overlap of 2*8+8
    assert choose_tile(100, "cpu", 1, 8, 16) == 112  # rounded up to the model's multiple


def test_progress_is_reported_per_tile_and_cancel_stops_between_tiles(model_files):
    card = read_model_card(model_files["blur"])
    rgb = _random_rgb(100, 100)
    reports: list[tuple[float, str]] = []
    run_model_tiled(card, rgb, device="cpu", tile=40, task=Task(lambda f, m: reports.append((f, m))))
    tile_reports = [r for r in reports if r[1].startswith("tile ")]
    assert [m for _, m in tile_reports] == [f"tile {i} of 9" for i in range(1, 10)]
    assert [f for f, _ in reports] == sorted(f for f, _ in reports) and reports[-1][0] == 1.0

    calls = []

    def cancel_after_two(fraction: float, message: str) -> None:
        calls.append(message)
        if len(calls) == 2:
            task.cancel()

    task = Task(cancel_after_two)
    with pytest.raises(Cancelled):
        run_model_tiled(card, rgb, device="cpu", tile=40, task=task)
    assert calls == ["tile 1 of 9", "tile 2 of 9"]


def test_a_model_whose_output_disagrees_with_its_card_is_a_model_error(models):
    path = models("nearest_upscaler", scale=2, metadata=onnx_models.card("liar", "upscale", 4))
    card = read_model_card(path)
    with pytest.raises(ModelError, match=r"liar turned a 10×12 tile into 20×24, but its card says ×4"):
        run_model_tiled(card, _random_rgb(10, 12), device="cpu")


def _run_python(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_out_of_memory_halves_the_tile_and_the_result_is_unchanged(models):
    """Real allocation failures: onnxruntime's CPU arena is capped, so big tiles fail and smaller ones fit."""
    path = models("heavy", layers=3)
    done = _run_python(f"""
        import numpy as np
        from imagestudio.core.errors import DeviceError
        from imagestudio.core.models import read_model_card
        from imagestudio.core.progress import Task
        from imagestudio.core.tiling import run_model_tiled
        card = read_model_card({str(path)!r})
        rgb = np.random.default_rng(0).random((300, 260, 3), dtype=np.float32)
        messages = []
        tiled = run_model_tiled(card, rgb, device="cpu", tile=1024, task=Task(lambda f, m: messages.append(m)))
        print("\\n".join(m for m in messages if "memory" in m))
        np.save({str(path.with_suffix(".npy"))!r}, tiled)
    """, env={"IMAGESTUDIO_CPU_MEMORY_LIMIT_MB": "24"})
    assert done.returncode == 0, done.stderr
    retries = done.stdout.splitlines()
    assert retries, "the capped arena should have failed the 1024-pixel tile"
    halvings = range(1, len(retries) + 1)
    assert retries == [f"out of memory on the CPU; retrying with {1024 >> n}-pixel tiles" for n in halvings]
    untiled = run_model_tiled(read_model_card(path), np.random.default_rng(0).random((300, 260, 3), np.float32),
                              device="cpu", tile=4096)
    assert np.abs(np.load(path.with_suffix(".npy")) - untiled).max() < 1e-4


def test_out_of_memory_at_the_smallest_tile_on_the_cpu_is_a_clear_error(models):
    # A card, so that no probe runs under the tiny memory cap.
    card = onnx_models.card("heavy", "denoise", 1, receptive_radius="4")
    path = models("heavy", channels=64, layers=2, metadata=card)
    done = _run_python(f"""
        import numpy as np
        from imagestudio.core.errors import DeviceError
        from imagestudio.core.models import read_model_card
        from imagestudio.core.tiling import run_model_tiled
        card = read_model_card({str(path)!r})
        try:
            run_model_tiled(card, np.zeros((200, 200, 3), np.float32), device="cpu", tile=64)
        except DeviceError as error:
            print(error)
    """, env={"IMAGESTUDIO_CPU_MEMORY_LIMIT_MB": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "not enough memory to run heavy, even with 32-pixel tiles"


def test_memory_is_bounded_by_the_tile_not_the_image(models):
    """Peak memory of a ×2 upscale is the input and output arrays plus a tile's worth, not a multiple of them."""
    path = models("nearest_upscaler", scale=2)
    done = _run_python(f"""
        import resource
        import numpy as np
        from imagestudio.core.models import read_model_card
        from imagestudio.core.tiling import run_model_tiled
        card = read_model_card({str(path)!r})
        run_model_tiled(card, np.zeros((64, 64, 3), np.float32), device="cpu", tile=256)  # warm up
        rgb = np.random.default_rng(0).random((1500, 2000, 3), dtype=np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = run_model_tiled(card, rgb, device="cpu", tile=256)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024, out.nbytes)
    """)
    assert done.returncode == 0, done.stderr
    growth, output_bytes = map(int, done.stdout.split())
    message = f"peak grew {growth / 2**20:.0f} MiB for a {output_bytes / 2**20:.0f} MiB output"
    assert growth < output_bytes + 64 * 2**20, message


def _bf16_runs_here() -> bool:
    import importlib.util

    from imagestudio.core.cpu_features import cpu_features

    return cpu_features().has_bf16 and importlib.util.find_spec("openvino") is not None


@pytest.mark.parametrize(("backend", "precision", "tolerance"), [
    ("onnxruntime", "fp32", 1e-4),
    # bf16 keeps 8 mantissa bits: two tiles' estimates of a pixel may differ by a few bf16 steps; a seam was 0.30
    pytest.param("openvino", "bf16", 0.02, marks=pytest.mark.skipif(not _bf16_runs_here(),
                                                                      reason="no bf16 units or no OpenVINO")),
])
def test_the_shipped_unet_denoiser_is_seamless_when_tiled(backend, precision, tolerance):
    """The real denoiser works at ½, ¼ and ⅛ resolution (tile_multiple 8): with small tiles it must give the
    whole-image result, on each backend the app may pick for it."""
    from imagestudio.core.runtime_choice import set_requested

    set_requested(backend, precision)
    card = read_model_card(Path(__file__).resolve().parents[2] / "resources" / "models" / "denoise.onnx")
    assert card.tile_multiple == 8
    rgb = _random_rgb(701, 523, seed=5)  # its context is 80 px: a bigger image than the old U-Net needed for 2×2 tiles
    untiled = run_model_tiled(card, rgb, device="cpu", tile=4096)
    reports: list[str] = []
    tiled = run_model_tiled(card, rgb, device="cpu", tile=1, task=Task(lambda f, m: reports.append(m)))
    assert any(m.startswith("tile ") and not m.endswith(" of 1") for m in reports)  # the smallest tile: several
    assert np.abs(tiled - untiled).max() < tolerance  # was 0.30 with tiles off the ×4 grid
