"""Runs the `imagestudio` CLI in this process, then prints its own peak memory as JSON (for bench/measure.run_child).

    python bench/cli_peak.py upscale photo.jpg --scale 2 -o out.jpg

The CLI's exit status becomes this script's; the last stdout line is {"peak_rss": bytes, "exit": status}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import peak_rss_self  # noqa: E402

from imagestudio.cli import main  # noqa: E402

if __name__ == "__main__":
    status = main(sys.argv[1:])
    print(json.dumps({"peak_rss": peak_rss_self(), "exit": status}))
    sys.exit(status)
