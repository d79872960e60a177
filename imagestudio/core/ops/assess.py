"""Measurements the one-click Enhance bases its choices on: exposure and noise level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# BT.601 luma weights: the usual choice for judging brightness of sRGB values.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_EXPOSURE_SAMPLES = 1_000_000  # enough pixels to judge brightness; strided, so a 24 MP photo costs little
_NOISE_CROP = 1024  # noise needs full resolution; the centre crop keeps it fast
_MAD_TO_SIGMA = 1 / 0.6745  # median absolute deviation of a Gaussian is 0.6745 sigma

# Under-exposed: dark on average, and with little that is bright (a night scene with lamps still counts).
DARK_MEAN = 0.22
DARK_MEDIAN = 0.15
# Noise below this (in 8-bit levels) is left alone; at NOISY_SIGMA the denoiser runs at full strength.
QUIET_SIGMA = 2.0
NOISY_SIGMA = 15.0


@dataclass(frozen=True)
class Exposure:
    mean: float  # mean luma, 0..1
    median: float
    p95: float

    @property
    def under_exposed(self) -> bool:
        return self.mean < DARK_MEAN or (self.median < DARK_MEDIAN and self.mean < 0.3)

    @property
    def lowlight_strength(self) -> float:
        """0 for a well-exposed photo, rising to 1 for a very dark one."""
        if not self.under_exposed:
            return 0.0
        return float(np.clip((0.35 - self.mean) / 0.2, 0.3, 1.0))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _LUMA


def measure_exposure(rgb: np.ndarray) -> Exposure:
    height, width = rgb.shape[:2]
    step = max(1, int(np.sqrt(height * width / _EXPOSURE_SAMPLES)))
    luma = _luma(rgb[::step, ::step])
    p50, p95 = np.percentile(luma, [50, 95])
    return Exposure(mean=float(luma.mean()), median=float(p50), p95=float(p95))


def estimate_noise_sigma(rgb: np.ndarray) -> float:
    """Standard deviation of additive per-channel noise (0..1 units), from the finest diagonal Haar band.

    Per channel, as denoisers and benchmarks (CBSD68's sigma) define it. The diagonal detail of 2×2 blocks holds
    little image structure but all of white noise, with the noise's own standard deviation; the median absolute
    value is robust to the edges that do leak in.
    """
    height, width = rgb.shape[:2]
    top = max(0, (height - _NOISE_CROP) // 2)
    left = max(0, (width - _NOISE_CROP) // 2)
    crop = rgb[top : top + _NOISE_CROP, left : left + _NOISE_CROP]
    crop = crop[: crop.shape[0] // 2 * 2, : crop.shape[1] // 2 * 2]
    if crop.size == 0:
        return 0.0
    diagonal = (crop[0::2, 0::2] - crop[0::2, 1::2] - crop[1::2, 0::2] + crop[1::2, 1::2]) / 2
    return float(np.median(np.abs(diagonal)) * _MAD_TO_SIGMA)


def denoise_strength_for(sigma: float) -> float:
    """0 when the photo is clean enough, else rising to 1 at NOISY_SIGMA (8-bit levels)."""
    levels = sigma * 255
    if levels < QUIET_SIGMA:
        return 0.0
    return float(np.clip((levels - QUIET_SIGMA) / (NOISY_SIGMA - QUIET_SIGMA), 0.25, 1.0))
