"""`python -m imagestudio.cli`: the command line alone (the `imagestudio` command also opens the app)."""

import sys

from imagestudio.cli import main

sys.exit(main())
