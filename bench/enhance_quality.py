"""Denoise, low light and Enhance's decisions on ../shared/bench (evaluation only, never training).

- Denoise: CBSD68 with Gaussian σ = 15 / 25 / 50 (fixed seeds, clipped to 8 bits), colour PSNR and Y-SSIM, against
  OpenCV's fastNlMeansDenoisingColored at h = σ·0.6 (its best setting here at σ=25 was h=15), with s/MP.
- Low light: CBSD68 photos darkened by exposure and gamma cuts, with and without shot/read noise. Detail is the
  Laplacian variance of the luma, brightness the mean luma, saturation the mean HSV saturation, each over the
  original's. Peers: a global gamma chosen to restore the mean (an oracle-free "auto levels"), and OpenCV CLAHE on L.
- Enhance: on clean Set14 + CBSD68 and on σ = 10 / 25 copies, the noise estimate, whether Enhance would denoise or
  brighten, and the detail the ×2 enhanced photo keeps when downscaled back to the input's size.

Writes docs/bench/enhance.md (a `--quick` run writes docs/bench/quick/ instead and never replaces the full table).

    python bench/enhance_quality.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import describe  # noqa: E402
from machine_load import OtherLoad  # noqa: E402
from training.bench_images import BENCH_DIR, detail_energy, load_rgb  # noqa: E402
from training.evaluate import noisy_version  # noqa: E402

from imagestudio.core.image import image_from_array  # noqa: E402
from imagestudio.core.metrics import psnr, ssim_y  # noqa: E402
from imagestudio.core.ops import DenoiseParams, EnhanceParams, LowlightParams, denoise, enhance, lowlight  # noqa: E402
from imagestudio.core.ops.assess import denoise_strength_for, estimate_noise_sigma, measure_exposure  # noqa: E402

OUT = ROOT / "docs" / "bench"
SIGMAS = (15.0, 25.0, 50.0)
# (exposure, gamma, read-noise σ, shot-noise gain): the darkened versions the low-light table is measured on
DARKENINGS = ((0.35, 1.0, 0.0, 0.0), (0.5, 1.8, 0.0, 0.0), (0.3, 1.5, 0.0, 0.0), (0.25, 1.3, 0.006, 0.004))
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _images(set_name: str, limit: int | None) -> list[tuple[str, np.ndarray]]:
    paths = sorted((BENCH_DIR / set_name).glob("*.png"))[:limit]
    return [(p.stem, load_rgb(p)) for p in paths]


def _ours_denoise(rgb: np.ndarray) -> np.ndarray:
    return denoise(image_from_array(rgb), DenoiseParams(device="cpu")).rgb


def _nlmeans(h: float) -> Callable[[np.ndarray], np.ndarray]:
    import cv2

    def restore(rgb: np.ndarray) -> np.ndarray:
        u8 = np.round(rgb * 255).astype(np.uint8)
        return cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21).astype(np.float32) / 255

    return restore


def denoise_table(images: list[tuple[str, np.ndarray]]) -> list[str]:
    lines = ["| σ | method | PSNR (dB) | Y-SSIM | s/MP |", "|---|---|---|---|---|"]
    for sigma in SIGMAS:
        methods = {"ImageStudio denoise (blind)": _ours_denoise,
                   f"OpenCV fastNlMeans h={sigma * 0.6:g}": _nlmeans(sigma * 0.6)}
        for name, method in methods.items():
            scores, ssims, seconds, mp = [], [], 0.0, 0.0
            for i, (_, clean) in enumerate(images):
                noisy = noisy_version(clean, sigma, i)
                t = time.perf_counter()
                out = method(noisy)
                seconds += time.perf_counter() - t
                mp += clean.shape[0] * clean.shape[1] / 1e6
                scores.append(psnr(out, clean))
                ssims.append(ssim_y(out, clean, 0))
            lines.append(f"| {sigma:g} | {name} | {np.mean(scores):.2f} | {np.mean(ssims):.4f} | {seconds / mp:.2f} |")
    return lines


def darken(clean: np.ndarray, exposure: float, gamma: float, read: float, shot: float, seed: int) -> np.ndarray:
    x = clean ** gamma * exposure
    if read or shot:
        rng = np.random.default_rng(seed)
        x = x + rng.normal(0, 1, x.shape) * np.sqrt(read ** 2 + shot * x)
    return (np.clip(np.round(x * 255), 0, 255) / 255).astype(np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _LUMA


def _lap_var(rgb: np.ndarray) -> float:
    y = _luma(rgb).astype(np.float64)
    lap = y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]
    return float(lap.var())


def _saturation(rgb: np.ndarray) -> float:
    top, bottom = rgb.max(-1), rgb.min(-1)
    return float(np.where(top > 1e-3, (top - bottom) / np.maximum(top, 1e-3), 0).mean())


def _ours_lowlight(rgb: np.ndarray) -> np.ndarray:
    return lowlight(image_from_array(rgb), LowlightParams(device="cpu")).rgb


def _ours_enhance_x1(rgb: np.ndarray) -> np.ndarray:
    """What the one-click Enhance does to a dark photo without upscaling: low light, then denoise if noisy."""
    return enhance(image_from_array(rgb), EnhanceParams(scale=1, device="cpu")).rgb


def _auto_gamma(rgb: np.ndarray) -> np.ndarray:
    """The classic one-liner: a global gamma that brings the mean luma to 0.45."""
    mean = float(np.clip(_luma(rgb).mean(), 1e-3, 0.99))
    return np.clip(rgb, 0, 1) ** (np.log(0.45) / np.log(mean))


def _clahe(rgb: np.ndarray) -> np.ndarray:
    import cv2

    lab = cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB).astype(np.float32) / 255


def lowlight_table(images: list[tuple[str, np.ndarray]]) -> list[str]:
    methods = {"ImageStudio low light": _ours_lowlight, "ImageStudio Enhance ×1 (low light, then denoise if noisy)":
               _ours_enhance_x1, "global gamma to mean 0.45": _auto_gamma,
               "OpenCV CLAHE (L, clip 3)": _clahe, "darkened input": lambda x: x}
    lines = ["| darkening (exposure, gamma, noise) | method | detail ratio | brightness ratio | saturation ratio |"
             " within bars |", "|---|---|---|---|---|---|"]
    for exposure, gamma, read, shot in DARKENINGS:
        label = f"×{exposure:g}, γ {gamma:g}" + (", noisy" if read else "")
        for name, method in methods.items():
            detail, bright, sat, ok = [], [], [], 0
            for i, (_, clean) in enumerate(images):
                out = method(darken(clean, exposure, gamma, read, shot, i))
                d, b = _lap_var(out) / _lap_var(clean), _luma(out).mean() / _luma(clean).mean()
                s = _saturation(out) / max(_saturation(clean), 1e-6)
                detail.append(d), bright.append(b), sat.append(s)
                ok += d >= 0.8 and abs(b - 1) <= 0.1 and abs(s - 1) <= 0.1
            lines.append(f"| {label} | {name} | {np.median(detail):.2f} | {np.median(bright):.2f} | "
                         f"{np.median(sat):.2f} | {ok}/{len(images)} |")
    return lines


def _downscale(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    u8 = PILImage.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    return np.asarray(u8.resize((width, height), PILImage.Resampling.LANCZOS), np.float32) / 255


def enhance_table(images: list[tuple[str, np.ndarray]]) -> list[str]:
    lines = ["| input | images | σ estimate (median, min–max, 8-bit levels) | within 25 % | denoised | brightened |"
             " detail kept (×2, downscaled back; median, min) |", "|---|---|---|---|---|---|---|"]
    for sigma in (0.0, 10.0, 25.0):
        estimates, denoised, brightened, kept, within = [], 0, 0, [], 0
        for i, (_, clean) in enumerate(images):
            rgb = clean if sigma == 0 else noisy_version(clean, sigma, 100 + i)
            est = estimate_noise_sigma(rgb) * 255
            estimates.append(est)
            within += sigma > 0 and abs(est - sigma) <= 0.25 * sigma
            denoised += denoise_strength_for(est / 255) > 0
            brightened += measure_exposure(rgb).lowlight_strength > 0
            if sigma == 0:
                out = enhance(image_from_array(rgb), EnhanceParams(scale=2, device="cpu")).rgb
                back = _downscale(out, rgb.shape[1], rgb.shape[0])
                kept.append(detail_energy(back)[0] / detail_energy(rgb)[0])
        label = "clean" if sigma == 0 else f"σ = {sigma:g}"
        est = np.array(estimates)
        kept_text = f"{np.median(kept):.2f}, {np.min(kept):.2f}" if kept else "–"
        lines.append(f"| {label} | {len(images)} | {np.median(est):.1f} ({est.min():.1f}–{est.max():.1f}) | "
                     f"{'–' if sigma == 0 else f'{within}/{len(images)}'} | {denoised}/{len(images)} | "
                     f"{brightened}/{len(images)} | {kept_text} |")
    return lines


def run(quick: bool, out: Path, load: OtherLoad | None = None) -> str:
    cbsd = _images("CBSD68", 10 if quick else None)
    set14 = _images("Set14", 5 if quick else None)
    lines = ["# Denoise, low light and Enhance", "", f"Machine: {describe()}.", "",
             "See `bench/enhance_quality.py` for the protocols. Bars (issue 14): denoise CBSD68 σ=15/25/50 ≥ "
             "33.0/30.5/27.0 dB at ≤ 2 s/MP; low light detail ≥ 0.8×, brightness and saturation within 10 %; "
             "Enhance: no denoise/brighten on clean photos, σ within 25 %, detail kept ≥ 0.9×.", "",
             f"## Denoise (CBSD68{' first 10' if quick else ''}, colour PSNR)", ""]
    lines += denoise_table(cbsd)
    lines += ["", f"## Low light (CBSD68{' first 10' if quick else ''}, medians of the ratios to the original)", ""]
    lines += lowlight_table(cbsd)
    lines += ["", f"## Enhance's decisions (Set14 + CBSD68{', subsets' if quick else ''})", ""]
    lines += enhance_table(set14 + cbsd)
    if load is not None:
        lines[2] += f" {load.note()}"
    target = out / "quick" if quick else out
    target.mkdir(parents=True, exist_ok=True)
    (target / "enhance.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 CBSD68 and 5 Set14 images; writes docs/bench/quick/")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not BENCH_DIR.is_dir():
        print(f"benchmark images not found at {BENCH_DIR}", file=sys.stderr)
        return 2
    with OtherLoad() as load:
        print(run(args.quick, args.out, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
