"""Quality of the generative models without downloaded weights: FID/KID in a feature space we train ourselves.

No Inception weights can be downloaded here, so a small classifier is trained on the emoji themselves (every
fully-qualified emoji except the held-out faces, labelled by Unicode subgroup: ~100 classes, from smileys to
flags) and its pooled penultimate features play Inception's role. Reported, against the training split:
- FID at n = size of the held-out split, for GAN samples, VAE samples and the held-out real images (the floor:
  what a perfect model that makes *new* emoji would score), averaged over random draws of n samples, so all three
  carry the same small-sample bias; FID at n = 1000 for the two models.
- KID (unbiased, cubic polynomial kernel), comparable across sample sizes.
- Nearest-neighbour distance (RMS over pixels, [0, 1]) from each sample to the training set, next to the same for
  held-out real images: a sample much closer to a training image than new real emoji are is a copy.

`python -m training.eval_generative` measures the shipped models, prints the table, and writes the contact sheets
(samples, interpolation strips, variations, nearest neighbours) and metrics to docs/generative/.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from training.data.emoji import EmojiSet, load_emoji, split_holdout, synthetic_emoji
from training.data.sources import DEFAULT_DATA_DIR
from training.export import MODELS_DIR
from training.checkpoints import RUNS_DIR, load_checkpoint, save_checkpoint
from training.schedule import ProgressLog
from training.tasks.generative import ImageBatches, save_sheet

ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = ROOT / "docs" / "generative"
FEATURE_RUN = RUNS_DIR / "emoji-features"
SAMPLES = 1000
DRAWS = 20
KID_SUBSET = 100


class FeatureNet(nn.Module):
    """A small emoji classifier; `features` is its 128-d pooled penultimate layer."""

    def __init__(self, classes: int, feat: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch_in = 3
        for ch in (feat, feat * 2, feat * 4, feat * 8):  # 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(ch_in, ch, 3, 2, 1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
            ch_in = ch
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(ch_in, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x * 2 - 1).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _shift(x: torch.Tensor, generator: torch.Generator, pixels: int = 4) -> torch.Tensor:
    padded = F.pad(x, (pixels,) * 4, value=1.0)
    dy, dx = torch.randint(0, 2 * pixels + 1, (2,), generator=generator).tolist()
    return padded[:, :, dy : dy + x.shape[2], dx : dx + x.shape[3]]


def train_feature_net(emoji: EmojiSet, iters: int = 800, batch: int = 64, seed: int = 0,
                      checkpoint: Path | None = FEATURE_RUN / "last.pt") -> FeatureNet:
    """Trains (or loads from `checkpoint`) the feature classifier on `emoji` with flips and small shifts."""
    torch.manual_seed(seed)
    net = FeatureNet(len(emoji.subgroup_names))
    if checkpoint is not None and checkpoint.is_file():
        load_checkpoint(checkpoint, {"net": net})
        return net.eval()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    batches = ImageBatches(emoji.images, seed=seed)
    labels = torch.from_numpy(emoji.labels)
    shifts = torch.Generator().manual_seed(seed + 1)
    log = ProgressLog(iters, 0, None)
    net.train()
    for step in range(iters):
        for group in optimizer.param_groups:
            group["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * step / iters))
        index = torch.randint(len(labels), (batch,), generator=batches.generator)
        x = batches.images[index].float() / 255.0
        x = torch.where(torch.rand(batch, 1, 1, 1, generator=shifts) < 0.5, x.flip(-1), x)
        logits = net(_shift(x, shifts))
        loss = F.cross_entropy(logits, labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        accuracy = float((logits.argmax(1) == labels[index]).float().mean())
        log.update(step, {"loss": float(loss.detach()), "acc": accuracy}, 100)
    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(checkpoint, iters, {"net": net}, {})
    return net.eval()


@torch.no_grad()
def features(net: FeatureNet, images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) or float [0, 1] (N, 3, H, W) -> float64 (N, 128)."""
    x = torch.from_numpy(images)
    if x.dtype == torch.uint8:
        x = x.permute(0, 3, 1, 2).float() / 255.0
    return torch.cat([net.features(x[i : i + 256].float()) for i in range(0, len(x), 256)]).double().numpy()


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (tr sqrt via a symmetric eigenproblem)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(cov_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def kid(a: np.ndarray, b: np.ndarray, subset: int = KID_SUBSET, draws: int = 50, seed: int = 0) -> tuple[float, float]:
    """Unbiased MMD² with k(x, y) = (x·y/d + 1)³ over random subsets: (mean, std)."""
    rng = np.random.default_rng(seed)
    m = min(subset, len(a), len(b))
    d = a.shape[1]
    values = []
    for _ in range(draws):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        off = ~np.eye(m, dtype=bool)
        values.append(kxx[off].mean() + kyy[off].mean() - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def nearest(samples: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each sample's nearest training image; RMS over pixels in [0, 1]. uint8 NHWC inputs."""
    # float64: |s|² + |t|² - 2 s·t cancels badly in float32 for near-copies, the very case this looks for.
    s = samples.reshape(len(samples), -1).astype(np.float64) / 255.0
    t = train.reshape(len(train), -1).astype(np.float64) / 255.0
    d2 = (s**2).sum(1)[:, None] + (t**2).sum(1)[None, :] - 2 * s @ t.T
    index = d2.argmin(1)
    dist = np.sqrt(np.clip(d2[np.arange(len(s)), index], 0, None) / s.shape[1])
    return dist, index


@dataclass
class Reference:
    """The training split, the held-out split and the feature network, loaded once."""

    train: EmojiSet
    held_out: EmojiSet
    net: FeatureNet
    train_features: np.ndarray
    held_features: np.ndarray
    held_nn: np.ndarray  # nearest-training-image distance of each held-out image


_reference: Reference | None = None


def reference(data_dir: Path = DEFAULT_DATA_DIR, synthetic: bool = False) -> Reference:
    """The default face split of the configs (10% of base emoji held out, seed 0) and the feature network."""
    global _reference
    if _reference is not None and not synthetic:
        return _reference
    if synthetic:  # tests: tiny fake data, a feature net trained for a few steps, nothing cached
        emoji = synthetic_emoji(24)
        train, held = split_holdout(emoji, 0.25)
        net = train_feature_net(train, iters=2, batch=4, checkpoint=None)
    else:
        train, held = split_holdout(load_emoji(data_dir))
        everything = load_emoji(data_dir, subgroups=None)
        held_bases = set(held.bases)
        keep = np.array([b not in held_bases for b in everything.bases])
        net = train_feature_net(everything.take(np.flatnonzero(keep)))
    ref = Reference(train, held, net, features(net, train.images), features(net, held.images),
                    nearest(held.images, train.images)[0])
    if not synthetic:
        _reference = ref
    return ref


def _to_uint8(images: list) -> np.ndarray:
    return np.stack([(np.clip(im.rgb, 0, 1) * 255 + 0.5).astype(np.uint8) for im in images])


def score(ref: Reference, samples: np.ndarray, seed: int = 0) -> dict[str, float]:
    """FID (n = held-out size, averaged over draws; and n = all), KID, nearest-neighbour figures for uint8 samples."""
    feats = features(ref.net, samples)
    n = len(ref.held_features)
    rng = np.random.default_rng(seed)
    draws = [fid(feats[rng.choice(len(feats), n, replace=False)], ref.train_features) for _ in range(DRAWS)]
    kid_mean, kid_std = kid(feats, ref.train_features, seed=seed)
    dist, _ = nearest(samples, ref.train.images)
    copy_line = float(ref.held_nn.min())
    return {
        f"fid_n{n}": round(float(np.mean(draws)), 3),
        f"fid_n{len(feats)}": round(fid(feats, ref.train_features), 3),
        "kid": round(kid_mean, 5),
        "kid_std": round(kid_std, 5),
        "nn_rms_median": round(float(np.median(dist)), 4),
        "nn_rms_min": round(float(dist.min()), 4),
        "nn_below_closest_real": round(float((dist < copy_line).mean()), 4),
    }


def floor(ref: Reference) -> dict[str, float]:
    n = len(ref.held_features)
    kid_mean, kid_std = kid(ref.held_features, ref.train_features)
    return {f"fid_n{n}": round(fid(ref.held_features, ref.train_features), 3), "kid": round(kid_mean, 5),
            "kid_std": round(kid_std, 5), "nn_rms_median": round(float(np.median(ref.held_nn)), 4),
            "nn_rms_min": round(float(ref.held_nn.min()), 4)}


def measure_models(gan: Path | None = None, vae_encoder: Path | None = None, vae_decoder: Path | None = None,
                   ref: Reference | None = None, samples: int = SAMPLES) -> dict[str, dict[str, float]]:
    """Scores of the exported models (through imagestudio.core, as the app runs them), with the real floor."""
    from imagestudio.core.ops.generate import decode_latents, encode, generator_card, latent_for_seed, vae_pair

    ref = ref or reference()
    result: dict[str, dict[str, float]] = {}
    floor_metrics = floor(ref)
    floor_fid = next(v for k, v in floor_metrics.items() if k.startswith("fid_n"))
    if gan is not None:
        card = generator_card(gan)
        z = np.stack([latent_for_seed(s, card.latent_size) for s in range(samples)])
        result["gan"] = {**score(ref, _to_uint8(decode_latents(card, z, "cpu"))), "floor_fid": floor_fid}
    if vae_encoder is not None:
        pair = vae_pair(vae_encoder, vae_decoder)
        z = np.stack([latent_for_seed(s, pair.latent_size) for s in range(samples)])
        metrics = score(ref, _to_uint8(decode_latents(pair.decoder, z, "cpu")))
        held_images = [_image(a) for a in ref.held_out.images]
        recon = _to_uint8(decode_latents(pair.decoder, encode(held_images, pair, "cpu"), "cpu"))
        metrics["recon_rms_held_out"] = round(float(np.sqrt(((recon / 255.0 - ref.held_out.images / 255.0) ** 2)
                                                            .mean())), 4)
        result["vae"] = {**metrics, "floor_fid": floor_fid}
    result["real_held_out"] = floor_metrics
    return result


def _image(array: np.ndarray):
    from imagestudio.core.image import image_from_array

    return image_from_array(array)


def write_sheets(ref: Reference, gan: Path, encoder: Path, decoder: Path, out: Path = DOCS_DIR) -> list[Path]:
    """The contact sheets committed under docs/generative/, all made through imagestudio.core's operations."""
    from imagestudio.core.ops.generate import (decode_latents, generate, interpolate, latent_for_seed, vae_pair,
                                               variations)

    paths = []
    paths.append(save_sheet(out / "gan-samples.png", _to_uint8(generate(64, 0, model=gan, device="cpu"))))
    vae_kw = {"encoder": encoder, "decoder": decoder, "device": "cpu"}
    pair = vae_pair(encoder, decoder)
    z = np.stack([latent_for_seed(s, pair.latent_size) for s in range(64)])
    paths.append(save_sheet(out / "vae-samples.png", _to_uint8(decode_latents(pair.decoder, z, "cpu"))))
    rng = np.random.default_rng(0)
    real = ref.held_out.images[rng.choice(len(ref.held_out), 64, replace=False)]
    paths.append(save_sheet(out / "real-held-out.png", real))
    # GAN blends between seeds: 8 rows of 10 steps.
    strips = [interpolate(2 * r, 2 * r + 1, 10, model=gan, device="cpu") for r in range(8)]
    paths.append(save_sheet(out / "gan-interpolation.png", _to_uint8([im for s in strips for im in s]), cols=10))
    # VAE blends between held-out real images: the real ends, then 10 decoded steps.
    rows = []
    for r in range(8):
        a, b = (_image(x) for x in ref.held_out.images[rng.choice(len(ref.held_out), 2, replace=False)])
        strip = interpolate(a, b, 10, **vae_kw)
        rows.append(np.concatenate([_to_uint8([a]), _to_uint8(strip), _to_uint8([b])]))
    paths.append(save_sheet(out / "vae-interpolation.png", np.concatenate(rows), cols=12))
    # Variations: each row is the held-out input, then variations at strength 0.2, 0.4 and 0.6.
    rows = []
    for r in range(8):
        image = _image(ref.held_out.images[rng.integers(len(ref.held_out))])
        row = [image] + [v for s in (0.2, 0.4, 0.6) for v in variations(image, 3, s, seed=10 * r, **vae_kw)]
        rows.append(_to_uint8(row))
    paths.append(save_sheet(out / "vae-variations.png", np.concatenate(rows), cols=10))
    # Memorisation check, by eye: each GAN sample above its nearest training image.
    samples = _to_uint8(generate(16, 0, model=gan, device="cpu"))
    _, index = nearest(samples, ref.train.images)
    pairs = np.concatenate([samples[:8], ref.train.images[index[:8]], samples[8:], ref.train.images[index[8:]]])
    paths.append(save_sheet(out / "gan-nearest-training.png", pairs, cols=8))
    return paths


def markdown_table(result: dict[str, dict[str, float]]) -> str:
    n_key = next(k for k in result["real_held_out"] if k.startswith("fid_n"))
    lines = [f"| set | FID (n={n_key[5:]}) | FID (n={SAMPLES}) | KID | NN RMS median | NN RMS min | "
             "samples closer than the closest real |", "|---|---|---|---|---|---|---|"]
    names = {"gan": "GAN samples (generate-gan)", "vae": "VAE samples (vae-decoder)",
             "real_held_out": "held-out real emoji (floor)"}
    for key in ("gan", "vae", "real_held_out"):
        if key not in result:
            continue
        m = result[key]
        big_fid = m.get(f"fid_n{SAMPLES}")
        below = m.get("nn_below_closest_real")
        lines.append(f"| {names[key]} | {m[n_key]:.2f} | {'—' if big_fid is None else f'{big_fid:.2f}'} | "
                     f"{m['kid']:.3f} ± {m['kid_std']:.3f} | {m['nn_rms_median']:.3f} | {m['nn_rms_min']:.3f} | "
                     f"{'—' if below is None else f'{100 * below:.1f}%'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.eval_generative", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gan", type=Path, default=MODELS_DIR / "generate-gan.onnx")
    parser.add_argument("--encoder", type=Path, default=MODELS_DIR / "vae-encoder.onnx")
    parser.add_argument("--decoder", type=Path, default=MODELS_DIR / "vae-decoder.onnx")
    parser.add_argument("--out", type=Path, default=DOCS_DIR)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ref = reference()
    result = measure_models(args.gan, args.encoder, args.decoder, ref)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    table = markdown_table(result)
    (args.out / "metrics.md").write_text(table + "\n")
    for path in write_sheets(ref, args.gan, args.encoder, args.decoder, args.out):
        print(f"wrote {path}", file=sys.stderr)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
