from __future__ import annotations

from typing import TYPE_CHECKING

from ablate.samplers._base import AnySpace
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class NSGA2(AnySpace):
    """The NSGA-II genetic algorithm; its generations are a fifth of the budget (4 to 50 trials)."""

    # Constrained domination: a feasible trial beats an infeasible one, infeasible ones by total violation.
    uses_constraints = True

    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, n_trials // 5)))
