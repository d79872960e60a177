"""`python -m training <task> --config training/configs/<model>.toml` trains; `python -m training export ...` exports.

Every task takes `--dry-run` (a few iterations on tiny generated data, no checkpoint) so CI can smoke-test it.
"""

from __future__ import annotations

import argparse
import sys

import torch

from training.config import dry_run_config, load_config
from training.loop import train
from training.registry import TASKS, UnknownNameError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for task in TASKS.names():
        p = sub.add_parser(task, help=f"train a {task} model")
        p.add_argument("--config", required=True, help="TOML file (path, or a name in training/configs/)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
        p.add_argument("--dry-run", action="store_true", help="a few iterations on tiny generated data")
        p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint instead of resuming")
    e = sub.add_parser("export", help="export a trained model to resources/models/<name>.onnx with its model card")
    e.add_argument("--config", required=True)
    e.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    e.add_argument("--checkpoint", help="default: runs/<name>/last.pt")
    e.add_argument("--out", help="output .onnx path (default: resources/models/<name>.onnx)")
    e.add_argument("--no-bench", action="store_true", help="skip measuring metrics on ../shared/bench")
    args = parser.parse_args(argv)

    config = load_config(args.config, args.set)
    torch.set_num_threads(int(config.get("train", {}).get("threads", torch.get_num_threads())))
    try:
        task = TASKS.get(str(config.get("task")))
    except UnknownNameError as exc:
        parser.error(f"{args.config}: {exc}")
    if args.command == "export" and task.export_kind != "image":
        from training.export_generative import export_from_config as export_generative

        paths = export_generative(config, args.checkpoint, args.out, measure=not args.no_bench)
        print("exported " + ", ".join(str(p) for p in paths))
        return 0
    if args.command == "export":
        from training.export import export_from_config

        path = export_from_config(config, args.checkpoint, args.out, measure=not args.no_bench)
        print(f"exported {path}")
        return 0
    if config.get("task") != args.command:
        parser.error(f"{args.config} is a {config.get('task')!r} config, not {args.command!r}")
    if args.dry_run:
        config = dry_run_config(config)
    train(config, resume=not args.fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
