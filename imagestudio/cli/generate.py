"""`imagestudio generate`: new images from the GAN, a blend strip between two images or seeds, or variations.

    imagestudio generate -n 16 --seed 7 -o outdir/          seed-7.png ... seed-22.png
    imagestudio generate --blend A.png B.png --steps 8      blend-00.png ... blend-07.png (through the VAE)
    imagestudio generate --blend 7 12                       the same between two GAN seeds (exact latents)
    imagestudio generate --vary photo.png -n 8 --strength 0.3

Registered into the CLI's parser by `register`; no Qt. A file name names its seed, so any image can be made again.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from imagestudio.cli.console import NoticeHandler, ProgressBar, cancel_on_sigint
from imagestudio.cli.options import path_text, same_file, strength
from imagestudio.cli.runtime_options import add_runtime_options
from imagestudio.core.errors import ImageSaveError
from imagestudio.core.file_names import name_problem
from imagestudio.core.image import Image, load_image, save_image
from imagestudio.core.ops.generate import MAX_IMAGES, generate, interpolate, variations
from imagestudio.core.progress import Task
from imagestudio.core.runtime import DEVICES, expected_provider


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate", help="new images from the GAN, blends and variations",
        description="Generate images with the bundled GAN (default), blend two images or seeds (--blend), or make "
                    "variations of a photo through the VAE (--vary).")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--blend", nargs=2, metavar=("A", "B"), type=path_text,
                      help="two image files (through the VAE) or two GAN seeds (whole numbers)")
    mode.add_argument("--vary", metavar="IMAGE", type=path_text, help="variations of this image (through the VAE)")
    parser.add_argument("-n", "--count", type=_count, default=16, help="images to make (default: 16)")
    parser.add_argument("--seed", type=_seed, default=0, help="first seed (default: 0)")
    parser.add_argument("--steps", type=_steps, default=8, help="frames of a blend, both ends included (default: 8)")
    parser.add_argument("--strength", type=strength, default=0.3,
                        help="how far variations move from the image, 0..1 (default: 0.3)")
    parser.add_argument("-o", "--output", default=".", metavar="OUTDIR", type=path_text,
                        help="folder to write (default: .)")
    parser.add_argument("--model", metavar="NAME|FILE.onnx", type=path_text,
                        help="the generator (default: the installed GAN)")
    parser.add_argument("--encoder", metavar="NAME|FILE.onnx", type=path_text,
                        help="the VAE encoder (default: installed)")
    parser.add_argument("--decoder", metavar="NAME|FILE.onnx", type=path_text,
                        help="the VAE decoder (default: the encoder's pair)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where models run (default: auto)")
    add_runtime_options(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace files of the same name")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=run)


def _whole(text: str, low: int, what: str, high: int = MAX_IMAGES) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not low <= int(text) <= high:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number from {low} to {high}, not '{text[:40]}'")
    return int(text)


def _count(text: str) -> int:
    return _whole(text, 1, "the count")


def _seed(text: str) -> int:
    return _whole(text, 0, "the seed", 2**62)


def _steps(text: str) -> int:
    return _whole(text, 2, "the number of steps")


def _seed_or_image(text: str) -> int | Image:
    """A whole number that is not also a file name is a GAN seed; anything else is an image to load."""
    if _is_seed(text):
        return int(text)
    return load_image(Path(text))


def _is_seed(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18 and not os.path.lexists(text)


def _check_targets(args: argparse.Namespace, targets: list[Path]) -> None:
    """Before any work: every name fits the file system, and none is (or links to) an input of this run, which
    --overwrite would otherwise replace."""
    for target in targets:
        problem = name_problem(target)
        if problem is not None:
            raise ImageSaveError(f"cannot write {target.name}: {problem}")
    inputs = [Path(text) for text in (args.blend or []) if not _is_seed(text)]
    inputs += [Path(args.vary)] if args.vary else []
    for source in inputs:
        for target in targets:
            if os.path.realpath(target) == os.path.realpath(source) or same_file(target, source):
                raise ImageSaveError(f"{target} is an input of this run ({source}); choose another -o folder")


def _targets(args: argparse.Namespace, count: int) -> list[Path]:
    folder = Path(args.output)
    if args.blend:
        a, b = args.blend
        tag = f"blend-{a}-{b}-" if _is_seed(a) and _is_seed(b) else "blend-"
        names = [f"{tag}{i:02d}.png" for i in range(count)]
    elif args.vary:
        names = [f"{Path(args.vary).stem}-var-{args.seed + i}.png" for i in range(count)]
    else:
        names = [f"seed-{args.seed + i}.png" for i in range(count)]
    return [folder / name for name in names]


def run(args: argparse.Namespace, notices: NoticeHandler) -> int:
    count = args.steps if args.blend else args.count
    targets = _targets(args, count)
    _check_targets(args, targets)
    existing = [t for t in targets if os.path.lexists(t)]
    if existing and not args.overwrite:
        raise ImageSaveError(f"{existing[0]} exists ({len(existing)} of the {count} names are taken); "
                             "use --overwrite or another -o folder")
    folder = Path(args.output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageSaveError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    bar = ProgressBar("Generate", sys.stderr, enabled=not args.quiet)
    notices.bar = bar
    task = Task(bar)
    started = time.monotonic()
    vae = {"encoder": args.encoder, "decoder": args.decoder}
    with cancel_on_sigint(task):
        if args.blend:
            a, b = (_seed_or_image(text) for text in args.blend)
            images = interpolate(a, b, args.steps, model=args.model, **vae, device=args.device, task=task)
        elif args.vary:
            images = variations(load_image(Path(args.vary)), args.count, args.strength, seed=args.seed, **vae,
                                device=args.device, task=task)
        else:
            images = generate(args.count, args.seed, model=args.model, device=args.device, task=task)
        task.check()
        bar.clear()
        for image, target in zip(images, targets, strict=True):
            save_image(image, target)
    seconds = time.monotonic() - started
    span = targets[0].name if len(targets) == 1 else f"{targets[0].name} … {targets[-1].name}"
    print(f"wrote {len(targets)} image{'s' if len(targets) > 1 else ''} to {folder} ({span}) "
          f"on {expected_provider(args.device)} in {seconds:.1f} s")
    return 0
