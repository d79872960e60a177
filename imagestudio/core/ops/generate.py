"""Generative operations for the gallery: new images from the GAN, blends and variations.

- `generate(n, seed)`: n new images from the GAN (`task=generate`). Image i comes from the latent of seed + i, so
  every generated image is named by one integer and can be made again, alone or in any batch.
- `interpolate(a, b, steps)`: a blend strip from a to b. Integers are GAN seeds (gallery images the GAN made: exact
  latents, the best blends); images go through the VAE encoder (`task=encode`) and come back through its decoder.
  Latents are Gaussian, so the path is spherical (slerp): a straight line would pass through the low-norm middle
  of the distribution, where the models make washed-out images.
- `variations(image, n, strength)`: the image's VAE latent moved towards n random latents by `strength`
  (0: the VAE's reconstruction n times, 1: unrelated new images).

Every result is a list of new images at the model's resolution, in [0, 1]; a given seed always gives the same
images. Models are chosen by name or path, else the installed default for the task.

This module owns generation: the latents each operation decodes (`seed_latents`, `slerp_path`,
`variation_latents`), the rules for their arguments, the models and the decoding. `core/gallery.py` makes the same
latents through these functions and only wraps each image as a gallery item as its chunk is decoded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from imagestudio.core import model_card
from imagestudio.core.errors import ModelError, ModelNotFoundError, PipelineError, UnsupportedModelError
from imagestudio.core.image import Image, image_from_array
from imagestudio.core.models import ModelCard, default_model, describe_task, find_model
from imagestudio.core.onnx_metadata import read_metadata_props
from imagestudio.core.ops._common import check_device_param, check_strength
from imagestudio.core.progress import NO_TASK, Task
from imagestudio.core.runtime import get_session

MAX_IMAGES = 4096  # one call; the gallery asks for a page at a time
_BATCH = 32  # latents per model run: progress and cancel granularity
_SEED_LIMIT = 2**63


@dataclass(frozen=True)
class VAEPair:
    encoder: ModelCard
    decoder: ModelCard

    @property
    def latent_size(self) -> int:
        return int(self.encoder.latent_size or 0)

    @property
    def resolution(self) -> int:
        return int(self.encoder.resolution or 0)


# --- latents -------------------------------------------------------------------------------------------------------

def latent_for_seed(seed: int, size: int) -> np.ndarray:
    """The standard-normal latent of one seed: float32 (size,), the same on every machine."""
    _check_seed(seed)
    return np.random.default_rng(seed).standard_normal(size, dtype=np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between two latents; t=0 gives a and t=1 gives b exactly.

    The angle is that between the directions, the norm is interpolated linearly: for Gaussian latents both ends
    and every point between have a typical norm. Parallel latents fall back to a straight line.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if t <= 0.0:
        return a.astype(np.float32)
    if t >= 1.0:
        return b.astype(np.float32)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a < 1e-12 or norm_b < 1e-12:
        return ((1 - t) * a + t * b).astype(np.float32)
    cos = float(np.clip(np.dot(a / norm_a, b / norm_b), -1.0, 1.0))
    omega = np.arccos(cos)
    if omega < 1e-6:
        return ((1 - t) * a + t * b).astype(np.float32)
    direction = (np.sin((1 - t) * omega) * a / norm_a + np.sin(t * omega) * b / norm_b) / np.sin(omega)
    return (direction * ((1 - t) * norm_a + t * norm_b)).astype(np.float32)


def slerp_path(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, size): `steps` evenly spaced points from a to b, both ends included."""
    return np.stack([slerp(a, b, i / (steps - 1)) for i in range(steps)])


def seed_latents(seeds: range, size: int) -> np.ndarray:
    """(len(seeds), size): the latent of each seed; image i of a generation is the image of seed + i."""
    return np.stack([latent_for_seed(seed, size) for seed in seeds])


