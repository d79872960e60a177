"""The full second-order degradation model of Real-ESRGAN, on batches of torch tensors (CPU here, CUDA when lent).

Each sample goes through, twice: a random blur (isotropic or anisotropic Gaussian, generalised Gaussian, plateau,
or a sinc ringing filter), a random resize (up, down or kept, with area/bilinear/bicubic), Gaussian or Poisson noise
(colour or grey), and JPEG with 4:2:0 chroma subsampling; then the resize to the target size and a final sinc and
JPEG in random order. The skip probabilities follow the paper's second stage (a second blur 80 % of the time, ...).
JPEG runs through Pillow on the CPU; torchvision's encoder is used on CUDA when it is installed.

Functions take an explicit `torch.Generator` so every batch is reproducible from the seed.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

KERNEL_SIZES = (7, 9, 11, 13, 15, 17, 19, 21)
MAX_KERNEL = 21


def _u(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _choice(g: torch.Generator, options: tuple, weights: tuple[float, ...] | None = None) -> object:
    if weights is None:
        return options[int(torch.randint(len(options), (), generator=g))]
    w = torch.tensor(weights, dtype=torch.float64)
    return options[int(torch.multinomial(w / w.sum(), 1, generator=g))]


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    r = torch.arange(size, dtype=torch.float64) - size // 2
    return torch.meshgrid(r, r, indexing="ij")


def gaussian_family_kernel(size: int, sx: float, sy: float, theta: float, kind: str, beta: float) -> torch.Tensor:
    """Anisotropic Gaussian ('gauss'), generalised Gaussian ('generalized', shape beta) or plateau ('plateau')."""
    y, x = _grid(size)
    c, s = math.cos(theta), math.sin(theta)
    u, v = c * x + s * y, -s * x + c * y
    q = (u / sx) ** 2 + (v / sy) ** 2  # squared Mahalanobis distance
    if kind == "gauss":
        k = torch.exp(-0.5 * q)
    elif kind == "generalized":
        k = torch.exp(-0.5 * q ** (beta / 2))
    else:
        k = 1 / (1 + q ** (beta / 2))
    return (k / k.sum()).float()


def sinc_kernel(size: int, cutoff: float) -> torch.Tensor:
    """A circular low-pass (2-D jinc-like sinc) with cutoff in radians: ringing and overshoot like real sharpening."""
    y, x = _grid(size)
    r = torch.sqrt(x ** 2 + y ** 2)
    k = cutoff * torch.special.bessel_j1(cutoff * r) / (2 * math.pi * torch.where(r == 0, torch.ones_like(r), r))
    k[size // 2, size // 2] = cutoff ** 2 / (4 * math.pi)
    return (k / k.sum()).float()


def random_kernel(g: torch.Generator, sigma_range: tuple[float, float], sinc_probability: float) -> torch.Tensor:
    size = int(_choice(g, KERNEL_SIZES))
    if _u(g, 0, 1) < sinc_probability:
        cutoff = _u(g, math.pi / 3, math.pi) if size < 13 else _u(g, math.pi / 5, math.pi)
        kernel = sinc_kernel(size, cutoff)
    else:
        kind = str(_choice(g, ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"),
                           (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)))
        sx = _u(g, *sigma_range)
        sy = sx if kind.endswith("iso") and not kind.endswith("aniso") else _u(g, *sigma_range)
        theta = _u(g, -math.pi, math.pi)
        family = "gauss" if kind in ("iso", "aniso") else kind.split("_")[0]
        beta = _u(g, 0.5, 4.0) if family == "generalized" else _u(g, 1.0, 2.0)
        kernel = gaussian_family_kernel(size, sx, sy, theta, family, beta)
    pad = (MAX_KERNEL - size) // 2
    return F.pad(kernel, (pad, pad, pad, pad))


def blur(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Per-sample kernels (N, k, k) on (N, C, H, W), reflect padding."""
    n, c, h, w = x.shape
    k = kernels.to(x.device, x.dtype)
    weight = k[:, None].repeat_interleave(c, 0)  # (N*C, 1, k, k)
    pad = k.shape[-1] // 2
    padded = F.pad(x.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, weight, groups=n * c).reshape(n, c, h, w)


