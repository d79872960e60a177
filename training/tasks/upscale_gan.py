"""Realistic ×4 super-resolution: start from the fidelity model, then adversarial training on realistic degradations.

The Real-ESRGAN recipe in small: a blur/resize/noise/JPEG chain makes the inputs look like real photos; the generator
first learns them with a pixel loss alone (the "ESRNet" stage), then a relativistic average GAN loss against a
spectrally normalised patch discriminator is ramped in. The pixel loss aims at an unsharp-masked target (crisper edges),
and the LDL artefact loss penalises the noisy, wrong detail GANs like to invent (checkerboards, colour fringes).
No perceptual (VGG) loss: no pretrained weights can be downloaded here. The exported generator is an exponential
moving average of the trained one (fewer GAN artefacts), and snapshots along the way let the best step be shipped.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import torch

from training.archs.compact import CompactSR
from training.archs.discriminator import PatchDiscriminator
from training.data.degrade import bicubic_down, realistic_down, to_tensor_batch
from training.loop import ProgressLog, cosine_lr, init_from_run, resume_step, run_dir_for, save_checkpoint
from training.losses import (artifact_loss, charbonnier, gaussian_blur, relativistic_d_loss, relativistic_g_loss,
                             unsharp_mask)
from training.tasks.common import photo_pools, sampler


def build_model(config: dict) -> CompactSR:
    m = config["model"]
    return CompactSR(scale=int(m["scale"]), feat=int(m["feat"]), convs=int(m["convs"]), hr_feat=int(m.get("hr_feat", 0)))


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.mul_(decay).add_(p, alpha=1 - decay)


def _make_inputs(hr_patches: list[np.ndarray], scale: int, bicubic_fraction: float,
                 rng: np.random.Generator) -> torch.Tensor:
    """Mostly the realistic chain; some plain bicubic so already-clean photos keep their fine texture (a model that only
    sees degraded inputs learns to treat real texture as noise)."""
    return to_tensor_batch([bicubic_down(p, scale) if rng.random() < bicubic_fraction else realistic_down(p, scale, rng)
                            for p in hr_patches])


def luma_detail(x: torch.Tensor, gain: float = 4.0) -> torch.Tensor:
    """What the discriminator sees: the luma and its amplified detail layer (luma minus a 1.5 px blur).

    Texture lives in the detail layer, so a small discriminator tells a blurry upscale from a photo at once and pushes
    the generator towards real texture. Colour is left out on purpose: a GAN judged on RGB learns to invent colour at
    edges (fringes); colour stays the pixel loss's job."""
    luma = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    return torch.cat([luma, 0.5 + gain * (luma - gaussian_blur(luma, 1.5))], dim=1)


