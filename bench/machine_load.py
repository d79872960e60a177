"""What else used the CPU while a benchmark ran: every page says so, because other work slows ours and the peers'.

A thread samples /proc/<pid>/stat once a second and adds up the CPU time of every process outside this one's own tree
(itself and its children: the rows it measures). A load average would not do: it counts the benchmark's own work,
so each script of the suite would see the previous one as "load".
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
IDLE_SHARE = 0.05  # below this share of all cores, other work is noise


def _snapshot() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds so far, command name)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text[text.rfind(")") + 2 :].split()
        out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, name)
    return out


def _tree(snapshot: dict[int, tuple[int, float, str]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in snapshot.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    return tree


def _command(pid: int, name: str) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [a.decode(errors="replace") for a in argv if a][:4]
        text = " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words))
        return " ".join(text.split())[:60] or name  # one line, short: it is quoted in a sentence
    except (OSError, IndexError):
        return name


class OtherLoad:
    """`with OtherLoad() as load: ...` then `load.note()`; `note()` may also be called while it runs."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval = interval_s
        self.cores = os.cpu_count() or 1
        self.other_seconds = 0.0
        self.peak_share = 0.0
        self.by_command: Counter[str] = Counter()
        self._started = self._last_time = 0.0
        self._last: dict[int, tuple[int, float, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> OtherLoad:
        self._started = self._last_time = time.monotonic()
        self._last = _snapshot()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        now_time, now = time.monotonic(), _snapshot()
        ours = _tree(now, os.getpid())
        spent = 0.0
        with self._lock:
            for pid, (_, cpu, name) in now.items():
                if pid in ours or pid not in self._last:
                    continue
                delta = cpu - self._last[pid][1]
                if delta > 0:
                    spent += delta
                    self.by_command[_command(pid, name)] += delta
            window = max(1e-6, now_time - self._last_time)
            self.other_seconds += spent
            self.peak_share = max(self.peak_share, spent / (window * self.cores))
            self._last, self._last_time = now, now_time

    @property
    def share(self) -> float:
        elapsed = max(1e-6, self._last_time - self._started)
        return self.other_seconds / (elapsed * self.cores)

    def note(self) -> str:
        with self._lock:
            share, peak = self.share, self.peak_share
            top = ", ".join(f"`{cmd}` {sec:.0f} CPU-s" for cmd, sec in self.by_command.most_common(2) if sec >= 1)
        if share < IDLE_SHARE:
            return (f"The machine was otherwise idle: other processes used {100 * share:.0f} % of its "
                    f"{self.cores} cores while this ran.")
        return (f"**The machine was loaded**: other processes used {100 * share:.0f} % of its {self.cores} cores "
                f"on average while this ran (up to {100 * min(1.0, peak):.0f} % in a second; mostly {top}), so "
                "absolute figures are slower than on an idle machine; ratios between rows measured alike hold "
                "better.")
