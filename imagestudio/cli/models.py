"""`imagestudio models [list|add FILE.onnx]`: the installed models with the provider each would run on."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagestudio.cli.console import NoticeHandler
from imagestudio.cli.options import UsageError, path_text
from imagestudio.cli.runtime_options import add_runtime_options
from imagestudio.core.errors import ImageStudioError
from imagestudio.core.models import (
    ModelCard,
    bundled_models_dir,
    describe_task,
    install_model,
    list_models,
    user_models_dir,
)
from imagestudio.core.runtime import DEVICES, get_session


def register(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="list installed models, or add one")
    models.add_argument("action", nargs="?", choices=("list", "add"), default="list")
    models.add_argument("file", nargs="?", metavar="FILE", type=path_text, help="the .onnx file to add")
    models.add_argument("--device", choices=DEVICES, default="auto", help="device to report providers for")
    add_runtime_options(models)
    models.set_defaults(handler=run)


def run(args: argparse.Namespace, notices: NoticeHandler) -> int:
    if args.action == "add":
        if not args.file:
            raise UsageError("models add needs the .onnx FILE to add")
        card = install_model(Path(args.file))
        print(f"installed {card.summary()} as {card.path}")
        return 0
    cards = list_models()
    if not cards:
        print("no models installed — add one with: imagestudio models add FILE.onnx")
    else:
        rows = [("NAME", "TASK", "SCALE", "PROVIDER", "SOURCE")]
        rows += [(c.name, describe_task(c.task), f"×{c.scale}", _provider_for(c, args.device), c.source) for c in cards]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"\nbundled models: {bundled_models_dir()}\nuser models:    {user_models_dir()}")
    return 0


def _provider_for(card: ModelCard, device: str) -> str:
    try:
        session = get_session(card.path, device)
        return session.provider + ("" if session.backend == "onnxruntime" and session.precision == "fp32"
                                   else f" ({session.precision})")
    except ImageStudioError as exc:
        return f"unusable ({exc})"
