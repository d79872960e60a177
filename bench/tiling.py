"""Speed and memory of model inference through ImageStudio's runtime and tiling, against torch eager.

1. ×4 upscaling speed on the CPU, in output megapixels per second (median of several runs, same thread count):
   our runtime tiled (what the app does), our runtime untiled, torch eager untiled, torch eager through the same tiling.
   The network is resources/models/upscale-x4.onnx when present (torch rebuilds it from its `architecture` card
   entry with random weights: same shapes, same work), else a CompactSR with the training config's size.
2. Peak memory (the child's own VmHWM, see bench/measure.py) of `imagestudio upscale --scale 2` on a 24 MP JPEG,
   the whole CLI: decode, tiled inference, encode.

    python bench/tiling.py [--runs 5] [--size 640x480] [--skip-memory]

Not a test: numbers depend on the machine (printed with the table) and on what else runs on it.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
from machine import describe  # noqa: E402
from measure import run_child  # noqa: E402

from imagestudio.core.models import read_model_card  # noqa: E402
from imagestudio.core.runtime import get_session, thread_count  # noqa: E402
from imagestudio.core.runtime_choice import set_requested  # noqa: E402
from imagestudio.core.tiling import choose_tile, run_model_tiled, tiled_apply  # noqa: E402
from training.archs.compact import CompactSR  # noqa: E402
from training.export import export_onnx  # noqa: E402

MODELS = ROOT / "resources" / "models"
MEMORY_LIMIT_BYTES = 3 * 2**30


def _torch_network(scale: int, card_architecture: str | None) -> CompactSR:
    """CompactSR sized like the card's `architecture` entry, e.g. 'CompactSR(scale=4, feat=48, convs=8)'."""
    sizes = {"feat": 48, "convs": 8}
    if card_architecture:
        sizes.update({k: int(v) for k, v in re.findall(r"(feat|convs)=(\d+)", card_architecture)})
    return CompactSR(scale=scale, **sizes).eval()


def _model_file(scale: int, workdir: Path) -> tuple[Path, CompactSR, str]:
    """The bundled model for `scale` when there is one, else an export of a random-weight CompactSR."""
    bundled = MODELS / f"upscale-x{scale}.onnx"
    if bundled.exists():
        architecture = get_session(bundled, "cpu").metadata().get("architecture")
        return bundled, _torch_network(scale, architecture), f"{bundled.name} ({architecture or 'unknown'})"
    network = _torch_network(scale, None)
    path = workdir / f"bench-x{scale}.onnx"
    metadata = {"name": f"bench-x{scale}", "task": "upscale", "scale": str(scale),
                "receptive_radius": str(network.receptive_radius), "architecture": network.describe()}
    export_onnx(network, path, torch.rand(1, 3, 32, 32), metadata)
    return path, network, f"exported {network.describe()}, random weights"


def _photo_like(height: int, width: int) -> np.ndarray:
    """Smooth shapes plus fine noise: content does not change the speed of a conv net, but keeps values sane."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.5 + 0.25 * np.sin(x / 37)[..., None] * np.cos(y / 23)[..., None] * np.array([1, 0.8, 0.6], np.float32)
    noise = np.random.default_rng(0).normal(0, 0.02, (height, width, 3)).astype(np.float32)
    return np.clip(base + noise, 0, 1).astype(np.float32)


def _median_seconds(work: Callable[[], object], runs: int) -> float:
    work()  # warm-up: session arenas, torch's kernels, page faults
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def speed_table(runs: int, height: int, width: int, workdir: Path) -> list[tuple[str, float]]:
    scale = 4
    path, network, what = _model_file(scale, workdir)
    card = read_model_card(path)
    threads = thread_count()
    torch.set_num_threads(threads)
    rgb = _photo_like(height, width)
    nchw = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
    # Its rows are onnxruntime fp32 by name: pinned, not the CPU's auto choice (see docs/bench/backends.md).
    set_requested("onnxruntime", "fp32")
    session = get_session(path, "cpu")
    tile = choose_tile(None, "cpu", card.receptive_radius, 8, card.tile_multiple, card.scale)

    def torch_run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return network(torch.from_numpy(x)).numpy()

    cases: list[tuple[str, Callable[[], object]]] = [
        (f"onnxruntime, our tiling (tile {tile})", lambda: run_model_tiled(card, rgb, device="cpu")),
        ("onnxruntime, whole image", lambda: session.run(nchw)),
        ("torch eager, whole image", lambda: torch_run(nchw)),
        (f"torch eager, our tiling (tile {tile})",
         lambda: tiled_apply(torch_run, rgb, scale=scale, tile=tile, context=card.receptive_radius)),
    ]
    output_megapixels = height * width * scale * scale / 1e6
    print(f"×{scale} upscaling, {width}×{height} → {width * scale}×{height * scale}, model {what}, "
          f"{threads} threads, median of {runs} runs")
    return [(name, output_megapixels / _median_seconds(work, runs)) for name, work in cases]


def peak_memory(workdir: Path) -> tuple[float, float, str]:
    """Runs the CLI on a 24 MP JPEG, ×2; returns (peak bytes, seconds, model description)."""
    from PIL import Image as PILImage

    path, _, what = _model_file(2, workdir)
    photo = workdir / "24mp.jpg"
    PILImage.fromarray((_photo_like(4000, 6000) * 255).astype(np.uint8)).save(photo, quality=92)
    output = workdir / "24mp_x2.jpg"
    # In a child of its own that reports its VmHWM: ru_maxrss of a child starts at this (torch-laden) parent's peak.
    child = run_child([str(ROOT / "bench" / "cli_peak.py"), "upscale", str(photo), "--scale", "2", "--model",
                       str(path), "-o", str(output), "--device", "cpu", "--quiet"])
    if child.returncode != 0:
        raise RuntimeError(f"imagestudio upscale failed: {child.stderr_tail}")
    peak, seconds = child.peak_rss, child.seconds
    return peak, seconds, what


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="640x480", help="input WIDTHxHEIGHT for the speed runs")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 24 MP peak-memory run (minutes)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    print(describe())
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        rows = speed_table(args.runs, height, width, workdir)
        name_width = max(len(name) for name, _ in rows)
        print(f"\n| {'path'.ljust(name_width)} | output MP/s |\n|{'-' * (name_width + 2)}|------------:|")
        for name, rate in rows:
            print(f"| {name.ljust(name_width)} | {rate:11.2f} |")
        if not args.skip_memory:
            peak, seconds, what = peak_memory(workdir)
            verdict = "under" if peak < MEMORY_LIMIT_BYTES else "OVER"
            print(f"\n24 MP JPEG (6000×4000) → ×2 with {what} via `imagestudio upscale`: "
                  f"peak RSS {peak / 2**30:.2f} GiB ({verdict} the 3 GiB budget), {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
