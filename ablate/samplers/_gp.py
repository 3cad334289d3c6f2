from __future__ import annotations

from typing import TYPE_CHECKING

from ablate.samplers._base import AnySpace, startup_trials
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class GP(AnySpace):
    """Gaussian-process Bayesian optimization (needs torch and scipy): sample-efficient on small
    continuous spaces, but its cost grows with the cube of the trials, so for budgets up to ~100."""

    # A GP per constraint; the acquisition (constrained log EI, or EHVI) weighs the chance of feasibility.
    uses_constraints = True

    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=startup_trials(n_trials), warn_independent_sampling=False
        )
