"""How search-space knobs (:mod:`ablate.vocab.knobs`) become Optuna suggestions, grids, and
the checks and words of messages about a knob's values.

Only :func:`suggest_params` and :func:`grid_of` know about Optuna.
"""

from __future__ import annotations

import math
from itertools import product
from typing import TYPE_CHECKING, Any

from ablate.vocab.conditions import is_number, same
from ablate.vocab.knobs import CategoricalParam, FloatParam, IntParam, Param, Scalar, Space

if TYPE_CHECKING:
    import optuna


def suggest_params(trial: optuna.trial.BaseTrial, space: Space) -> dict[str, Any]:
    """Ask ``trial`` for a value of every active knob, in order, and return them by name: a knob
    whose condition does not hold on the values taken before it is not asked, and absent."""
    params: dict[str, Any] = {}
    for p in space:
        if p.when is not None and not p.when.holds(params):
            continue
        if isinstance(p, FloatParam):
            params[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, IntParam):
            params[p.name] = trial.suggest_int(p.name, p.low, p.high, log=p.log, step=p.step)
        else:
            params[p.name] = trial.suggest_categorical(p.name, list(p.choices))
    return params


def is_conditional(space: Space) -> bool:
    return any(p.when is not None for p in space)


def active_knobs(space: Space, values: dict[str, Any]) -> list[Param]:
    """The knobs that exist for a configuration ``values`` (each condition tested, in order, on
    the values of the active knobs before it)."""
    seen: dict[str, Any] = {}
    active = []
    for p in space:
        if p.when is None or p.when.holds(seen):
            active.append(p)
            if p.name in values:
                seen[p.name] = values[p.name]
    return active


def takes(p: Param, value: Any) -> bool:
    """Whether knob ``p`` can take ``value`` (a choice; a number in range, on its step)."""
    if isinstance(p, CategoricalParam):
        return any(same(value, c) for c in p.choices)
    if not is_number(value) or not p.low <= value <= p.high:
        return False
    if isinstance(p, IntParam):
        return float(value).is_integer() and (int(value) - p.low) % p.step == 0
    if p.step is None:
        return True
    k = (value - p.low) / p.step
    return abs(k - round(k)) < 1e-6


def describe_domain(p: Param) -> str:
    """What a knob takes, for messages: ``one of sgd, adam``, ``an integer in [1, 3]``."""
    if isinstance(p, CategoricalParam):
        return "one of " + ", ".join(map(str, p.choices))
    what = "an integer" if isinstance(p, IntParam) else "a number"
    step = f" in steps of {p.step} from {p.low}" if p.step not in (None, 1) else ""
    return f"{what} in [{p.low}, {p.high}]{step}"


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
