"""The headless face of ImageStudio: `imagestudio models|upscale|denoise|lowlight|enhance|generate|batch`.

No Qt here. A user's mistake (missing file, unknown model, a bad argument) is one line on stderr and exit code 2;
Ctrl-C stops between tiles, writes nothing and exits 130; SIGTERM (and SIGHUP) stop at once, remove the temporary
file of a save in progress and exit 143 (129). Running out of memory is a one-line message too, never a traceback.

One module per command group registers its sub-commands (`COMMANDS`, in the order `--help` lists them) and sets
the handler each runs; `console` holds the terminal side (progress, notices, signals), `options` the shared
argument types. Nothing here imports this package back.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

import imagestudio
from imagestudio.cli import batch, generate, models, operations
from imagestudio.cli.console import EXIT_CANCELLED, EXIT_USER_ERROR, PROG, NoticeHandler, Terminated, one_line
from imagestudio.cli.options import Parser, UsageError
from imagestudio.cli.runtime_options import apply_runtime_options
from imagestudio.core.errors import Cancelled, ImageStudioError, ImageTooLargeError
from imagestudio.core.runtime import thread_count

# Each adds its sub-commands to the parser, with `handler(args, notices) -> exit code` as their default.
COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    models.register,  # models
    operations.register,  # upscale, denoise, lowlight, enhance
    generate.register,  # generate
    batch.register,  # batch
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Enhance, upscale and denoise photos from the shell.")
    parser.add_argument("--version", action="version", version=f"{PROG} {imagestudio.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    notices = NoticeHandler(sys.stderr)
    core_log = logging.getLogger("imagestudio")
    core_log.addHandler(notices)
    core_log.setLevel(logging.WARNING)
    core_log.propagate = False  # one line per notice, not a second copy from the root logger
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        thread_count()  # a garbage IMAGESTUDIO_THREADS is refused now, in one line, not per model later
        apply_runtime_options(args)  # --backend/--precision for every model this run makes a session for
        return args.handler(args, notices)
    except (Cancelled, KeyboardInterrupt):
        notices.finish_line()
        print(f"{PROG}: cancelled, nothing written", file=sys.stderr)
        return EXIT_CANCELLED
    except Terminated as exc:
        notices.finish_line()
        note = getattr(args, "terminated_note", None) or "nothing written"
        print(f"{PROG}: stopped by {exc.name}; {note}", file=sys.stderr)
        return 128 + exc.signum
    except (ImageStudioError, UsageError) as exc:
        notices.finish_line()
        too_large = isinstance(exc, ImageTooLargeError) and "limit" in str(exc)
        hint = " (raise it with --max-megapixels)" if too_large else ""
        print(f"{PROG}: {one_line(exc)}{hint}", file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        # Whatever allocation failed (the core names the ones it expects): one line, as for any user error.
        notices.finish_line()
        print(f"{PROG}: not enough memory for this image; nothing written (try a smaller image, a smaller --tile, "
              "or raise the memory limit)", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        # A path the user gave that the system refuses where no check named it first: still one line.
        notices.finish_line()
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{PROG}: {one_line(exc.strerror or exc)}{where}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        core_log.removeHandler(notices)
