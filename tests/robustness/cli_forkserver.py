"""Runs many `imagestudio ...` command lines fast: imports the CLI once, then forks one child process per command.

    python cli_forkserver.py JOBS.json RESULTS.json

JOBS.json is a list of argument lists. Each child is a real process with its own stdout, stderr and exit status:
it runs `imagestudio.__main__.main(args)` exactly as `python -m imagestudio` does, and an exception that escapes is
printed by `sys.excepthook` ("Traceback ...", exit 1), as the interpreter would. Only the interpreter start-up and
the imports (~0.5 s of CPU each) are shared, which keeps a corpus of ~75 command lines quick on a 2-core CI machine.
A child that runs past its timeout is killed and reported with code None. POSIX only (os.fork).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import imagestudio.__main__ as entry
import imagestudio.cli

imagestudio.cli.build_parser()  # imports the sub-command modules (batch, generate) once, before forking

TIMEOUT_S = 60
PARALLEL = max(2, os.cpu_count() or 1)


def _child(args: list[str], stdout: Path, stderr: Path) -> None:
    out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(err, 2)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["imagestudio", *args]
    try:
        code = entry.main(args)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        sys.excepthook(*sys.exc_info())
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_all(jobs: list[list[str]], scratch: Path) -> list[dict[str, object]]:
    results: list[dict[str, object]] = [{} for _ in jobs]
    running: dict[int, tuple[int, float]] = {}  # pid -> (job index, start time)
    queue = list(enumerate(jobs))
    while queue or running:
        while queue and len(running) < PARALLEL:
            index, args = queue.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(args, scratch / f"{index}.out", scratch / f"{index}.err")
            running[pid] = (index, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for other, (index, started) in list(running.items()):
                if time.monotonic() - started > TIMEOUT_S:
                    os.kill(other, signal.SIGKILL)
            time.sleep(0.01)
            continue
        index, started = running.pop(pid)
        timed_out = time.monotonic() - started > TIMEOUT_S
        results[index] = {
            "code": None if timed_out else os.waitstatus_to_exitcode(status),
            "stdout": (scratch / f"{index}.out").read_text(encoding="utf-8", errors="replace"),
            "stderr": (scratch / f"{index}.err").read_text(encoding="utf-8", errors="replace"),
        }
    return results


def main(argv: list[str]) -> int:
    jobs = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="cli-forkserver-") as scratch:
        results = run_all(jobs, Path(scratch))
    Path(argv[1]).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
