"""The emoji GAN: a DCGAN generator against a spectrally normalised discriminator, hinge loss, EMA generator.

One discriminator step per generator step, Adam(0.5, 0.999) as in DCGAN. With only ~1000 training images the
discriminator would soon memorise them, so both real and fake images go through the same random translation
before it sees them (DiffAugment, Zhao et al. 2020): the generator still learns the un-shifted images.
The exported generator is an exponential moving average of the trained one, with its batch-norm statistics
re-measured for the averaged weights.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from training.data.emoji import emoji_pool
from training.schedule import Schedule, cosine_lr
from training.registry import ARCHS, TASKS
from training.tasks.base import TrainTask
from training.tasks.generative import ImageBatches, ema_decay, recalibrate_batchnorm, save_sheet


def translate(x: torch.Tensor, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ratio·size pixels, filling with white (the emoji background)."""
    if ratio <= 0:
        return x
    n, _, h, w = x.shape
    s = max(1, int(h * ratio))
    padded = F.pad(x, (s, s, s, s), value=1.0)
    dy, dx = torch.randint(0, 2 * s + 1, (2, n), generator=generator).tolist()
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def d_nonsaturating(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_adversarial(fake: torch.Tensor, loss: str) -> torch.Tensor:
    return -fake.mean() if loss == "hinge" else F.softplus(-fake).mean()


@TASKS.register("gan")
class EmojiGAN(TrainTask):
    card_tasks = ("generate",)
    default_arch = "dcgan-generator"
    reserved_model_keys = ("d_arch", "d_feat")
    export_kind = "gan"
    checkpoint_name = "gan.pt"

    @staticmethod
    def build_discriminator(config: dict) -> nn.Module:
        m = config["model"]
        return ARCHS.get(m.get("d_arch", "dcgan-discriminator"))(feat=int(m.get("d_feat", m["feat"])),
                                                                 resolution=int(m.get("resolution", 64)))

    def setup(self) -> None:
        cfg = self.train_cfg
        torch.manual_seed(self.seed)
        self.generator, self.disc = self.build_model(self.config), self.build_discriminator(self.config)
        self.ema, self.ema_source = copy.deepcopy(self.generator), self.generator
        betas = tuple(float(b) for b in cfg.get("betas", (0.5, 0.999)))
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=float(cfg["lr"]), betas=betas)
        opt_d = torch.optim.Adam(self.disc.parameters(), lr=float(cfg["lr_d"]), betas=betas)
        self.modules = {"net": self.ema, "train_g": self.generator, "d": self.disc}
        self.optimizers = {"g": opt_g, "d": opt_d}

    def prepare(self, start: int) -> None:
        train_set, _ = emoji_pool(self.config)
        # A resumed run does not replay the same batches.
        self.batches = ImageBatches(train_set.images, seed=self.seed + start)
        self.aug = torch.Generator().manual_seed(self.seed + 1 + start)
        self.loss_kind = str(self.train_cfg.get("loss", "hinge"))
        self.shift = float(self.train_cfg.get("translate", 0.125))
        self.d_loss_fn = d_hinge if self.loss_kind == "hinge" else d_nonsaturating
        self.fixed_z = torch.randn(64, self.generator.latent, generator=torch.Generator().manual_seed(1234))
        self.generator.train()

    def learning_rates(self, step: int, schedule: Schedule) -> dict[str, float]:
        total = schedule.total
        decay_start = int(total * 0.6)  # constant learning rates, then a cosine decay to 10% over the last 40%
        rates = {}
        for name, key in (("g", "lr"), ("d", "lr_d")):
            base = float(self.train_cfg[key])
            rates[name] = base if step < decay_start else cosine_lr(step - decay_start, total - decay_start, base,
                                                                    base * 0.1, warmup=0)
        return rates

    def make_batch(self, size: int) -> torch.Tensor:
        return self.batches.batch(size)

    def step(self, step: int, real: torch.Tensor) -> dict[str, float]:
        opt_g, opt_d, disc, shift, aug = self.optimizers["g"], self.optimizers["d"], self.disc, self.shift, self.aug
        fake = self.generator(torch.randn(real.shape[0], self.generator.latent))
        d_real = disc(translate(real, shift, aug))
        d_fake = disc(translate(fake.detach(), shift, aug))
        d_loss = self.d_loss_fn(d_real, d_fake)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        g_loss = g_adversarial(disc(translate(fake, shift, aug)), self.loss_kind)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"d": float(d_loss.detach()), "g": float(g_loss.detach()),
                "d_real": float(d_real.detach().mean()), "d_fake": float(d_fake.detach().mean())}

    def ema_decay(self, step: int) -> float:
        return ema_decay(step, float(self.train_cfg.get("ema", 0.999)))

    def before_checkpoint(self, step: int) -> None:
        recalibrate_batchnorm(self.ema, self.ema.latent, seed=self.seed)

    def after_checkpoint(self, run_dir: Path, step: int) -> None:
        super().after_checkpoint(run_dir, step)
        with torch.no_grad():
            save_sheet(run_dir / f"samples-{step:05d}.png", self.ema.eval()(self.fixed_z))

    def finish(self) -> nn.Module:
        recalibrate_batchnorm(self.ema, self.ema.latent, seed=self.seed)
        return self.ema.eval()
