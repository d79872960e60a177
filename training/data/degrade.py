"""Degradations applied on the fly to clean patches: the model learns to undo them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def bicubic_down(patch: np.ndarray, scale: int) -> np.ndarray:
    """Pillow's antialiased bicubic: how the benchmark (and most users' resizers) make low-res images."""
    h, w = patch.shape[:2]
    return np.asarray(Image.fromarray(patch).resize((w // scale, h // scale), Image.Resampling.BICUBIC))


# (name, weight): how the robust fidelity models' LR inputs are made. Half are the benchmark's antialiased bicubic;
# the rest are what other tools do: point-sampled (aliased) bicubic and bilinear like OpenCV's INTER_CUBIC/LINEAR,
# area averaging, and Pillow's antialiased bilinear.
ROBUST_DOWNSCALES = (("pillow-bicubic", 0.5), ("aliased-bicubic", 0.2), ("aliased-bilinear", 0.1),
                     ("area", 0.1), ("pillow-bilinear", 0.1))


def downscale(patch: np.ndarray, scale: int, kind: str) -> np.ndarray:
    """uint8 HWC patch ÷ scale with one of ROBUST_DOWNSCALES' filters, rounded to 8 bits."""
    h, w = patch.shape[:2]
    if kind.startswith("pillow-"):
        method = Image.Resampling.BICUBIC if kind == "pillow-bicubic" else Image.Resampling.BILINEAR
        return np.asarray(Image.fromarray(patch).resize((w // scale, h // scale), method))
    if kind == "area":
        return np.asarray(Image.fromarray(patch).resize((w // scale, h // scale), Image.Resampling.BOX))
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(patch)).permute(2, 0, 1)[None].float()
    mode = "bicubic" if kind == "aliased-bicubic" else "bilinear"
    # No antialiasing: torch's bicubic (A = -0.75) and bilinear sample like OpenCV's INTER_CUBIC / INTER_LINEAR.
    y = F.interpolate(x, size=(h // scale, w // scale), mode=mode, align_corners=False, antialias=False)
    return y[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def robust_down(patch: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    names = [name for name, _ in ROBUST_DOWNSCALES]
    weights = np.array([weight for _, weight in ROBUST_DOWNSCALES])
    return downscale(patch, scale, names[rng.choice(len(names), p=weights / weights.sum())])


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=int(quality))
    return np.asarray(Image.open(buffer).convert("RGB"))


def add_noise(image: np.ndarray, rng: np.random.Generator, sigma_max: float = 50.0) -> np.ndarray:
    """Gaussian (colour or grey) or Poisson-like (signal-dependent) noise, on the 0..255 scale."""
    x = image.astype(np.float32)
    kind = rng.random()
    if kind < 0.6:
        sigma = rng.uniform(0, sigma_max)
        grey = rng.random() < 0.3
        shape = x.shape[:2] + (1,) if grey else x.shape
        x = x + rng.normal(0, sigma, shape).astype(np.float32)
    else:
        peak = rng.uniform(8, 120)  # photons at white: lower = noisier
        x = rng.poisson(np.clip(x, 0, 255) / 255 * peak).astype(np.float32) / peak * 255
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _blur_float(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an HWC float array (reflect padding)."""
    r = max(1, int(3 * sigma + 0.5))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2).astype(np.float32)
    k /= k.sum()
    p = np.pad(x, ((r, r), (r, r), (0, 0)), mode="reflect")
    p = sum(k[i] * p[i:i + x.shape[0]] for i in range(2 * r + 1))
    return sum(k[i] * p[:, i:i + x.shape[1]] for i in range(2 * r + 1))


def camera_noise(image: np.ndarray, rng: np.random.Generator, sigma_max: float = 40.0) -> np.ndarray:
    """Real-camera-like noise: signal-dependent (shot + read noise, heteroscedastic Gaussian), spatially correlated
    by a small blur (what demosaicing and in-camera noise reduction leave), with a chroma/luma imbalance."""
    x = image.astype(np.float32) / 255
    read = rng.uniform(0.0, sigma_max) / 255
    shot = rng.uniform(0.0, 0.08)
    std = np.sqrt(read ** 2 + shot * np.clip(x, 0, 1))
    noise = rng.normal(0, 1, x.shape).astype(np.float32)
    if rng.random() < 0.6:  # correlated: blur the noise field, then restore its variance
        radius = rng.uniform(0.5, 1.2)
        blurred = _blur_float(noise, radius)
        noise = blurred / max(float(blurred.std()), 1e-6)
    if rng.random() < 0.5:  # luma-heavy or chroma-heavy mix
        luma = noise.mean(-1, keepdims=True)
        mix = rng.uniform(0.3, 1.0)
        noise = mix * luma + (1 - mix) * noise
        noise /= max(float(noise.std()), 1e-6)
    return np.clip(np.round((x + noise * std) * 255), 0, 255).astype(np.uint8)


def realistic_down(patch: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    """A Real-ESRGAN-style chain: blur, resize with a random filter and factor, noise, JPEG, final resize."""
    im = Image.fromarray(patch)
    if rng.random() < 0.8:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 2.0)))
    filters = (Image.Resampling.BICUBIC, Image.Resampling.BILINEAR, Image.Resampling.LANCZOS, Image.Resampling.BOX)
    h, w = patch.shape[:2]
    mid = rng.uniform(0.5, 1.2) / scale * 2
    mid_size = (max(8, round(w * min(mid, 1.0))), max(8, round(h * min(mid, 1.0))))
    im = im.resize(mid_size, filters[rng.integers(len(filters))])
    x = np.asarray(im)
    if rng.random() < 0.7:
        x = add_noise(x, rng, sigma_max=20.0)
    if rng.random() < 0.7:
        x = jpeg(x, rng.integers(40, 95))
    x = np.asarray(Image.fromarray(x).resize((w // scale, h // scale), filters[rng.integers(len(filters))]))
    if rng.random() < 0.5:
        x = jpeg(x, rng.integers(50, 95))
    return x


def darken(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Synthetic under-exposure: lower exposure, a gamma, and the sensor noise dark shots carry."""
    x = image.astype(np.float32) / 255
    x = x ** rng.uniform(1.2, 2.5) * rng.uniform(0.15, 0.6)
    if rng.random() < 0.7:
        x = x + rng.normal(0, rng.uniform(0, 0.02), x.shape).astype(np.float32)
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)


def to_tensor_batch(patches: list[np.ndarray]):
    """uint8 HWC list -> float32 NCHW torch tensor in [0, 1]."""
    import torch

    array = np.stack(patches).astype(np.float32) / 255.0
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()
