"""CI smoke test of the generative models: a few iterations on tiny synthetic emoji, export, parity, app load,
and the quality measures (FID, KID, nearest neighbours) on known inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from training.config import dry_run_config, load_config  # noqa: E402
from training.data.emoji import EmojiEntry, parse_emoji_test, split_holdout, synthetic_emoji  # noqa: E402
from training.eval_generative import fid, kid, measure_models, nearest, reference  # noqa: E402
from training.export_generative import (check_parity, export_from_config, fuse_batchnorm,  # noqa: E402
                                        latent_inputs, round_weights_to_half)
from training.loop import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _dry(config_name: str, tmp_path: Path) -> dict:
    config = dry_run_config(load_config(config_name))
    config["run_dir"] = str(tmp_path / "run")
    return config


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both models smoke-trained and exported once for the tests below."""
    tmp = tmp_path_factory.mktemp("generative")
    paths: dict[str, Path] = {}
    gan_config = _dry("generate-gan.toml", tmp / "gan")
    train(gan_config, resume=False)
    (paths["gan"],) = export_from_config(gan_config, str(tmp / "gan" / "run" / "last.pt"),
                                         str(tmp / "generate-gan.onnx"), measure=False)
    vae_config = _dry("vae.toml", tmp / "vae")
    train(vae_config, resume=False)
    paths["encoder"], paths["decoder"] = export_from_config(vae_config, str(tmp / "vae" / "run" / "last.pt"),
                                                            str(tmp / "vae-encoder.onnx"), measure=False)
    paths["checkpoints"] = tmp
    return paths


def test_gan_trains_exports_and_loads_in_the_app(exported: dict[str, Path]) -> None:
    from imagestudio.core.models import find_model
    from training.checkpoints import load_checkpoint
    from training.tasks import build_model

    path = exported["gan"]
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["task"] == "generate" and meta["latent_size"] == "128" and meta["resolution"] == "64"
    assert "OFL-1.1" in meta["licence"] and json.loads(meta["metrics"])["parity_max_abs"] <= 1e-4
    assert not list(path.parent.glob("*.data")), "export must be one self-contained file"
    config = dry_run_config(load_config("generate-gan.toml"))
    generator = build_model(config)
    load_checkpoint(exported["checkpoints"] / "gan" / "run" / "last.pt", {"net": generator})
    shipped = fuse_batchnorm(generator.eval())
    round_weights_to_half(shipped)  # the network that ships: batch norm folded, float16-exact weights
    assert check_parity(shipped, path, latent_inputs(128, seed=5)) <= 1e-4
    with torch.no_grad():  # and it is the trained network, up to float16 rounding
        z = torch.randn(4, 128)
        assert (shipped(z) - generator(z)).abs().max() < 2e-2
    card = find_model(path)
    assert (card.task, card.latent_size, card.resolution, card.name) == ("generate", 128, 64, "generate-gan")
    assert path.with_suffix(".md").is_file()


