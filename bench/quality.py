"""Quality of ImageStudio's models vs the resizers and denoisers people would use instead, on ../shared/bench.

PSNR/SSIM on the Y channel (BT.601), `scale` border pixels cropped, LR made by Pillow's antialiased BICUBIC (the
closest to MATLAB imresize here). Denoising: CBSD68 with Gaussian σ=25 (fixed seeds), colour PSNR, vs OpenCV's
fastNlMeansDenoisingColored at its best setting among a few tried in the same run.
Writes docs/bench/quality.md (means + per-image rows) and docs/bench/quality.png; `--quick` writes them to
docs/bench/quick/ instead, so it never replaces the committed full tables.

    python bench/quality.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chart import bar_chart  # noqa: E402
from machine import describe  # noqa: E402
from machine_load import OtherLoad  # noqa: E402
from training.bench_images import BENCH_DIR  # noqa: E402
from training.evaluate import (Row, bicubic_up, denoise_rows, lanczos_up, mean_psnr, mean_ssim,  # noqa: E402
                               onnx_restorer, sr_rows)
from training.real_protocols import aliased_rows, summarise, web_photo_images, web_photo_rows  # noqa: E402

MODELS = ROOT / "resources" / "models"
OUT = ROOT / "docs" / "bench"


def _cv2_resize(flag_name: str) -> Callable[[np.ndarray, int], np.ndarray]:
    import cv2

    flag = getattr(cv2, flag_name)

    def up(lr: np.ndarray, scale: int) -> np.ndarray:
        return np.clip(cv2.resize(lr, (lr.shape[1] * scale, lr.shape[0] * scale), interpolation=flag), 0, 1)

    return up


def _cv2_nlmeans(h: float) -> Callable[[np.ndarray], np.ndarray]:
    import cv2

    def restore(rgb: np.ndarray) -> np.ndarray:
        u8 = np.round(rgb * 255).astype(np.uint8)
        return cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21).astype(np.float32) / 255

    return restore


class Timed:
    """Wraps a restorer and accumulates seconds per megapixel of output."""

    def __init__(self, fn: Callable) -> None:
        self.fn, self.seconds, self.megapixels = fn, 0.0, 0.0

    def __call__(self, *args):
        t = time.perf_counter()
        out = self.fn(*args)
        self.seconds += time.perf_counter() - t
        self.megapixels += out.shape[0] * out.shape[1] / 1e6
        return out

    @property
    def s_per_mp(self) -> float:
        return self.seconds / self.megapixels if self.megapixels else float("nan")


def run(quick: bool, out: Path = OUT, load: OtherLoad | None = None) -> str:
    rows: list[Row] = []
    lines = ["# Quality benchmark", "", f"Machine: {describe()}.", "",
             "Y-PSNR (dB) / SSIM, border = scale cropped, LR by Pillow BICUBIC (antialiased). "
             "Seconds per output megapixel on the CPU (onnxruntime, whole image).", ""]
    table = ["| task | set | method | PSNR | SSIM | s/MP |", "|---|---|---|---|---|---|"]
    sets = ("Set5",) if quick else ("Set5", "Set14")
    for scale in (2, 4):
        methods: dict[str, Timed] = {"bicubic (Pillow)": Timed(bicubic_up), "Lanczos (Pillow)": Timed(lanczos_up),
                                     "OpenCV INTER_CUBIC": Timed(_cv2_resize("INTER_CUBIC")),
                                     "OpenCV INTER_LANCZOS4": Timed(_cv2_resize("INTER_LANCZOS4"))}
        for name in (f"upscale-x{scale}", f"upscale-x{scale}-gan", f"upscale-x{scale}-real"):
            if (MODELS / f"{name}.onnx").is_file():
                restore = onnx_restorer(MODELS / f"{name}.onnx")
                methods[f"ImageStudio {name}"] = Timed(lambda lr, s, r=restore: r(lr))
        for set_name in sets:
            rows += list(sr_rows(set_name, scale, methods))
        for set_name in sets:
            for method, timed in methods.items():
                table.append(f"| upscale ×{scale} | {set_name} | {method} | {mean_psnr(rows, method, set_name):.2f} | "
                             f"{mean_ssim(rows, method, set_name):.4f} | {timed.s_per_mp:.3f} |")
                rows_tag = [r for r in rows if r.method == method and r.set == set_name]
                for r in rows_tag:
                    r.method = f"{method} ×{scale}"
    denoisers: dict[str, Timed] = {f"OpenCV fastNlMeans h={h}": Timed(_cv2_nlmeans(h)) for h in (10, 15, 20)}
    if (MODELS / "denoise.onnx").is_file():
        denoisers["ImageStudio denoise"] = Timed(onnx_restorer(MODELS / "denoise.onnx"))
    denoise = list(denoise_rows(25.0, denoisers, limit=10 if quick else None))
    rows += denoise
    for method, timed in denoisers.items():
        table.append(f"| denoise σ=25 | CBSD68{' (10)' if quick else ''} | {method} | "
                     f"{mean_psnr(denoise, method, 'CBSD68'):.2f} | {mean_ssim(denoise, method, 'CBSD68'):.4f} | "
                     f"{timed.s_per_mp:.3f} |")
    best_cv = max((m for m in denoisers if m.startswith("OpenCV")), key=lambda m: mean_psnr(denoise, m, "CBSD68"))
    if "ImageStudio denoise" in denoisers:
        gain = mean_psnr(denoise, "ImageStudio denoise", "CBSD68") - mean_psnr(denoise, best_cv, "CBSD68")
        lines.append(f"Denoise gain over the best OpenCV setting ({best_cv}): **{gain:+.2f} dB** (colour PSNR, "
                     f"same noisy images).")
        lines.append("")
    lines += table
    lines += real_photo_tables(quick)
    lines += ["", "## Per image", "", "| set | image | method | PSNR | SSIM |", "|---|---|---|---|---|"]
    lines += [f"| {r.set} | {r.image} | {r.method} | {r.psnr:.2f} | {r.ssim:.4f} |" for r in rows]
    if load is not None:  # said at the end: what else ran during the whole measurement
        lines[2] += f" {load.note()}"
    out = out / "quick" if quick else out  # a quick run never replaces the committed full tables
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    chart_rows = [line.split("|")[1:-1] for line in table[2:]]
    groups = sorted({f"{c[0].strip()} {c[1].strip()}" for c in chart_rows}, key=str)
    methods_all = list(dict.fromkeys(c[2].strip() for c in chart_rows))
    series = {m: [next((float(c[3]) for c in chart_rows if f"{c[0].strip()} {c[1].strip()}" == g
                        and c[2].strip() == m), float("nan")) for g in groups] for m in methods_all}
    bar_chart(out / "quality.png", "PSNR (dB), higher is better", groups, series, "dB", floor=20.0)
    return "\n".join(table)


def real_photo_tables(quick: bool) -> list[str]:
    """The web-photo (JPEG q60) and aliased-LR protocols of training/real_protocols.py, ×2 and ×4."""
    lines = ["", "## Real-photo protocols", "",
             "Web photo: HR → Pillow BICUBIC ÷s → JPEG q60 → ×s on Set14 + 10 CBSD68 (centre crops ≤ 512²). "
             "Aliased: HR → OpenCV INTER_CUBIC ÷s (no antialiasing) → ×s. Grid ratio: |luma step| across the "
             "input's JPEG block grid over elsewhere (1 = no blocks); detail ratio: mean |Laplacian| over the HR's.", "",
             "| protocol | set | method | PSNR-Y | SSIM-Y | grid ratio | detail ratio |", "|---|---|---|---|---|---|---|"]
    web_paths = web_photo_images()[:5] if quick else web_photo_images()
    for scale in (2, 4):
        methods = {"bicubic (Pillow)": bicubic_up}
        for name in (f"upscale-x{scale}", f"upscale-x{scale}-gan", f"upscale-x{scale}-real"):
            if (MODELS / f"{name}.onnx").is_file():
                restore = onnx_restorer(MODELS / f"{name}.onnx")
                methods[f"ImageStudio {name}"] = lambda lr, s, r=restore: r(lr)
        protocols = [("web photo", "Set14+CBSD68-10", list(web_photo_rows(scale, methods, web_paths)))]
        for set_name in (("Set5",) if quick else ("Set5", "Set14")):
            protocols.append(("aliased LR", set_name, list(aliased_rows(set_name, scale, methods))))
        for protocol, set_name, rows in protocols:
            for method in methods:
                p, s, g, d = summarise(rows, method)
                lines.append(f"| {protocol} ×{scale} | {set_name} | {method} | {p:.2f} | {s:.4f} | {g:.2f} | {d:.2f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Set5 and 10 CBSD68 images only (under a minute)")
    parser.add_argument("--out", type=Path, default=OUT, help="where quality.md and quality.png go")
    args = parser.parse_args()
    if not BENCH_DIR.is_dir():
        print(f"benchmark images not found at {BENCH_DIR}", file=sys.stderr)
        return 2
    print(describe())
    with OtherLoad() as load:
        print(run(args.quick, args.out, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
