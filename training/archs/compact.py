"""Compact plain-conv networks (SRVGGNetCompact-like): 3×3 convs + PReLU, fast on CPU, trivially tileable."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _body(in_ch: int, feat: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, feat, 3, padding=1), nn.PReLU(feat)]
    for _ in range(convs):
        layers += [nn.Conv2d(feat, feat, 3, padding=1), nn.PReLU(feat)]
    return nn.Sequential(*layers)


class CompactSR(nn.Module):
    """Super-resolution: conv body, pixel shuffle, plus the nearest-upsampled input so it learns only the detail."""

    def __init__(self, scale: int = 4, feat: int = 48, convs: int = 8) -> None:
        super().__init__()
        self.scale, self.feat, self.convs = scale, feat, convs
        self.body = _body(3, feat, convs)
        self.tail = nn.Conv2d(feat, 3 * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)

    @property
    def receptive_radius(self) -> int:
        return self.convs + 2  # one pixel per 3×3 conv (head, body, tail)

    def describe(self) -> str:
        return f"CompactSR(scale={self.scale}, feat={self.feat}, convs={self.convs})"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.shuffle(self.tail(self.body(x)))
        return out + F.interpolate(x, scale_factor=self.scale, mode="nearest")


class ResidualCNN(nn.Module):
    """Image-to-image at the same size (denoise, low-light): predicts a correction added to the input."""

    def __init__(self, feat: int = 48, convs: int = 10) -> None:
        super().__init__()
        self.feat, self.convs = feat, convs
        self.body = _body(3, feat, convs)
        self.tail = nn.Conv2d(feat, 3, 3, padding=1)

    @property
    def receptive_radius(self) -> int:
        return self.convs + 2

    def describe(self) -> str:
        return f"ResidualCNN(feat={self.feat}, convs={self.convs})"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.tail(self.body(x))
