"""One command for a session that is lent the GPU machine: train the realistic ×4 and ×2 and bring the weights back.

    # here, once:   python -m training.pack_patches           (data/packed/sr-patches.npz, ≤ 60 MiB)
    # device tool:  run(command="PYTHONUNBUFFERED=1 python3 -m training.gpu_job --out $OUT --minutes 8",
    #                   carry=["data/packed/sr-patches.npz"], timeout_s=590)
    # back here:    python -m training export --config upscale-x4-real.toml --checkpoint <files_at>/upscale-x4-real.pt
    #               (and the same for upscale-x2-real)

On the H200 it uses CUDA, bf16 autocast and channels_last with large batches; ×4 gets 5/8 of the minutes and ×2
the rest. Each model starts from its shipped .onnx when there is one, so GPU sessions add up. It writes
`<name>.pt` checkpoints (the EMA generator, what `training export` reads) and a log to --out; export with the
app's own validation happens back here, where the app's dependencies are installed. `--dry-run` runs a few CPU
steps on generated data: what CI runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

from training import loop
from training.config import dry_run_config, load_config
from training.pack_patches import DEFAULT_OUT as DEFAULT_PATCHES

JOBS = (("upscale-x4-real.toml", 5 / 8), ("upscale-x2-real.toml", 3 / 8))
GPU_BATCH = {4: 64, 2: 96}


def run(out: Path, minutes: float, patches: Path, dry_run: bool) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for config_name, share in JOBS:
        config = load_config(config_name, [])
        train = config["train"]
        cuda = torch.cuda.is_available()
        scale = int(config["model"]["scale"])
        train.update(time_budget_min=minutes * share, packed_patches=str(patches))
        if cuda:
            train.update(batch=GPU_BATCH[scale], gan_start=1500, gan_ramp=500, ckpt_every=500, log_every=100)
        config["run_dir"] = str(out / f"run-{config['name']}")
        if dry_run:
            config = dry_run_config(config)
            config["run_dir"] = str(out / f"run-{config['name']}")
        started = time.time()
        loop.train(config, resume=False)
        last = Path(config["run_dir"]) / "last.pt"
        shutil.copy(last, out / f"{config['name']}.pt")
        steps = int(torch.load(last, map_location="cpu", weights_only=True)["step"])
        results.append({"model": config["name"], "steps": steps, "minutes": round((time.time() - started) / 60, 2),
                        "device": "cuda" if cuda else "cpu", "batch": config["train"]["batch"]})
        shutil.rmtree(config["run_dir"], ignore_errors=True)  # 8 files come back: keep only what is needed
        print(json.dumps(results[-1]), flush=True)
    (out / "gpu_job.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--patches", type=Path, default=DEFAULT_PATCHES)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    if not args.dry_run and not args.patches.is_file():
        print(f"{args.patches} not found: run python -m training.pack_patches first", file=sys.stderr)
        return 2
    run(args.out, args.minutes, args.patches, args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
