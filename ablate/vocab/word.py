"""The base of the vocabulary's closed sets (directions, trial states, failure reasons)."""

from __future__ import annotations

import enum


class Word(str, enum.Enum):
    """A member of a closed set that is also its word: it compares and hashes equal to its value
    (a word read from YAML or CSV finds it in a set or dict), and JSON, CSV and f-strings write the
    value (``"maximize"``, ``"COMPLETE"``, ``"timeout"``), so the records and tables written before
    these sets had a type read the same. YAML's safe dumper does not know it: write ``str(member)``."""

    def __str__(self) -> str:
        return str(self.value)
