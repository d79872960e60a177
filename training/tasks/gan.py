"""The emoji GAN: a DCGAN generator against a spectrally normalised discriminator, hinge loss, EMA generator.

One discriminator step per generator step, Adam(0.5, 0.999) as in DCGAN. With only ~1000 training images the
discriminator would soon memorise them, so both real and fake images go through the same random translation
before it sees them (DiffAugment, Zhao et al. 2020): the generator still learns the un-shifted images.
The exported generator is an exponential moving average of the trained one, with its batch-norm statistics
re-measured for the averaged weights.
"""

from __future__ import annotations

import copy

import torch
from torch.nn import functional as F

from training.archs.dcgan import DCGANDiscriminator, DCGANGenerator
from training.data.emoji import emoji_pool
from training.loop import ProgressLog, cosine_lr, resume_step, run_dir_for, save_checkpoint
from training.tasks.generative import ImageBatches, ema_decay, ema_update, recalibrate_batchnorm, save_sheet


def build_model(config: dict) -> DCGANGenerator:
    m = config["model"]
    return DCGANGenerator(latent=int(m["latent"]), feat=int(m["feat"]), resolution=int(m.get("resolution", 64)),
                          refine=bool(m.get("refine", False)))


def build_discriminator(config: dict) -> DCGANDiscriminator:
    m = config["model"]
    return DCGANDiscriminator(feat=int(m.get("d_feat", m["feat"])), resolution=int(m.get("resolution", 64)))


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


def train(config: dict, resume: bool = True) -> DCGANGenerator:
    train_cfg = config["train"]
    seed = int(train_cfg.get("seed", 0))
    torch.manual_seed(seed)
    generator, disc = build_model(config), build_discriminator(config)
    ema = copy.deepcopy(generator)
    betas = tuple(float(b) for b in train_cfg.get("betas", (0.5, 0.999)))
    opt_g = torch.optim.Adam(generator.parameters(), lr=float(train_cfg["lr"]), betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=float(train_cfg["lr_d"]), betas=betas)
    modules = {"net": ema, "train_g": generator, "d": disc}
    optimizers = {"g": opt_g, "d": opt_d}
    run_dir = run_dir_for(config)
    checkpoint = run_dir / "gan.pt" if run_dir else None
    start = resume_step(checkpoint, modules, optimizers, resume)

    train_set, _ = emoji_pool(config)
    batches = ImageBatches(train_set.images, seed=seed + start)  # a resumed run does not replay the same batches
    aug = torch.Generator().manual_seed(seed + 1 + start)
    total, batch = int(train_cfg["iters"]), int(train_cfg["batch"])
    loss_kind, shift = str(train_cfg.get("loss", "hinge")), float(train_cfg.get("translate", 0.125))
    d_loss_fn = d_hinge if loss_kind == "hinge" else d_nonsaturating
    fixed_z = torch.randn(64, generator.latent, generator=torch.Generator().manual_seed(1234))
    log = ProgressLog(total, start, run_dir / "log.jsonl" if run_dir else None)
    generator.train()
    for step in range(start, total):
        decay_start = int(total * 0.6)  # constant learning rates, then a cosine decay to 10% over the last 40%
        for opt, key in ((opt_g, "lr"), (opt_d, "lr_d")):
            base = float(train_cfg[key])
            lr = base if step < decay_start else cosine_lr(step - decay_start, total - decay_start, base, base * 0.1,
                                                           warmup=0)
            for group in opt.param_groups:
                group["lr"] = lr
        real = batches.batch(batch)
        fake = generator(torch.randn(batch, generator.latent))
        d_real = disc(translate(real, shift, aug))
        d_fake = disc(translate(fake.detach(), shift, aug))
        d_loss = d_loss_fn(d_real, d_fake)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        g_loss = g_adversarial(disc(translate(fake, shift, aug)), loss_kind)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        ema_update(ema, generator, ema_decay(step, float(train_cfg.get("ema", 0.999))))

        log.update(step, {"d": float(d_loss.detach()), "g": float(g_loss.detach()),
                          "d_real": float(d_real.detach().mean()), "d_fake": float(d_fake.detach().mean())},
                   int(train_cfg.get("log_every", 50)))
        done = step + 1
        if run_dir is not None and (done % int(train_cfg.get("ckpt_every", 250)) == 0 or done == total):
            recalibrate_batchnorm(ema, ema.latent, seed=seed)
            save_checkpoint(checkpoint, done, modules, optimizers)
            save_checkpoint(run_dir / "last.pt", done, {"net": ema}, {})
            with torch.no_grad():
                save_sheet(run_dir / f"samples-{done:05d}.png", ema.eval()(fixed_z))
    recalibrate_batchnorm(ema, ema.latent, seed=seed)
    return ema.eval()
