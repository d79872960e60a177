"""Super-resolution protocols closer to people's photos than Pillow-bicubic Set5 (evaluation only, torch-free).

- **web photo**: HR → Pillow BICUBIC ÷scale → JPEG quality 60 (4:2:0) → ×scale; Set14 + the first 10 CBSD68 images,
  centre crops ≤ 512², Y channel. Besides PSNR/SSIM it reports the JPEG-grid ratio (mean |luma step| across the
  8·scale output grid, where the input's 8×8 blocks meet, over the mean step elsewhere: 1 = no blocks) and the detail
  ratio (mean |Laplacian| of the output's luma over the HR's).
- **aliased LR**: HR → OpenCV INTER_CUBIC ÷scale (no antialiasing, what many tools and scripts do) → ×scale.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from imagestudio.core.metrics import psnr_y, ssim_y
from training.bench_images import BENCH_DIR, detail_energy, load_rgb

Upscaler = Callable[[np.ndarray, int], np.ndarray]
WEB_QUALITY = 60
WEB_CROP = 512


@dataclass
class RealRow:
    image: str
    method: str
    psnr: float
    ssim: float
    grid: float
    detail: float


def centre_crop(rgb: np.ndarray, side: int, multiple: int) -> np.ndarray:
    h, w = min(side, rgb.shape[0]) // multiple * multiple, min(side, rgb.shape[1]) // multiple * multiple
    top, left = (rgb.shape[0] - h) // 2, (rgb.shape[1] - w) // 2
    return rgb[top:top + h, left:left + w]


def _u8(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))


def web_photo_lr(hr: np.ndarray, scale: int, quality: int = WEB_QUALITY) -> np.ndarray:
    small = _u8(hr).resize((hr.shape[1] // scale, hr.shape[0] // scale), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=quality)  # Pillow's default subsampling: 4:2:0, as on the web
    with Image.open(buffer) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255


def aliased_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    import cv2

    u8 = np.round(np.clip(hr, 0, 1) * 255).astype(np.uint8)
    small = cv2.resize(u8, (hr.shape[1] // scale, hr.shape[0] // scale), interpolation=cv2.INTER_CUBIC)
    return small.astype(np.float32) / 255


def jpeg_grid_ratio(sr: np.ndarray, period: int) -> float:
    """Mean |luma step| across the block grid (every `period` pixels) over the mean step elsewhere."""
    y = sr.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    dx = np.abs(np.diff(y, axis=1))  # dx[:, j] is the step between columns j and j+1
    dy = np.abs(np.diff(y, axis=0))
    on_x = (np.arange(dx.shape[1]) + 1) % period == 0
    on_y = (np.arange(dy.shape[0]) + 1) % period == 0
    on = np.concatenate([dx[:, on_x].ravel(), dy[on_y].ravel()])
    off = np.concatenate([dx[:, ~on_x].ravel(), dy[~on_y].ravel()])
    return float(on.mean() / max(off.mean(), 1e-12))


def web_photo_images(bench_dir: Path = BENCH_DIR) -> list[Path]:
    return sorted((bench_dir / "Set14").glob("*.png")) + sorted((bench_dir / "CBSD68").glob("*.png"))[:10]


def web_photo_rows(scale: int, methods: dict[str, Upscaler], paths: list[Path] | None = None) -> Iterator[RealRow]:
    for path in paths if paths is not None else web_photo_images():
        hr = centre_crop(load_rgb(path), WEB_CROP, 8 * scale)
        lr = web_photo_lr(hr, scale)
        reference = detail_energy(hr, scale)[0]
        for method, upscale in methods.items():
            sr = np.clip(upscale(lr, scale), 0, 1)
            yield RealRow(path.stem, method, psnr_y(sr, hr, scale), ssim_y(sr, hr, scale),
                          jpeg_grid_ratio(sr, 8 * scale), detail_energy(sr, scale)[0] / reference)


def aliased_rows(set_name: str, scale: int, methods: dict[str, Upscaler],
                 bench_dir: Path = BENCH_DIR) -> Iterator[RealRow]:
    for path in sorted((bench_dir / set_name).glob("*.png")):
        hr = load_rgb(path)
        hr = hr[:hr.shape[0] // scale * scale, :hr.shape[1] // scale * scale]
        lr = aliased_lr(hr, scale)
        reference = detail_energy(hr, scale)[0]
        for method, upscale in methods.items():
            sr = np.clip(upscale(lr, scale), 0, 1)
            yield RealRow(path.stem, method, psnr_y(sr, hr, scale), ssim_y(sr, hr, scale),
                          jpeg_grid_ratio(sr, 8 * scale), detail_energy(sr, scale)[0] / reference)


def summarise(rows: list[RealRow], method: str) -> tuple[float, float, float, float]:
    """(mean PSNR-Y, mean SSIM-Y, mean grid ratio, mean detail ratio) of one method."""
    mine = [r for r in rows if r.method == method]
    return (float(np.mean([r.psnr for r in mine])), float(np.mean([r.ssim for r in mine])),
            float(np.mean([r.grid for r in mine])), float(np.mean([r.detail for r in mine])))
