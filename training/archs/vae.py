"""A convolutional VAE at 64×64: a DCGAN-shaped encoder and decoder joined by a Gaussian latent.

The encoder and decoder are separate modules because the app runs them separately (encode a photo, perturb or
interpolate its latent, decode); both speak images in [0, 1].
"""

from __future__ import annotations

import math

import torch
from torch import nn

from training.registry import ARCHS


def _stages(resolution: int) -> int:
    stages = int(math.log2(resolution // 4))
    if 4 * 2**stages != resolution:
        raise ValueError(f"resolution must be 4·2^k, not {resolution}")
    return stages


class VAEEncoder(nn.Module):
    """image (N, 3, R, R) in [0, 1] -> (mu, logvar), each (N, latent)."""

    def __init__(self, latent: int = 64, feat: int = 32, resolution: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch_in, ch = 3, feat
        for _ in range(_stages(resolution)):
            layers += [nn.Conv2d(ch_in, ch, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            ch_in, ch = ch, ch * 2
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(ch_in * 16, 2 * latent)
        self.latent = latent

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stats = self.head(self.net(image * 2 - 1))
        return stats[:, : self.latent], stats[:, self.latent :]


class VAEDecoder(nn.Module):
    """z (N, latent) -> image (N, 3, R, R) in [0, 1]."""

    def __init__(self, latent: int = 64, feat: int = 32, resolution: int = 64) -> None:
        super().__init__()
        stages = _stages(resolution)
        self.ch = feat * 2 ** (stages - 1)
        self.head = nn.Linear(latent, self.ch * 16)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2, True)]
        ch = self.ch
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.head(z).view(-1, self.ch, 4, 4))


@ARCHS.register("conv-vae")
class ConvVAE(nn.Module):
    def __init__(self, latent: int = 64, feat: int = 32, resolution: int = 64) -> None:
        super().__init__()
        self.latent, self.feat, self.resolution = latent, feat, resolution
        self.encoder = VAEEncoder(latent, feat, resolution)
        self.decoder = VAEDecoder(latent, feat, resolution)

    def describe(self) -> str:
        return f"ConvVAE(latent={self.latent}, feat={self.feat}, resolution={self.resolution})"

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction, mu, logvar), sampling z with the reparameterisation trick."""
        mu, logvar = self.encoder(image)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar
