"""The base of the vocabulary's closed sets (directions, trial states, failure reasons)."""

from __future__ import annotations

import enum


class Word(str, enum.Enum):
    """A member of a closed set that is also its word: it compares and hashes equal to its value,
    and JSON, CSV, YAML readers and f-strings see the value (``"maximize"``, ``"COMPLETE"``,
    ``"timeout"``), so the records and tables written before these sets had a type read the same."""

    def __str__(self) -> str:
        return str(self.value)
