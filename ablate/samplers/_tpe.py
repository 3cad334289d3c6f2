from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ablate import space as sp
from ablate.samplers._base import AnySpace, startup_trials
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class TPE(AnySpace):
    """Multivariate TPE with a constant liar: trials run in parallel, so a running trial counts
    as a poor result and the next ask looks elsewhere.

    On a conditional space it also decomposes the space into the groups of knobs that occur
    together (``group=True``), and models each group jointly. Without it multivariate TPE
    models only the knobs every trial has (the intersection), and draws each conditional knob
    alone, with a warning per draw (``bench/bench_conditional.py`` measures the difference)."""

    # Optuna 5.0 TPE reads trial.constraints: an infeasible trial joins the poor group, ranked by violation.
    uses_constraints = True

    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        group = sp.is_conditional(space)
        with warnings.catch_warnings():  # group is "experimental" in Optuna since 2.8, and unchanged
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=startup_trials(n_trials),
                multivariate=True,
                constant_liar=True,
                group=group,
            )
