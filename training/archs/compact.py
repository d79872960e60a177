"""Compact plain-conv networks (SRVGGNetCompact-like): 3×3 convs + PReLU, fast on CPU, trivially tileable."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from training.registry import ARCHS


def _body(in_ch: int, feat: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, feat, 3, padding=1), nn.PReLU(feat)]
    for _ in range(convs):
        layers += [nn.Conv2d(feat, feat, 3, padding=1), nn.PReLU(feat)]
    return nn.Sequential(*layers)


@ARCHS.register("compact-sr")
class CompactSR(nn.Module):
    """Super-resolution: conv body, pixel shuffle, plus the nearest-upsampled input so it learns only the detail.

    `hr_feat` > 0 adds a small residual head at the output resolution (3×3 conv, PReLU, 3×3 conv), its last conv
    zero-initialised so a trained fidelity model loads into it unchanged. The GAN model needs it: without it all
    detail comes from the 16 sub-pixel phases of the pixel shuffle over a nearest-neighbour base, and adversarial
    training turns that into a visible 4×4 grid in smooth areas.
    """

    def __init__(self, scale: int = 4, feat: int = 48, convs: int = 8, hr_feat: int = 0) -> None:
        super().__init__()
        self.scale, self.feat, self.convs, self.hr_feat = scale, feat, convs, hr_feat
        self.body = _body(3, feat, convs)
        self.tail = nn.Conv2d(feat, 3 * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        self.hr_head: nn.Sequential | None = None
        if hr_feat:
            self.hr_head = nn.Sequential(nn.Conv2d(3, hr_feat, 3, padding=1), nn.PReLU(hr_feat),
                                         nn.Conv2d(hr_feat, 3, 3, padding=1))
            nn.init.zeros_(self.hr_head[-1].weight)
            nn.init.zeros_(self.hr_head[-1].bias)

    @property
    def receptive_radius(self) -> int:
        # One pixel per 3×3 conv (head, body, tail); the output-resolution head's two convs add 2 output pixels.
        return self.convs + 2 + (-(-2 // self.scale) if self.hr_feat else 0)

    def describe(self) -> str:
        extra = f", hr_feat={self.hr_feat}" if self.hr_feat else ""
        return f"CompactSR(scale={self.scale}, feat={self.feat}, convs={self.convs}{extra})"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.shuffle(self.tail(self.body(x))) + F.interpolate(x, scale_factor=self.scale, mode="nearest")
        if self.hr_head is not None:
            out = out + self.hr_head(out)
        return out


@ARCHS.register("residual-cnn")
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
