"""How close the ×4 upscaler runs to the CPU's limit: achieved GFLOP/s of every CPU backend × precision against the
theoretical peak of the units that precision runs on (fp32: AVX2/AVX-512 FMA; bf16: AMX-BF16 or AVX512-BF16;
int8: AMX-INT8 or VNNI), with PyTorch eager fp32 as the yardstick.

FLOPs are counted from the ONNX graph (bench/flops.py: Conv/ConvTranspose MACs from weight shapes × output size,
element-wise ops one FLOP per element, data movement none). The peak is cores × clock × FLOPs/cycle from the vector
width the CPU flags announce (bench/cpu_peak.py, assumptions stated there and in the report). A large OpenBLAS
SGEMM (numpy) shows what dense fp32 arithmetic reaches in practice here. Also lists every installed image model's
GFLOP per output megapixel, so that any s/MP figure of speed.md converts to GFLOP/s.
Writes docs/bench/efficiency.md and efficiency.png; --quick writes to build/bench-quick/ unless --out says otherwise.

    python bench/efficiency.py [--quick] [--models DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chart import bar_chart  # noqa: E402
from cpu_peak import cpu_peak  # noqa: E402
from flops import count_flops, parameters  # noqa: E402
from machine import describe  # noqa: E402
from machine_load import OtherLoad  # noqa: E402
from measure import markdown_table, photo_like, repeat  # noqa: E402

from imagestudio.core.models import read_model_card  # noqa: E402
from imagestudio.core.runtime import get_session, thread_count  # noqa: E402
from imagestudio.core.runtime_choice import set_requested  # noqa: E402
from imagestudio.core.tiling import DEFAULT_BLEND, choose_tile, plan_windows, run_model_tiled  # noqa: E402

MODELS = ROOT / "resources" / "models"
OUT = ROOT / "docs" / "bench"
QUICK_OUT = ROOT / "build" / "bench-quick"  # a smoke run never replaces the measured page
SPEED_MODELS = ("upscale-x4", "upscale-x2", "upscale-x4-gan", "denoise", "lowlight")


def sgemm_gflops(runs: int, n: int = 2048) -> float:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b  # warm-up: BLAS threads and buffers
    return 2 * n**3 / repeat(lambda: a @ b, runs).median / 1e9


def tiled_flops(path: Path, width: int, height: int, tile: int, context: int, multiple: int) -> float:
    """FLOPs the tiled run really executes: the overlap between windows is computed twice."""
    overlap = 2 * context + DEFAULT_BLEND
    rows = plan_windows(height, tile, overlap, multiple)
    cols = plan_windows(width, tile, overlap, multiple)
    cache: dict[tuple[int, int], float] = {}
    total = 0.0
    for r in rows:
        for c in cols:
            shape = (-(-(r.stop - r.start) // multiple) * multiple, -(-(c.stop - c.start) // multiple) * multiple)
            if shape not in cache:
                cache[shape] = count_flops(path, (1, 3, *shape)).total
            total += cache[shape]
    return total


def _ratio(baseline, timing) -> str:
    """torch fp32's median over this row's, with the extremes over the runs."""
    if timing is baseline:
        return "×1.00"
    return (f"×{baseline.median / timing.median:.2f} ({min(baseline.times) / max(timing.times):.2f}–"
            f"{max(baseline.times) / min(timing.times):.2f})")


def model_table(folder: Path) -> list[list[object]]:
    rows = []
    for name in SPEED_MODELS:
        path = folder / f"{name}.onnx"
        if not path.is_file():
            rows.append([name, "not installed", "—", "—", "—"])
            continue
        card = read_model_card(path)
        side = 64 * card.tile_multiple
        count = count_flops(path, (1, 3, side, side))
        out_mp = (side * card.scale) ** 2 / 1e6
        rows.append([name, f"{parameters(path) / 1e3:.0f} k", f"{count.total / out_mp / 1e9:.1f}",
                     f"{count.total / side**2 / 1e3:.0f} k", f"{100 * count.conv_share:.1f} %"])
    return rows


def run(quick: bool, folder: Path, out: Path, runs: int, load: OtherLoad) -> str:
    import torch
    from torch_twin import parity, torch_twin

    path = folder / "upscale-x4.onnx"
    if not path.is_file():
        raise SystemExit(f"{path} is not installed: nothing to measure (no figure is estimated)")
    peak = cpu_peak(thread_count())
    threads = thread_count()
    torch.set_num_threads(threads)
    card = read_model_card(path)
    width, height = (256, 192) if quick else (640, 480)  # 640 wide: two tiles, so tiling shows its cost
    rgb = photo_like(height, width)
    nchw = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
    count = count_flops(path, (1, 3, height, width))
    session = get_session(path, "cpu", backend="onnxruntime", precision="fp32")  # not auto: this row is onnxruntime
    module, architecture = torch_twin(path)
    tile = choose_tile(None, "cpu", card.receptive_radius, DEFAULT_BLEND, card.tile_multiple, card.scale)
    executed_tiled = tiled_flops(path, width, height, tile, card.receptive_radius, card.tile_multiple)

    def torch_run() -> None:
        with torch.inference_mode():
            module(torch.from_numpy(nchw))

    def tiled(backend: str, precision: str):
        def work() -> None:
            set_requested(backend, precision)
            run_model_tiled(card, rgb, device="cpu")
        return work

    # (label, precision the units run, work, FLOPs it executes)
    cases = [("PyTorch eager fp32, whole image", "fp32", torch_run, count.total),
             ("onnxruntime fp32, whole image (one session.run)", "fp32", lambda: session.run(nchw), count.total),
             (f"onnxruntime fp32, the app's tiled path (tile {tile})", "fp32", tiled("onnxruntime", "fp32"),
              executed_tiled)]
    skipped = []
    for backend, precision in (("openvino", "fp32"), ("openvino", "bf16"), ("onnxruntime", "int8"),
                               ("openvino", "int8")):
        name = f"{'OpenVINO' if backend == 'openvino' else 'onnxruntime'} {precision}"
        try:
            other = get_session(path, "cpu", backend=backend, precision=precision)
        except Exception as exc:  # OpenVINO not installed: said in the report, not estimated
            skipped.append(f"{name}: {exc}")
            continue
        if other.precision != precision:  # no bf16 units, or no int8 file: never reported as that precision
            skipped.append(f"{name}: {other.notice}")
            continue
        cases.append((f"{name}, whole image", precision, lambda s=other: s.run(nchw), count.total))
        cases.append((f"{name}, the app's tiled path (tile {tile})", precision, tiled(backend, precision),
                      executed_tiled))
    results = []
    for label, precision, work, executed in cases:
        work()  # warm-up
        timing = repeat(work, runs)
        results.append((label, precision, timing, executed))
    set_requested("auto", "auto")
    gemm = sgemm_gflops(runs)

    def pct(gflops: float, precision: str = "fp32") -> str:
        return f"{100 * gflops / peak.for_precision(precision)[2]:.1f} %"

    rows = [[label, f"{executed / 1e9:.1f}", f"{timing.median:.3f}", _ratio(results[0][2], timing),
             f"{count.total / timing.median / 1e9:.1f}", f"{executed / timing.median / 1e9:.1f}",
             f"{peak.for_precision(precision)[2]:.0f} ({precision})", pct(executed / timing.median / 1e9, precision)]
            for label, precision, timing, executed in results]
    rows.append(["numpy SGEMM 2048×2048 (OpenBLAS): practical dense fp32 ceiling", f"{2 * 2048**3 / 1e9:.1f}",
                 f"{2 * 2048**3 / gemm / 1e9:.3f}", "—", "—", f"{gemm:.1f}", f"{peak.gflops:.0f} (fp32)", pct(gemm)])
    peaks = [[precision, *(str(v) if not isinstance(v, float) else f"{v:.0f}" for v in peak.for_precision(precision))]
             for precision in ("fp32", "bf16", "int8")]
    by_op = [[op, t.nodes, f"{t.flops / 1e9:.3f}", f"{100 * t.flops / count.total:.2f} %",
              "data movement, 0 FLOPs" if not t.flops else ""] for op, t in count.by_op.items()]
    lines = [
        "# Efficiency: the ×4 upscaler against the machine's limit", "",
        f"Machine: {describe()}. {load.note()}", "",
        f"Model: `upscale-x4` ({architecture}), input {width}×{height} → {4 * width}×{4 * height}; "
        f"{count.total / 1e9:.1f} GFLOP counted from the ONNX graph ({100 * count.conv_share:.1f} % in "
        f"convolutions); {threads} threads for every runtime; median of {runs} runs after a warm-up, all in this "
        f"one run; max |torch − onnxruntime| {parity(path, module):.1e}.", "",
        *markdown_table(["what ran", "GFLOP executed", "median s", "vs torch fp32 (min–max)", "useful GFLOP/s",
                         "executed GFLOP/s", "peak of its units GFLOP/s", "of that peak"], rows, "lrrrrrrr"), "",
        "*vs torch fp32*: torch's median time over the row's (above ×1: faster than PyTorch eager fp32); in "
        "brackets the extremes over the runs (torch's fastest over the row's slowest, torch's slowest over the "
        "row's fastest).", "",
        *([f"Not measured: {'; '.join(skipped)}.", ""] if skipped else []),
        "*Useful* counts the untiled network's FLOPs; *executed* adds what tiling recomputes in the overlaps "
        f"(context {card.receptive_radius} px + blend {DEFAULT_BLEND} px each side"
        + ("; this input fits one tile, so nothing is recomputed)." if executed_tiled == count.total else ")."), "",
        "## Peak: how it was derived", "",
        f"- CPU: {peak.model}; {peak.cores} logical CPUs usable by this process, {peak.threads_per_core} thread(s) "
        "per core as the (virtual) machine reports it — under a hypervisor two vCPUs may share one physical core, "
        "which would halve the real peak.",
        f"- Clock: {peak.mhz:.0f} MHz, from {peak.clock_source}.",
        f"- Vector unit: {peak.vector} → {peak.flops_per_cycle} fp32 FLOPs per cycle per core (an FMA is 2 FLOPs; "
        "two full-width FMA pipes per core is right for AMD Zen 2/3 and server/desktop Zen 5 and for Intel "
        "client/Xeon Gold-class cores; one-FMA AVX-512 parts reach half"
        + (f"; this core: {peak.narrow}, so half the rates)." if peak.narrow else ", and so do AMD's half-width "
           "cores, Zen 1 and Zen 4: bench/cpu_peak.py halves those)."),
        "- Per precision, from the flags (bench/cpu_peak.py: AMX-BF16 1024, AVX512-BF16 128, AMX-INT8 2048, "
        "AVX512-VNNI 256 ops per cycle per core, half on half-width cores; a CPU without the units falls back to "
        "the fp32 vector peak). int8 rows count the same multiply-adds as fp32 (2 ops each), in GOP/s:", "",
        *markdown_table(["precision", "units", "ops per cycle per core", "peak GFLOP/s (or GOP/s)"], peaks, "llrr"),
        "",
        "- An AVX2-only CPU (no bf16, no VNNI) has only the fp32 row; there the app's auto choice is onnxruntime "
        "fp32, today's path.",
        "- The SGEMM row is the better yardstick for *attainable*: a well-tuned BLAS on large square matrices. "
        "A 3×3 convolution over 48 channels has far less arithmetic per byte moved than a 2048² GEMM.", "",
        "## FLOPs of the ×4 graph by operation", "",
        *markdown_table(["op", "nodes", "GFLOP", "share", "note"], by_op, "lrrrl"), "",
        "## Every image model: arithmetic per output megapixel", "",
        "Divide by a row's s/MP in [speed.md](speed.md) to get its achieved GFLOP/s.", "",
        *markdown_table(["model", "parameters", "GFLOP per output MP", "FLOPs per input pixel", "in convolutions"],
                        model_table(folder), "lrrrr"), "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "efficiency.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    labels = [r[0].split(",")[0] + (" tiled" if "tiled" in r[0] else "") for r in results] + ["numpy SGEMM",
                                                                                            "fp32 peak"]
    values = [r[3] / r[2].median / 1e9 for r in results] + [gemm, peak.gflops]
    bar_chart(out / "efficiency.png", "Executed GFLOP/s on the CPU (upscale-x4), higher is better", labels,
              {"GFLOP/s": values}, "GFLOP/s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 256×192 input (seconds)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", type=Path, default=MODELS)
    parser.add_argument("--out", type=Path, help="default docs/bench; with --quick build/bench-quick")
    args = parser.parse_args()
    args.out = args.out or (QUICK_OUT if args.quick else OUT)
    started = time.perf_counter()
    with OtherLoad() as load:
        print(run(args.quick, args.models, args.out, args.runs, load))
    print(f"wrote {args.out / 'efficiency.md'} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
