"""What a search space is: typed knobs in params-file order.

Knobs are plain frozen dataclasses so they pickle, print and compare. A knob with a ``when``
(:class:`~ablate.vocab.conditions.Condition`) exists only when it holds on the knobs before it. What is
done with a space (Optuna's suggestions, a grid, whether a knob takes a value) is
:mod:`ablate.space`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from ablate.vocab.conditions import Condition

Scalar = None | bool | int | float | str


@dataclass(frozen=True)
class FloatParam:
    """A real-valued knob on ``[low, high]``, optionally log-scaled or stepped."""

    name: str
    low: float
    high: float
    log: bool = False
    step: float | None = None
    kind: str = "float"
    when: Condition | None = None  # None: always searched


@dataclass(frozen=True)
class IntParam:
    """An integer knob on ``[low, high]`` (both inclusive), optionally log-scaled or stepped."""

    name: str
    low: int
    high: int
    log: bool = False
    step: int = 1
    kind: str = "int"
    when: Condition | None = None


@dataclass(frozen=True)
class CategoricalParam:
    """A knob that takes one of ``choices``."""

    name: str
    choices: tuple[Scalar, ...]
    kind: str = "categorical"
    log: bool = False
    when: Condition | None = None


Param = FloatParam | IntParam | CategoricalParam
Space = tuple[Param, ...]
