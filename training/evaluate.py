"""The benchmark protocols (Set5/Set14 super-resolution, CBSD68 denoising), shared by export and bench/quality.py.

Evaluation only: nothing here is ever used for training. Torch-free, so the benchmarks run without the train extra.
Low-resolution inputs are made with Pillow's antialiased BICUBIC (the closest to MATLAB's imresize available here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from imagestudio.core.metrics import psnr, psnr_y, ssim_y
from training.bench_images import BENCH_DIR, detail_energy, load_rgb
from training.real_protocols import aliased_rows, summarise

DENOISE_SEED = 0

Restorer = Callable[[np.ndarray], np.ndarray]  # float32 RGB (H, W, 3) in [0,1] -> same


@dataclass
class Row:
    set: str
    image: str
    method: str
    psnr: float
    ssim: float


def bicubic_lr(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(HR cropped to a multiple of scale, LR by antialiased bicubic), both float RGB [0,1], LR rounded to 8 bits."""
    h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
    hr = hr[:h, :w]
    im = Image.fromarray(np.round(hr * 255).astype(np.uint8))
    lr = np.asarray(im.resize((w // scale, h // scale), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
    return hr, lr


def sr_rows(set_name: str, scale: int, methods: dict[str, Callable[[np.ndarray, int], np.ndarray]],
            bench_dir: Path = BENCH_DIR) -> Iterator[Row]:
    """Y-PSNR/SSIM with `scale` pixels cropped from each border, per image and method."""
    for path in sorted((bench_dir / set_name).glob("*.png")):
        hr, lr = bicubic_lr(load_rgb(path), scale)
        for method, upscale in methods.items():
            sr = upscale(lr, scale)
            yield Row(set_name, path.stem, method, psnr_y(sr, hr, scale), ssim_y(sr, hr, scale))


def noisy_version(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Additive Gaussian noise on the 0–255 scale with a fixed seed, clipped and rounded to 8 bits."""
    rng = np.random.default_rng(seed)
    noisy = clean * 255 + rng.normal(0, sigma, clean.shape)
    return (np.clip(np.round(noisy), 0, 255) / 255).astype(np.float32)


def denoise_rows(sigma: float, methods: dict[str, Restorer], bench_dir: Path = BENCH_DIR,
                 limit: int | None = None) -> Iterator[Row]:
    """RGB PSNR/SSIM (SSIM on Y) for colour denoising on CBSD68."""
    paths = sorted((bench_dir / "CBSD68").glob("*.png"))[:limit]
    for i, path in enumerate(paths):
        clean = load_rgb(path)
        noisy = noisy_version(clean, sigma, DENOISE_SEED + i)
        for method, restore in methods.items():
            out = np.round(np.clip(restore(noisy), 0, 1) * 255) / 255
            yield Row("CBSD68", path.stem, method, psnr(out, clean), ssim_y(out, clean))


def mean_psnr(rows: list[Row], method: str, set_name: str) -> float:
    values = [r.psnr for r in rows if r.method == method and r.set == set_name]
    return float(np.mean(values)) if values else float("nan")


def mean_ssim(rows: list[Row], method: str, set_name: str) -> float:
    values = [r.ssim for r in rows if r.method == method and r.set == set_name]
    return float(np.mean(values)) if values else float("nan")


def onnx_restorer(path: Path) -> Restorer:
    """Run an exported model on a whole image with plain onnxruntime on the CPU (bench images are small)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    meta = session.get_modelmeta().custom_metadata_map
    multiple, scale = int(meta.get("tile_multiple", 1)), int(meta.get("scale", 1))

    def restore(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        # Reflect-pad to the model's size multiple (a U-Net needs multiples of 4), then crop back.
        padded = np.pad(rgb, ((0, -h % multiple), (0, -w % multiple), (0, 0)), mode="reflect")
        x = np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)
        out = session.run(None, {name: x})[0][0].transpose(1, 2, 0)
        return np.clip(out[:h * scale, :w * scale], 0, 1)

    return restore


def _pil_resize(lr: np.ndarray, scale: int, method: Image.Resampling) -> np.ndarray:
    im = Image.fromarray(np.round(lr * 255).astype(np.uint8))
    return np.asarray(im.resize((im.width * scale, im.height * scale), method), dtype=np.float32) / 255.0


def bicubic_up(lr: np.ndarray, scale: int) -> np.ndarray:
    return _pil_resize(lr, scale, Image.Resampling.BICUBIC)


def lanczos_up(lr: np.ndarray, scale: int) -> np.ndarray:
    return _pil_resize(lr, scale, Image.Resampling.LANCZOS)


def model_metrics(task: str, scale: int, model_path: Path, bench_dir: Path = BENCH_DIR) -> dict[str, float]:
    """The figures written into a model card: mean Y-PSNR/SSIM on Set5/Set14, or colour PSNR on CBSD68 σ=25."""
    if not bench_dir.is_dir():
        return {}
    restore = onnx_restorer(model_path)
    metrics: dict[str, float] = {}
    if task == "upscale":
        methods = {"model": lambda lr, s: restore(lr), "bicubic": bicubic_up}
        for set_name in ("Set5", "Set14"):
            rows = list(sr_rows(set_name, scale, methods, bench_dir))
            metrics[f"{set_name.lower()}_x{scale}_psnr_y"] = round(mean_psnr(rows, "model", set_name), 3)
            metrics[f"{set_name.lower()}_x{scale}_ssim_y"] = round(mean_ssim(rows, "model", set_name), 4)
            metrics[f"{set_name.lower()}_x{scale}_bicubic_psnr_y"] = round(mean_psnr(rows, "bicubic", set_name), 3)
        rows_aliased = list(aliased_rows("Set5", scale, methods, bench_dir))
        metrics[f"set5_x{scale}_aliased_psnr_y"] = round(summarise(rows_aliased, "model")[0], 3)
        metrics[f"set5_x{scale}_aliased_bicubic_psnr_y"] = round(summarise(rows_aliased, "bicubic")[0], 3)
    elif task == "lowlight":
        metrics.update(lowlight_metrics(model_path, bench_dir))
    elif task == "denoise":
        rows = list(denoise_rows(25.0, {"model": restore}, bench_dir))
        metrics["cbsd68_sigma25_psnr"] = round(mean_psnr(rows, "model", "CBSD68"), 3)
        metrics["cbsd68_sigma25_ssim_y"] = round(mean_ssim(rows, "model", "CBSD68"), 4)
    return metrics


def lowlight_metrics(model_path: Path, bench_dir: Path = BENCH_DIR, count: int = 20) -> dict[str, float]:
    """Median ratios to the original (Laplacian variance, mean luma, mean HSV saturation) of the app's low light on
    the first `count` CBSD68 photos darkened by a pure exposure cut (×0.35) and by ×0.3 with gamma 1.5."""
    from imagestudio.core.image import image_from_array
    from imagestudio.core.ops.lowlight import LowlightParams, lowlight

    luma_weights = np.array([0.299, 0.587, 0.114], np.float32)

    def lap_var(rgb: np.ndarray) -> float:
        y = (rgb @ luma_weights).astype(np.float64)
        return float((y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]).var())

    def saturation(rgb: np.ndarray) -> float:
        top = rgb.max(-1)
        return float(np.where(top > 1e-3, (top - rgb.min(-1)) / np.maximum(top, 1e-3), 0).mean())

    metrics: dict[str, float] = {}
    paths = sorted((bench_dir / "CBSD68").glob("*.png"))[:count]
    for label, exposure, gamma in (("x0.35", 0.35, 1.0), ("x0.3_g1.5", 0.3, 1.5)):
        ratios: list[tuple[float, float, float]] = []
        for path in paths:
            clean = load_rgb(path)
            dark = (np.round(np.clip(clean ** gamma * exposure, 0, 1) * 255) / 255).astype(np.float32)
            out = lowlight(image_from_array(dark), LowlightParams(model=str(model_path), device="cpu")).rgb
            ratios.append((lap_var(out) / lap_var(clean), float((out @ luma_weights).mean() / (clean @ luma_weights).mean()),
                           saturation(out) / max(saturation(clean), 1e-6)))
        detail, bright, sat = np.median(np.array(ratios), axis=0)
        metrics.update({f"cbsd68_{label}_detail_ratio": round(float(detail), 3),
                        f"cbsd68_{label}_brightness_ratio": round(float(bright), 3),
                        f"cbsd68_{label}_saturation_ratio": round(float(sat), 3)})
    return metrics


def texture_summary(set_name: str, scale: int, methods: dict[str, Callable[[np.ndarray, int], np.ndarray]],
                    bench_dir: Path = BENCH_DIR) -> dict[str, tuple[float, float, float]]:
    """Per method, in one pass over the set (each upscaler runs once per image): (mean Y-PSNR as `sr_rows` measures
    it, detail ratio, colour-fringe ratio), the ratios being its luma/chroma detail energy over the originals', summed
    over the set."""
    psnrs: dict[str, list[float]] = {name: [] for name in methods}
    sums = {name: [0.0, 0.0] for name in methods}
    reference = [0.0, 0.0]
    for path in sorted((bench_dir / set_name).glob("*.png")):
        hr, lr = bicubic_lr(load_rgb(path), scale)
        luma, chroma = detail_energy(hr, scale)
        reference[0] += luma
        reference[1] += chroma
        for name, upscale in methods.items():
            sr = upscale(lr, scale)
            psnrs[name].append(psnr_y(sr, hr, scale))
            luma, chroma = detail_energy(sr, scale)
            sums[name][0] += luma
            sums[name][1] += chroma
    return {name: (float(np.mean(psnrs[name])), s[0] / reference[0], s[1] / reference[1]) for name, s in sums.items()}
