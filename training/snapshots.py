"""Compare a GAN run's snapshots on held-out photos, so the step to ship is picked by looking and measuring.

    python -m training.snapshots --config upscale-x4-gan.toml [--run runs/upscale-x4-gan] [--baseline upscale-x4]

Uses the photos held out of training (never ../shared/bench). For each snapshot it prints, on bicubic and on
realistic (blur/noise/JPEG) inputs:
- PSNR-Y against the photo (fidelity; a GAN is allowed to lose some);
- detail ratio: mean |Laplacian| of the luma, output / photo (training.bench_images.detail_energy: higher = more fine
  detail; bicubic is far below the photo, an over-sharpened or noisy model climbs above it);
- colour-fringe ratio: the same for the chroma channels (rising faster than the detail ratio = invented colour at
  edges, a GAN artefact).
and writes a crop sheet (rows: crops; columns: bicubic, baseline, snapshots..., photo) next to the run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.nn import functional as F

from training.config import load_config
from training.data.degrade import bicubic_down, realistic_down, to_tensor_batch
from training.bench_images import detail_energy
from training.checkpoints import RUNS_DIR
from training.tasks.common import photo_pools
from training.tasks import build_model

CROP = 128  # HR crop side


def _ycbcr(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return torch.cat([y, 0.564 * (b - y), 0.713 * (r - y)], dim=1)


def _energy(batch: torch.Tensor) -> np.ndarray:
    """(luma, chroma) detail energy summed over a batch, as bench/gan_crops.py measures it on the bench."""
    images = batch.clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return np.sum([detail_energy(image) for image in images], axis=0)


def _psnr_y(a: torch.Tensor, b: torch.Tensor, border: int = 4) -> float:
    ya = _ycbcr(a.clamp(0, 1))[:, :1, border:-border, border:-border]
    yb = _ycbcr(b)[:, :1, border:-border, border:-border]
    return float(10 * torch.log10(1 / torch.mean((ya - yb) ** 2).clamp_min(1e-12)))


def held_out_crops(config: dict, per_photo: int = 3, candidates: int = 16, seed: int = 7) -> list[np.ndarray]:
    """The most textured of some random crops of each held-out photo (flat sky or wallpaper says little about a GAN)."""
    _, val_photos = photo_pools(config)
    rng = np.random.default_rng(seed)
    crops = []
    for photo in val_photos:
        h, w = photo.shape[:2]
        pool = []
        for _ in range(candidates):
            y, x = int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1))
            pool.append(photo[y:y + CROP, x:x + CROP])
        pool.sort(key=lambda c: -float(np.abs(np.diff(c.astype(np.float32).mean(axis=2), axis=1)).mean()))
        crops += pool[:per_photo]
    return crops


def measure(model: torch.nn.Module | None, lr: torch.Tensor,
            hr: torch.Tensor) -> tuple[dict[str, float], torch.Tensor]:
    with torch.no_grad():
        out = F.interpolate(lr, scale_factor=4, mode="bicubic", align_corners=False) if model is None else model(lr)
    energy, reference = _energy(out), _energy(hr)
    return {"psnr_y": _psnr_y(out, hr), "detail": float(energy[0] / reference[0]),
            "fringe": float(energy[1] / reference[1])}, out


def _load(config: dict, path: Path, baseline: bool = False) -> torch.nn.Module:
    """A snapshot's generator; the fidelity baseline is the plain network (no output head)."""
    state = torch.load(path, map_location="cpu", weights_only=True)["model.net"]
    model_config = {**config, "model": dict(config["model"])}
    if baseline:
        model_config["model"]["hr_feat"] = 0
    model = build_model(model_config)
    model.load_state_dict(state)
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.snapshots", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--run", type=Path, help="run folder (default runs/<name>)")
    parser.add_argument("--baseline", default="upscale-x4", help="run whose last.pt is the fidelity baseline")
    parser.add_argument("--every", type=int, default=1, help="only every n-th snapshot in the sheet")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    run = args.run or RUNS_DIR / config["name"]
    snapshots = sorted(run.glob("snapshot-*.pt"))[::args.every]
    if not snapshots:
        print(f"no snapshots in {run}", file=sys.stderr)
        return 2
    crops = held_out_crops(config)
    hr = to_tensor_batch(crops)
    rng = np.random.default_rng(0)
    inputs = {"bicubic": to_tensor_batch([bicubic_down(c, 4) for c in crops]),
              "realistic": to_tensor_batch([realistic_down(c, 4, rng) for c in crops])}
    models: dict[str, torch.nn.Module | None] = {"bicubic": None}
    baseline = RUNS_DIR / args.baseline / "last.pt"
    if baseline.is_file():
        models[args.baseline] = _load(config, baseline, baseline=True)
    models.update({p.stem.replace("snapshot-", "step "): _load(config, p) for p in snapshots})
    print(f"{'model':<16}" + "".join(f"{k + ' ' + m:>20}" for k in inputs for m in ("psnr", "detail", "fringe")))
    outputs: dict[str, torch.Tensor] = {}
    for name, model in models.items():
        row = []
        for kind, lr in inputs.items():
            metrics, out = measure(model, lr, hr)
            row += [metrics["psnr_y"], metrics["detail"], metrics["fringe"]]
            if kind == "bicubic":
                outputs[name] = out
        print(f"{name:<16}" + "".join(f"{v:>20.3f}" for v in row))
    _sheet(outputs, hr, run / "snapshots.png")
    print(run / "snapshots.png")
    return 0


def _sheet(outputs: dict[str, torch.Tensor], hr: torch.Tensor, path: Path, rows: int = 12) -> None:
    columns = {**outputs, "photo": hr}
    sheet = Image.new("RGB", (CROP * len(columns), (CROP + 4) * rows + 20), "white")
    draw = ImageDraw.Draw(sheet)
    step = max(1, hr.shape[0] // rows)
    for col, (name, batch) in enumerate(columns.items()):
        draw.text((col * CROP + 4, 4), name, fill="black")
        for row in range(rows):
            image = (batch[row * step].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            sheet.paste(Image.fromarray(image), (col * CROP, 20 + row * (CROP + 4)))
    sheet.save(path)


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
