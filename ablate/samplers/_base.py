"""What every sampler of the registry provides: a check of the space it is asked to serve, and
the Optuna sampler itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class Problem(NamedTuple):
    """Why a sampler cannot serve a space: the key under ``search`` to name, the rule, what was got."""

    key: str
    rule: str
    got: Any


class Sampler(Protocol):
    # Whether it searches several objectives at once (a Pareto front), and whether it models
    # outcome constraints (it reads each trial's constraint values, Optuna's trial.constraints).
    # A sampler that does not model them still gets feasibility recorded and the front taken
    # among feasible trials; it just keeps proposing where the constraints fail.
    multi_objective: bool
    uses_constraints: bool

    def check(self, space: knobs.Space, n_trials: int) -> Problem | None:
        """None when the sampler can search ``space`` with ``n_trials``, else what is wrong."""
        ...

    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        """The Optuna sampler, seeded."""
        ...


class AnySpace:
    """A sampler that serves every space ablate can declare, with one objective or several."""

    multi_objective = True
    uses_constraints = False

    def check(self, space: knobs.Space, n_trials: int) -> Problem | None:
        return None


def numeric(space: knobs.Space) -> list[knobs.Param]:
    return [p for p in space if not isinstance(p, knobs.CategoricalParam)]


def startup_trials(n_trials: int) -> int:
    """Random trials before a model-based sampler starts modelling: a third of a small budget, at most 10."""
    return max(1, min(10, n_trials // 3))
