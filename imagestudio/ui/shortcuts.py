"""Key sequences for actions: the platform's standard keys plus our own, without duplicates.

An action given the same sequence twice makes Qt report it as ambiguous and not fire, and some platforms have no
standard binding at all (Quit and Preferences on Linux), so every action goes through `sequences`.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

Key = str | QKeySequence.StandardKey


def sequences(*keys: Key) -> list[QKeySequence]:
    result: list[QKeySequence] = []
    for key in keys:
        candidates = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
        for sequence in candidates:
            if not sequence.isEmpty() and sequence not in result:
                result.append(sequence)
    return result
