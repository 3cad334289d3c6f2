from __future__ import annotations

import optuna

from ablate import space as sp
from ablate.samplers._base import AnySpace


class Random(AnySpace):
    def make(self, space: sp.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.RandomSampler(seed=seed)
