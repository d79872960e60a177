"""A VGG-style patch discriminator with spectral normalisation on every conv (stable adversarial training)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class PatchDiscriminator(nn.Module):
    """Strided 3×3/4×4 convs, LeakyReLU; outputs one logit per patch region (no global pooling)."""

    def __init__(self, in_ch: int = 3, feat: int = 32, downs: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(in_ch, feat, 3, padding=1)), nn.LeakyReLU(0.2, True)]
        ch = feat
        for _ in range(downs):
            out = min(ch * 2, 256)
            layers += [spectral_norm(nn.Conv2d(ch, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, True),
                       spectral_norm(nn.Conv2d(out, out, 3, padding=1)), nn.LeakyReLU(0.2, True)]
            ch = out
        layers.append(spectral_norm(nn.Conv2d(ch, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)
