"""Gallery items: generated, blended and varied images that keep the latent (and seed) they were decoded from.

The gallery's operations, Qt-free: each decodes in small chunks and hands every chunk to `on_items` as soon as it is
ready, so a grid can fill while the rest is still being made. Any item can be made again exactly with `reproduce`.
The latents, the argument rules and the models are `core/ops/generate.py`'s (item i of `generate_items` is
`generate(1, seed + i)`); this module adds the items, the chunks, and which latent space a blend or variation uses.

Latent spaces: "gan" (the generator's), "vae" (the VAE decoder's). A photo has no latent until it is encoded.
Blends between two GAN items walk the GAN's latent space; anything else goes through the VAE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imagestudio.core.image import Image
from imagestudio.core.models import ModelCard, find_model
from imagestudio.core.ops._common import check_device_param, check_strength
from imagestudio.core.ops.generate import (
    VAEPair,
    check_count,
    decode_latents,
    encode,
    generator_card,
    seed_latents,
    seed_range,
    slerp_path,
    vae_pair,
    variation_latents,
)
from imagestudio.core.progress import NO_TASK, Task

GAN, VAE, PHOTO = "gan", "vae", "photo"
CHUNK = 4  # images per decode: how often a growing grid gets new thumbnails
OnItems = Callable[[list["GalleryItem"]], None]


@dataclass(frozen=True, eq=False)
class GalleryItem:
    image: Image
    space: str  # GAN | VAE | PHOTO
    latent: np.ndarray | None  # float32 (latent_size,) in `space`; None for a photo
    model: str | None  # the generator or decoder that drew it (card name); None for a photo
    seed: int | None  # the seed of its latent (generated), or of the random direction (variations)
    recipe: str  # how it was made, in words: shown as its tooltip

    @property
    def title(self) -> str:
        if self.space == GAN and self.seed is not None and self.recipe.startswith("GAN seed"):
            return f"seed {self.seed}"
        return self.recipe.split(":")[0]


def photo_item(image: Image, name: str) -> GalleryItem:
    return GalleryItem(image, PHOTO, None, None, None, f"photo {name}")


def _decode_in_chunks(card: ModelCard, latents: np.ndarray, make: Callable[[int, Image], GalleryItem],
                      device: str, on_items: OnItems | None, task: Task, start: float = 0.0) -> list[GalleryItem]:
    items: list[GalleryItem] = []
    count = len(latents)
    for first in range(0, count, CHUNK):
        task.check()
        last = min(count, first + CHUNK)
        span = task.sub(start + (1 - start) * first / count, start + (1 - start) * last / count)
        images = decode_latents(card, latents[first:last], device, span)
        chunk = [make(first + offset, image) for offset, image in enumerate(images)]
        items.extend(chunk)
        if on_items is not None:
            on_items(chunk)
    task.report(1.0, f"made {count} image{'s' if count > 1 else ''}")
    return items


def generate_items(n: int, seed: int = 0, *, model: str | Path | None = None, device: str = "auto",
                   on_items: OnItems | None = None, task: Task = NO_TASK) -> list[GalleryItem]:
    """n new GAN images; item i has seed `seed + i` and equals `ops.generate.generate(1, seed + i)`."""
    seeds = seed_range(seed, n, "the number of images")
    check_device_param(device)
    card = generator_card(model)
    latents = seed_latents(seeds, card.latent_size)
    return _decode_in_chunks(
        card, latents, lambda i, im: GalleryItem(im, GAN, latents[i], card.name, seeds[i], f"GAN seed {seeds[i]}"),
        device, on_items, task)



def _vae_latent(item: GalleryItem, pair: VAEPair, device: str) -> np.ndarray:
    """The item's code in the VAE: its own latent when the VAE drew it, else its image encoded."""
    if item.space == VAE and item.latent is not None and item.latent.shape == (pair.latent_size,):
        return item.latent
    return encode([item.image], pair, device)[0]


def blend_items(a: GalleryItem, b: GalleryItem, steps: int, *, encoder: str | Path | None = None,
                decoder: str | Path | None = None, device: str = "auto", on_items: OnItems | None = None,
                task: Task = NO_TASK) -> list[GalleryItem]:
    """`steps` frames from a to b, ends included: through GAN latents when both came from the same GAN (exact
    ends), else through the VAE (the ends are the VAE's reconstructions)."""
    steps = check_count(steps, "the number of blend steps", low=2)
    check_device_param(device)
    names = f"{a.title} and {b.title}"
    if a.space == GAN and b.space == GAN and a.model == b.model and a.latent is not None and b.latent is not None:
        card, space = generator_card(a.model), GAN
        path = slerp_path(a.latent, b.latent, steps)
    else:
        pair, space = vae_pair(encoder, decoder), VAE
        card = pair.decoder
        task.report(0.0, "encoding the images")
        path = slerp_path(_vae_latent(a, pair, device), _vae_latent(b, pair, device), steps)
    return _decode_in_chunks(
        card, path,
        lambda i, im: GalleryItem(im, space, path[i], card.name, None, f"blend {i + 1}/{steps}: {names}"),
        device, on_items, task, start=0.1 if space == VAE else 0.0)


def variation_items(source: GalleryItem, n: int, strength: float, seed: int, *, gan_space: bool = False,
                    encoder: str | Path | None = None, decoder: str | Path | None = None, device: str = "auto",
                    on_items: OnItems | None = None, task: Task = NO_TASK) -> list[GalleryItem]:
    """n images near `source`: its latent slerped by `strength` towards the latents of seeds seed..seed+n-1.

    gan_space (for "more like this" on a GAN item): stay in the GAN's latent space; otherwise go through the VAE
    (encode -> nearby codes -> decode), which also works for photos.
    """
    seeds = seed_range(seed, n, "the number of variations")
    check_strength(strength)
    check_device_param(device)
    if gan_space and source.space == GAN and source.latent is not None:
        card, space, base = generator_card(source.model), GAN, source.latent
    else:
        pair, space = vae_pair(encoder, decoder), VAE
        card = pair.decoder
        task.report(0.0, "encoding the image")
        base = _vae_latent(source, pair, device)
    latents = variation_latents(base, seeds, strength)
    return _decode_in_chunks(
        card, latents,
        lambda i, im: GalleryItem(im, space, latents[i], card.name, seeds[i],
                                  f"variation of {source.title}: strength {strength:.2f}, seed {seeds[i]}"),
        device, on_items, task, start=0.1 if space == VAE else 0.0)


def reproduce(item: GalleryItem, device: str = "auto") -> Image:
    """The item's image made again from its latent (a photo is returned as it is)."""
    if item.latent is None or item.model is None:
        return item.image
    return decode_latents(find_model(item.model), item.latent[None, :], device)[0]
