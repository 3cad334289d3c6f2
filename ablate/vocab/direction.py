"""Which way an objective improves, and what follows from it: the one place that says what
``maximize`` and ``minimize`` mean (which of two values is better, the sign that turns a difference
into a gain, the word a table or figure uses)."""

from __future__ import annotations

from ablate.vocab.word import Word


class Direction(Word):
    """Which way an objective improves (``study.direction``; Optuna's own words)."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


DIRECTIONS = tuple(Direction)


def check_direction(value: object) -> Direction:
    """``value`` as a direction; a ValueError naming what it got otherwise."""
    if not isinstance(value, str) or value not in DIRECTIONS:
        raise ValueError(f"direction must be 'maximize' or 'minimize', but got {value!r}")
    return Direction(value)


def maximizes(direction: str) -> bool:
    """Whether higher values are better."""
    return check_direction(direction) is Direction.MAXIMIZE


def sign(direction: str) -> float:
    """+1 where higher is better, -1 where lower is: ``sign * (a - b)`` is the gain of a over b."""
    return 1.0 if maximizes(direction) else -1.0


def better(a: float, b: float, direction: str) -> bool:
    """Whether ``a`` is strictly better than ``b``."""
    return a > b if maximizes(direction) else a < b


def better_word(direction: str) -> str:
    """``higher`` or ``lower``: which values are better, for a caption or a table's note."""
    return "higher" if maximizes(direction) else "lower"
