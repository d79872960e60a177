"""The whole benchmark suite in one run on one machine: quality, speed, efficiency, the app, batch throughput.

Each script runs as its own process, one after the other (never two at once: they would take cores from each other).
The full suite writes docs/bench/<name>.md + .png and docs/bench/README.md linking them; --quick (a smoke run, each
script at its smallest) writes to build/bench-quick/ so it never replaces measured pages.
Budget on 2 cores: full under 10 minutes, --quick under 1 minute.

    python bench/run_all.py [--quick] [--only speed,app] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from machine import describe, load_note  # noqa: E402

OUT = ROOT / "docs" / "bench"
QUICK_OUT = ROOT / "build" / "bench-quick"
BUDGET_S = {"full": 600, "quick": 60}


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    what: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    writes_out: bool = True  # takes --out (batch.py writes its own page, or none with --no-report)
    takes_models: bool = False  # takes --models (quality.py and batch.py read resources/models themselves)


STEPS = (
    Step("quality", "Quality", "PSNR/SSIM of our models vs bicubic, Lanczos and OpenCV (resize, fastNlMeans)",
         (), ("--quick",)),
    # 16 MP of a same-size model is ~2.5 TFLOP per run per framework: minutes each on 2 cores. The cap keeps the suite
    # inside its budget; speed.md lists what it skipped and the command that measures it.
    Step("speed", "Speed and memory", "s/MP and peak RSS per model, onnxruntime vs PyTorch eager, 0.25–16 MP",
         ("--max-gflop", "1000"), ("--quick", "--sizes", "0.25", "--runs", "2"), takes_models=True),
    Step("efficiency", "Efficiency", "the ×4 model's achieved GFLOP/s against the CPU's peak",
         (), ("--quick", "--runs", "2"), takes_models=True),
    Step("app", "The app", "launch to first paint and to first enhanced image, GUI stalls, memory",
         (), ("--quick",), takes_models=True),
    Step("batch", "Batch", "images/s, overlapped pipeline vs sequential loop",
         ("--files", "8", "--size", "256x192", "--runs", "3"),
         ("--files", "3", "--size", "128x96", "--runs", "1", "--no-report"), writes_out=False),
)


@dataclass
class Outcome:
    step: Step
    returncode: int
    seconds: float
    cpu_seconds: float  # user + system of the script and everything it started: what it costs on an idle machine
    tail: str


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # cumulative, so differences are per step
    return usage.ru_utime + usage.ru_stime


def run_step(step: Step, quick: bool, out: Path, models: Path | None) -> Outcome:
    argv = [sys.executable, str(ROOT / "bench" / f"{step.name}.py"), *(step.quick if quick else step.full)]
    # Relative paths where possible: the pages quote their command line.
    if step.writes_out:
        argv += ["--out", os.path.relpath(out, ROOT)]
    if models and step.takes_models:
        argv += ["--models", os.path.relpath(models, ROOT)]
    print(f"\n=== {step.name}: {' '.join(argv[1:])}", flush=True)
    started, cpu_before = time.perf_counter(), _children_cpu()
    proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
    print(tail, flush=True)
    print(f"=== {step.name}: exit {proc.returncode}, {seconds:.0f} s, {cpu:.0f} CPU-s", flush=True)
    return Outcome(step, proc.returncode, seconds, cpu, tail)


def batch_chart(out: Path) -> None:
    """bench/batch.py writes a table only; draw its images/s next to the other charts."""
    from chart import bar_chart

    page = out / "batch.md"
    if not page.exists():
        return
    rates = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] in ("sequential", "overlapped"):
            rates[cells[0]] = float(cells[1])
    if rates:
        bar_chart(out / "batch.png", "Batch: images per second, higher is better", list(rates),
                  {"images/s": list(rates.values())}, "img/s")


def write_index(outcomes: list[Outcome], out: Path, quick: bool, note: str, total: float) -> Path:
    mode = "quick" if quick else "full"
    budget = BUDGET_S[mode]
    cpu = sum(o.cpu_seconds for o in outcomes)
    cores = os.cpu_count() or 1
    lines = ["# Benchmarks", "",
             "ImageStudio measured against the tools people would use instead, in one run on one machine. "
             "Numbers depend on the machine and on what else ran on it; none of them is a test.", "",
             f"Machine: {describe()}. {note}", "",
             f"Suite: `python bench/run_all.py{' --quick' if quick else ''}`, {total:.0f} s in all "
             f"({'within' if total <= budget else '**over**'} the {budget // 60} min budget for the {mode} suite); "
             f"it used {cpu:.0f} CPU-seconds, so on {cores} idle cores it needs at least {cpu / cores:.0f} s.",
             "", "| benchmark | what | page | chart | seconds | CPU-seconds | exit |",
             "|---|---|---|---|---:|---:|---:|"]
    for o in outcomes:
        page = out / f"{o.step.name}.md"
        chart = out / f"{o.step.name}.png"
        lines.append(f"| {o.step.title} | {o.step.what} | "
                     f"{f'[{page.name}]({page.name})' if page.exists() else '—'} | "
                     f"{f'[{chart.name}]({chart.name})' if chart.exists() else '—'} | {o.seconds:.0f} | "
                     f"{o.cpu_seconds:.0f} | {o.returncode} |")
    cuda = out / "speed-cuda.md"
    lines += ["", "GPU: " + (f"see [speed-cuda.md](speed-cuda.md)." if cuda.exists() else
                             "not measured yet (no GPU where this suite ran); `python bench/speed.py --device cuda "
                             "--fp16` writes speed-cuda.md on a CUDA machine."), ""]
    for o in outcomes:
        chart = out / f"{o.step.name}.png"
        if chart.exists():
            lines += [f"## {o.step.title}", "", f"[Table: {o.step.name}.md]({o.step.name}.md)", "",
                      f"![{o.step.title}]({chart.name})", ""]
    out.mkdir(parents=True, exist_ok=True)
    index = out / "README.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every script at its smallest (under a minute)")
    parser.add_argument("--only", help="script names, comma-separated (default: all)")
    parser.add_argument("--models", type=Path, help="model folder for speed, efficiency and app "
                                                    "(default resources/models)")
    parser.add_argument("--out", type=Path, help=f"default {OUT.relative_to(ROOT)} ({QUICK_OUT.relative_to(ROOT)} "
                                                 "with --quick)")
    args = parser.parse_args()
    out = args.out or (QUICK_OUT if args.quick else OUT)
    chosen = [s for s in STEPS if not args.only or s.name in args.only.split(",")]
    note = load_note()
    print(describe())
    print(note)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    started = time.perf_counter()
    outcomes = [run_step(step, args.quick, out, args.models) for step in chosen]
    total = time.perf_counter() - started
    if not args.quick and any(o.step.name == "batch" and o.returncode == 0 for o in outcomes):
        batch_chart(out)
    index = write_index(outcomes, out, args.quick, note, total)
    print(f"\nsuite: {total:.0f} s; wrote {index}")
    for o in outcomes:
        print(f"  {o.step.name:<10} {o.seconds:6.0f} s  {o.cpu_seconds:6.0f} CPU-s  exit {o.returncode}")
    return 0 if all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
