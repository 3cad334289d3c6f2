from __future__ import annotations

from typing import TYPE_CHECKING

from ablate import space as sp
from ablate.samplers._base import AnySpace

if TYPE_CHECKING:
    import optuna


class Random(AnySpace):
    def make(self, space: sp.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.RandomSampler(seed=seed)
