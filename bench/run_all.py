"""The whole benchmark suite in one run on one machine: quality, speed, efficiency, the app, batch throughput.

Each script runs as its own process, one after the other (never two at once: they would take cores from each other).
The full suite writes docs/bench/<name>.md + .png and docs/bench/README.md linking them; --quick (a smoke run, each
script at its smallest) writes to build/bench-quick/ so it never replaces measured pages.
Budget on 2 cores: full under 10 minutes, --quick under 1 minute.

    python bench/run_all.py [--quick] [--only speed,app] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from machine import describe  # noqa: E402
from machine_load import OtherLoad  # noqa: E402

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
    # Six variants per row now (torch fp32/bf16, onnxruntime fp32, OpenVINO fp32/bf16, the app's auto choice).
    Step("speed", "Speed and memory", "s/MP and peak RSS per model, every CPU backend × precision vs PyTorch eager "
         "fp32, 0.25–16 MP",
         ("--max-gflop", "1000"), ("--quick", "--sizes", "0.25", "--runs", "2"), takes_models=True),
    Step("efficiency", "Efficiency", "the ×4 model's achieved GFLOP/s per backend × precision against the peak of "
         "the units it runs on",
         (), ("--quick", "--runs", "2"), takes_models=True),
    Step("app", "The app", "launch to first paint and to first enhanced image, GUI stalls, memory",
         (), ("--quick",), takes_models=True),
    Step("batch", "Batch", "images/s, overlapped pipeline vs sequential loop",
         ("--files", "8", "--size", "256x192", "--runs", "3"),
         ("--files", "3", "--size", "128x96", "--runs", "1", "--no-report"), writes_out=False),
)


@dataclass
class Outcome:
    """One script's run, as kept in <out>/suite.json so that rerunning one script (--only) keeps the others."""

    name: str
    returncode: int
    seconds: float
    cpu_seconds: float  # user + system of the script and everything it started: what it costs on an idle machine
    other_share: float  # share of all cores that other processes used meanwhile
    finished: str  # UTC, minutes


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
    with OtherLoad() as load:
        proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    print("\n".join(proc.stdout.strip().splitlines()[-25:]), flush=True)
    print(f"=== {step.name}: exit {proc.returncode}, {seconds:.0f} s, {cpu:.0f} CPU-s; {load.note()}", flush=True)
    return Outcome(step.name, proc.returncode, seconds, cpu, load.share,
                   time.strftime("%Y-%m-%d %H:%M", time.gmtime()))


def merge_record(out: Path, outcomes: list[Outcome]) -> list[Outcome]:
    """The steps just run, and the ones a previous run left in suite.json; in suite order."""
    record = out / "suite.json"
    kept: dict[str, Outcome] = {}
    if record.exists():
        try:
            kept = {o["name"]: Outcome(**o) for o in json.loads(record.read_text(encoding="utf-8"))}
        except (ValueError, TypeError):
            kept = {}  # an older or broken record: only this run's steps are listed
    kept.update({o.name: o for o in outcomes})
    merged = [kept[s.name] for s in STEPS if s.name in kept]
    out.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps([asdict(o) for o in merged], indent=1) + "\n", encoding="utf-8")
    return merged


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


def write_index(outcomes: list[Outcome], out: Path, quick: bool) -> Path:
    mode = "quick" if quick else "full"
    budget = BUDGET_S[mode]
    total = sum(o.seconds for o in outcomes)
    cpu = sum(o.cpu_seconds for o in outcomes)
    cores = os.cpu_count() or 1
    other = sum(o.other_share * o.seconds for o in outcomes) / max(1e-6, total)
    steps = {s.name: s for s in STEPS}
    when = sorted({o.finished for o in outcomes})
    lines = ["# Benchmarks", "",
             "ImageStudio measured against the tools people would use instead, on one machine. Numbers depend on "
             "the machine and on what else ran on it; none of them is a test.", "",
             f"Machine: {describe()}. Other processes used {100 * other:.0f} % of its {cores} cores on average "
             "while the suite ran" + (" (each page says how much during its own run)." if other >= 0.05 else "."),
             "",
             f"Suite: `python bench/run_all.py{' --quick' if quick else ''}`: {total:.0f} s for these scripts "
             f"({'within' if total <= budget else '**over**'} the {budget // 60} min budget of the {mode} suite); "
             f"they used {cpu:.0f} CPU-seconds, so on {cores} idle cores they need at least {cpu / cores:.0f} s."
             + (f" Finished between {when[0]} and {when[-1]} UTC (some scripts rerun on their own with --only)."
                if len(when) > 1 and when[0][:13] != when[-1][:13] else ""),
             "", "| benchmark | what | page | chart | seconds | CPU-seconds | other load | exit |",
             "|---|---|---|---|---:|---:|---:|---:|"]
    for o in outcomes:
        step = steps[o.name]
        page, chart = out / f"{o.name}.md", out / f"{o.name}.png"
        lines.append(f"| {step.title} | {step.what} | "
                     f"{f'[{page.name}]({page.name})' if page.exists() else '—'} | "
                     f"{f'[{chart.name}]({chart.name})' if chart.exists() else '—'} | {o.seconds:.0f} | "
                     f"{o.cpu_seconds:.0f} | {100 * o.other_share:.0f} % | {o.returncode} |")
    cuda = out / "speed-cuda.md"
    lines += ["", "*Other load*: the share of all cores that processes outside the suite used during that script.",
              "", "GPU: " + ("see [speed-cuda.md](speed-cuda.md)." if cuda.exists() else
                             "not measured yet (no GPU where this suite ran); `python bench/speed.py --device cuda "
                             "--fp16` writes speed-cuda.md on a CUDA machine."), ""]
    for o in outcomes:
        chart = out / f"{o.name}.png"
        if chart.exists():
            title = steps[o.name].title
            lines += [f"## {title}", "", f"[Table: {o.name}.md]({o.name}.md)", "", f"![{title}]({chart.name})", ""]
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
    print(describe())
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    started = time.perf_counter()
    outcomes = [run_step(step, args.quick, out, args.models) for step in chosen]
    total = time.perf_counter() - started
    if not args.quick and any(o.name == "batch" and o.returncode == 0 for o in outcomes):
        batch_chart(out)
    index = write_index(merge_record(out, outcomes), out, args.quick)
    print(f"\nthis run: {total:.0f} s; wrote {index}")
    for o in outcomes:
        print(f"  {o.name:<10} {o.seconds:6.0f} s  {o.cpu_seconds:6.0f} CPU-s  other load {100 * o.other_share:3.0f} %"
              f"  exit {o.returncode}")
    return 0 if all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
