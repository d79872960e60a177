"""Low light by a curve, not by regenerating pixels (Zero-DCE's idea, trained supervised here).

The network sees a small copy of the photo and predicts, per pixel of that copy, the parameters α₁…α₈ of a
monotone tone curve LE(x) = x + α·x·(1 − x) applied eight times. The app upsamples the smooth α maps to the full
resolution and applies the curve to every full-resolution pixel, the same curve on R, G and B: edges and texture are
the photo's own (only their contrast is rescaled by the curve's slope), and a gamma/exposure cut is inverted per
channel, so colour saturation comes back with the brightness.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CURVE_STEPS = 8


def apply_curve(x: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """x (N,3,H,W) in [0,1]; alphas (N,CURVE_STEPS,H,W) in [-1,1], one curve shared by the three channels."""
    for k in range(alphas.shape[1]):
        a = alphas[:, k:k + 1]
        x = x + a * x * (1 - x)
    return x


class CurveNet(nn.Module):
    """Seven 3×3 convolutions (dilated for context) plus a global-brightness branch; tanh α maps at input size."""

    tile_multiple = 4
    receptive_radius = 0  # not tiled: the app runs it once on a small copy of the whole photo
    output_kind = "curve"
    out_channels = CURVE_STEPS

    def __init__(self, feat: int = 32) -> None:
        super().__init__()
        self.feat = feat
        dil = (1, 2, 4, 8, 4, 2)
        layers: list[nn.Module] = []
        cin = 3
        for d in dil:
            layers += [nn.Conv2d(cin, feat, 3, padding=d, dilation=d), nn.ReLU(inplace=True)]
            cin = feat
        self.body = nn.Sequential(*layers)
        self.global_branch = nn.Sequential(nn.Linear(feat, feat), nn.ReLU(inplace=True))
        self.out = nn.Conv2d(feat * 2, CURVE_STEPS, 3, padding=1)

    def describe(self) -> str:
        return f"CurveNet(feat={self.feat}, steps={CURVE_STEPS})"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.body(x)
        g = self.global_branch(f.mean(dim=(2, 3)))[:, :, None, None].expand_as(f)
        return torch.tanh(self.out(torch.cat([f, g], 1)))


def curve_enhance(model: CurveNet, dark: torch.Tensor, factor: int) -> torch.Tensor:
    """What the app does, in torch for training: α at 1/factor resolution, upsampled, applied at full resolution."""
    small = F.avg_pool2d(dark, factor)
    alphas = F.interpolate(model(small).float(), size=dark.shape[2:], mode="bilinear", align_corners=False)
    return apply_curve(dark, alphas)