def add_noise(x: torch.Tensor, g: torch.Generator, gaussian_range: tuple[float, float],
              poisson_range: tuple[float, float], gaussian_probability: float, grey_probability: float) -> torch.Tensor:
    out = []
    for sample in x:
        grey = _u(g, 0, 1) < grey_probability
        if _u(g, 0, 1) < gaussian_probability:
            sigma = _u(g, *gaussian_range) / 255
            shape = (1,) + sample.shape[1:] if grey else sample.shape
            noise = torch.randn(shape, generator=g).to(sample.device) * sigma
        else:  # Poisson (shot) noise: variance proportional to the signal, `scale` sets how strong
            scale = _u(g, *poisson_range)
            vals = 10 ** 2.0 / max(scale, 1e-3) ** 2 * 255 / 255  # photons at white
            base = sample.mean(0, keepdim=True) if grey else sample
            photons = torch.poisson(base.clamp(0, 1).cpu() * vals * 255, generator=g).to(sample.device)
            noise = photons / (vals * 255) - base.clamp(0, 1)
        out.append(sample + noise)
    return torch.stack(out).clamp(0, 1)


def _jpeg_pil(sample: torch.Tensor, quality: int) -> torch.Tensor:
    array = (sample.clamp(0, 1).permute(1, 2, 0).cpu().float().numpy() * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=int(quality))  # Pillow: 4:2:0 subsampling by default
    with Image.open(buffer) as im:
        back = np.asarray(im.convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(back).permute(2, 0, 1).to(sample.device, sample.dtype)


def jpeg(x: torch.Tensor, g: torch.Generator, quality_range: tuple[int, int]) -> torch.Tensor:
    out = []
    for sample in x:
        quality = int(_u(g, *quality_range))
        out.append(_jpeg_pil(sample, quality))
    return torch.stack(out)


def random_resize(x: torch.Tensor, g: torch.Generator, up: tuple[float, float], down: tuple[float, float],
                  probabilities: tuple[float, float, float]) -> torch.Tensor:
    kind = _choice(g, ("up", "down", "keep"), probabilities)
    factor = _u(g, *up) if kind == "up" else _u(g, *down) if kind == "down" else 1.0
    mode = str(_choice(g, ("area", "bilinear", "bicubic")))
    h, w = max(4, round(x.shape[2] * factor)), max(4, round(x.shape[3] * factor))
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(x, size=(h, w), mode=mode, **kwargs).clamp(0, 1)


def second_order(hr: torch.Tensor, scale: int, g: torch.Generator) -> torch.Tensor:
    """LR images (N, 3, H/scale, W/scale) from HR (N, 3, H, W) in [0, 1], Real-ESRGAN's settings."""
    n, _, h, w = hr.shape
    x = blur(hr, torch.stack([random_kernel(g, (0.2, 3.0), 0.1) for _ in range(n)]))
    x = random_resize(x, g, (1.0, 1.5), (0.15, 1.0), (0.2, 0.7, 0.1))
    x = add_noise(x, g, (1, 30), (0.05, 3.0), 0.5, 0.4)
    x = jpeg(x, g, (30, 95))
    if _u(g, 0, 1) < 0.8:
        x = blur(x, torch.stack([random_kernel(g, (0.2, 1.5), 0.1) for _ in range(n)]))
    factor = _u(g, 0.3, 1.2) if _u(g, 0, 1) < 0.7 else _u(g, 1.0, 1.2)
    mode = str(_choice(g, ("area", "bilinear", "bicubic")))
    size = (max(4, round(h / scale * factor)), max(4, round(w / scale * factor)))
    x = F.interpolate(x, size=size, mode=mode, **({} if mode == "area" else {"align_corners": False})).clamp(0, 1)
    x = add_noise(x, g, (1, 25), (0.05, 2.5), 0.5, 0.4)
    final_sinc = torch.stack([sinc_kernel(MAX_KERNEL, _u(g, math.pi / 3, math.pi)) if _u(g, 0, 1) < 0.8
                              else F.pad(torch.ones(1, 1), (10, 10, 10, 10)) for _ in range(n)])
    target = (h // scale, w // scale)
    mode = str(_choice(g, ("area", "bilinear", "bicubic")))
    resize = lambda t: F.interpolate(t, size=target, mode=mode,  # noqa: E731
                                     **({} if mode == "area" else {"align_corners": False})).clamp(0, 1)
    if _u(g, 0, 1) < 0.5:
        x = blur(resize(x), final_sinc)
        x = jpeg(x.clamp(0, 1), g, (30, 95))
    else:
        x = jpeg(x, g, (30, 95))
        x = blur(resize(x), final_sinc)
    return (x.clamp(0, 1) * 255).round() / 255
