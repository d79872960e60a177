"""`imagestudio` and `python -m imagestudio`: a CLI subcommand runs headless, anything else opens the app.

Kept import-light: the CLI path must never load Qt, and the GUI path should not pay for argparse setup. Before the
GUI path imports Qt, imagestudio.startup sets a UTF-8 locale and checks that a display and every library of Qt's
platform plugin are there; if not, it names what is missing (and how to install it) and the app exits with 69.
`imagestudio --check-gui` runs that check alone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The contract's subcommands (`generate` and `batch` arrive with their own issues; the CLI names what it lacks).
CLI_COMMANDS = frozenset({"enhance", "upscale", "denoise", "lowlight", "generate", "batch", "models"})
CLI_FLAGS = frozenset({"-h", "--help", "--version"})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and (args[0] in CLI_COMMANDS or args[0] in CLI_FLAGS):
        from imagestudio.cli import main as cli_main

        return cli_main(args)
    from imagestudio import startup

    if args[:1] == ["--check-gui"]:
        return startup.report_gui_check(args[1:])
    refused = startup.prepare_gui(args)
    if refused is not None:
        return refused
    from imagestudio.ui.app import run  # nothing, or a file to open: the desktop app

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
