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

import numpy as np
import torch

from training.data.degrade import bicubic_down, realistic_down, to_tensor_batch
from training.schedule import Schedule, cosine_lr
from training.losses import (artifact_loss, charbonnier, gaussian_blur, relativistic_d_loss, relativistic_g_loss,
                             unsharp_mask)
from training.registry import ARCHS, TASKS
from training.tasks.base import TrainTask
from training.tasks.common import photo_pools, sampler


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


@TASKS.register("upscale-gan")
class UpscaleGAN(TrainTask):
    card_tasks = ("upscale",)
    default_arch = "compact-sr"
    reserved_model_keys = ("d_arch", "d_feat", "d_input")
    checkpoint_name = "gan.pt"
    ckpt_every = 200

    def setup(self) -> None:
        cfg, m = self.train_cfg, self.config["model"]
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        # `init_from` copies every tensor of the fidelity model; a zero-initialised output head (hr_feat) starts as
        # the identity.
        self.generator = self.build_model(self.config)
        self.ema, self.ema_source = copy.deepcopy(self.generator), self.generator
        luma_only = m.get("d_input", "rgb") == "luma-detail"
        self.disc = ARCHS.get(m.get("d_arch", "patch-discriminator"))(in_ch=2 if luma_only else 3,
                                                                       feat=int(m.get("d_feat", 32)))
        self.view = luma_detail if luma_only else (lambda x: x)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=float(cfg["lr"]), betas=(0.9, 0.99))
        # A short-memory Adam for the discriminator (beta1 0.5, as in most spectral-norm GANs): with 0.9 it drifted
        # into a constant output (loss stuck at ln 2) within 300 steps.
        d_betas = tuple(float(b) for b in cfg.get("d_betas", (0.9, 0.99)))
        opt_d = torch.optim.Adam(self.disc.parameters(), lr=float(cfg["lr_d"]), betas=d_betas)
        self.modules = {"net": self.ema, "train_g": self.generator, "d": self.disc}
        self.optimizers = {"g": opt_g, "d": opt_d}

    def prepare(self, start: int) -> None:
        cfg = self.train_cfg
        self.patches = sampler(self.config, photo_pools(self.config)[0])
        self.scale = self.generator.scale
        self.gan_weight, self.pixel_weight = float(cfg["gan_weight"]), float(cfg["pixel_weight"])
        self.artifact_weight = float(cfg.get("artifact_weight", 0.0))
        self.gan_start, self.gan_ramp = int(cfg.get("gan_start", 0)), int(cfg.get("gan_ramp", 1))
        self.usm = float(cfg.get("usm_amount", 0.0))
        self.bicubic_fraction = float(cfg.get("bicubic_fraction", 0.0))
        self.d_shift = bool(cfg.get("d_shift", False))

    def learning_rates(self, step: int, schedule: Schedule) -> dict[str, float]:
        return {name: cosine_lr(step, schedule.total, float(self.train_cfg[key]), float(self.train_cfg[key]) * 0.1,
                                warmup=50)
                for name, key in (("g", "lr"), ("d", "lr_d"))}

    def make_batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        hr_patches = self.patches.batch(size)
        return _make_inputs(hr_patches, self.scale, self.bicubic_fraction, self.rng), to_tensor_batch(hr_patches)

    def step(self, step: int, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        lr_batch, hr = batch
        opt_g, opt_d = self.optimizers["g"], self.optimizers["d"]
        # Pixel and artefact losses aim at a sharpened target; the discriminator compares with the true photo.
        hr_pixel = unsharp_mask(hr, amount=self.usm) if self.usm else hr
        fake = self.generator(lr_batch)
        adversarial = self.gan_weight * _gan_ramp(step, self.gan_start, self.gan_ramp)
        losses: dict[str, float] = {}
        real_logits = None
        if step >= self.gan_start - self.gan_ramp:  # the discriminator warms up a little before it is used
            real_seen, fake_seen = shifted_pair(hr, fake, self.scale, self.rng) if self.d_shift else (hr, fake)
            real_logits = self.disc(self.view(real_seen))
            d_loss = relativistic_d_loss(real_logits, self.disc(self.view(fake_seen.detach())))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            losses["d"] = float(d_loss.detach())
        g_pix = charbonnier(fake, hr_pixel)
        g_loss = self.pixel_weight * g_pix
        losses["g_pix"] = float(g_pix.detach())
        if adversarial > 0 and real_logits is not None:
            # The real logits from before this step's D update: one D pass fewer (D dominates the step's cost).
            g_adv = relativistic_g_loss(real_logits.detach(), self.disc(self.view(fake_seen)))
            g_loss = g_loss + adversarial * g_adv
            losses["g_adv"] = float(g_adv.detach())
            if self.artifact_weight > 0:
                with torch.no_grad():
                    ema_fake = self.ema(lr_batch)
                g_art = artifact_loss(hr_pixel, fake, ema_fake)
                g_loss = g_loss + self.artifact_weight * g_art
                losses["g_art"] = float(g_art.detach())
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return losses
