"""Typed search-space knobs and how they become Optuna suggestions.

A space is a tuple of knobs in params-file order. Knobs are plain frozen dataclasses so they
pickle, print and compare; only :func:`suggest_params` and :func:`grid_of` know about Optuna.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

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


@dataclass(frozen=True)
class IntParam:
    """An integer knob on ``[low, high]`` (both inclusive), optionally log-scaled or stepped."""

    name: str
    low: int
    high: int
    log: bool = False
    step: int = 1
    kind: str = "int"


@dataclass(frozen=True)
class CategoricalParam:
    """A knob that takes one of ``choices``."""

    name: str
    choices: tuple[Scalar, ...]
    kind: str = "categorical"
    log: bool = False


Param = FloatParam | IntParam | CategoricalParam
Space = tuple[Param, ...]


def suggest_params(trial: optuna.trial.BaseTrial, space: Space) -> dict[str, Any]:
    """Ask ``trial`` for a value of every knob, in order, and return them by name."""
    params: dict[str, Any] = {}
    for p in space:
        if isinstance(p, FloatParam):
            params[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, IntParam):
            params[p.name] = trial.suggest_int(p.name, p.low, p.high, log=p.log, step=p.step)
        else:
            params[p.name] = trial.suggest_categorical(p.name, list(p.choices))
    return params


def grid_values(p: Param) -> list[Scalar]:
    """The finite list of values a knob takes in a grid search.

    Raises:
        ValueError: a float knob has no ``step`` (a continuous range has no grid).
    """
    if isinstance(p, CategoricalParam):
        return list(p.choices)
    if isinstance(p, IntParam):
        return list(range(p.low, p.high + 1, p.step))
    if p.step is None:
        raise ValueError("a float knob needs a step to be searched on a grid")
    n = int(math.floor((p.high - p.low) / p.step + 1e-9)) + 1
    # Round to the step's precision so 0.1 + 2 * 0.1 prints as 0.3 in reports and cache keys.
    digits = max(0, -int(math.floor(math.log10(p.step))) + 6)
    return [round(p.low + i * p.step, digits) for i in range(n)]


def grid_of(space: Space) -> dict[str, list[Scalar]]:
    """The grid as Optuna's ``GridSampler`` wants it: every knob's values by name."""
    return {p.name: grid_values(p) for p in space}


def grid_size(space: Space) -> int:
    """How many distinct configurations a grid over ``space`` has."""
    return math.prod(len(grid_values(p)) for p in space)


def iter_grid(space: Space) -> list[dict[str, Scalar]]:
    """Every configuration of the grid, in a stable order (for tests and ablation plans)."""
    names = [p.name for p in space]
    return [dict(zip(names, combo)) for combo in product(*(grid_values(p) for p in space))]