def shifted_pair(real: torch.Tensor, fake: torch.Tensor, scale: int, rng: np.random.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Both crops moved by the same random 0..scale-1 pixels. The generator's sub-pixel phases repeat every `scale`
    pixels; a discriminator whose stride-2 grid always lines up with them sees a periodic pattern as a constant and
    lets it pass as texture. Shifting breaks that alignment so the grid looks like what it is."""
    dy, dx = (int(v) for v in rng.integers(0, scale, 2))
    height, width = real.shape[2] - scale, real.shape[3] - scale
    return real[:, :, dy:dy + height, dx:dx + width], fake[:, :, dy:dy + height, dx:dx + width]


def _gan_ramp(step: int, start: int, ramp: int) -> float:
    """0 during the pixel-only warm-up (the generator first learns the realistic degradations), then a linear ramp to
    1 so the discriminator never hits a generator it has not seen yet with full force."""
    if step < start:
        return 0.0
    return min(1.0, (step - start + 1) / max(1, ramp))


def train(config: dict, resume: bool = True) -> CompactSR:
    train_cfg = config["train"]
    torch.manual_seed(int(train_cfg.get("seed", 0)))
    rng = np.random.default_rng(int(train_cfg.get("seed", 0)))
    generator = build_model(config)
    init = config.get("init_from")
    if init and not train_cfg.get("dry_run"):
        # Every tensor of the fidelity model; a zero-initialised output head (hr_feat) starts as the identity.
        copied = init_from_run(generator, init)
        print(f"generator initialised from {init} ({copied} tensors)", file=sys.stderr)
    ema = copy.deepcopy(generator)
    luma_only = config["model"].get("d_input", "rgb") == "luma-detail"
    disc = PatchDiscriminator(in_ch=2 if luma_only else 3, feat=int(config["model"].get("d_feat", 32)))
    view = luma_detail if luma_only else (lambda x: x)
    opt_g = torch.optim.Adam(generator.parameters(), lr=float(train_cfg["lr"]), betas=(0.9, 0.99))
    # A short-memory Adam for the discriminator (beta1 0.5, as in most spectral-norm GANs): with 0.9 it drifted
    # into a constant output (loss stuck at ln 2) within 300 steps.
    d_betas = tuple(float(b) for b in train_cfg.get("d_betas", (0.9, 0.99)))
    opt_d = torch.optim.Adam(disc.parameters(), lr=float(train_cfg["lr_d"]), betas=d_betas)
    run_dir = run_dir_for(config)
    checkpoint = run_dir / "gan.pt" if run_dir else None
    modules = {"net": ema, "train_g": generator, "d": disc}
    optimizers = {"g": opt_g, "d": opt_d}
    start = resume_step(checkpoint, modules, optimizers, resume)
    train_photos, _ = photo_pools(config)
    patches = sampler(config, train_photos)
    scale, total = generator.scale, int(train_cfg["iters"])
    gan_weight, pixel_weight = float(train_cfg["gan_weight"]), float(train_cfg["pixel_weight"])
    artifact_weight = float(train_cfg.get("artifact_weight", 0.0))
    gan_start, gan_ramp = int(train_cfg.get("gan_start", 0)), int(train_cfg.get("gan_ramp", 1))
    usm = train_cfg.get("usm_amount", 0.0)
    bicubic_fraction = float(train_cfg.get("bicubic_fraction", 0.0))
    snapshot_every = int(train_cfg.get("snapshot_every", 0))
    d_shift = bool(train_cfg.get("d_shift", False))
    log = ProgressLog(total, start, run_dir / "log.jsonl" if run_dir else None)
    for step in range(start, total):
        for opt, key in ((opt_g, "lr"), (opt_d, "lr_d")):
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, total, float(train_cfg[key]), float(train_cfg[key]) * 0.1, warmup=50)
        hr_patches = patches.batch(int(train_cfg["batch"]))
        lr_batch = _make_inputs(hr_patches, scale, bicubic_fraction, rng)
        hr = to_tensor_batch(hr_patches)
        # Pixel and artefact losses aim at a sharpened target; the discriminator compares with the true photo.
        hr_pixel = unsharp_mask(hr, amount=float(usm)) if usm else hr
        fake = generator(lr_batch)
        adversarial = gan_weight * _gan_ramp(step, gan_start, gan_ramp)
        losses: dict[str, float] = {}
        real_logits = None
        if step >= gan_start - gan_ramp:  # the discriminator warms up a little before it is used
            real_seen, fake_seen = shifted_pair(hr, fake, scale, rng) if d_shift else (hr, fake)
            real_logits = disc(view(real_seen))
            d_loss = relativistic_d_loss(real_logits, disc(view(fake_seen.detach())))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            losses["d"] = float(d_loss.detach())
        g_pix = charbonnier(fake, hr_pixel)
        g_loss = pixel_weight * g_pix
        losses["g_pix"] = float(g_pix.detach())
        if adversarial > 0:
            # The real logits from before this step's D update: one D pass fewer (D dominates the step's cost).
            g_adv = relativistic_g_loss(real_logits.detach(), disc(view(fake_seen)))
            g_loss = g_loss + adversarial * g_adv
            losses["g_adv"] = float(g_adv.detach())
            if artifact_weight > 0:
                with torch.no_grad():
                    ema_fake = ema(lr_batch)
                g_art = artifact_loss(hr_pixel, fake, ema_fake)
                g_loss = g_loss + artifact_weight * g_art
                losses["g_art"] = float(g_art.detach())
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        _ema_update(ema, generator, float(train_cfg.get("ema", 0.999)))
        log.update(step, losses, int(train_cfg.get("log_every", 50)))
        if checkpoint is not None and ((step + 1) % int(train_cfg.get("ckpt_every", 200)) == 0 or step + 1 == total):
            save_checkpoint(checkpoint, step + 1, modules, optimizers)
            save_checkpoint(run_dir / "last.pt", step + 1, {"net": ema}, {})
        if run_dir is not None and snapshot_every and (step + 1) % snapshot_every == 0:
            # Kept so the GAN can be inspected along the way and the best-looking step shipped, not just the last.
            save_checkpoint(run_dir / f"snapshot-{step + 1:06d}.pt", step + 1, {"net": ema}, {})
    return ema.eval()
