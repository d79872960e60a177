"""Low light by a tone curve predicted at low resolution (`archs/curve.py`), trained on synthetic under-exposure.

Pairs: a well-exposed photo crop and the same crop darkened as a whole (exposure cut, gamma, shot/read noise). The
network sees the dark crop at ¼ resolution; its maps (gain, colour mix, curve α) are upsampled and the curve is applied at full resolution, so
the loss trains exactly what the app runs. A small smoothness term keeps the α maps free of texture.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from training.archs.curve import CurveNet, curve_enhance, luma_of, saturation_of
from training.data.degrade import to_tensor_batch
from training.registry import TASKS
from training.tasks.common import photo_pools, psnr
from training.tasks.supervised import MakeBatch, SupervisedTask, Validate

NET_FACTOR = 4  # the network works at ¼ of the patch size


class CurveTrainer(nn.Module):
    """Wraps the curve net so the generic loop trains the full-resolution result."""

    def __init__(self, net: CurveNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, dark: torch.Tensor) -> torch.Tensor:
        return curve_enhance(self.net, dark, NET_FACTOR)


def underexpose(image: np.ndarray, rng: np.random.Generator, gamma_max: float = 1.8) -> np.ndarray:
    """A camera's under-exposure: in sRGB an exposure cut is close to a plain scale (60 % of the time that alone),
    else with an extra gamma (a dim scene's flat tone curve); then shot and read noise, as dark shots carry."""
    x = image.astype(np.float32) / 255
    # Gamma beyond ~1.8 taught a net without the global tone statistics (`archs/curve.tone_statistics`) that a dark
    # photo needs far more lift than its exposure alone says (an exposure cut and a deep gamma cut look alike to
    # it), so it over-brightened plain exposure cuts by 25 %; `gamma_max` is the config's `train.gamma_max`.
    gamma = 1.0 if rng.random() < 0.6 else rng.uniform(1.0, gamma_max)
    x = x ** gamma * rng.uniform(0.15, 0.6)
    if rng.random() < 0.6:
        read, shot = rng.uniform(0, 0.012), rng.uniform(0, 0.006)
        x = x + rng.normal(0, 1, x.shape).astype(np.float32) * np.sqrt(read ** 2 + shot * np.clip(x, 0, 1))
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)


class WholePhotoViews:
    """Each photo scaled so its short side is `size`, then a random square crop, flip and quarter turn."""

    def __init__(self, photos: list[np.ndarray], size: int, seed: int) -> None:
        self.views = [self._scaled(p, size) for p in photos]
        self.size, self.rng = size, np.random.default_rng(seed)

    @staticmethod
    def _scaled(photo: np.ndarray, size: int) -> np.ndarray:
        from PIL import Image

        h, w = photo.shape[:2]
        f = size / min(h, w)
        return np.asarray(Image.fromarray(photo).resize((max(size, round(w * f)), max(size, round(h * f))),
                                                        Image.Resampling.BOX))

    def batch(self, n: int) -> list[np.ndarray]:
        out = []
        for i in self.rng.integers(0, len(self.views), n):
            v = self.views[i]
            y, x = self.rng.integers(0, v.shape[0] - self.size + 1), self.rng.integers(0, v.shape[1] - self.size + 1)
            crop = np.rot90(v[y:y + self.size, x:x + self.size], self.rng.integers(0, 4))
            out.append(np.ascontiguousarray(crop[:, ::-1] if self.rng.random() < 0.5 else crop))
        return out


def pair_maker(rng: np.random.Generator, gamma_max: float = 1.8):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([underexpose(p, rng, gamma_max) for p in patches]), to_tensor_batch(patches)
    return make_pair


def l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (output - target).abs().mean()


def _mean_luma(x: torch.Tensor) -> torch.Tensor:
    return luma_of(x).mean(dim=(1, 2, 3))


def _mean_saturation(x: torch.Tensor) -> torch.Tensor:
    return saturation_of(x).mean(dim=(1, 2))


def l1_and_tone(weight: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Pixel L1 plus the per-photo log ratios of mean brightness and mean HSV saturation: what a viewer judges first
    (and the issue's bars), which pixel L1 weighs weakly — a saturation error in dim, muted areas is a few levels."""

    def loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out, tgt = output.float().clamp(0, 1), target.float()
        tone = (torch.log((_mean_luma(out) + 1e-3) / (_mean_luma(tgt) + 1e-3)).abs()
                + torch.log((_mean_saturation(out) + 1e-3) / (_mean_saturation(tgt) + 1e-3)).abs()).mean()
        return l1(out, tgt) + weight * tone

    return loss


@TASKS.register("lowlight")
class Lowlight(SupervisedTask):
    card_tasks = ("lowlight",)
    default_arch = "residual-cnn"  # the first, pixel-regenerating model's; configs since name a curve

    def setup(self) -> None:
        super().setup()
        tone_weight = float(self.train_cfg.get("tone_loss", 0.0))
        self._loss = l1_and_tone(tone_weight) if tone_weight > 0 else l1

    def wrap(self, net: nn.Module) -> nn.Module:
        if not isinstance(net, CurveNet):
            raise ValueError("lowlight training now trains the curve model: set model.arch = \"gain-curve\"")
        return CurveTrainer(net)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._loss(output, target)

    def data(self) -> tuple[MakeBatch, Validate]:
        train_photos, val_photos = photo_pools(self.config)
        size = int(self.train_cfg["patch"])
        patches = WholePhotoViews(train_photos, size, self.seed)
        gamma_max = float(self.train_cfg.get("gamma_max", 1.8))
        val_inputs, val_targets = pair_maker(np.random.default_rng(self.seed + 1), gamma_max)(
            WholePhotoViews(val_photos, size, 1234).batch(16))

        def validate(model: nn.Module) -> dict[str, float]:
            return {"val_psnr": psnr(model(val_inputs), val_targets)}

        make_pair = pair_maker(np.random.default_rng(self.seed), gamma_max)
        return (lambda n: make_pair(patches.batch(n))), validate
