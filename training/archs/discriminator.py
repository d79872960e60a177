"""A VGG-style patch discriminator with spectral normalisation on every conv (stable adversarial training)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from training.registry import ARCHS


@ARCHS.register("patch-discriminator")
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


@ARCHS.register("unet-discriminator")
class UNetDiscriminator(nn.Module):
    """Real-ESRGAN's U-Net discriminator with spectral norm, in small: a per-pixel realness map, so it judges local
    texture and global structure at once (three downsamplings, skip connections, upsampling back)."""

    def __init__(self, in_ch: int = 3, feat: int = 32) -> None:
        super().__init__()
        sn = spectral_norm
        self.conv0 = nn.Conv2d(in_ch, feat, 3, padding=1)
        self.down1 = sn(nn.Conv2d(feat, feat * 2, 4, 2, 1, bias=False))
        self.down2 = sn(nn.Conv2d(feat * 2, feat * 4, 4, 2, 1, bias=False))
        self.down3 = sn(nn.Conv2d(feat * 4, feat * 8, 4, 2, 1, bias=False))
        self.up3 = sn(nn.Conv2d(feat * 8, feat * 4, 3, padding=1, bias=False))
        self.up2 = sn(nn.Conv2d(feat * 4, feat * 2, 3, padding=1, bias=False))
        self.up1 = sn(nn.Conv2d(feat * 2, feat, 3, padding=1, bias=False))
        self.refine = nn.Sequential(sn(nn.Conv2d(feat, feat, 3, padding=1, bias=False)), nn.LeakyReLU(0.2, True),
                                    sn(nn.Conv2d(feat, feat, 3, padding=1, bias=False)), nn.LeakyReLU(0.2, True),
                                    nn.Conv2d(feat, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = lambda t: torch.nn.functional.leaky_relu(t, 0.2)  # noqa: E731
        up = lambda t: torch.nn.functional.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)  # noqa: E731
        x0 = act(self.conv0(x * 2 - 1))
        x1 = act(self.down1(x0))
        x2 = act(self.down2(x1))
        x3 = act(self.down3(x2))
        y = act(self.up3(up(x3))) + x2
        y = act(self.up2(up(y))) + x1
        y = act(self.up1(up(y))) + x0
        return self.refine(y)
