#!/usr/bin/env bash
# Render the application icon's PNG sizes from its SVG sources (needs rsvg-convert: apt-get install librsvg2-bin).
# The PNGs are committed, so neither the app nor the build needs a rasteriser; rerun this after editing an SVG.
set -euo pipefail
icons="$(cd "$(dirname "$0")/.." && pwd)/resources/icons"
mkdir -p "$icons/png"
for size in 16 24 32 48 64 128 256 512; do
    # Below 32 px the full mark (frame, arrow, sparkle) turns to mush: a simplified drawing is used there.
    if [ "$size" -lt 32 ]; then src="$icons/imagestudio-small.svg"; else src="$icons/imagestudio.svg"; fi
    rsvg-convert --width "$size" --height "$size" "$src" --output "$icons/png/imagestudio-$size.png"
done
ls -l "$icons/png"
