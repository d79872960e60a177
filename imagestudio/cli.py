"""The headless face of ImageStudio: `imagestudio models|upscale|denoise|lowlight|enhance`.

No Qt here. A user's mistake (missing file, unknown model, a bad argument) is one line on stderr and exit code 2;
Ctrl-C stops between tiles, writes nothing and exits 130; SIGTERM (and SIGHUP) stop at once, remove the temporary
file of a save in progress and exit 143 (129). Running out of memory is a one-line message too, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import imagestudio
from imagestudio.core.errors import Cancelled, ImageSaveError, ImageStudioError, ImageTooLargeError
from imagestudio.core.file_names import name_problem
from imagestudio.core.image import DEFAULT_MAX_PIXELS, SUPPORTED_SUFFIXES, load_image, save_image
from imagestudio.core.models import (
    ModelCard,
    bundled_models_dir,
    describe_task,
    find_model,
    install_model,
    list_models,
    user_models_dir,
)
from imagestudio.core.ops import DenoiseParams, EnhanceParams, LowlightParams, OpParams, UpscaleParams
from imagestudio.core.ops._common import MAX_TILE
from imagestudio.core.pipeline import OPERATIONS
from imagestudio.core.models_ran import recording_models
from imagestudio.core.progress import CancelToken
from imagestudio.core.runtime import DEVICES, get_session, thread_count
from imagestudio.cli_runtime import add_runtime_options, apply_runtime_options, models_used

PROG = "imagestudio"
EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130  # the shell's convention for "stopped by SIGINT"
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived. A BaseException, like KeyboardInterrupt, so that no `except Exception` turns it
    into an ordinary error: it unwinds every `finally` (a save in progress removes its temporary file) up to main."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `imagestudio: <what is wrong> (see imagestudio <command> --help)`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{PROG}: {_one_line(message)} (see {self.prog} --help)\n")


class ProgressBar:
    """A plain-text bar on stderr: redrawn in place on a terminal, a line per tenth when piped to a log."""

    def __init__(self, label: str, stream: TextIO, enabled: bool = True) -> None:
        self.label, self.stream, self.enabled = label, stream, enabled
        self.live = enabled and stream.isatty()
        self._last_draw = 0.0
        self._last_tenth = -1
        self._drawn = False

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        percent = int(round(100 * min(max(fraction, 0.0), 1.0)))
        if self.live:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and fraction < 1.0:
                return
            self._last_draw = now
            filled = percent * 30 // 100
            line = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {message}"
            width = _terminal_width(self.stream)
            self.stream.write("\r" + line[: width - 1].ljust(width - 1))
            self._drawn = True
        elif percent // 10 > self._last_tenth:
            self._last_tenth = percent // 10
            self.stream.write(f"{self.label}: {percent}% {message}\n")
        self.stream.flush()

    def clear(self) -> None:
        """Ends the bar's line so that other output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 80


class _NoticeHandler(logging.Handler):
    """Shows the core's warnings (CUDA fallback, out-of-memory retries) as `imagestudio: ...` lines."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.WARNING)
        self.stream = stream
        self.bar: ProgressBar | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.bar is not None:
            self.bar.clear()
        self.stream.write(f"{PROG}: {_one_line(record.getMessage())}\n")
        self.stream.flush()


@contextmanager
def _cancel_on_sigint(token: CancelToken) -> Iterator[None]:
    """First Ctrl-C asks the work to stop at the next tile; a second one interrupts at once. SIGTERM and SIGHUP
    cancel the work and interrupt at once (raising Terminated), so that a save in progress cleans up after itself;
    the default action would kill the process and leave the save's temporary file behind."""

    def on_interrupt(signum: int, frame: object) -> None:
        token.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_terminate(signum: int, frame: object) -> None:
        token.cancel()
        raise Terminated(signum)

    previous = {signal.SIGINT: signal.signal(signal.SIGINT, on_interrupt)}
    for signum in _STOP_SIGNALS:
        previous[signum] = signal.signal(signum, on_terminate)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def default_output_path(input_path: Path, op: str) -> Path:
    """`<stem>_<op>.<ext>` next to the input."""
    return input_path.with_name(f"{input_path.stem}_{op}{input_path.suffix}")


def _check_output(input_path: Path, output: Path) -> None:
    """Refuses before the long work what the save would refuse after it."""
    if output.suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ImageSaveError(f"cannot write '{output}': unknown image type '{output.suffix}' (use one of {kinds})")
    if os.path.realpath(output) == os.path.realpath(input_path) or _same_file(output, input_path):
        raise ImageSaveError(f"refusing to write over the input '{input_path}'; choose another -o")
    if not os.path.isdir(output.parent):
        raise ImageSaveError(f"cannot write '{output}': folder '{output.parent}' does not exist")
    problem = name_problem(output)
    if problem is not None:
        raise ImageSaveError(f"cannot write {output.name}: {problem}; choose a shorter -o")
    if os.path.isdir(output):
        raise ImageSaveError(f"cannot write '{output}': it is a folder")


