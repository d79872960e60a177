"""`imagestudio upscale|denoise|lowlight|enhance IN [-o OUT]`: one photo through one operation of the core."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from imagestudio.cli.console import PROG, NoticeHandler, ProgressBar, cancel_on_sigint
from imagestudio.cli.options import add_model_option, add_run_options, max_pixels, path_text, same_file, strength
from imagestudio.cli.runtime_options import models_used
from imagestudio.core.errors import ImageSaveError
from imagestudio.core.file_names import name_problem
from imagestudio.core.image import SUPPORTED_SUFFIXES, load_image, save_image
from imagestudio.core.models import find_model
from imagestudio.core.models_ran import recording_models
from imagestudio.core.ops import DenoiseParams, EnhanceParams, LowlightParams, OpParams, UpscaleParams
from imagestudio.core.pipeline import OPERATIONS
from imagestudio.core.progress import Task


def register(commands: argparse._SubParsersAction) -> None:
    upscale = commands.add_parser("upscale", help="upscale ×2 or ×4 with a super-resolution model")
    add_run_options(upscale, "upscale")
    upscale.add_argument("--scale", type=int, choices=(2, 4), help="2 or 4 (default: the model's, else 4)")
    add_model_option(upscale)
    upscale.set_defaults(handler=run)

    for name, what in (("denoise", "remove noise"), ("lowlight", "brighten an under-exposed photo")):
        command = commands.add_parser(name, help=what)
        add_run_options(command, name)
        command.add_argument("--strength", type=strength, default=1.0, help="0..1 (default: 1)")
        add_model_option(command)
        command.set_defaults(handler=run)

    enhance = commands.add_parser("enhance", help="one click: low-light if dark, denoise if noisy, upscale")
    add_run_options(enhance, "enhance")
    enhance.add_argument("--scale", type=int, choices=(1, 2, 4), help="1 (no upscaling), 2 or 4 (default: 2)")
    enhance.set_defaults(handler=run)


def default_output_path(input_path: Path, op: str) -> Path:
    """`<stem>_<op>.<ext>` next to the input."""
    return input_path.with_name(f"{input_path.stem}_{op}{input_path.suffix}")


def _check_output(input_path: Path, output: Path) -> None:
    """Refuses before the long work what the save would refuse after it."""
    if output.suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ImageSaveError(f"cannot write '{output}': unknown image type '{output.suffix}' (use one of {kinds})")
    if os.path.realpath(output) == os.path.realpath(input_path) or same_file(output, input_path):
        raise ImageSaveError(f"refusing to write over the input '{input_path}'; choose another -o")
    if not os.path.isdir(output.parent):
        raise ImageSaveError(f"cannot write '{output}': folder '{output.parent}' does not exist")
    problem = name_problem(output)
    if problem is not None:
        raise ImageSaveError(f"cannot write {output.name}: {problem}; choose a shorter -o")
    if os.path.isdir(output):
        raise ImageSaveError(f"cannot write '{output}': it is a folder")


def run(args: argparse.Namespace, notices: NoticeHandler) -> int:
    input_path = Path(args.input)
    output = Path(args.output) if args.output is not None else default_output_path(input_path, args.command)
    _check_output(input_path, output)
    image = load_image(input_path, max_pixels=max_pixels(args))
    if image.meta.frame_count > 1:  # said, not silently dropped: the result is a still of frame 1
        print(f"{PROG}: {input_path.name} is animated ({image.meta.frame_count} frames); only the first frame is "
              "processed", file=sys.stderr)
    params = _params_for(args)
    started = time.monotonic()
    bar = ProgressBar(OPERATIONS[args.command].title, sys.stderr, enabled=not args.quiet)
    notices.bar = bar
    task = Task(bar)
    with cancel_on_sigint(task), recording_models() as ran:
        result = OPERATIONS[args.command].function(image, params, task)
        del image  # the input's pixels are not needed for the save: a 24 MP photo frees 288 MB
        task.check()  # Ctrl-C during the last tile: still nothing written
        bar.clear()
        written = save_image(result, output)
    seconds = time.monotonic() - started
    used = models_used(ran) or "no model (nothing needed doing)"
    print(f"wrote {written} ({result.width}×{result.height}) with {used} in {seconds:.1f} s")
    return 0


def _params_for(args: argparse.Namespace) -> OpParams:
    """The operation's parameters; each operation looks its model up before any heavy work."""
    if args.command == "upscale":
        scale = args.scale
        if scale is None:  # with an explicit model, its own scale; else the usual ×4
            scale = find_model(args.model).scale if args.model else 4
        return UpscaleParams(scale=scale, model=args.model, device=args.device, tile=args.tile)
    if args.command in ("denoise", "lowlight"):
        params_type = DenoiseParams if args.command == "denoise" else LowlightParams
        return params_type(strength=args.strength, model=args.model, device=args.device, tile=args.tile)
    scale = args.scale if args.scale is not None else 2
    return EnhanceParams(scale=scale, device=args.device, tile=args.tile)
