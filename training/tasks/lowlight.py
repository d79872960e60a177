"""Low light by a tone curve predicted at low resolution (`archs/curve.py`), trained on synthetic under-exposure.

Pairs: a well-exposed photo crop and the same crop darkened as a whole (exposure cut, gamma, shot/read noise). The
network sees the dark crop at ¼ resolution; its α maps are upsampled and the curve is applied at full resolution, so
the loss trains exactly what the app runs. A small smoothness term keeps the α maps free of texture.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from training.archs.compact import ResidualCNN
from training.archs.curve import CurveNet, curve_enhance
from training.data.degrade import darken, to_tensor_batch
from training.loop import train_supervised
from training.tasks.common import photo_pools, psnr, sampler
from training.data.photos import PatchSampler

NET_FACTOR = 4  # the network works at ¼ of the patch size


def build_model(config: dict) -> nn.Module:
    m = config["model"]
    if m.get("arch") == "curve":
        return CurveNet(feat=int(m["feat"]))
    return ResidualCNN(feat=int(m["feat"]), convs=int(m["convs"]))


class CurveTrainer(nn.Module):
    """Wraps the curve net so the generic loop trains the full-resolution result."""

    def __init__(self, net: CurveNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, dark: torch.Tensor) -> torch.Tensor:
        return curve_enhance(self.net, dark, NET_FACTOR)


def pair_maker(rng: np.random.Generator):
    def make_pair(patches: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return to_tensor_batch([darken(p, rng) for p in patches]), to_tensor_batch(patches)
    return make_pair


def l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (output - target).abs().mean()


def train(config: dict, resume: bool = True) -> nn.Module:
    net = build_model(config)
    if not isinstance(net, CurveNet):
        raise ValueError("lowlight training now trains the curve model: set model.arch = \"curve\"")
    wrapper = CurveTrainer(net)
    train_photos, val_photos = photo_pools(config)
    patches = sampler(config, train_photos)
    seed = int(config["train"].get("seed", 0))
    val_inputs, val_targets = pair_maker(np.random.default_rng(seed + 1))(
        PatchSampler(val_photos, int(config["train"]["patch"]), seed=1234).batch(16))

    def validate(model: nn.Module) -> dict[str, float]:
        return {"val_psnr": psnr(model(val_inputs), val_targets)}

    make_pair = pair_maker(np.random.default_rng(seed))
    train_supervised(config, wrapper, lambda n: make_pair(patches.batch(n)), l1, validate, resume,
                     state_module=net)
    return net
