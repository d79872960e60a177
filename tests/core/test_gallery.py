"""The gallery's core operations on tiny real generative models: chunks, seeds and latents kept, exact
reproduction, blends through the GAN or the VAE, variations by strength."""

from __future__ import annotations

from pathlib import Path

import generative_models
import numpy as np
import pytest

from imagestudio.core.errors import Cancelled, PipelineError
from imagestudio.core.gallery import (
    CHUNK,
    GAN,
    PHOTO,
    VAE,
    blend_items,
    generate_items,
    photo_item,
    reproduce,
    variation_items,
)
from imagestudio.core.image import image_from_array
from imagestudio.core.ops.generate import MAX_IMAGES, generate, interpolate, latent_for_seed, variations
from imagestudio.core.progress import Task


@pytest.fixture(autouse=True)
def tiny(model_dirs: dict[str, Path]) -> dict[str, Path]:
    return generative_models.install_all(model_dirs["bundled"])


def photo(seed: int = 0):
    rng = np.random.default_rng(seed)
    return image_from_array(rng.random((40, 30, 3), dtype=np.float32))


def test_generated_items_arrive_in_chunks_and_keep_seed_and_latent() -> None:
    chunks: list[int] = []
    items = generate_items(10, 5, on_items=lambda chunk: chunks.append(len(chunk)))
    assert chunks == [CHUNK, CHUNK, 10 - 2 * CHUNK]
    assert [item.seed for item in items] == list(range(5, 15))
    for item in items:
        assert item.space == GAN and item.model == "generate-gan" and item.title == f"seed {item.seed}"
        np.testing.assert_array_equal(item.latent, latent_for_seed(item.seed, generative_models.LATENT))
    np.testing.assert_allclose(items[4].image.rgb, generate(1, 9)[0].rgb, atol=1e-6)


def test_every_item_is_reproduced_exactly_from_its_latent() -> None:
    grid = generate_items(3, 0)
    strip = blend_items(grid[0], grid[2], 4)
    varied = variation_items(grid[1], 2, 0.4, 100)
    for item in (*grid, *strip, *varied):
        np.testing.assert_array_equal(reproduce(item).rgb, item.image.rgb)
    still = photo_item(photo(), "p.png")
    assert still.space == PHOTO and reproduce(still) is still.image


def test_a_blend_of_gan_items_walks_the_gan_latents() -> None:
    a, b = generate_items(2, 3)
    frames = blend_items(a, b, 5)
    assert [f.space for f in frames] == [GAN] * 5 and frames[2].title == "blend 3/5"
    reference = interpolate(3, 4, 5)
    for frame, expected in zip(frames, reference, strict=True):
        np.testing.assert_allclose(frame.image.rgb, expected.rgb, atol=1e-6)


def test_a_blend_with_a_photo_goes_through_the_vae() -> None:
    (gan,) = generate_items(1, 1)
    frames = blend_items(photo_item(photo(), "p.png"), gan, 3)
    assert [f.space for f in frames] == [VAE] * 3
    again = blend_items(frames[0], frames[2], 3)  # VAE items keep their codes: the ends come back exactly
    np.testing.assert_allclose(again[0].image.rgb, frames[0].image.rgb, atol=1e-6)
    np.testing.assert_allclose(again[-1].image.rgb, frames[-1].image.rgb, atol=1e-6)


def test_variation_strength_zero_is_the_source_and_one_is_new_images() -> None:
    (source,) = generate_items(1, 2)
    near = variation_items(source, 3, 0.0, 50, gan_space=True)
    for item in near:
        np.testing.assert_allclose(item.image.rgb, source.image.rgb, atol=1e-6)
    far = variation_items(source, 3, 1.0, 50, gan_space=True)
    np.testing.assert_allclose(far[0].image.rgb, generate(1, 50)[0].rgb, atol=1e-6)
    vae = variation_items(photo_item(photo(), "p.png"), 2, 0.5, 7)
    assert all(item.space == VAE and "strength 0.50, seed" in item.recipe for item in vae)


def test_bad_arguments_and_cancel() -> None:
    (item,) = generate_items(1, 0)
    with pytest.raises(PipelineError):
        variation_items(item, 2, 1.5, 0)
    with pytest.raises(PipelineError):
        blend_items(item, item, 1)
    task = Task()
    task.cancel()
    with pytest.raises(Cancelled):
        generate_items(8, 0, task=task)


def test_variations_of_a_photo_are_the_variations_operations_images() -> None:
    image = photo(3)
    items = variation_items(photo_item(image, "p.png"), 3, 0.4, 9)
    assert [item.seed for item in items] == [9, 10, 11]
    for item, expected in zip(items, variations(image, 3, 0.4, seed=9), strict=True):
        np.testing.assert_allclose(item.image.rgb, expected.rgb, atol=1e-6)


@pytest.mark.parametrize(("n", "seed", "strength", "device"), [
    (0, 0, 0.5, "auto"), (MAX_IMAGES + 1, 0, 0.5, "auto"), (2, -1, 0.5, "auto"), (2, 2**63 - 1, 0.5, "auto"),
    (2, 0, 1.5, "auto"), (2, 0, 0.5, "gpu"),
])
def test_the_gallery_refuses_what_the_operations_refuse_in_the_same_words(n, seed, strength, device) -> None:
    source = photo_item(photo(), "p.png")
    for gallery_call, op_call in (
        (lambda: variation_items(source, n, strength, seed, device=device),
         lambda: variations(source.image, n, strength, seed=seed, device=device)),
        (lambda: generate_items(n, seed, device=device), lambda: generate(n, seed, device=device)),
    ):
        try:
            op_call()
        except PipelineError as exc:
            with pytest.raises(PipelineError) as refused:
                gallery_call()
            assert str(refused.value) == str(exc)
        else:  # generation takes any strength: both accept it
            assert strength != 0.5 and len(gallery_call()) == n
