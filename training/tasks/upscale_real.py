"""Realistic ×4/×2 for people's photos: second-order degradations, pixel + perceptual + U-Net-discriminator GAN.

The Real-ESRGAN recipe, sized for a ~1 M-parameter CompactSR (`model.*` in the config):
1. pixel stage (`gan_start` steps): L1 towards an unsharp-masked target on second-order-degraded inputs
   (`data/degrade_realistic.py`); a fraction of plain bicubic inputs keeps clean photos' texture;
2. adversarial stage: + perceptual loss (`perceptual.py`, frozen random VGG-style features) + vanilla GAN loss
   against a spectral-norm U-Net discriminator (per-pixel realness), ramped in over `gan_ramp` steps; the exported
   generator is an EMA of the trained one.
Runs on CUDA when there is a GPU (bf16 autocast, channels_last), else on the CPU (bf16 where the CPU has it).
Patches come from a packed file (`training/pack_patches.py`, what travels to the GPU machine) or the photo pool.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from training.archs.compact import CompactSR
from training.archs.discriminator import UNetDiscriminator
from training.data.degrade_realistic import second_order
from training.loop import ProgressLog, Schedule, init_from_onnx, resume_step, run_dir_for, save_checkpoint, use_bf16
from training.losses import unsharp_mask
from training.perceptual import PerceptualLoss
from training.tasks.common import photo_pools, sampler


def build_model(config: dict) -> CompactSR:
    m = config["model"]
    return CompactSR(scale=int(m["scale"]), feat=int(m["feat"]), convs=int(m["convs"]), hr_feat=int(m.get("hr_feat", 0)))


class PackedPatches:
    """Random crops with flips/rotations from a packed uint8 array (N, H, W, 3)."""

    def __init__(self, path: Path, size: int, seed: int) -> None:
        with np.load(path) as archive:
            self.patches = archive["patches"]
        if self.patches.shape[1] < size:
            raise ValueError(f"{path.name}: patches are {self.patches.shape[1]} px, {size} needed")
        self.size, self.rng = size, np.random.default_rng(seed)

    def batch(self, n: int) -> list[np.ndarray]:
        out = []
        for i in self.rng.integers(0, len(self.patches), n):
            p = self.patches[i]
            y, x = self.rng.integers(0, p.shape[0] - self.size + 1), self.rng.integers(0, p.shape[1] - self.size + 1)
            crop = np.rot90(p[y:y + self.size, x:x + self.size], self.rng.integers(0, 4))
            out.append(np.ascontiguousarray(crop[:, ::-1] if self.rng.random() < 0.5 else crop))
        return out


def pick_device(config: dict) -> torch.device:
    wanted = config["train"].get("device", "auto")
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(wanted)


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters(), strict=True):
            e.lerp_(p, 1 - decay)


def _inputs(hr: torch.Tensor, scale: int, g: torch.Generator, bicubic_fraction: float) -> torch.Tensor:
    lr = second_order(hr, scale, g)
    if bicubic_fraction > 0:
        clean = F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)
        keep = (torch.rand(hr.shape[0], generator=g) < bicubic_fraction).to(hr.device)[:, None, None, None]
        lr = torch.where(keep, (clean.clamp(0, 1) * 255).round() / 255, lr)
    return lr


def train(config: dict, resume: bool = True) -> CompactSR:
    cfg = config["train"]
    seed = int(cfg.get("seed", 0))
    torch.manual_seed(seed)
    device = pick_device(config)
    g = torch.Generator().manual_seed(seed)
    generator = build_model(config)
    if config.get("init_from_onnx") and not cfg.get("dry_run"):
        shipped = Path(__file__).resolve().parents[2] / "resources" / "models" / config["init_from_onnx"]
        if shipped.is_file():
            print(f"generator from {shipped.name}: {init_from_onnx(generator, str(shipped))} tensors", file=sys.stderr)
    disc = UNetDiscriminator(feat=int(config["model"].get("d_feat", 32)))
    perceptual = PerceptualLoss()
    generator, disc, perceptual = generator.to(device), disc.to(device), perceptual.to(device)
    ema = copy.deepcopy(generator)
    opt_g = torch.optim.Adam(generator.parameters(), lr=float(cfg["lr"]), betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(disc.parameters(), lr=float(cfg["lr_d"]), betas=(0.9, 0.99))
    run_dir = run_dir_for(config)
    checkpoint = run_dir / "real.pt" if run_dir else None
    modules, optimizers = {"net": ema, "train_g": generator, "d": disc}, {"g": opt_g, "d": opt_d}
    start = resume_step(checkpoint, modules, optimizers, resume)
    patch = int(cfg["patch"])
    packed = cfg.get("packed_patches")
    if packed and not cfg.get("dry_run"):
        patches = PackedPatches(Path(packed), patch, seed)
    else:
        patches = sampler(config, photo_pools(config)[0])
    bf16 = device.type == "cuda" or use_bf16(cfg)
    schedule = Schedule(cfg)
    gan_start, gan_ramp = int(cfg.get("gan_start", 0)), max(1, int(cfg.get("gan_ramp", 1)))
    scale = generator.scale
    log = ProgressLog(int(cfg["iters"]), start, run_dir / "log.jsonl" if run_dir else None)
    print(f"device {device}, {'bf16 autocast' if bf16 else 'fp32'}, batch {cfg['batch']}×{patch}²", file=sys.stderr)
    step, t0 = start, time.time()
    while not schedule.done(step):
        hr = torch.from_numpy(np.stack(patches.batch(int(cfg["batch"])))).to(device).permute(0, 3, 1, 2).float() / 255
        lr = _inputs(hr, scale, g, float(cfg.get("bicubic_fraction", 0.0)))
        target = unsharp_mask(hr, amount=float(cfg.get("usm_amount", 0.5)))
        adversarial = float(cfg["gan_weight"]) * min(1.0, max(0.0, (step - gan_start + 1) / gan_ramp))
        losses: dict[str, float] = {}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            fake = generator(lr)
            g_loss = float(cfg.get("pixel_weight", 1.0)) * (fake.float() - target).abs().mean()
            if step >= gan_start:
                g_loss = g_loss + float(cfg.get("perceptual_weight", 1.0)) * perceptual(fake.float(), target)
                if adversarial > 0:
                    g_loss = g_loss + adversarial * F.softplus(-disc(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        losses["g"] = float(g_loss.detach())
        if step >= gan_start - gan_ramp:  # the discriminator warms up just before it is used
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                d_loss = F.softplus(-disc(hr)).mean() + F.softplus(disc(fake.detach())).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            losses["d"] = float(d_loss.detach())
        _ema_update(ema, generator, float(cfg.get("ema", 0.999)))
        step += 1
        log.update(step - 1, losses, int(cfg.get("log_every", 50)),
                   samples_per_s=(step - start) * int(cfg["batch"]) / max(time.time() - t0, 1e-9))
        if checkpoint is not None and (step % int(cfg.get("ckpt_every", 200)) == 0 or schedule.done(step)):
            save_checkpoint(checkpoint, step, modules, optimizers)
            ema_cpu = copy.deepcopy(ema).to("cpu")
            save_checkpoint(run_dir / "last.pt", step, {"net": ema_cpu}, {})
    return ema.to("cpu").eval()
