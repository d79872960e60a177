"""Speed and peak memory of each ImageStudio model: every CPU backend × precision the app can run (onnxruntime fp32
and int8, OpenVINO fp32, bf16 and int8, and the app's own auto choice) vs the same network in PyTorch eager fp32 (and
bf16 + channels_last), same weights, same thread count, same tiling, at 0.25, 1, 4 and 16 output megapixels, in one
run. int8 rows exist for the models whose card names an int8 file (training/quantize.py makes them).

Every row runs in its own child process (bench/speed_worker.py), so its peak RSS is its own: interpreter, libraries,
weights, the image, the output and the inference workspace (VmHWM; bench/measure.py says why not ru_maxrss).
Times are the median of up to --runs runs after a one-tile warm-up; big images stop repeating once --budget seconds are spent (the row says how many runs it got).
Writes docs/bench/speed.md and speed.png (speed-cuda.md / .png with --device cuda); --quick writes to build/bench-quick/
unless --out says otherwise, so a smoke run never replaces the measured page.

    python bench/speed.py [--quick] [--device cuda [--fp16]] [--sizes 0.25,1,4,16] [--models DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chart import bar_chart  # noqa: E402
from machine import describe  # noqa: E402
from machine_load import OtherLoad  # noqa: E402
from measure import MIB, markdown_table, run_child  # noqa: E402

MODELS = ROOT / "resources" / "models"
OUT = ROOT / "docs" / "bench"
QUICK_OUT = ROOT / "build" / "bench-quick"  # as bench/run_all.py --quick: never the committed pages
WORKER = str(ROOT / "bench" / "speed_worker.py")
# The image models, in the order people meet them; generators and VAE halves have a fixed size (not a size table).
IMAGE_MODELS = ("upscale-x4", "upscale-x2", "upscale-x4-gan", "denoise", "lowlight")
FULL_SIZES = (0.25, 1.0, 4.0, 16.0)
# (framework, precision); the first is the yardstick every ratio divides by. "auto": what the app picks here.
CPU_VARIANTS = (("torch", "fp32"), ("onnxruntime", "fp32"), ("openvino", "fp32"), ("openvino", "bf16"),
                ("onnxruntime", "int8"), ("openvino", "int8"), ("auto", "auto"), ("torch", "bf16"))
CUDA_VARIANTS = (("torch", "fp32"), ("onnxruntime", "fp32"))
TODAY = ("onnxruntime", "fp32")  # the app's CPU path before the backend choice


def label(framework: str, precision: str) -> str:
    if framework == "auto":
        return "app auto"
    name = {"onnxruntime": "onnxruntime", "openvino": "OpenVINO", "torch": "PyTorch eager"}[framework]
    return f"{name} {precision}" + (" channels_last" if framework == "torch" and precision == "bf16" else "")


@dataclass
class Row:
    model: str
    megapixels: float
    framework: str
    fp16: bool
    result: dict
    peak_rss: int
    gflop_per_mp: float  # counted from the graph: divides by s/MP into achieved GFLOP/s
    error: str = ""
    precision: str = "fp32"

    @property
    def variant(self) -> tuple[str, str]:
        return self.framework, self.precision

    @property
    def key(self) -> tuple[str, float, bool]:
        return self.model, self.megapixels, self.fp16


def _architecture(path: Path) -> str:
    from imagestudio.core import model_card
    from imagestudio.core.onnx_metadata import read_metadata_props

    return read_metadata_props(path).get(model_card.ARCHITECTURE, "")


def gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        return out.splitlines()[0] if out else "unknown GPU"
    except (OSError, subprocess.SubprocessError):
        return "unknown GPU (nvidia-smi not found)"


@dataclass(frozen=True)
class Planned:
    name: str
    path: Path
    gflop_per_mp: float


def gflop_per_output_mp(path: Path) -> float:
    from flops import count_flops

    from imagestudio.core.models import read_model_card

    card = read_model_card(path)
    side = 64 * card.tile_multiple
    return count_flops(path, (1, 3, side, side)).total / 1e9 / ((side * card.scale) ** 2 / 1e6)


def _is_curve_model(path: Path) -> bool:
    from imagestudio.core.models import read_model_card
    from imagestudio.core.ops.lowlight_curve import CURVE_KINDS

    return read_model_card(path).output_kind in CURVE_KINDS


def plan_models(folder: Path, wanted: tuple[str, ...]) -> tuple[list[Planned], list[str]]:
    """(models to measure, notes on those skipped)."""
    chosen: list[Planned] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    for name in wanted:
        path = folder / f"{name}.onnx"
        if not path.is_file():
            where = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
            notes.append(f"`{name}`: not installed in {where} when this ran; no rows (nothing is estimated).")
            continue
        architecture = _architecture(path)
        if architecture and architecture in seen:
            notes.append(f"`{name}`: the same network as `{seen[architecture]}` ({architecture}), other weights; "
                         "dense convolutions cost the same whatever the weights, so its rows would repeat those.")
            continue
        seen[architecture] = name
        chosen.append(Planned(name, path, gflop_per_output_mp(path)))
        if _is_curve_model(path):
            notes.append(f"`{name}`: a curve model — each row times its network on the operation's ≤ 512-pixel copy "
                         "of the photo (what the backends change; the full-size curve after it is the same numpy "
                         "for every row), so its s/MP and GFLOP/s are per photo megapixel, not network work.")
    generators = sorted(p.stem for p in folder.glob("*.onnx") if p.stem.startswith(("generate", "vae")))
    if generators:
        notes.append(f"{', '.join(f'`{g}`' for g in generators)}: fixed-size generative models (64×64 output), "
                     "not image-to-image; they have no size table.")
    return chosen, notes


def has_int8_file(path: Path) -> bool:
    from imagestudio.core.card_values import card_int8_file
    from imagestudio.core.onnx_metadata import read_metadata_props

    return card_int8_file(read_metadata_props(path), path) is not None


def measure(models: list[Planned], sizes: tuple[float, ...], device: str, precisions: tuple[bool, ...],
            runs: int, budget: float, tile: int, timeout: float, max_gflop: float, notes: list[str],
            variants: tuple[tuple[str, str], ...] = CPU_VARIANTS) -> list[Row]:
    rows: list[Row] = []
    for model in models:
        name, path = model.name, model.path
        model_variants = variants
        if any(p == "int8" for _, p in variants) and not has_int8_file(path):
            model_variants = tuple(v for v in variants if v[1] != "int8")
            notes.append(f"`{name}`: no int8 rows — its card names no int8 file (training/quantize.py writes one "
                         "only where onnxruntime int8 measured faster than fp32).")
        measured = [mp for mp in sizes if not max_gflop or model.gflop_per_mp * mp <= max_gflop]
        for megapixels in (mp for mp in sizes if mp not in measured):
            notes.append(f"`{name}` at {_mp(megapixels)} MP: {model.gflop_per_mp * megapixels:.0f} GFLOP per run, "
                         f"over this run's --max-gflop {max_gflop:.0f} (what keeps the whole suite under 10 minutes "
                         f"on 2 cores); `python bench/speed.py --only {name} --sizes {_mp(megapixels)}` measures it.")
        for index, megapixels in enumerate(measured):
            for fp16 in precisions:
                for framework, precision in model_variants:
                    argv = [WORKER, str(path), "--framework", framework, "--precision", precision, "--megapixels",
                            str(megapixels), "--device", device, "--runs", str(runs), "--budget", str(budget),
                            "--tile", str(tile)]
                    if fp16:
                        argv.append("--fp16")
                    if framework == "torch" and precision == "fp32" and index == 0:
                        argv.append("--parity")
                    child = run_child(argv, timeout_s=timeout)
                    error = "" if child.returncode == 0 and child.result else (child.stderr_tail or "no result")
                    peak = child.peak_rss  # the worker's VmHWM, taken before its parity check
                    row = Row(name, megapixels, framework, fp16, child.result, peak, model.gflop_per_mp,
                              error.splitlines()[-1] if error else "", precision)
                    rows.append(row)
                    r = child.result
                    print(f"{name} {megapixels:g} MP {'fp16 ' if fp16 else ''}{label(framework, precision)}: "
                          + (f"{r['median_s']:.3f} s ({r['s_per_mp']:.3f} s/MP, {len(r['times'])} runs), "
                             f"peak {peak / MIB:.0f} MiB" if not error else f"FAILED {row.error}"), flush=True)
    return rows


def _mp(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def table_rows(rows: list[Row]) -> list[list[object]]:
    out = []
    for row in rows:
        r = row.result
        precision = "fp16" if row.fp16 else row.precision
        if row.error:
            out.append([row.model, _mp(row.megapixels), label(*row.variant), precision, "—", "—", "—", "—", "—",
                        "—", "—", "—", f"failed: {row.error}"])
            continue
        width, height = r["input"]
        out.append([row.model, f"{_mp(r['output_megapixels'])} ({width}×{height} in)", label(*row.variant),
                    precision, r["provider"].replace("ExecutionProvider", ""), r["tile"], r["threads"],
                    len(r["times"]), f"{r['s_per_mp']:.3f}", f"{row.gflop_per_mp / r['s_per_mp']:.1f}",
                    f"{row.peak_rss / MIB:.0f}",
                    f"{r['baseline_rss'] / MIB:.0f}", f"{(row.peak_rss - r['baseline_rss']) / MIB:.0f}"])
    return out


def _work(row: Row) -> float:
    """Memory the run itself needed: peak minus what the loaded process held before the image existed."""
    return max(1.0, row.peak_rss - row.result["baseline_rss"])


def _ratio(baseline: dict, result: dict) -> str:
    """baseline's median time over result's, with the extremes over the runs (baseline's fastest over result's
    slowest, its slowest over result's fastest)."""
    b, r = baseline["times"], result["times"]
    return (f"×{baseline['median_s'] / result['median_s']:.2f} "
            f"({min(b) / max(r):.2f}–{max(b) / min(r):.2f})")


def ratio_rows(rows: list[Row]) -> list[list[object]]:
    """Every variant against PyTorch eager fp32 (the first variant) and against today's onnxruntime fp32 path."""
    by_key: dict[tuple, dict[tuple[str, str], Row]] = {}
    for row in rows:
        if not row.error:
            by_key.setdefault(row.key, {})[row.variant] = row
    out = []
    for (model, megapixels, fp16), variants in by_key.items():
        peer = variants.get(("torch", "fp32"))
        today = variants.get(TODAY)
        for variant, ours in variants.items():
            if variant == ("torch", "fp32"):
                continue
            ran = ours.result["provider"].replace("ExecutionProvider", "")
            out.append([model, _mp(megapixels), label(*variant) + (" fp16" if fp16 else ""), ran,
                        f"{ours.result['s_per_mp']:.3f}",
                        _ratio(peer.result, ours.result) if peer else "—",
                        _ratio(today.result, ours.result) if today and variant != TODAY else "—",
                        f"×{peer.peak_rss / ours.peak_rss:.2f}" if peer else "—"])
    return out


def write_report(rows: list[Row], notes: list[str], args: argparse.Namespace, load_note: str,
                 seconds: float) -> Path:
    cuda = args.device == "cuda"
    stem = "speed-cuda" if cuda else "speed"
    title = "Speed on CUDA" if cuda else "Speed and memory on the CPU"
    threads = next((r.result["threads"] for r in rows if r.result), "?")
    parity = [f"`{r.model}` {r.result['parity']:.1e}" for r in rows if r.result.get("parity") is not None]
    lines = [f"# {title}: every backend × precision vs PyTorch eager fp32", "",
             f"Machine: {describe()}." + (f" GPU: {gpu_name()}." if cuda else ""), "", load_note, "",
             f"Each row: one child process; the model's whole image through the core's tiling (tile side in the "
             f"row), {threads} threads for both onnxruntime (intra-op) and torch (`torch.set_num_threads`). "
             f"Time: median of up to {args.runs} runs after a one-tile warm-up (runs column; big images stop "
             f"repeating after {args.budget:.0f} s). s/MP: seconds per *output* megapixel. Peak RSS: the child's "
             "high-water mark, VmHWM (libraries, weights, image, output, workspace); base: its RSS after loading, before the "
             "image existed.", "",
             "PyTorch eager runs the same network rebuilt from the card's `architecture` with the ONNX file's own "
             "weights (`bench/torch_twin.py`), under `torch.inference_mode()`"
             + (f"; max |torch − onnxruntime| on a 48×48 input: {', '.join(parity)}." if parity else "."), "",
             f"Command: `python bench/speed.py {' '.join(sys.argv[1:])}`; {seconds:.0f} s in all.", ""]
    ratios = ratio_rows(rows)
    if ratios:
        lines += ["## Every backend × precision vs PyTorch eager fp32", "",
                  *markdown_table(["model", "output MP", "variant", "what really ran", "s/MP",
                                   "speed-up vs torch fp32 (min–max)", "vs onnxruntime fp32 (today)",
                                   "torch fp32 peak RSS / this"], ratios, "llllrrrr"),
                  "", "Speed-up: PyTorch eager fp32's median time over the row's (above ×1: faster); in brackets "
                  "the extremes over the runs. *app auto* is what the app picks on this CPU (bf16 or int8 only for "
                  "models whose card measured ≤ 0.05 dB loss; *what really ran* names it). On a CPU without bf16 "
                  "or VNNI units (an AVX2 laptop) auto is onnxruntime fp32, today's path, so the app is never "
                  "slower there than before.", ""]
    lines += ["## Every row", "",
              *markdown_table(["model", "output MP", "framework", "precision", "provider", "tile", "threads", "runs",
                               "s/MP", "GFLOP/s", "peak RSS MiB", "base MiB", "peak − base"], table_rows(rows),
                             "lllllrrrrrrrr"), "",
              "GFLOP/s: the network's FLOPs counted from the ONNX graph (bench/flops.py) per second; tiling "
              "recomputes the overlaps on top of that, so the arithmetic really done is a little higher.", ""]
    if notes:
        lines += ["## Not measured", "", *[f"- {n}" for n in notes], ""]
    if not cuda:
        lines += ["## GPU", "",
                  "Not run yet: the session that produced this page had no GPU. On a CUDA machine, "
                  "`python bench/speed.py --device cuda --fp16` writes `speed-cuda.md` with the same table for fp32 "
                  "and fp16 (onnxruntime's CUDA provider; torch needs a CUDA build), with the date and device name.",
                  ""]
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / f"{stem}.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok = [r for r in rows if not r.error]
    groups = list(dict.fromkeys(f"{r.model} {_mp(r.megapixels)} MP{' fp16' if r.fp16 else ''}" for r in ok))
    variants = list(dict.fromkeys(r.variant for r in rows))
    series = {label(*v): [next((r.result["s_per_mp"] for r in ok if r.variant == v and
                                f"{r.model} {_mp(r.megapixels)} MP{' fp16' if r.fp16 else ''}" == g), float("nan"))
                          for g in groups] for v in variants}
    if groups:
        bar_chart(args.out / f"{stem}.png", f"Seconds per output megapixel ({args.device.upper()}), lower is better",
                  groups, series, "s/MP")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="upscale-x4 at 0.25 and 1 MP only (seconds)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--fp16", action="store_true", help="with --device cuda: fp16 rows as well as fp32")
    parser.add_argument("--sizes", help="output megapixels, comma-separated (default 0.25,1,4,16)")
    parser.add_argument("--only", help="model names, comma-separated (default: every installed image model)")
    parser.add_argument("--variants", help="framework:precision pairs, comma-separated (default: every CPU one, "
                                           "torch:fp32 first as the yardstick)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=12.0, help="seconds per row after which repeats stop")
    parser.add_argument("--tile", type=int, default=0, help="tile side (0: the core's choice for the device)")
    parser.add_argument("--threads", type=int, help="threads for both frameworks (default: the core's choice)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a row's child is stopped")
    parser.add_argument("--max-gflop", type=float, default=0.0,
                        help="skip (and list) rows whose counted work per run is above this (0: measure all)")
    parser.add_argument("--models", type=Path, default=MODELS, help="folder of .onnx models")
    parser.add_argument("--out", type=Path, help="where the .md and .png go (default docs/bench; with --quick "
                                                 "build/bench-quick)")
    args = parser.parse_args()
    args.out = args.out or (QUICK_OUT if args.quick else OUT)
    if args.fp16 and args.device != "cuda":
        parser.error("--fp16 needs --device cuda (fp16 convolutions on the CPU are emulated: not a fair row)")
    if args.threads:
        os.environ["IMAGESTUDIO_THREADS"] = str(args.threads)  # the children read it through core.runtime
    sizes = tuple(float(s) for s in args.sizes.split(",")) if args.sizes else ((0.25, 1.0) if args.quick
                                                                               else FULL_SIZES)
    wanted = tuple(args.only.split(",")) if args.only else (("upscale-x4",) if args.quick else IMAGE_MODELS)
    print(describe())
    models, notes = plan_models(args.models, wanted)
    started = time.perf_counter()
    with OtherLoad() as load:
        variants = CUDA_VARIANTS if args.device == "cuda" else CPU_VARIANTS
        if args.variants:
            variants = tuple(tuple(v.split(":")) for v in args.variants.split(","))  # type: ignore[misc]
        rows = measure(models, sizes, args.device, (False, True) if args.fp16 else (False,), args.runs,
                       args.budget, args.tile, args.timeout, args.max_gflop, notes, variants)
    print(load.note())
    report = write_report(rows, notes, args, load.note(), time.perf_counter() - started)
    print("\n".join(report.read_text().splitlines()[10:]))
    print(f"wrote {report}")
    print(json.dumps({"rows": len(rows), "failed": sum(bool(r.error) for r in rows)}))
    return 0 if rows and not any(r.error for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
