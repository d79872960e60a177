"""Entry point of the frozen app: the same dispatch as `python -m imagestudio` (a CLI subcommand, else the GUI)."""

import sys

from imagestudio.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