def _same_file(a: Path, b: Path) -> bool:
    """Also true for a hard link of the same file."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _run_operation(args: argparse.Namespace, notices: _NoticeHandler) -> int:
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
    token = CancelToken()
    with _cancel_on_sigint(token), recording_models() as ran:
        result = OPERATIONS[args.command].function(image, params, bar, token)
        del image  # the input's pixels are not needed for the save: a 24 MP photo frees 288 MB
        token.raise_if_cancelled()  # Ctrl-C during the last tile: still nothing written
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


def _models(args: argparse.Namespace) -> int:
    if args.action == "add":
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


def _add_run_options(parser: argparse.ArgumentParser, op: str) -> None:
    parser.add_argument("input", metavar="IN", type=path_text, help="image to read")
    parser.add_argument("-o", "--output", metavar="OUT", type=path_text,
                        help=f"file to write (default: <stem>_{op}.<ext> beside IN)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where models run (default: auto)")
    parser.add_argument("--tile", type=_tile, metavar="N", help="tile side in pixels (default: automatic)")
    add_runtime_options(parser)
    add_max_megapixels_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def add_max_megapixels_option(parser: argparse.ArgumentParser) -> None:
    default = DEFAULT_MAX_PIXELS / 1e6
    parser.add_argument("--max-megapixels", type=_megapixels, default=default, metavar="MP",
                        help=f"refuse larger images before decoding them (default: {default:g})")


def max_pixels(args: argparse.Namespace) -> int:
    return int(round(args.max_megapixels * 1e6))


def _megapixels(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and value < 1e6):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected a positive number of megapixels, not '{text}'")
    return value


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME|FILE.onnx", type=path_text,
                        help="installed model name or an .onnx file")


def path_text(text: str) -> str:
    """A file or folder name given on the command line: refuses '' (which would mean the current folder or a
    default) and names no file system can hold (a NUL byte)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name is not a file or folder; give one, or leave the option out")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a name with a NUL character cannot be a file name")
    return text


def _positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not '{text[:40]}'")
    return int(text)


def _tile(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_TILE:
        raise argparse.ArgumentTypeError(f"a tile is at most {MAX_TILE} pixels, not {value}")
    return value


def _strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, not '{text}'")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Enhance, upscale and denoise photos from the shell.")
    parser.add_argument("--version", action="version", version=f"{PROG} {imagestudio.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = commands.add_parser("models", help="list installed models, or add one")
    models.add_argument("action", nargs="?", choices=("list", "add"), default="list")
    models.add_argument("file", nargs="?", metavar="FILE", type=path_text, help="the .onnx file to add")
    models.add_argument("--device", choices=DEVICES, default="auto", help="device to report providers for")
    add_runtime_options(models)

    upscale = commands.add_parser("upscale", help="upscale ×2 or ×4 with a super-resolution model")
    _add_run_options(upscale, "upscale")
    upscale.add_argument("--scale", type=int, choices=(2, 4), help="2 or 4 (default: the model's, else 4)")
    _add_model_option(upscale)

    for name, what in (("denoise", "remove noise"), ("lowlight", "brighten an under-exposed photo")):
        command = commands.add_parser(name, help=what)
        _add_run_options(command, name)
        command.add_argument("--strength", type=_strength, default=1.0, help="0..1 (default: 1)")
        _add_model_option(command)

    enhance = commands.add_parser("enhance", help="one click: low-light if dark, denoise if noisy, upscale")
    _add_run_options(enhance, "enhance")
    enhance.add_argument("--scale", type=int, choices=(1, 2, 4), help="1 (no upscaling), 2 or 4 (default: 2)")

    from imagestudio import cli_batch, cli_generate  # here, not at the top: they import helpers from this module

    cli_generate.register(commands)
    cli_batch.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    notices = _NoticeHandler(sys.stderr)
    core_log = logging.getLogger("imagestudio")
    core_log.addHandler(notices)
    core_log.setLevel(logging.WARNING)
    core_log.propagate = False  # one line per notice, not a second copy from the root logger
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        thread_count()  # a garbage IMAGESTUDIO_THREADS is refused now, in one line, not per model later
        apply_runtime_options(args)  # --backend/--precision for every model this run makes a session for
        if args.command == "models":
            if args.action == "add" and not args.file:
                raise _UsageError("models add needs the .onnx FILE to add")
            return _models(args)
        if hasattr(args, "handler"):  # subcommands registered by their own modules (batch, generate)
            return args.handler(args, notices)
        return _run_operation(args, notices)
    except (Cancelled, KeyboardInterrupt):
        _finish_line(notices)
        print(f"{PROG}: cancelled, nothing written", file=sys.stderr)
        return EXIT_CANCELLED
    except Terminated as exc:
        _finish_line(notices)
        note = getattr(args, "terminated_note", None) or "nothing written"
        print(f"{PROG}: stopped by {exc.name}; {note}", file=sys.stderr)
        return 128 + exc.signum
    except (ImageStudioError, _UsageError) as exc:
        _finish_line(notices)
        too_large = isinstance(exc, ImageTooLargeError) and "limit" in str(exc)
        hint = " (raise it with --max-megapixels)" if too_large else ""
        print(f"{PROG}: {_one_line(exc)}{hint}", file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        # Whatever allocation failed (the core names the ones it expects): one line, as for any user error.
        _finish_line(notices)
        print(f"{PROG}: not enough memory for this image; nothing written (try a smaller image, a smaller --tile, "
              "or raise the memory limit)", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        # A path the user gave that the system refuses where no check named it first: still one line.
        _finish_line(notices)
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{PROG}: {_one_line(exc.strerror or exc)}{where}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        core_log.removeHandler(notices)


class _UsageError(Exception):
    pass


def _finish_line(notices: _NoticeHandler) -> None:
    if notices.bar is not None:
        notices.bar.clear()


def _one_line(exc: BaseException | str) -> str:
    """One line for the terminal: whitespace runs collapsed, other control characters (an escape sequence in a
    model's name, say) shown escaped, never sent to the terminal."""
    text = " ".join(str(exc).split()) or (type(exc).__name__ if isinstance(exc, BaseException) else "")
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


if __name__ == "__main__":
    sys.exit(main())
