"""One row of bench/speed.py, in its own process so that its peak memory is its own.

    python bench/speed_worker.py MODEL.onnx --framework onnxruntime|openvino|auto|torch --megapixels 4
        [--precision fp32|bf16|int8|auto] [--device cpu|cuda] [--fp16]

Makes a photo-like image whose *output* has about that many megapixels, warms up on one tile, then times the whole
image through the core's tiling (a curve model — lowlight — instead runs its network once on the operation's own
≤ 512-pixel copy of the photo, as core/ops/lowlight_curve.py does; the full-size curve that follows is the same numpy
for every row, so it is left out) (onnxruntime / OpenVINO / the app's auto choice: `run_model_tiled` with that backend
and precision requested, exactly what the app runs, and the row records what really ran; torch eager: the same
`tiled_apply` with the same tile, context and blend, fp32, or bf16 + channels_last). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import emit, peak_rss_self, photo_like, repeat, rss_now  # noqa: E402

from imagestudio.core.models import ModelCard, read_model_card  # noqa: E402
from imagestudio.core.ops.lowlight_curve import CURVE_KINDS, _small_copy  # noqa: E402
from imagestudio.core.runtime import get_session, thread_count  # noqa: E402
from imagestudio.core.runtime_choice import set_requested  # noqa: E402
from imagestudio.core.tiling import DEFAULT_BLEND, choose_tile, run_model_tiled, tiled_apply  # noqa: E402

Work = Callable[[np.ndarray], np.ndarray]  # (H, W, 3) -> (H*s, W*s, 3)


def input_size(megapixels: float, scale: int, multiple: int) -> tuple[int, int]:
    """(width, height) of a 4:3 input whose output has about `megapixels`."""
    out_width = math.sqrt(megapixels * 1e6 * 4 / 3)
    width = max(multiple, round(out_width / scale / multiple) * multiple)
    height = max(multiple, round(out_width * 3 / 4 / scale / multiple) * multiple)
    return width, height


def _fp16_copy(path: Path, folder: Path) -> Path:
    """The model with fp16 weights and arithmetic inside, fp32 input/output (what an fp16 build would ship)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(path)), keep_io_types=True)
    target = folder / path.name
    onnx.save(model, str(target))
    return target


def onnxruntime_work(card: ModelCard, device: str, tile: int | None, backend: str = "onnxruntime",
                     precision: str = "fp32") -> tuple[Work, str, int]:
    set_requested(backend, precision)  # what the CLI's --backend/--precision do
    session = get_session(card.path, device)
    if device == "cuda" and session.device != "cuda":  # never report CPU seconds as CUDA ones
        raise SystemExit(f"CUDA requested but onnxruntime runs on the CPU: {session.notice or session.provider}")
    if precision not in ("auto", session.precision):  # never report fp32 seconds as bf16 ones
        raise SystemExit(f"{precision} requested but {session.notice or session.describe()}")
    side = choose_tile(tile, session.device, card.receptive_radius, DEFAULT_BLEND, card.tile_multiple, card.scale)
    ran = f"{session.provider} [{session.backend} {session.precision}]"
    if card.output_kind in CURVE_KINDS:
        return (lambda rgb: session.run(_small_copy(rgb, card.tile_multiple))), ran, side
    return (lambda rgb: run_model_tiled(card, rgb, device=device, tile=side)), ran, side


def torch_work(card: ModelCard, device: str, fp16: bool, tile: int | None,
               precision: str = "fp32") -> tuple[Work, str, int]:
    import torch
    from torch_twin import torch_twin

    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("this torch build has no CUDA (or no GPU is visible)")
    module, _ = torch_twin(card.path)
    dtype = torch.float16 if fp16 else torch.bfloat16 if precision == "bf16" else torch.float32
    # bf16 with channels_last: the layout oneDNN's AMX/AVX512-BF16 convolutions want
    layout = torch.channels_last if precision == "bf16" else torch.contiguous_format
    module = module.to(device=device, dtype=dtype, memory_format=layout)
    side = choose_tile(tile, device, card.receptive_radius, DEFAULT_BLEND, card.tile_multiple, card.scale)

    def run_tile(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            tensor = torch.from_numpy(x).to(device=device, dtype=dtype).contiguous(memory_format=layout)
            return module(tensor).float().cpu().numpy()

    def work(rgb: np.ndarray) -> np.ndarray:
        if card.output_kind in CURVE_KINDS:
            return run_tile(_small_copy(rgb, card.tile_multiple))
        return tiled_apply(run_tile, rgb, scale=card.scale, tile=side, context=card.receptive_radius,
                           multiple=card.tile_multiple)

    provider = (f"torch {torch.__version__} {'CUDA ' + torch.cuda.get_device_name() if device == 'cuda' else 'CPU'}"
                + (" bf16 channels_last" if precision == "bf16" else ""))
    return work, provider, side


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--framework", choices=("onnxruntime", "openvino", "auto", "torch"), required=True)
    parser.add_argument("--precision", choices=("fp32", "bf16", "int8", "auto"), default="fp32")
    parser.add_argument("--megapixels", type=float, required=True, help="output size")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--fp16", action="store_true")
    parser.add_argument("--tile", type=int, default=0, help="0: the core's automatic tile for the device")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=20.0, help="stop repeating once this many seconds are spent")
    parser.add_argument("--parity", action="store_true", help="also report max |torch - onnxruntime| (torch rows)")
    args = parser.parse_args()

    threads = thread_count()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = _fp16_copy(args.model, Path(folder)) if args.fp16 and args.framework == "onnxruntime" else args.model
        card = read_model_card(path)
        if args.framework == "torch":
            import torch

            torch.set_num_threads(threads)  # the same count onnxruntime's intra-op pool gets
            work, provider, tile = torch_work(card, args.device, args.fp16, args.tile or None, args.precision)
        else:
            work, provider, tile = onnxruntime_work(card, args.device, args.tile or None, args.framework,
                                                    args.precision)
        load_seconds = time.perf_counter() - started
        baseline = rss_now()  # interpreter, libraries and weights: what every size pays
        width, height = input_size(args.megapixels, card.scale, card.tile_multiple)
        rgb = photo_like(height, width)
        warm = rgb[: min(height, tile), : min(width, tile)]
        work(np.ascontiguousarray(warm))  # sessions, arenas, kernels, page faults: once per process
        timing = repeat(lambda: work(rgb), args.runs, args.budget)
        peak = peak_rss_self()
        parity = None
        if args.parity and args.framework == "torch":  # float32 on the CPU, whatever the row ran
            from torch_twin import parity as max_difference
            from torch_twin import torch_twin

            parity = max_difference(args.model, torch_twin(args.model)[0])
    out_mp = width * height * card.scale**2 / 1e6
    emit({"model": card.name, "framework": args.framework, "precision": args.precision, "device": args.device,
          "fp16": args.fp16,
          "provider": provider, "threads": threads, "tile": tile, "input": [width, height], "scale": card.scale,
          "output_megapixels": out_mp, "times": timing.times, "median_s": timing.median,
          "s_per_mp": timing.median / out_mp, "load_s": load_seconds, "baseline_rss": baseline,
          "peak_rss": peak, "parity": parity})
    return 0


if __name__ == "__main__":
    sys.exit(main())
