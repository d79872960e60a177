"""Low light by a curve, not by regenerating pixels (Zero-DCE's idea, trained supervised here).

The network sees a small copy of the photo and predicts, per pixel of that copy, the parameters α₁…α₈ of a
monotone tone curve LE(x) = x + α·x·(1 − x) applied eight times. The app upsamples the smooth α maps to the full
resolution and applies the curve to every full-resolution pixel, the same curve on R, G and B: edges and texture are
the photo's own (only their contrast is rescaled by the curve's slope), and a gamma/exposure cut is inverted per
channel, so colour saturation comes back with the brightness.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from training.registry import ARCHS

CURVE_STEPS = 8


def apply_curve(x: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """x (N,3,H,W) in [0,1]; alphas (N,CURVE_STEPS,H,W) in [-1,1], one curve shared by the three channels."""
    for k in range(alphas.shape[1]):
        a = alphas[:, k:k + 1]
        x = x + a * x * (1 - x)
    return x


@ARCHS.register("curve")
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
        self.out = nn.Conv2d(feat * 2, self.out_channels, 3, padding=1)

    def describe(self) -> str:
        return f"CurveNet(feat={self.feat}, steps={CURVE_STEPS})"

    def global_features(self, x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """(N, feat): what the whole photo says, broadcast beside every position's own features."""
        return self.global_branch(f.mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.body(x)
        g = self.global_features(x, f)[:, :, None, None].expand_as(f)
        return torch.tanh(self.out(torch.cat([f, g], 1)))


MAX_GAIN_LOG = math.log(8.0)  # the gain map spans ×1/8 … ×8
LUMA = (0.299, 0.587, 0.114)


@ARCHS.register("gain-curve")
class GainCurveNet(CurveNet):
    """CurveNet with two more maps: an exposure gain and a colour mix (the "gain-curve" output kind).

    Map 0, t_g: gain g = exp(t_g·ln 8), multiplied into R, G and B alike — an exposure cut is undone exactly, with
    every ratio between channels (so saturation) and every local contrast ratio (so detail) kept. Map 1, t_m: mix
    m = (1 + t_m)/2 between the tone curve applied per channel (m = 1; restores colour a gamma cut exaggerated) and
    the same curve applied to luma with the colour ratios kept (m = 0). Maps 2…: the curve's α, as in CurveNet.
    The numpy twin the app runs is imagestudio/core/ops/lowlight_curve.py."""

    output_kind = "gain-curve"
    out_channels = 2 + CURVE_STEPS
    # Parameters a shipped model made before them does not have: init_from_onnx leaves them at their (neutral) init.
    new_parameter_prefixes: tuple[str, ...] = ()

    def __init__(self, feat: int = 32, stats: bool = False) -> None:
        super().__init__(feat)
        self.stats = stats
        if stats:
            # Zero-initialised, so a model continued from weights without this branch starts where it stopped.
            self.stats_branch = nn.Linear(len(STAT_NAMES), feat)
            nn.init.zeros_(self.stats_branch.weight)
            nn.init.zeros_(self.stats_branch.bias)
            self.new_parameter_prefixes = ("stats_branch.",)

    def describe(self) -> str:
        extra = ", global tone statistics" if self.stats else ""
        return f"GainCurveNet(feat={self.feat}, steps={CURVE_STEPS}{extra})"

    def global_features(self, x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        if not self.stats:
            return super().global_features(x, f)
        # The statistics enter before the global branch's ReLU (its Linear is global_branch[0]).
        return torch.relu(self.global_branch[0](f.mean(dim=(2, 3))) + self.stats_branch(tone_statistics(x)))


STAT_NAMES = ("mean log luma", "std log luma", "mean luma", "rms luma", "mean saturation", "std saturation",
              "mean max channel", "bright share")


def luma_of(x: torch.Tensor) -> torch.Tensor:
    """(N,3,H,W) → (N,1,H,W): Rec. 601 luma, the weights the app's numpy twin uses."""
    weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


def saturation_of(x: torch.Tensor) -> torch.Tensor:
    """(N,3,H,W) → (N,H,W): HSV saturation, (max − min) / max, with a floor of one 8-bit level under max."""
    high = x.amax(1)
    return (high - x.amin(1)) / (high + 1 / 255)


def tone_statistics(x: torch.Tensor) -> torch.Tensor:
    """Whole-image cues that tell a gamma cut from an exposure cut, which a conv net's mean-pooled features see only
    vaguely: a gamma cut stretches the log-luma spread by γ and raises saturation; an exposure cut shifts log luma
    and leaves saturation. (N,3,H,W) in [0,1] → (N, len(STAT_NAMES)), each roughly in [-1, 1]."""
    luma = luma_of(x)[:, 0]
    log_luma = torch.log(luma + 1 / 255) / 5.5  # log(1/255) ≈ −5.5
    high = x.amax(1)
    saturation = saturation_of(x)
    bright = torch.sigmoid((luma - 0.8) * 30)

    def mean(t: torch.Tensor) -> torch.Tensor:
        return t.mean(dim=(1, 2))

    def std(t: torch.Tensor) -> torch.Tensor:
        return (mean(t * t) - mean(t) ** 2).clamp_min(1e-8).sqrt()

    return torch.stack([mean(log_luma), std(log_luma) * 4, mean(luma), mean(luma * luma).sqrt(), mean(saturation),
                        std(saturation) * 2, mean(high), mean(bright)], dim=1)


def apply_gain_curve(x: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """x (N,3,H,W) in [0,1]; maps (N,2+steps,H,W) in [-1,1] at x's size."""
    gain = torch.exp(maps[:, :1] * MAX_GAIN_LOG)
    mix = (1 + maps[:, 1:2]) / 2
    x = (x * gain).clamp(0, 1)
    per_channel = apply_curve(x, maps[:, 2:])
    luma = luma_of(x)
    lifted = apply_curve(luma, maps[:, 2:])
    ratio_kept = (x * lifted / luma.clamp_min(1 / 255)).clamp(0, 1)
    return mix * per_channel + (1 - mix) * ratio_kept


def curve_enhance(model: CurveNet, dark: torch.Tensor, factor: int) -> torch.Tensor:
    """What the app does, in torch for training: maps at 1/factor resolution, upsampled, applied at full resolution."""
    small = F.avg_pool2d(dark, factor)
    maps = F.interpolate(model(small).float(), size=dark.shape[2:], mode="bilinear", align_corners=False)
    if model.output_kind == "gain-curve":
        return apply_gain_curve(dark, maps)
    return apply_curve(dark, maps)
