from __future__ import annotations

from typing import TYPE_CHECKING

from ablate.samplers._base import Problem, numeric
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class CmaEs:
    """CMA-ES (the ``cmaes`` package) over the numeric knobs; categorical ones are sampled at
    random beside it, so a space of categorical knobs only leaves it nothing to do."""

    multi_objective = False  # Optuna's CmaEsSampler raises on a multi-objective study
    uses_constraints = False  # it warns once that it ignores them

    def check(self, space: knobs.Space, n_trials: int) -> Problem | None:
        if not numeric(space):
            names = ", ".join(p.name for p in space)
            return Problem(
                "sampler", f"must not be cmaes for a space of categorical knobs only ({names}); use tpe", "cmaes"
            )
        return None

    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
