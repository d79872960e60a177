"""FFDNet's trick in a U-Net: pixel-unshuffle to ½ resolution first, so the network is wide and still cheap.

Four 2×2 blocks of RGB become 12 channels at ½ resolution; residual blocks run at ½, ¼ and ⅛ of the input size, so a
2.3 M-parameter network costs about 1 s per megapixel on two CPU cores while seeing ~170 px of context (what σ=50
needs). Input height/width must be multiples of 8 (`tile_multiple`); the core pads and crops.
"""

from __future__ import annotations

import torch
from torch import nn

from training.registry import ARCHS


class ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _blocks(channels: int, count: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(channels) for _ in range(count)])


@ARCHS.register("unshuffle-unet")
class UnshuffleUNet(nn.Module):
    tile_multiple = 8
    receptive_radius = 80  # effective context; the theoretical field (~170 px) is wider but its edges weigh little

    def __init__(self, feat: int = 48, blocks: int = 2) -> None:
        super().__init__()
        c1, c2, c3 = feat, feat * 2, feat * 4
        self.feat, self.blocks = feat, blocks
        self.head = nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(12, c1, 3, padding=1))
        self.enc1, self.down1 = _blocks(c1, blocks), nn.Conv2d(c1, c2, 2, stride=2)
        self.enc2, self.down2 = _blocks(c2, blocks), nn.Conv2d(c2, c3, 2, stride=2)
        self.mid = _blocks(c3, blocks)
        self.up2, self.dec2 = nn.ConvTranspose2d(c3, c2, 2, stride=2), _blocks(c2, blocks)
        self.up1, self.dec1 = nn.ConvTranspose2d(c2, c1, 2, stride=2), _blocks(c1, blocks)
        self.tail = nn.Sequential(nn.Conv2d(c1, 12, 3, padding=1), nn.PixelShuffle(2))

    def describe(self) -> str:
        return f"UnshuffleUNet(feat={self.feat}, blocks={self.blocks}, levels=½,¼,⅛)"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        e1 = self.enc1(h)
        e2 = self.enc2(self.down1(e1))
        y = self.dec2(self.up2(self.mid(self.down2(e2))) + e2)
        y = self.dec1(self.up1(y) + e1)
        return x + self.tail(y + h)
