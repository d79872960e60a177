"""The load monitor tells the benchmark's own processes from everyone else's."""

from __future__ import annotations

import os

from machine_load import OtherLoad, _snapshot, _tree


def test_own_tree_holds_this_process_and_its_children() -> None:
    snapshot = {1: (0, 0.0, "init"), 10: (1, 0.0, "bench"), 11: (10, 0.0, "worker"), 12: (11, 0.0, "grandchild"),
                20: (1, 0.0, "other")}
    assert _tree(snapshot, 10) == {10, 11, 12}


def test_this_process_is_in_its_own_snapshot() -> None:
    assert os.getpid() in _snapshot()


def test_note_says_idle_or_loaded() -> None:
    with OtherLoad(interval_s=0.05) as load:
        pass
    assert load.note().startswith(("The machine was otherwise idle", "**The machine was loaded**"))