def test_vae_exports_an_encoder_and_a_decoder_that_pair_up(exported: dict[str, Path]) -> None:
    from imagestudio.core.models import find_model
    from imagestudio.core.ops.generate import vae_pair
    import onnxruntime as ort

    encoder, decoder = find_model(exported["encoder"]), find_model(exported["decoder"])
    assert (encoder.task, decoder.task) == ("encode", "decode")
    assert encoder.latent_size == decoder.latent_size == 64
    pair = vae_pair(exported["encoder"])  # the decoder is found through the encoder's card
    assert pair.decoder.path == exported["decoder"].resolve()
    session = ort.InferenceSession(str(exported["encoder"]), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["mu", "logvar"]
    mu, logvar = session.run(None, {"image": np.random.default_rng(0).random((3, 3, 64, 64), dtype=np.float32)})
    assert mu.shape == logvar.shape == (3, 64)


@pytest.mark.parametrize("model", ["gan", "encoder", "decoder"])
def test_cards_use_only_the_shared_keys(exported: dict[str, Path], model: str) -> None:
    from imagestudio.core import model_card

    keys = {p.key for p in onnx.load(str(exported[model])).metadata_props}
    assert model_card.TASK in keys and keys <= set(model_card.KEYS)


@pytest.mark.parametrize("model", ["gan", "encoder", "decoder"])
def test_weights_are_stored_as_float16(exported: dict[str, Path], model: str) -> None:
    proto = onnx.load(str(exported[model]))
    big = [init for init in proto.graph.initializer if np.prod(init.dims) >= 1024]
    assert big and all(init.data_type == onnx.TensorProto.FLOAT16 for init in big)
    assert any(node.op_type == "Cast" for node in proto.graph.node)


def test_batchnorm_folding_keeps_the_output() -> None:
    from training.archs.dcgan import DCGANGenerator

    generator = DCGANGenerator(latent=16, feat=8, refine=True)
    generator.train()
    with torch.no_grad():
        generator(torch.randn(32, 16))  # non-trivial running statistics
    generator.eval()
    fused = fuse_batchnorm(generator)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    z = torch.randn(5, 16)
    with torch.no_grad():
        assert torch.allclose(fused(z), generator(z), atol=1e-5)


def test_gan_training_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    config = _dry("generate-gan.toml", tmp_path)
    train(config, resume=False)
    assert torch.load(tmp_path / "run" / "gan.pt", weights_only=True)["step"] == 3
    config["train"]["iters"] = 5
    train(config, resume=True)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [1, 2, 3, 4, 5]
    assert sorted(p.name for p in (tmp_path / "run").glob("samples-*.png")) == [
        "samples-00002.png", "samples-00003.png", "samples-00004.png", "samples-00005.png"]


@pytest.mark.parametrize("task, config", [("gan", "generate-gan.toml"), ("vae", "vae.toml")])
def test_command_line_dry_run(task: str, config: str) -> None:
    result = subprocess.run([sys.executable, "-m", "training", task, "--config", config, "--dry-run"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "[3/3]" in result.stdout and "it/s" in result.stdout


def test_measures_run_end_to_end_on_tiny_models(exported: dict[str, Path]) -> None:
    ref = reference(synthetic=True)
    result = measure_models(exported["gan"], exported["encoder"], exported["decoder"], ref=ref, samples=24)
    n = len(ref.held_out)
    for key in ("gan", "vae", "real_held_out"):
        assert result[key][f"fid_n{n}"] >= 0 and "kid" in result[key] and result[key]["nn_rms_median"] >= 0
    assert 0 <= result["vae"]["recon_rms_held_out"] <= 1


# --- the measures themselves ---------------------------------------------------------------------------------------

def test_fid_and_kid_are_near_zero_for_one_distribution_and_grow_with_a_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8))
    assert fid(a, a) == pytest.approx(0, abs=1e-6)
    assert fid(a, b) < 0.05
    assert fid(a, b + 1.0) == pytest.approx(8.0, rel=0.1)  # |Δμ|² = 8
    same, spread = kid(a, b)
    assert abs(same) < 3 * spread  # unbiased: zero within its noise
    assert kid(a, b + 1.0)[0] > 1.0


def test_nearest_neighbour_finds_copies() -> None:
    images = synthetic_emoji(6).images
    dist, index = nearest(images[[4, 1]], images)
    np.testing.assert_allclose(dist, 0.0, atol=1e-6)
    assert index.tolist() == [4, 1]
    dist, _ = nearest(255 - images[:1], images)
    assert dist[0] > 0.3


# --- data ----------------------------------------------------------------------------------------------------------

def test_emoji_test_file_is_parsed_for_fully_qualified_sequences(tmp_path: Path) -> None:
    text = ("# group: Smileys & Emotion\n# subgroup: face-smiling\n"
            "1F600                                      ; fully-qualified     # 😀 E1.0 grinning face\n"
            "263A                                       ; unqualified         # ☺ E0.6 smiling face\n"
            "# group: People & Body\n# subgroup: hand-fingers-open\n"
            "1F44B 1F3FD                                ; fully-qualified     # 👋🏽 E1.0 waving hand: medium\n")
    path = tmp_path / "emoji-test.txt"
    path.write_text(text, encoding="utf-8")
    entries = parse_emoji_test(path)
    assert [e.sequence for e in entries] == ["\U0001F600", "\U0001F44B\U0001F3FD"]
    assert entries[0] == EmojiEntry("\U0001F600", "Smileys & Emotion", "face-smiling", "grinning face")
    assert entries[1].base == "\U0001F44B" and entries[1].subgroup == "hand-fingers-open"


def test_holdout_keeps_skin_tone_variants_together() -> None:
    emoji = synthetic_emoji(20)
    emoji.bases = [str(i // 5) for i in range(20)]  # four emoji with five variants each
    train, held = split_holdout(emoji, fraction=0.25)
    assert len(held) == 5 and not set(train.bases) & set(held.bases)


def test_real_emoji_render_when_the_font_is_available() -> None:
    from training.data.emoji import FONT_PACKAGE, FONT_PATH, FONT_SIZE, render_emoji
    from training.data.sources import DEFAULT_DATA_DIR
    from PIL import ImageFont

    font_path = DEFAULT_DATA_DIR / "pkgs" / FONT_PACKAGE / FONT_PATH
    if not font_path.is_file():
        pytest.skip("the emoji font has not been fetched (python -m training gan fetches it)")
    font = ImageFont.truetype(str(font_path), FONT_SIZE)
    image = render_emoji(font, "\U0001F600", 64)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert image[:3, :3].min() == 255  # white background
    yellow = image[20:44, 20:44].reshape(-1, 3).mean(0)
    assert yellow[0] > 180 and yellow[1] > 130 and yellow[2] < 120  # a yellow face
