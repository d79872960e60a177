"""The CLI's argument parser, the value types its options share, and the checks on the paths a user gives."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from imagestudio.cli.console import EXIT_USER_ERROR, PROG, one_line
from imagestudio.cli.runtime_options import add_runtime_options
from imagestudio.core.image import DEFAULT_MAX_PIXELS
from imagestudio.core.ops._common import MAX_TILE
from imagestudio.core.runtime import DEVICES


class UsageError(Exception):
    """A command whose words are off in a way argparse cannot see (`models add` without a file)."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `imagestudio: <what is wrong> (see imagestudio <command> --help)`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{PROG}: {one_line(message)} (see {self.prog} --help)\n")


def add_run_options(parser: argparse.ArgumentParser, op: str) -> None:
    parser.add_argument("input", metavar="IN", type=path_text, help="image to read")
    parser.add_argument("-o", "--output", metavar="OUT", type=path_text,
                        help=f"file to write (default: <stem>_{op}.<ext> beside IN)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where models run (default: auto)")
    parser.add_argument("--tile", type=tile_side, metavar="N", help="tile side in pixels (default: automatic)")
    add_runtime_options(parser)
    add_max_megapixels_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def add_max_megapixels_option(parser: argparse.ArgumentParser) -> None:
    default = DEFAULT_MAX_PIXELS / 1e6
    parser.add_argument("--max-megapixels", type=megapixels, default=default, metavar="MP",
                        help=f"refuse larger images before decoding them (default: {default:g})")


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME|FILE.onnx", type=path_text,
                        help="installed model name or an .onnx file")


def max_pixels(args: argparse.Namespace) -> int:
    return int(round(args.max_megapixels * 1e6))


def megapixels(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and value < 1e6):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected a positive number of megapixels, not '{text}'")
    return value


def path_text(text: str) -> str:
    """A file or folder name given on the command line: refuses '' (which would mean the current folder or a
    default) and names no file system can hold (a NUL byte)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name is not a file or folder; give one, or leave the option out")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a name with a NUL character cannot be a file name")
    return text


def positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not '{text[:40]}'")
    return int(text)


def tile_side(text: str) -> int:
    value = positive_int(text)
    if value > MAX_TILE:
        raise argparse.ArgumentTypeError(f"a tile is at most {MAX_TILE} pixels, not {value}")
    return value


def strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not '{text}'")
    return value


def same_file(a: Path, b: Path) -> bool:
    """Also true for a hard link of the same file."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False
