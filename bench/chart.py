"""Tiny bar charts drawn with Pillow (no plotting dependency), for the Markdown tables under docs/bench/."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

_COLOURS = [(52, 101, 164), (204, 0, 0), (78, 154, 6), (196, 160, 0), (117, 80, 123), (206, 92, 0), (85, 87, 83)]


def bar_chart(path: Path, title: str, groups: list[str], series: dict[str, list[float]], unit: str,
              floor: float | None = None) -> Path:
    """Grouped horizontal bars: one group per row label, one bar per series."""
    width, bar_h, gap = 900, 16, 14
    names = list(series)
    height = 60 + len(groups) * (len(names) * bar_h + gap) + 30 + 18 * len(names)
    values = [v for vs in series.values() for v in vs if v == v]
    top = max(values) if values else 1.0
    low = floor if floor is not None else 0.0
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    d.text((10, 10), title, fill="black")
    left, right = 150, width - 90
    y = 40
    for gi, group in enumerate(groups):
        d.text((10, y + 2), group, fill="black")
        for si, name in enumerate(names):
            v = series[name][gi]
            if v == v:  # not NaN
                x = left + (right - left) * max(0.0, (v - low)) / max(1e-9, top - low)
                d.rectangle([left, y, x, y + bar_h - 3], fill=_COLOURS[si % len(_COLOURS)])
                d.text((x + 4, y + 1), f"{v:.2f} {unit}", fill="black")
            y += bar_h
        y += gap
    for si, name in enumerate(names):
        d.rectangle([left, y + 4 + 18 * si, left + 12, y + 14 + 18 * si], fill=_COLOURS[si % len(_COLOURS)])
        d.text((left + 18, y + 3 + 18 * si), name, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path
