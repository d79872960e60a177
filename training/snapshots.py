"""Compare a GAN run's snapshots on held-out photos, so the step to ship is picked by looking and measuring.

    python -m training.snapshots --config upscale-x4-gan.toml [--run runs/upscale-x4-gan] [--baseline upscale-x4]

Uses the photos held out of training (never ../shared/bench). For each snapshot it prints, on bicubic and on
realistic (blur/noise/JPEG) inputs:
- PSNR-Y against the photo (fidelity; a GAN is allowed to lose some);
- detail ratio: mean |Laplacian| of the luma, output / photo (1.0 = as much fine detail as the real photo; bicubic
  is far below, an over-sharpened or noisy model goes above);
- colour-fringe ratio: the same for the chroma channels (well above 1.0 = invented colour at edges, a GAN artefact).
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
from training.loop import RUNS_DIR, load_checkpoint
from training.tasks.common import photo_pools
from training.tasks.upscale_gan import build_model

CROP = 128  # HR crop side
_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def _ycbcr(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return torch.cat([y, 0.564 * (b - y), 0.713 * (r - y)], dim=1)


def _laplacian_energy(x: torch.Tensor) -> torch.Tensor:
    """Mean |Laplacian| per YCbCr channel (3 values), borders excluded."""
    ycc = _ycbcr(x.clamp(0, 1))
    lap = F.conv2d(ycc.reshape(-1, 1, *ycc.shape[2:]), _LAPLACIAN).reshape(ycc.shape[0], 3, -1)
    return lap.abs().mean(dim=(0, 2))


def _psnr_y(a: torch.Tensor, b: torch.Tensor, border: int = 4) -> float:
    ya = _ycbcr(a.clamp(0, 1))[:, :1, border:-border, border:-border]
    yb = _ycbcr(b)[:, :1, border:-border, border:-border]
    return float(10 * torch.log10(1 / torch.mean((ya - yb) ** 2).clamp_min(1e-12)))


def held_out_crops(config: dict, per_photo: int = 4, seed: int = 7) -> list[np.ndarray]:
    _, val_photos = photo_pools(config)
    rng = np.random.default_rng(seed)
    crops = []
    for photo in val_photos:
        h, w = photo.shape[:2]
        for _ in range(per_photo):
            y, x = int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1))
            crops.append(photo[y:y + CROP, x:x + CROP])
    return crops


def measure(model: torch.nn.Module | None, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, float]:
    with torch.no_grad():
        out = F.interpolate(lr, scale_factor=4, mode="bicubic", align_corners=False) if model is None else model(lr)
    energy, reference = _laplacian_energy(out), _laplacian_energy(hr)
    return {"psnr_y": _psnr_y(out, hr), "detail": float(energy[0] / reference[0]),
            "fringe": float(energy[1:].sum() / reference[1:].sum())}, out


def _load(config: dict, path: Path) -> torch.nn.Module:
    model = build_model(config)
    load_checkpoint(path, {"net": model})
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
        models[args.baseline] = _load(config, baseline)
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


def _sheet(outputs: dict[str, torch.Tensor], hr: torch.Tensor, path: Path, rows: int = 8) -> None:
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