def variation_latents(base: np.ndarray, seeds: range, strength: float) -> np.ndarray:
    """(len(seeds), size): `base` slerped by `strength` towards the latent of each seed (0: base, 1: the seed's)."""
    return np.stack([slerp(base, latent_for_seed(seed, base.shape[-1]), float(strength)) for seed in seeds])


# --- models --------------------------------------------------------------------------------------------------------

def _card_for(model: str | Path | None, task: str) -> ModelCard:
    card = default_model(task) if model is None else find_model(model)
    if card.task != task:
        raise UnsupportedModelError(
            f"model {card.name} is a {describe_task(card.task)} model; this needs a {describe_task(task)} model"
        )
    if not card.latent_size or not card.resolution:
        raise UnsupportedModelError(f"model {card.name} does not say its latent_size and resolution in its card")
    return card


def generator_card(model: str | Path | None = None) -> ModelCard:
    return _card_for(model, "generate")


def vae_pair(encoder: str | Path | None = None, decoder: str | Path | None = None) -> VAEPair:
    """The encoder and its decoder: the decoder named by the encoder's card (`pair`) unless one is given."""
    enc = _card_for(encoder, "encode")
    if decoder is None:
        partner = read_metadata_props(enc.path).get(model_card.PAIR, "").strip()
        if partner and (len(partner) > 100 or not partner.isprintable() or any(c in partner for c in "/\\:")
                        or partner.startswith(".")):
            raise UnsupportedModelError(f"model {enc.name} names its decoder {partner[:40]!r} in its card; a "
                                        "model name, not a path, is expected")
        beside = enc.path.with_name(f"{partner}.onnx")
        if partner and os.path.isfile(beside):
            decoder = beside
        elif partner:
            try:
                decoder = find_model(partner).path
            except ModelNotFoundError:
                decoder = None
    dec = _card_for(decoder, "decode")
    if (dec.latent_size, dec.resolution) != (enc.latent_size, enc.resolution):
        raise ModelError(
            f"models {enc.name} and {dec.name} do not belong together: latent {enc.latent_size} vs "
            f"{dec.latent_size}, resolution {enc.resolution} vs {dec.resolution}"
        )
    return VAEPair(enc, dec)


def _run_batched(card: ModelCard, inputs: np.ndarray, device: str, task: Task, message: str) -> np.ndarray:
    session = get_session(card.path, device)
    outputs = []
    for first in range(0, len(inputs), _BATCH):
        task.check()
        outputs.append(session.run(np.ascontiguousarray(inputs[first : first + _BATCH], dtype=np.float32)))
        done = min(len(inputs), first + _BATCH)
        task.report(done / len(inputs), f"{message} {done} of {len(inputs)}")
    return np.concatenate(outputs)


def decode_latents(card: ModelCard, latents: np.ndarray, device: str = "auto", task: Task = NO_TASK) -> list[Image]:
    """Images from a generator or decoder: (N, latent) -> N images of the card's resolution."""
    latents = np.asarray(latents, np.float32)
    if latents.ndim != 2 or latents.shape[1] != card.latent_size:
        raise PipelineError(f"model {card.name} takes latents of size {card.latent_size}, got {latents.shape}")
    pixels = _run_batched(card, latents, device, task, "drawing image")
    return [image_from_array(np.clip(p.transpose(1, 2, 0), 0.0, 1.0)) for p in pixels]


def to_model_input(image: Image, resolution: int) -> np.ndarray:
    """(3, R, R) float32: alpha over white (the training background), centre square, resized with Lanczos."""
    rgb = image.rgb
    if image.alpha is not None:
        rgb = rgb * image.alpha[:, :, None] + (1.0 - image.alpha[:, :, None])
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = rgb[top : top + side, left : left + side]
    if side != resolution:
        channels = [
            np.asarray(PILImage.fromarray(np.ascontiguousarray(square[:, :, c], np.float32), mode="F").resize(
                (resolution, resolution), PILImage.Resampling.LANCZOS))
            for c in range(3)
        ]
        square = np.stack(channels, axis=2)
    return np.clip(square, 0.0, 1.0).transpose(2, 0, 1).astype(np.float32)


