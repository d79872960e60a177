"""DCGAN generator and discriminator (Radford et al. 2015), made stable the modern way.

The generator is the classic stack of 4×4 stride-2 transposed convs with batch norm and ReLU, tanh at the end; the
discriminator is strided 4×4 convs with LeakyReLU(0.2) and spectral norm on every layer instead of batch norm (no
batch statistics for the generator to exploit, a Lipschitz bound that keeps hinge-loss training from diverging).
Both speak images in [0, 1] at their boundary, like every other network in training/.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from training.registry import ARCHS


@ARCHS.register("dcgan-generator")
class DCGANGenerator(nn.Module):
    """z (N, latent) -> image (N, 3, R, R) in [0, 1]; R = 4·2^ups, channels halve at each step from feat·2^(ups-1)."""

    def __init__(self, latent: int = 128, feat: int = 32, resolution: int = 64, refine: bool = False) -> None:
        super().__init__()
        ups = int(math.log2(resolution // 4))
        if 4 * 2**ups != resolution:
            raise ValueError(f"resolution must be 4·2^k, not {resolution}")
        self.latent, self.feat, self.resolution, self.refine = latent, feat, resolution, refine
        ch = feat * 2 ** (ups - 1)
        # The first layer is a 4×4 transposed conv on a 1×1 "image": the DCGAN projection of z.
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch),
                                   nn.ReLU(True)]
        for _ in range(ups - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        if refine:
            # Last upsampling to feat/2 channels, then a 3×3 conv to RGB: the final transposed conv's uneven
            # overlap (the checkerboard of Odena et al. 2016) is smoothed before it reaches the pixels.
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True),
                       nn.Conv2d(ch // 2, 3, 3, 1, 1), nn.Tanh()]
        else:
            layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_dcgan_init)

    def describe(self) -> str:
        return (f"DCGANGenerator(latent={self.latent}, feat={self.feat}, resolution={self.resolution}"
                f"{', refine=True' if self.refine else ''})")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None]) * 0.5 + 0.5


@ARCHS.register("dcgan-discriminator")
class DCGANDiscriminator(nn.Module):
    """image (N, 3, R, R) in [0, 1] -> one logit per image."""

    def __init__(self, feat: int = 32, resolution: int = 64) -> None:
        super().__init__()
        downs = int(math.log2(resolution // 4))
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(3, feat, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        ch = feat
        for _ in range(downs - 1):
            layers += [spectral_norm(nn.Conv2d(ch, ch * 2, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers.append(spectral_norm(nn.Conv2d(ch, 1, 4, 1, 0)))  # 4×4 -> 1×1
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1).flatten()


def _dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) weights and unit-mean batch-norm scales, as in the DCGAN paper."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
