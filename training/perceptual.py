"""A perceptual loss with no downloaded weights: features of a frozen, randomly initialised VGG-style network.

No pretrained VGG can be fetched here. Random convolutional features still measure local structure at several
scales (a random-weight network's feature distance correlates with perceptual similarity far better than pixel L1,
and it does not reward blur the way L1 does); a fixed seed makes the loss the same in every session and on the GPU.
Inputs are normalised per channel as ImageNet-style networks expect, features are L1-compared at four depths.
"""

from __future__ import annotations

import torch
from torch import nn

_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class RandomVGGFeatures(nn.Module):
    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 128), seed: int = 1234) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        stages = []
        cin = 3
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.AvgPool2d(2)]
            for _ in range(2):
                conv = nn.Conv2d(cin, width, 3, padding=1)
                nn.init.kaiming_normal_(conv.weight, generator=g, nonlinearity="relu")
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU()]
                cin = width
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - _MEAN.to(x.device, x.dtype)) / _STD.to(x.device, x.dtype)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class PerceptualLoss(nn.Module):
    def __init__(self, weights: tuple[float, ...] = (0.1, 0.1, 1.0, 1.0)) -> None:
        super().__init__()
        self.features = RandomVGGFeatures()
        self.weights = weights

    def train(self, mode: bool = True) -> PerceptualLoss:  # the feature network is always frozen, in eval mode
        super().train(mode)
        self.features.eval()
        return self

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out_f, tgt_f = self.features(output), self.features(target.detach())
        return sum(w * (a - b).abs().mean() for w, a, b in zip(self.weights, out_f, tgt_f, strict=True))
