"""Generative operations with the real shipped models: generate-gan, vae-encoder, vae-decoder.

The models are copied into the test's (otherwise empty) bundled model folder, so the app's own loader finds them
as defaults, exactly as it will on a user's machine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnx_models
import pytest

from imagestudio.core.errors import Cancelled, ModelError, PipelineError, UnsupportedModelError
from imagestudio.core.image import image_from_array
from imagestudio.core.models import default_model, find_model
from imagestudio.core.ops.generate import (
    encode,
    generate,
    interpolate,
    latent_for_seed,
    slerp,
    slerp_path,
    vae_pair,
    variations,
)
from imagestudio.core.progress import Task

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "models"
NAMES = ("generate-gan", "vae-encoder", "vae-decoder")
TASKS = {"generate-gan": "generate", "vae-encoder": "encode", "vae-decoder": "decode"}


@pytest.fixture
def shipped(model_dirs: dict[str, Path]) -> dict[str, Path]:
    paths = {}
    for name in NAMES:
        source = SHIPPED / f"{name}.onnx"
        assert source.is_file(), f"the shipped model {source} is missing: run the exports in training/README.md"
        paths[name] = Path(shutil.copy(source, model_dirs["bundled"] / source.name))
    return paths


def _emoji_like(seed: int = 0, size: int = 72, alpha: bool = False):
    """A yellow disc with two eyes on white (or on transparency): the domain the models know."""
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size * 0.4) ** 2
    rgb = np.ones((size, size, 3), np.float32)
    rgb[disc] = np.array([1.0, 0.8, 0.2]) * (0.9 + 0.1 * np.random.default_rng(seed).random())
    for cx in (0.38, 0.62):
        rgb[(yy - size * 0.42) ** 2 + (xx - size * cx) ** 2 < (size * 0.05) ** 2] = 0.2
    if alpha:
        return image_from_array(np.dstack([rgb, disc.astype(np.float32)]))
    return image_from_array(rgb)


# --- the shipped models and their cards ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_cards(shipped: dict[str, Path], name: str) -> None:
    card = find_model(name)
    assert card.task == TASKS[name] and not card.probed and card.source == "bundled"
    assert card.resolution == 64 and card.latent_size in (64, 128)
    assert "OFL-1.1" in card.licence and "Noto Color Emoji" in card.training_data
    assert card.metrics["parity_max_abs"] <= 1e-4
    proto = onnx.load(str(shipped[name]), load_external_data=False)
    assert max(op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")) >= 17
    assert not any(init.data_location == onnx.TensorProto.EXTERNAL for init in proto.graph.initializer)
    meta = {p.key: p.value for p in proto.metadata_props}
    for key in ("task", "latent_size", "input_range", "output_range", "resolution", "training_data", "licence",
                "metrics"):
        assert meta[key], key
    if name != "vae-encoder":  # the decoder and generator carry the quality figures
        metrics = json.loads(meta["metrics"])
        for key in ("fid_n125", "fid_n1000", "kid", "nn_rms_median", "floor_fid"):
            assert key in metrics, key
        assert metrics["fid_n125"] > metrics["floor_fid"] * 0.5  # measured against the real floor, not made up


def test_shipped_models_stay_small() -> None:
    total = sum((SHIPPED / f"{name}.onnx").stat().st_size for name in NAMES)
    assert total <= 8 * 2**20, f"the generative models take {total / 2**20:.1f} MB; the budget is 8 MB"


def test_gan_beats_vae_on_fid(shipped: dict[str, Path]) -> None:
    gan, vae = find_model("generate-gan").metrics, find_model("vae-decoder").metrics
    assert gan["fid_n125"] < vae["fid_n125"]


def test_defaults_are_the_shipped_models(shipped: dict[str, Path]) -> None:
    assert default_model("generate").name == "generate-gan"
    pair = vae_pair()
    assert (pair.encoder.name, pair.decoder.name) == ("vae-encoder", "vae-decoder")
    assert pair.latent_size == find_model("vae-decoder").latent_size


# --- generate ------------------------------------------------------------------------------------------------------

def test_generate_is_deterministic_with_correct_shapes_and_range(shipped: dict[str, Path]) -> None:
    first = generate(6, seed=11)
    again = generate(6, seed=11)
    assert len(first) == 6
    for a, b in zip(first, again):
        assert a.rgb.shape == (64, 64, 3) and a.rgb.dtype == np.float32 and a.alpha is None
        assert 0.0 <= a.rgb.min() and a.rgb.max() <= 1.0
        np.testing.assert_array_equal(a.rgb, b.rgb)
    assert all(im.rgb.std() > 0.05 for im in first), "a generated image is flat"
    assert np.abs(first[0].rgb - first[1].rgb).mean() > 0.02, "different seeds gave the same image"


def test_each_generated_image_is_named_by_its_seed(shipped: dict[str, Path]) -> None:
    batch = generate(5, seed=100)
    alone = generate(1, seed=103)[0]
    np.testing.assert_allclose(batch[3].rgb, alone.rgb, atol=1e-5)


def test_generated_images_look_like_emoji_on_white(shipped: dict[str, Path]) -> None:
    images = np.stack([im.rgb for im in generate(32, seed=0)])
    corners = np.concatenate([images[:, :4, :4], images[:, :4, -4:], images[:, -4:, :4], images[:, -4:, -4:]], 1)
    assert corners.mean() > 0.85, "the background of generated emoji should be white"
    assert images[:, 16:48, 16:48].mean() < 0.8, "the centre of generated emoji should hold a figure"


def test_generate_reports_progress_and_can_be_cancelled(shipped: dict[str, Path]) -> None:
    seen: list[float] = []
    generate(70, seed=0, task=Task(lambda f, m: seen.append(f)))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3
    task = Task()
    task.cancel()
    with pytest.raises(Cancelled):
        generate(4, seed=0, task=task)


@pytest.mark.parametrize("bad", [0, -1, 5000, 2.5, True, "4"])
def test_generate_refuses_a_bad_count(shipped: dict[str, Path], bad) -> None:
    with pytest.raises(PipelineError):
        generate(bad, seed=0)


def test_generate_refuses_a_bad_seed(shipped: dict[str, Path]) -> None:
    with pytest.raises(PipelineError):
        generate(2, seed=-3)


def test_an_image_model_is_no_generator(models, shipped: dict[str, Path]) -> None:
    upscaler = models("nearest_upscaler", scale=2, metadata=onnx_models.card("x2", "upscale", 2))
    with pytest.raises(UnsupportedModelError, match="upscale"):
        generate(1, seed=0, model=str(upscaler))


# --- interpolate ---------------------------------------------------------------------------------------------------

def test_slerp_ends_are_the_ends_and_norms_stay_gaussian() -> None:
    a, b = latent_for_seed(1, 128), latent_for_seed(2, 128)
    np.testing.assert_array_equal(slerp(a, b, 0.0), a)
    np.testing.assert_array_equal(slerp(a, b, 1.0), b)
    path = slerp_path(a, b, 9)
    assert path.shape == (9, 128)
    norms = np.linalg.norm(path, axis=1)
    assert norms.min() > 0.95 * min(np.linalg.norm(a), np.linalg.norm(b))  # a straight line would dip to ~0.7
    assert np.linalg.norm((a + b) / 2) < 0.8 * norms[4]
    np.testing.assert_allclose(slerp(a, 2 * a, 0.5), 1.5 * a, rtol=1e-5)  # parallel: a straight line


def test_latents_are_standard_normal_and_fixed_per_seed() -> None:
    z = np.stack([latent_for_seed(s, 128) for s in range(200)])
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    np.testing.assert_array_equal(latent_for_seed(5, 128), latent_for_seed(5, 128))


def test_interpolating_gan_seeds_starts_and_ends_at_their_images(shipped: dict[str, Path]) -> None:
    strip = interpolate(3, 8, 7)
    assert len(strip) == 7 and all(im.rgb.shape == (64, 64, 3) for im in strip)
    np.testing.assert_allclose(strip[0].rgb, generate(1, 3)[0].rgb, atol=1e-5)
    np.testing.assert_allclose(strip[-1].rgb, generate(1, 8)[0].rgb, atol=1e-5)
    steps = [np.abs(strip[i + 1].rgb - strip[i].rgb).mean() for i in range(6)]
    assert max(steps) < np.abs(strip[-1].rgb - strip[0].rgb).mean(), "the blend should change gradually"
    np.testing.assert_array_equal(interpolate(3, 8, 7)[3].rgb, strip[3].rgb)


def test_interpolating_images_goes_through_the_vae(shipped: dict[str, Path]) -> None:
    a, b = _emoji_like(0), _emoji_like(1, size=90, alpha=True)
    strip = interpolate(a, b, 5)
    pair = vae_pair()
    ends = encode([a, b], pair)
    from imagestudio.core.ops.generate import decode_latents

    recon = decode_latents(pair.decoder, ends)
    assert len(strip) == 5
    np.testing.assert_allclose(strip[0].rgb, recon[0].rgb, atol=1e-5)
    np.testing.assert_allclose(strip[-1].rgb, recon[1].rgb, atol=1e-5)


def test_interpolate_refuses_a_seed_and_an_image(shipped: dict[str, Path]) -> None:
    with pytest.raises(PipelineError, match="not a mix"):
        interpolate(1, _emoji_like(), 4)
    with pytest.raises(PipelineError):
        interpolate(1, 2, 1)


# --- variations ----------------------------------------------------------------------------------------------------

def test_variations_are_deterministic_and_shaped(shipped: dict[str, Path]) -> None:
    image = _emoji_like()
    first = variations(image, 4, 0.5, seed=3)
    again = variations(image, 4, 0.5, seed=3)
    other = variations(image, 4, 0.5, seed=4)
    assert len(first) == 4
    for a, b in zip(first, again):
        assert a.rgb.shape == (64, 64, 3) and 0.0 <= a.rgb.min() and a.rgb.max() <= 1.0
        np.testing.assert_array_equal(a.rgb, b.rgb)
    assert np.abs(first[0].rgb - other[0].rgb).mean() > 1e-3


def test_variation_strength_moves_away_from_the_reconstruction(shipped: dict[str, Path]) -> None:
    image = _emoji_like()
    same = variations(image, 3, 0.0)
    for im in same[1:]:
        np.testing.assert_allclose(im.rgb, same[0].rgb, atol=1e-5)  # strength 0: the reconstruction, n times
    recon = same[0].rgb

    def spread(strength: float) -> float:
        return float(np.mean([np.abs(v.rgb - recon).mean() for v in variations(image, 8, strength, seed=1)]))

    assert 0 < spread(0.2) < spread(0.5) < spread(1.0)


def test_the_vae_reconstructs_an_emoji_recognisably(shipped: dict[str, Path]) -> None:
    image = _emoji_like(size=64)
    recon = variations(image, 1, 0.0)[0].rgb
    assert np.abs(recon - image.rgb).mean() < 0.12
    assert recon[:4, :4].mean() > 0.85  # white stays white


def test_transparency_is_composited_over_white(shipped: dict[str, Path]) -> None:
    pair = vae_pair()
    clear = image_from_array(np.zeros((64, 64, 4), np.uint8))  # fully transparent black
    white = image_from_array(np.full((64, 64, 3), 255, np.uint8))
    np.testing.assert_allclose(encode([clear], pair), encode([white], pair), atol=1e-5)


@pytest.mark.parametrize("strength", [-0.1, 1.5, "0.5", None])
def test_variations_refuse_a_bad_strength(shipped: dict[str, Path], strength) -> None:
    with pytest.raises(PipelineError, match="strength"):
        variations(_emoji_like(), 2, strength)


def test_a_mismatched_vae_pair_is_refused(shipped: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="do not belong together|decode"):
        vae_pair("vae-encoder", "generate-gan")
