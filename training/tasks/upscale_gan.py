"""Realistic ×4 super-resolution: start from the fidelity model, then adversarial training on realistic degradations.

The Real-ESRGAN recipe in small: a blur/resize/noise/JPEG chain makes the inputs look like real photos, a relativistic
average GAN loss against a spectrally normalised patch discriminator adds texture, and a pixel loss keeps colours and
structure anchored. No perceptual (VGG) loss: no pretrained weights can be downloaded here. The exported generator
is an exponential moving average of the trained one (fewer GAN artefacts).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import torch

from training.archs.compact import CompactSR
from training.archs.discriminator import PatchDiscriminator
from training.data.degrade import realistic_down, to_tensor_batch
from training.loop import ProgressLog, RUNS_DIR, cosine_lr, load_checkpoint, run_dir_for, save_checkpoint
from training.losses import charbonnier, relativistic_d_loss, relativistic_g_loss
from training.tasks.common import photo_pools, sampler


def build_model(config: dict) -> CompactSR:
    m = config["model"]
    return CompactSR(scale=int(m["scale"]), feat=int(m["feat"]), convs=int(m["convs"]))


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.mul_(decay).add_(p, alpha=1 - decay)


def train(config: dict, resume: bool = True) -> CompactSR:
    train_cfg = config["train"]
    torch.manual_seed(int(train_cfg.get("seed", 0)))
    rng = np.random.default_rng(int(train_cfg.get("seed", 0)))
    generator = build_model(config)
    init = config.get("init_from")
    if init and not train_cfg.get("dry_run"):
        load_checkpoint(RUNS_DIR / init / "last.pt", {"net": generator})
        print(f"generator initialised from {init}", file=sys.stderr)
    ema = copy.deepcopy(generator)
    disc = PatchDiscriminator(feat=int(config["model"].get("d_feat", 32)))
    opt_g = torch.optim.Adam(generator.parameters(), lr=float(train_cfg["lr"]), betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(disc.parameters(), lr=float(train_cfg["lr_d"]), betas=(0.9, 0.99))
    run_dir = run_dir_for(config)
    checkpoint = run_dir / "gan.pt" if run_dir else None
    modules = {"net": ema, "train_g": generator, "d": disc}
    optimizers = {"g": opt_g, "d": opt_d}
    start = 0
    if resume and checkpoint is not None and checkpoint.is_file():
        start = load_checkpoint(checkpoint, modules, optimizers)
    train_photos, _ = photo_pools(config)
    patches = sampler(config, train_photos)
    scale, total = generator.scale, int(train_cfg["iters"])
    gan_weight, pixel_weight = float(train_cfg["gan_weight"]), float(train_cfg["pixel_weight"])
    log = ProgressLog(total, start, run_dir / "log.jsonl" if run_dir else None)
    for step in range(start, total):
        for opt, key in ((opt_g, "lr"), (opt_d, "lr_d")):
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, total, float(train_cfg[key]), float(train_cfg[key]) * 0.1, warmup=50)
        hr_patches = patches.batch(int(train_cfg["batch"]))
        lr_batch = to_tensor_batch([realistic_down(p, scale, rng) for p in hr_patches])
        hr = to_tensor_batch(hr_patches)
        fake = generator(lr_batch)
        # Discriminator step (on detached fakes).
        d_loss = relativistic_d_loss(disc(hr), disc(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # Generator step.
        g_adv = relativistic_g_loss(disc(hr).detach(), disc(fake))
        g_pix = charbonnier(fake, hr)
        g_loss = pixel_weight * g_pix + gan_weight * g_adv
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        _ema_update(ema, generator, float(train_cfg.get("ema", 0.999)))
        log.update(step, {"g_pix": float(g_pix.detach()), "g_adv": float(g_adv.detach()), "d": float(d_loss.detach())},
                   int(train_cfg.get("log_every", 50)))
        if checkpoint is not None and ((step + 1) % int(train_cfg.get("ckpt_every", 200)) == 0 or step + 1 == total):
            save_checkpoint(checkpoint, step + 1, modules, optimizers)
            save_checkpoint(run_dir / "last.pt", step + 1, {"net": ema}, {})
    return ema.eval()
