"""Our networks on a GPU in PyTorch: fp32, fp16, bf16, channels_last and batched tiles, as output megapixels per second.

The GPU machine lent to some sessions has torch but no onnxruntime-gpu (and the CUDA provider library is larger than
what one call can carry there), so this measures what is possible there: the shipped networks rebuilt in torch with
the ONNX files' own weights (bench/torch_twin.py), each on batches of same-size tiles, after a warm-up, with
`torch.cuda.synchronize()` around every timed run. Each row also gives the largest difference from fp32 on the same
tiles, so a fast but wrong precision shows. Writes docs/bench/gpu-torch.md (gpu-torch-quick.md with --quick) and
prints one JSON line per row.

    python bench/gpu_torch.py [--quick] [--device cuda] [--models DIR] [--out DIR]

`--device cpu` runs the same code on the CPU (a smoke test of the script; never a GPU figure).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import markdown_table  # noqa: E402

MODELS = ROOT / "resources" / "models"
OUT = ROOT / "docs" / "bench"
IMAGE_MODELS = ("upscale-x4", "upscale-x2", "upscale-x4-gan", "denoise", "lowlight")
# (dtype name, channels_last)
VARIANTS = (("fp32", False), ("fp32", True), ("fp16", False), ("fp16", True), ("bf16", True))


def run(device: str, quick: bool, folder: Path, runs: int) -> list[dict]:
    import torch
    from torch_twin import torch_twin

    from imagestudio.core.models import read_model_card

    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    names = ("upscale-x4",) if quick else IMAGE_MODELS
    tile = 128 if quick else 256  # input tile side (a multiple of every tile_multiple we ship)
    batches = (1, 4) if quick else (1, 4, 16)
    rows = []
    for name in names:
        path = folder / f"{name}.onnx"
        if not path.is_file():
            continue
        card = read_model_card(path)
        base, architecture = torch_twin(path)
        base = base.eval().to(device)
        for batch in batches:
            x32 = torch.rand(batch, 3, tile, tile, generator=torch.Generator().manual_seed(0)).to(device)
            with torch.inference_mode():
                reference = base(x32).float()
            for dtype_name, channels_last in VARIANTS:
                layout = torch.channels_last if channels_last else torch.contiguous_format
                module = torch_twin(path)[0].eval().to(device=device, dtype=dtypes[dtype_name],
                                                         memory_format=layout)
                x = x32.to(dtype=dtypes[dtype_name]).contiguous(memory_format=layout)
                times = []
                with torch.inference_mode():
                    out = module(x)  # warm-up: cuDNN picks its kernels for this shape
                    for _ in range(runs):
                        if device == "cuda":
                            torch.cuda.synchronize()
                        started = time.perf_counter()
                        out = module(x)
                        if device == "cuda":
                            torch.cuda.synchronize()
                        times.append(time.perf_counter() - started)
                median = sorted(times)[len(times) // 2]
                out_mp = batch * (tile * card.scale) ** 2 / 1e6
                row = {"model": name, "architecture": architecture, "batch": batch, "tile": tile,
                       "dtype": dtype_name, "channels_last": channels_last, "median_s": median,
                       "min_s": min(times), "max_s": max(times), "output_mp_per_s": out_mp / median,
                       "max_abs_vs_fp32": float((out.float() - reference).abs().max())}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def write(rows: list[dict], device: str, quick: bool, out: Path, seconds: float) -> Path:
    import torch

    gpu = torch.cuda.get_device_name() if device == "cuda" else "none (CPU smoke run: not a GPU figure)"
    table = [[r["model"], r["batch"], f"{r['tile']}²", r["dtype"], "yes" if r["channels_last"] else "no",
              f"{r['output_mp_per_s']:.1f}", f"{r['median_s'] * 1e3:.1f} ({r['min_s'] * 1e3:.1f}–"
              f"{r['max_s'] * 1e3:.1f})", f"{r['max_abs_vs_fp32']:.1e}"] for r in rows]
    lines = ["# Our networks in PyTorch on the GPU", "", f"Device: {device}; GPU: {gpu}; torch {torch.__version__}.",
             f"Command: `python bench/gpu_torch.py {' '.join(sys.argv[1:])}`; {seconds:.0f} s in all.", "",
             "What ran: the shipped networks rebuilt in torch with the ONNX files' weights; a batch of same-size "
             "random tiles per row, after one warm-up; median (min–max) over the runs, synchronised. Not run: "
             "onnxruntime's CUDA provider (not installed on that machine), the app's own tiling and blending, "
             "image decoding and encoding.", "",
             *markdown_table(["model", "batch", "input tile", "dtype", "channels_last", "output MP/s",
                              "ms per batch (min–max)", "max |Δ| vs fp32"], table, "lrrllrrr"), ""]
    out.mkdir(parents=True, exist_ok=True)
    report = out / ("gpu-torch-quick.md" if quick or device != "cuda" else "gpu-torch.md")
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--quick", action="store_true", help="upscale-x4 only, 128² tiles, batches 1 and 4")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", type=Path, default=MODELS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch: nothing measured (use --device cpu for a smoke run)")
    started = time.perf_counter()
    rows = run(args.device, args.quick, args.models, args.runs)
    report = write(rows, args.device, args.quick, args.out, time.perf_counter() - started)
    print(f"wrote {report}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
