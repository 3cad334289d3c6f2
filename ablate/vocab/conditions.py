"""When a knob exists: conditions on the knobs declared before it.

A conditional knob is searched only when its condition holds on the values the trial has taken
so far (the space is suggested in order). In a params file, ``when`` maps earlier knobs to what
they must take, and every entry must hold:

    momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}          # equal to
    nesterov: {type: categorical, choices: [false, true], when: {optimizer: [sgd]}}  # one of
    residual: {type: categorical, choices: [false, true], when: {hidden_layers: {">=": 2}}}

A clause on a knob that is itself absent (inactive) is false: a knob conditioned on an absent
knob is absent too. Reading and checking ``when`` is :mod:`ablate.config.search`'s job; this
module only says what a condition is and whether it holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

Scalar = None | bool | int | float | str

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
COMPARISONS = ("<", "<=", ">", ">=")  # between numbers only
MEMBERSHIP = ("in", "not in")  # the value is a tuple of scalars


@dataclass(frozen=True)
class Clause:
    """``knob op value``, e.g. ``hidden_layers >= 3`` or ``optimizer in (sgd, adamw)``."""

    knob: str
    op: str
    value: Scalar | tuple[Scalar, ...]

    def test(self, got: Any) -> bool:
        """Whether a value of ``knob`` passes this clause."""
        if self.op == "==":
            return same(got, self.value)
        if self.op == "!=":
            return not same(got, self.value)
        if isinstance(self.value, tuple):  # `in` and `not in` take a list of values
            inside = any(same(got, v) for v in self.value)
            return inside if self.op == "in" else not inside
        if not is_number(got) or not is_number(self.value):  # a string (a mixed categorical) is not ordered
            return False
        return _COMPARE[self.op](float(got), float(self.value))

    def describe(self) -> str:
        value = f"[{', '.join(map(str, self.value))}]" if isinstance(self.value, tuple) else str(self.value)
        return f"{self.knob} {self.op} {value}"


@dataclass(frozen=True)
class Condition:
    """Clauses that must all hold for a knob to exist."""

    clauses: tuple[Clause, ...]

    def holds(self, values: Mapping[str, Any]) -> bool:
        """On the knob values of a trial so far; a clause on an absent knob is false."""
        return all(c.knob in values and c.test(values[c.knob]) for c in self.clauses)

    @property
    def knobs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.knob for c in self.clauses))

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.clauses)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The canonical written form, ``{knob: {op: value}}``: what the fingerprint records and
        what reads back as the same condition."""
        out: dict[str, dict[str, Any]] = {}
        for c in self.clauses:
            out.setdefault(c.knob, {})[c.op] = list(c.value) if isinstance(c.value, tuple) else c.value
        return out


def same(a: Any, b: Any) -> bool:
    """Equality as a params file means it: ``true`` is not ``1``, ``3`` is ``3.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def is_number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
