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

from training.data.degrade_realistic import second_order
from training.checkpoints import RUNS_DIR, init_from_onnx
from training.schedule import use_bf16
from training.losses import unsharp_mask
from training.perceptual import PerceptualLoss
from training.registry import ARCHS, TASKS
from training.tasks.base import TrainTask
from training.tasks.common import photo_pools, sampler


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


def _inputs(hr: torch.Tensor, scale: int, g: torch.Generator, bicubic_fraction: float) -> torch.Tensor:
    lr = second_order(hr, scale, g)
    if bicubic_fraction > 0:
        clean = F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)
        keep = (torch.rand(hr.shape[0], generator=g) < bicubic_fraction).to(hr.device)[:, None, None, None]
        lr = torch.where(keep, (clean.clamp(0, 1) * 255).round() / 255, lr)
    return lr


@TASKS.register("upscale-real")
class UpscaleReal(TrainTask):
    card_tasks = ("upscale",)
    default_arch = "compact-sr"
    reserved_model_keys = ("d_arch", "d_feat")
    checkpoint_name = "real.pt"
    ckpt_every = 200

    def setup(self) -> None:
        cfg, m = self.train_cfg, self.config["model"]
        torch.manual_seed(self.seed)
        self.device = pick_device(self.config)
        self.g = torch.Generator().manual_seed(self.seed)
        generator = self.build_model(self.config)
        disc = ARCHS.get(m.get("d_arch", "unet-discriminator"))(feat=int(m.get("d_feat", 32)))
        perceptual = PerceptualLoss()
        self.generator, self.disc = generator.to(self.device), disc.to(self.device)
        self.perceptual = perceptual.to(self.device)
        self.ema, self.ema_source = copy.deepcopy(self.generator), self.generator
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=float(cfg["lr"]), betas=(0.9, 0.99))
        opt_d = torch.optim.Adam(self.disc.parameters(), lr=float(cfg["lr_d"]), betas=(0.9, 0.99))
        self.modules = {"net": self.ema, "train_g": self.generator, "d": self.disc}
        self.optimizers = {"g": opt_g, "d": opt_d}

    def initialise(self) -> None:
        """From the shipped model when there is one (a first GPU session has none); the weights are read and checked
        on the CPU, whatever device trains."""
        name = self.config.get("init_from_onnx")
        shipped = RUNS_DIR.parent / "resources" / "models" / str(name)
        if not name or not shipped.is_file():
            return
        on_cpu = copy.deepcopy(self.generator).to("cpu")
        copied = init_from_onnx(on_cpu, str(shipped))
        self.generator.load_state_dict(on_cpu.state_dict())
        print(f"generator from {shipped.name}: {copied} tensors", file=sys.stderr)

    def prepare(self, start: int) -> None:
        cfg = self.train_cfg
        patch = int(cfg["patch"])
        packed = cfg.get("packed_patches")
        if packed and not cfg.get("dry_run"):
            self.patches = PackedPatches(Path(packed), patch, self.seed)
        else:
            self.patches = sampler(self.config, photo_pools(self.config)[0])
        self.bf16 = self.device.type == "cuda" or use_bf16(cfg)
        self.gan_start, self.gan_ramp = int(cfg.get("gan_start", 0)), max(1, int(cfg.get("gan_ramp", 1)))
        self.scale = self.generator.scale
        print(f"device {self.device}, {'bf16 autocast' if self.bf16 else 'fp32'}, batch {cfg['batch']}×{patch}²",
              file=sys.stderr)
        self.start, self.t0 = start, time.time()

    def make_batch(self, size: int) -> torch.Tensor:
        return torch.from_numpy(np.stack(self.patches.batch(size))).to(self.device).permute(0, 3, 1, 2).float() / 255

    def step(self, step: int, hr: torch.Tensor) -> dict[str, float]:
        cfg, device, bf16 = self.train_cfg, self.device, self.bf16
        opt_g, opt_d = self.optimizers["g"], self.optimizers["d"]
        lr = _inputs(hr, self.scale, self.g, float(cfg.get("bicubic_fraction", 0.0)))
        target = unsharp_mask(hr, amount=float(cfg.get("usm_amount", 0.5)))
        adversarial = float(cfg["gan_weight"]) * min(1.0, max(0.0, (step - self.gan_start + 1) / self.gan_ramp))
        losses: dict[str, float] = {}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            fake = self.generator(lr)
            g_loss = float(cfg.get("pixel_weight", 1.0)) * (fake.float() - target).abs().mean()
            if step >= self.gan_start:
                g_loss = g_loss + float(cfg.get("perceptual_weight", 1.0)) * self.perceptual(fake.float(), target)
                if adversarial > 0:
                    g_loss = g_loss + adversarial * F.softplus(-self.disc(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        losses["g"] = float(g_loss.detach())
        if step >= self.gan_start - self.gan_ramp:  # the discriminator warms up just before it is used
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                d_loss = F.softplus(-self.disc(hr)).mean() + F.softplus(self.disc(fake.detach())).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            losses["d"] = float(d_loss.detach())
        return losses

    def log_extra(self, step: int, rates: dict[str, float]) -> dict[str, float]:
        done = step + 1 - self.start
        return {"samples_per_s": done * int(self.train_cfg["batch"]) / max(time.time() - self.t0, 1e-9)}

    def finish(self) -> torch.nn.Module:
        return self.ema.to("cpu").eval()