def encode(images: Sequence[Image], pair: VAEPair, device: str = "auto") -> np.ndarray:
    """(N, latent): the posterior means of the images (the encoder's first output, mu)."""
    batch = np.stack([to_model_input(im, pair.resolution) for im in images])
    return _run_batched(pair.encoder, batch, device, NO_TASK, "encoding image")


# --- operations ----------------------------------------------------------------------------------------------------

def check_count(value: object, what: str, low: int = 1) -> int:
    """A number of images (or steps) for one call, from `low` to MAX_IMAGES; PipelineError names `what`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= MAX_IMAGES:
        raise PipelineError(f"{what} must be a whole number from {low} to {MAX_IMAGES}, not {value!r}")
    return int(value)


def _check_seed(seed: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < _SEED_LIMIT:
        raise PipelineError(f"seed must be a whole number from 0 to 2^63-1, not {seed!r}")


def seed_range(seed: int, n: int, what: str) -> range:
    """seed..seed+n-1, checked (n as `what`, every seed in range): the seeds of a generation or of variations."""
    n = check_count(n, what)
    _check_seed(seed)
    _check_seed(seed + n - 1)
    return range(int(seed), int(seed) + n)


def generate(n: int, seed: int = 0, *, model: str | Path | None = None, device: str = "auto",
             task: Task = NO_TASK) -> list[Image]:
    """n new images from the GAN; image i is the image of seed + i."""
    seeds = seed_range(seed, n, "the number of images")
    check_device_param(device)
    card = generator_card(model)
    latents = seed_latents(seeds, card.latent_size)
    images = decode_latents(card, latents, device, task)
    task.report(1.0, f"generated {n} image{'s' if n > 1 else ''}")
    return images


def interpolate(a: int | Image, b: int | Image, steps: int, *, model: str | Path | None = None,
                encoder: str | Path | None = None, decoder: str | Path | None = None, device: str = "auto",
                task: Task = NO_TASK) -> list[Image]:
    """`steps` images from a to b, ends included: GAN seeds (two ints) or two images (through the VAE).

    With seeds, the first and last images are exactly `generate(1, a)` and `generate(1, b)`; with images, they
    are the VAE's reconstructions of a and b.
    """
    steps = check_count(steps, "the number of steps", low=2)
    check_device_param(device)
    seeds = [isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in (a, b)]
    if all(seeds):
        card = generator_card(model)
        za, zb = latent_for_seed(int(a), card.latent_size), latent_for_seed(int(b), card.latent_size)
    elif not any(seeds) and isinstance(a, Image) and isinstance(b, Image):
        pair = vae_pair(encoder, decoder)
        card = pair.decoder
        za, zb = encode([a, b], pair, device)
    else:
        raise PipelineError("interpolate needs two GAN seeds (whole numbers) or two images, not a mix")
    images = decode_latents(card, slerp_path(za, zb, steps), device, task)
    task.report(1.0, f"blended in {steps} steps")
    return images


def variations(image: Image, n: int, strength: float, *, seed: int = 0, encoder: str | Path | None = None,
               decoder: str | Path | None = None, device: str = "auto", task: Task = NO_TASK) -> list[Image]:
    """n variations of an image: its VAE latent slerped towards the latents of seeds seed..seed+n-1 by strength."""
    seeds = seed_range(seed, n, "the number of variations")
    check_strength(strength)
    check_device_param(device)
    pair = vae_pair(encoder, decoder)
    task.report(0.0, "encoding the image")
    (mu,) = encode([image], pair, device)
    latents = variation_latents(mu, seeds, strength)
    images = decode_latents(pair.decoder, latents, device, task.sub(0.1, 1.0))
    task.report(1.0, f"made {n} variation{'s' if n > 1 else ''}")
    return images

