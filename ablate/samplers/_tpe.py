from __future__ import annotations

import optuna

from ablate import space as sp
from ablate.samplers._base import AnySpace, startup_trials


class TPE(AnySpace):
    """Multivariate TPE with a constant liar: trials run in parallel, so a running trial counts
    as a poor result and the next ask looks elsewhere."""

    # Optuna 5.0 TPE reads trial.constraints: an infeasible trial joins the poor group, ranked by violation.
    uses_constraints = True

    def make(self, space: sp.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=startup_trials(n_trials), multivariate=True, constant_liar=True
        )
