"""The desktop app as a user meets it: launch to first painted window, to first enhanced image, the GUI thread's
longest stall while Enhance runs, and memory at idle and with a 24 MP photo open.

Each run starts a fresh process (bench/app_driver.py, offscreen Qt, its own settings and model folders) that builds
the real MainWindow as `imagestudio.ui.app.run` does and scripts a user: as soon as the window has painted it opens
the photo, presses Enhance (Ctrl+E: brighten if dark, denoise as needed, ×2), and waits for the result on the canvas.
Peers: an empty PySide6 window (Qt's own floor under our launch time). Medians of several runs.
Writes docs/bench/app.md and app.png.

    python bench/app.py [--quick] [--runs 3] [--models DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chart import bar_chart  # noqa: E402
from machine import describe  # noqa: E402
from machine_load import OtherLoad  # noqa: E402
from measure import MIB, ChildResult, markdown_table, photo_like, run_child  # noqa: E402

from imagestudio.core.models import BUNDLED_DIR_ENV, USER_DIR_ENV  # noqa: E402

MODELS = ROOT / "resources" / "models"
OUT = ROOT / "docs" / "bench"
BENCH_DIR = ROOT.parent / "shared" / "bench"
DRIVER = str(ROOT / "bench" / "app_driver.py")
BIG = (6000, 4000)  # a 24 MP camera photo


def noisy_photo(source: Path, target: Path, sigma: float = 15.0) -> Path:
    """A real photo with camera-like noise (fixed seed), so Enhance has something to denoise as well as enlarge."""
    clean = np.asarray(PILImage.open(source).convert("RGB"), dtype=np.float32)
    noise = np.random.default_rng(0).normal(0, sigma, clean.shape)
    PILImage.fromarray(np.clip(clean + noise, 0, 255).round().astype(np.uint8)).save(target)
    return target


def big_photo(target: Path) -> Path:
    width, height = BIG
    pixels = np.empty((height, width, 3), np.uint8)
    for top in range(0, height, 500):  # in bands: a float copy of the whole frame would be 288 MB for nothing
        band = photo_like(min(500, height - top), width, seed=top)
        pixels[top:top + band.shape[0]] = (band * 255).round().astype(np.uint8)
    PILImage.fromarray(pixels).save(target, quality=92)
    return target


def enhance_steps(photo: Path) -> str:
    """What Enhance does to this photo, decided the way core/ops/enhance.py decides (brighten, then denoise)."""
    from imagestudio.core.image import load_image
    from imagestudio.core.ops.assess import denoise_strength_for, estimate_noise_sigma, measure_exposure

    rgb = load_image(photo).rgb
    steps = []
    if measure_exposure(rgb).lowlight_strength > 0:
        steps.append("low-light, then denoise if the brightened photo is noisy")  # enhance() re-measures after it
    elif (strength := denoise_strength_for(estimate_noise_sigma(rgb))) > 0:
        steps.append(f"denoise (strength {strength:.2f})")
    return " → ".join([*steps, "upscale ×2"])


def _env(workdir: Path, models: Path, run: int) -> dict[str, str]:
    home = workdir / f"home{run}"
    return {"QT_QPA_PLATFORM": "offscreen", BUNDLED_DIR_ENV: str(models), USER_DIR_ENV: str(home / "models"),
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"), "BENCH_T0": str(time.time())}


def launch(workdir: Path, models: Path, run: int, *extra: str, timeout: float = 120) -> ChildResult:
    env = _env(workdir, models, run)
    argv = [DRIVER, "--settings", str(workdir / f"settings{run}"), *extra]
    env["BENCH_T0"] = str(time.time())  # as late as possible: the launch clock starts here
    child = run_child(argv, env=env, timeout_s=timeout)
    if child.returncode != 0 or not child.result:
        raise RuntimeError(f"app run failed ({child.returncode}): {child.stderr_tail}")
    if child.result.get("errors"):
        raise RuntimeError("the app reported: " + "; ".join(child.result["errors"]))
    return child


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(quick: bool, runs: int, models: Path, out: Path, load: OtherLoad) -> str:
    source = BENCH_DIR / ("CBSD68/101085.png" if quick else "Set14/monarch.png")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-app-") as folder:
        workdir = Path(folder)
        photo = noisy_photo(source, workdir / f"{source.stem}-noisy.png")
        steps = enhance_steps(photo)
        big = big_photo(workdir / "24mp.jpg")
        bare = [launch(workdir, models, 100 + i, "--bare") for i in range(runs)]
        memory = [launch(workdir, models, 200 + i, "--big", str(big)) for i in range(max(1, runs - 1))]
        enhance, failures = [], []
        for i in range(runs):
            try:
                enhance.append(launch(workdir, models, i, "--photo", str(photo)))
            except RuntimeError as exc:  # no models installed, typically: say so, measure the rest
                failures.append(" / ".join(str(exc).splitlines()))
    seconds = time.perf_counter() - started
    e = [c.result for c in enhance]
    # Launch → first paint comes from every ImageStudio run: the 24 MP runs launch the same way.
    launches = [r["first_paint_s"] for r in e] + [c.result["first_paint_s"] for c in memory]

    def row(what: str, values: list[float], unit: str, digits: int = 2) -> list[object]:
        shown = ", ".join(f"{v:.{digits}f}" for v in values)
        return [what, f"**{_median(values):.{digits}f}** {unit}".strip(), shown]

    rows = [
        row("launch → first painted window: ImageStudio", launches, "s"),
        row("launch → first painted window: empty PySide6 window (floor)",
            [c.result["first_paint_s"] for c in bare], "s"),
        row("launch → Python running our code (interpreter start)",
            [c.result["python_start_s"] for c in memory + enhance], "s"),
    ]
    if e:
        photo_w, photo_h = e[0]["photo_size"]
        out_w, out_h = e[0]["enhanced_size"]
        rows += [
            row(f"open the {photo_w}×{photo_h} photo → shown", [r["photo_open_s"] for r in e], "s"),
            row(f"Enhance pressed → {out_w}×{out_h} result painted", [r["enhance_s"] for r in e], "s"),
            row("launch → first enhanced image on screen", [r["first_enhanced_s"] for r in e], "s"),
            row("GUI thread: longest stall during Enhance", [r["stall_max_ms"] for r in e], "ms", 0),
            row("… it ended this long after Enhance was pressed", [r["stall_ended_s"] for r in e], "s"),
            row("GUI thread: stalls over 50 ms during Enhance", [float(r["stalls_over_50ms"]) for r in e], "", 0),
            row("GUI thread: longest stall in the second after the result appeared (autosave)",
                [r["stall_after_ms"] for r in e], "ms", 0),
        ]
    rows += [
        row("memory at idle, no image (RSS, settled): ImageStudio", [c.result["idle_rss"] / MIB for c in memory],
            "MiB", 0),
        row("memory at idle (RSS, settled): empty PySide6 window", [c.result["idle_rss"] / MIB for c in bare],
            "MiB", 0),
        row(f"memory with a {BIG[0]}×{BIG[1]} (24 MP) JPEG open (RSS, settled)",
            [c.result["big_rss"] / MIB for c in memory], "MiB", 0),
        row("peak memory while opening it (VmHWM)", [c.peak_rss / MIB for c in memory], "MiB", 0),
        row("opening it → shown on the canvas", [c.result["big_open_s"] for c in memory], "s"),
    ]
    if e:
        rows.append(row("peak memory of an Enhance run (VmHWM)", [c.peak_rss / MIB for c in enhance], "MiB", 0))
    where = models.relative_to(ROOT) if models.is_relative_to(ROOT) else models
    enhance_note = (f"Enhance at its default (×2) on `{source.relative_to(BENCH_DIR)}` from ../shared/bench with "
                    f"Gaussian noise σ=15 added, which Enhance treats as {steps}." if e else
                    "**Enhance was not measured** (no figure is estimated).")
    if failures:
        enhance_note += f" {len(failures)} of {runs} Enhance runs failed: {'; '.join(dict.fromkeys(failures))}."
    lines = [
        "# The app: launch, first enhanced image, GUI stalls, memory", "",
        f"Machine: {describe()}. {load.note()}", "",
        "Offscreen Qt (`QT_QPA_PLATFORM=offscreen`): no compositor or GPU upload, so a real desktop adds a little "
        "to the paint times. Each run is a fresh process with empty settings (no saved layout) and the models in "
        f"`{where}`. *Launch* is the moment the benchmark starts the process; the scripted user opens the photo as "
        f"soon as the window has painted. {enhance_note} The stall meter is a 5 ms timer on the GUI thread: its "
        "longest gap while Enhance runs is the longest the window could not react to input.", "",
        f"{len(enhance)} Enhance runs, {len(memory)} 24 MP runs, {len(bare)} empty-window runs; {seconds:.0f} s in "
        f"all. Command: `python bench/app.py {' '.join(sys.argv[1:])}`.", "",
        *markdown_table(["measure", "median", "each run"], rows, "lrl"), "",
        "No other image app is measured here: none is installed on the benchmark machine. The empty PySide6 window "
        "is the floor any Qt app starts from.", "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "app.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    chart = {"launch → window painted": [_median(launches), _median([c.result["first_paint_s"] for c in bare])],
             "launch → first enhanced image": [_median([r["first_enhanced_s"] for r in e]), float("nan")]}
    bar_chart(out / "app.png", "Seconds from launch, lower is better", ["ImageStudio", "empty PySide6 window"],
              chart, "s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 481×321 photo, one run of each")
    parser.add_argument("--runs", type=int, help="runs of each kind (default 3, quick 1)")
    parser.add_argument("--models", type=Path, default=MODELS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with OtherLoad() as load:
        print(run(args.quick, args.runs or (1 if args.quick else 3), args.models.resolve(), args.out, load))
    print(f"wrote {args.out / 'app.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
