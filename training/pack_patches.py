"""Pack training patches into one file small enough to travel to the GPU machine (≤ 60 MiB, the device tool's
working tree holds 64 MiB): HR crops from the training photos, texture-biased, stored losslessly (zlib .npz).

    python -m training.pack_patches [--out data/packed/sr-patches.npz] [--size 192] [--limit-mib 60]
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from training.data.photos import PatchSampler
from training.data.sources import DEFAULT_DATA_DIR
from training.tasks.common import photo_pools

DEFAULT_OUT = DEFAULT_DATA_DIR / "packed" / "sr-patches.npz"


def _packed_size(patches: np.ndarray) -> int:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, patches=patches)
    return buffer.tell()


def pack(out: Path, size: int, limit_mib: float, seed: int = 0, photos: list[np.ndarray] | None = None) -> int:
    """Writes as many patches as fit under `limit_mib`; returns the count."""
    sampler = PatchSampler(photos if photos is not None else photo_pools({"train": {}})[0], size, seed=seed,
                           texture_bias=0.5)
    chunk = np.stack(sampler.batch(64))
    per_patch = _packed_size(chunk) / len(chunk)
    count = max(1, int(limit_mib * 2**20 * 0.97 / per_patch))
    patches = np.concatenate([chunk, np.stack(sampler.batch(count - len(chunk)))]) if count > len(chunk) else chunk
    while _packed_size(patches) > limit_mib * 2**20:
        patches = patches[: int(len(patches) * 0.95)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, patches=patches)
    tmp.replace(out)
    return len(patches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--limit-mib", type=float, default=60.0)
    args = parser.parse_args(argv)
    count = pack(args.out, args.size, args.limit_mib)
    print(f"packed {count} patches of {args.size}² into {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
