"""Measurements the one-click Enhance bases its choices on: exposure and noise level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# BT.601 luma weights: the usual choice for judging brightness of sRGB values.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_EXPOSURE_SAMPLES = 1_000_000  # enough pixels to judge brightness; strided, so a 24 MP photo costs little
_NOISE_CROP = 768  # noise needs full resolution; the centre crop keeps it fast

# Under-exposed: dark on average, and with little that is bright (a night scene with lamps still counts).
DARK_MEAN = 0.22
DARK_MEDIAN = 0.15
LOW_KEY_P95 = 0.6  # a mostly dark photo whose brightest 5 % reach this was exposed for them (low-key, stage, night sky)
# Noise below QUIET_SIGMA (in 8-bit levels) is left alone: light grain is barely visible, often wanted, and a
# denoiser that runs on it flattens fine texture (the "plastic" look). The estimator reads up to ~6 levels on
# heavily textured clean photos (fur, bark), so the threshold sits above that unless the camera says it shot at a
# high ISO. From QUIET_SIGMA to NOISY_SIGMA the blind denoiser's output is blended in from half to full strength.
QUIET_SIGMA = 6.5
QUIET_SIGMA_HIGH_ISO = 3.0  # EXIF ISO >= HIGH_ISO: noise is expected, so weaker evidence is enough
QUIET_SIGMA_LOW_ISO = 8.0  # EXIF ISO <= LOW_ISO: a base-ISO shot; what looks like noise is more likely texture
HIGH_ISO, LOW_ISO = 1600, 200
NOISY_SIGMA = 10.0


@dataclass(frozen=True)
class Exposure:
    mean: float  # mean luma, 0..1
    median: float
    p95: float

    @property
    def under_exposed(self) -> bool:
        low_key = self.p95 >= LOW_KEY_P95  # a bright subject on black: exposed for its highlights, not dark
        return self.mean < DARK_MEAN or (self.median < DARK_MEDIAN and self.mean < 0.3 and not low_key)

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


_PATCH = 5  # pixels on a side of the patches whose covariance is measured
_MAX_PATCHES = 12_000
_CLIPPED = (0.5 / 255, 254.5 / 255)  # clipping hides noise: patches touching 0 or 255 are left out
_Z_95 = 1.645


def _box_sum(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Sum over every rows×cols window (top-left anchored)."""
    c = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    np.cumsum(np.cumsum(a, 0), 1, out=c[1:, 1:])
    return c[rows:, cols:] - c[:-rows, cols:] - c[rows:, :-cols] + c[:-rows, :-cols]


def _chi2_quantile(k: int, z: float) -> float:
    """Wilson–Hilferty approximation of the chi-square quantile (no SciPy in the core)."""
    return k * (1 - 2 / (9 * k) + z * np.sqrt(2 / (9 * k))) ** 3


def _channel_sigma(x: np.ndarray, rng: np.random.Generator, iterations: int = 5) -> float | None:
    """Noise σ of one channel: the smallest eigenvalue of the covariance of weakly textured patches.

    Liu, Tanaka & Okutomi (2012): white noise adds σ² to every eigenvalue of the patch covariance, while image
    structure lives in a few directions, so the smallest eigenvalue is σ². Patches are chosen whose gradient
    energy is what noise of the current estimate alone would give (95th percentile), and the estimate is refined
    until it settles: fur, foliage and fabric are left out instead of being read as noise.
    """
    p = _PATCH
    rows, cols = x.shape[0] - p + 1, x.shape[1] - p + 1
    if rows < 8 or cols < 8:
        return None
    dh = np.diff(x, axis=1) ** 2
    dv = np.diff(x, axis=0) ** 2
    texture = (_box_sum(dh, p, p - 1)[:rows, :cols] + _box_sum(dv, p - 1, p)[:rows, :cols]).reshape(-1)
    clipped = ((x <= _CLIPPED[0]) | (x >= _CLIPPED[1])).astype(np.float64)
    usable = np.flatnonzero(_box_sum(clipped, p, p)[:rows, :cols].reshape(-1) == 0)
    if len(usable) < 4 * p * p:
        return None
    chosen = usable[rng.choice(len(usable), min(_MAX_PATCHES, len(usable)), replace=False)]
    windows = np.lib.stride_tricks.sliding_window_view(x, (p, p))  # a view: only the chosen patches are copied
    patches = windows[chosen // cols, chosen % cols].reshape(-1, p * p).astype(np.float64)
    texture = texture[chosen]
    # E[texture] = σ² · tr(DᵀD) for white noise, D the in-patch differences: 2 per difference, 2·p·(p-1) of them
    threshold = 4 * p * (p - 1) / (p * p) * _chi2_quantile(p * p, _Z_95)
    selected = np.ones(len(patches), dtype=bool)
    sigma2: float | None = None
    for _ in range(iterations):
        n = int(selected.sum())
        if n < 4 * p * p:
            break
        smallest = float(np.linalg.eigvalsh(np.cov(patches[selected], rowvar=False))[0])
        # the smallest sample eigenvalue is biased low by about (1 - sqrt(d/n))² (Marchenko–Pastur edge)
        estimate = max(smallest, 0.0) / (1 - np.sqrt(p * p / n)) ** 2
        if sigma2 is not None and abs(estimate - sigma2) <= 1e-4 * max(sigma2, 1e-12):
            return float(np.sqrt(estimate))
        sigma2 = estimate
        selected = texture < sigma2 * threshold
    return None if sigma2 is None else float(np.sqrt(sigma2))


def estimate_noise_sigma(rgb: np.ndarray) -> float:
    """Standard deviation of additive per-channel noise (0..1 units), as denoisers and CBSD68's σ define it.

    Measured on a centre crop at full resolution (noise lives in single pixels), per channel, then averaged;
    deterministic for a given image.
    """
    height, width = rgb.shape[:2]
    top = max(0, (height - _NOISE_CROP) // 2)
    left = max(0, (width - _NOISE_CROP) // 2)
    crop = rgb[top : top + _NOISE_CROP, left : left + _NOISE_CROP]
    rng = np.random.default_rng(0)
    sigmas = [s for c in range(3) if (s := _channel_sigma(crop[..., c].astype(np.float64), rng)) is not None]
    return float(np.mean(sigmas)) if sigmas else 0.0


def quiet_sigma_for(iso: int | None) -> float:
    """The noise level (8-bit levels) below which Enhance does not denoise, given the shot's ISO if known."""
    if iso is None:
        return QUIET_SIGMA
    if iso >= HIGH_ISO:
        return QUIET_SIGMA_HIGH_ISO
    if iso <= LOW_ISO:
        return QUIET_SIGMA_LOW_ISO
    return QUIET_SIGMA


def denoise_strength_for(sigma: float, iso: int | None = None, jpeg_quality: int | None = None) -> float:
    """0 when the photo is clean enough, else from 0.5 at the quiet level to 1 at NOISY_SIGMA (8-bit levels).

    A strongly compressed JPEG (quality < 60, read from its quantisation tables) gets at least a light pass: the
    blind denoiser is trained on JPEG artefacts too, which the noise estimate does not see (blocking is not white).
    """
    levels = sigma * 255
    quiet = quiet_sigma_for(iso)
    strength = 0.0
    if levels >= quiet:
        strength = float(np.clip(0.5 + 0.5 * (levels - quiet) / max(NOISY_SIGMA - quiet, 1e-6), 0.5, 1.0))
    if jpeg_quality is not None and jpeg_quality < 60:
        strength = max(strength, 0.5 if jpeg_quality >= 40 else 0.75)
    return strength
