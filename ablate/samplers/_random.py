from __future__ import annotations

from typing import TYPE_CHECKING

from ablate.samplers._base import AnySpace
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class Random(AnySpace):
    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.RandomSampler(seed=seed)
