"""What a study optimizes beyond one metric: outcome constraints (``study.constraints``).

A constraint bounds one metric a trial returns, as written in the params file:
``"train_time_s <= 2.0"`` or ``"val_accuracy >= 0.9"``. Its value for a trial follows Optuna's
convention (``optuna.trial.Trial.set_constraint``): at most 0 when the trial meets it, above 0 by
how much it misses. A trial is feasible when it meets every constraint; the samplers that model
constraints (TPE, NSGA-II, GP) read these values from the trial, and the Pareto front and the
best trial are taken among feasible trials only.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ablate.errors import ConfigError, InvalidMetricError, MissingObjectiveError

if TYPE_CHECKING:
    import optuna

OPERATORS = ("<=", ">=")
EXAMPLE = '"train_time_s <= 2.0"'

# METRIC OP NUMBER; the metric is any name without blanks or comparison signs, so that a
# mistyped operator ("<", "=<", "==") is not read as part of the name.
_CONSTRAINT = re.compile(r"\s*(?P<metric>[^\s<>=!]+)\s*(?P<op>=<|=>|[<>=!]=?)\s*(?P<bound>[^\s<>=!].*?)\s*")


class Objectives:
    """The objectives of a dataclass with ``metric``, ``direction``, ``other_metrics`` and
    ``other_directions`` fields (the study's config, the report's input): the first objective
    is what the single-objective parts read."""

    metric: str
    direction: str
    other_metrics: tuple[str, ...]
    other_directions: tuple[str, ...]

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every objective, in order."""
        return (self.metric, *self.other_metrics)

    @property
    def directions(self) -> tuple[str, ...]:
        return (self.direction, *self.other_directions)

    @property
    def multi_objective(self) -> bool:
        return bool(self.other_metrics)


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``: a metric a trial returns must be at most (``<=``) or at least
    (``>=``) ``bound``."""

    metric: str
    op: str  # "<=" | ">="
    bound: float

    @property
    def text(self) -> str:
        """As written in a params file, normalized: ``n_params <= 50000``."""
        bound = float(self.bound)
        shown = str(int(bound)) if bound.is_integer() and abs(bound) < 1e15 else repr(bound)
        return f"{self.metric} {self.op} {shown}"

    def value(self, metrics: Mapping[str, float]) -> float:
        """Optuna's constraint value: <= 0 when met, else by how much the metric misses it."""
        x = float(metrics[self.metric])
        return x - self.bound if self.op == "<=" else self.bound - x

    def met(self, metrics: Mapping[str, float]) -> bool:
        return self.value(metrics) <= 0.0


def parse_constraint(text: str) -> Constraint:
    """Read ``"METRIC <= NUMBER"`` or ``"METRIC >= NUMBER"``.

    Raises:
        ValueError: what must hold, e.g. ``must be METRIC <= NUMBER or METRIC >= NUMBER, e.g.
            "train_time_s <= 2.0"``, with the part that is wrong.
    """
    shape = f"must be METRIC <= NUMBER or METRIC >= NUMBER, e.g. {EXAMPLE}"
    match = _CONSTRAINT.fullmatch(text)
    if match is None:
        raise ValueError(shape)
    if match["op"] not in OPERATORS:
        raise ValueError(f"{shape} (the operator is <= or >=, not {match['op']})")
    try:
        bound = float(match["bound"])
    except ValueError:
        raise ValueError(f"{shape} (the bound {match['bound']!r} is not a number)") from None
    if not math.isfinite(bound):
        raise ValueError(f"{shape} (the bound must be a finite number, not {match['bound']})")
    return Constraint(match["metric"], match["op"], bound)


def describe_objectives(metrics: Sequence[str], directions: Sequence[str]) -> str:
    """``val_accuracy (maximize), n_params (minimize)``."""
    return ", ".join(f"{m} ({d})" for m, d in zip(metrics, directions))


def constraint_values(constraints: Sequence[Constraint], metrics: Mapping[str, float]) -> dict[str, float]:
    """Each constraint's value by its text, in order (what the study stores with the trial)."""
    return {c.text: c.value(metrics) for c in constraints}


def is_feasible(values: Mapping[str, float]) -> bool:
    """A trial meets every constraint when each value is at most 0 (Optuna's convention)."""
    return all(v <= 0.0 for v in values.values())


def check_constrained(
    metrics: Mapping[str, float], number: int, constraints: Sequence[Constraint], returned: set[str], source: str
) -> None:
    """Every constrained metric is among a trial's ``metrics``.

    Args:
        returned: metrics some earlier complete trial of the study returned.

    Raises:
        ConfigError: the trial lacks a constrained metric no earlier trial returned either: the
            params name a metric the trial function does not return (the study stops, exit 2).
        InvalidMetricError: it lacks one that earlier trials returned: this trial broke the
            contract (it fails, the study goes on).
    """
    for i, c in enumerate(constraints):
        if c.metric in metrics:
            continue
        names = ", ".join(sorted(metrics))
        if c.metric not in returned:
            raise ConfigError(
                source,
                f"study.constraints[{i}]",
                f"must bound a metric the trial function returns ({names}), but got {c.text!r} (trial {number} "
                f"returned no {c.metric}); correct it, then run again with --restart",
            )
        raise InvalidMetricError(
            f"trial {number}: study.constraints metric {c.metric!r} must be among the returned metrics ({names}), "
            "but got none"
        )


def check_objective_known(err: MissingObjectiveError, number: int, returned: set[str], source: str) -> None:
    """A trial without the study's objective: where no complete trial ever returned that metric
    either, the params name a metric the trial function does not return (``val_acc`` for
    ``val_accuracy``), and every further trial would fail the same way.

    Raises:
        ConfigError: the objective is unknown to the trial function: the study stops at this
            first result (exit 2), naming the metric asked for and the metrics returned.
    """
    if err.metric in returned:
        return  # this trial broke the contract; the study goes on
    names = ", ".join(err.returned)
    close = difflib.get_close_matches(err.metric, err.returned, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        source,
        "study.metric",
        f"must name a metric the trial function returns ({names}), but got {err.metric!r} (trial {number} "
        f"returned no {err.metric}{hint}); correct it, then run again with --restart",
    )


def returned_metrics(study: optuna.Study) -> set[str]:
    """The metrics the study's complete trials returned (as ablate records them)."""
    from optuna.trial import TrialState  # optuna only where a study is at hand: the config imports this module

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return {m for t in complete for m in t.user_attrs.get("metrics") or {}}
