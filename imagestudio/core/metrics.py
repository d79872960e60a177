"""Image quality metrics as the super-resolution literature measures them (Y channel of BT.601 YCbCr)."""

from __future__ import annotations

import numpy as np


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma in the 16–235 range (MATLAB's rgb2ycbcr), from RGB in [0, 1]; returned on the 0–255 scale."""
    rgb = rgb.astype(np.float64)
    return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:a.shape[0] - border, border:a.shape[1] - border] if border else a


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0, border: int = 0) -> float:
    diff = _crop(a.astype(np.float64), border) - _crop(b.astype(np.float64), border)
    mse = float(np.mean(diff * diff))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def psnr_y(a_rgb: np.ndarray, b_rgb: np.ndarray, border: int = 0) -> float:
    """PSNR of the luma of two RGB images in [0, 1] (rounded to 8 bits first, as saved images are)."""
    a = rgb_to_y(np.round(np.clip(a_rgb, 0, 1) * 255) / 255)
    b = rgb_to_y(np.round(np.clip(b_rgb, 0, 1) * 255) / 255)
    return psnr(a, b, peak=255.0, border=border)


def _gaussian_filter(image: np.ndarray, sigma: float = 1.5, radius: int = 5) -> np.ndarray:
    """Separable 11×11 Gaussian, 'valid' region only (as in Wang et al.'s SSIM reference code)."""
    x = np.arange(-radius, radius + 1)
    k = np.exp(-(x * x) / (2 * sigma * sigma))
    k /= k.sum()
    rows = np.apply_along_axis(lambda r: np.convolve(r, k, mode="valid"), 1, image)
    return np.apply_along_axis(lambda c: np.convolve(c, k, mode="valid"), 0, rows)


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 255.0, border: int = 0) -> float:
    a = _crop(a.astype(np.float64), border)
    b = _crop(b.astype(np.float64), border)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mu_a, mu_b = _gaussian_filter(a), _gaussian_filter(b)
    var_a = _gaussian_filter(a * a) - mu_a ** 2
    var_b = _gaussian_filter(b * b) - mu_b ** 2
    cov = _gaussian_filter(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def ssim_y(a_rgb: np.ndarray, b_rgb: np.ndarray, border: int = 0) -> float:
    a = rgb_to_y(np.round(np.clip(a_rgb, 0, 1) * 255) / 255)
    b = rgb_to_y(np.round(np.clip(b_rgb, 0, 1) * 255) / 255)
    return ssim(a, b, border=border)
