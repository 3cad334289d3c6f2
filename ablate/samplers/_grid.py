from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ablate import space as sp
from ablate.samplers._base import Problem
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna


class Grid:
    """Every configuration of a finite grid: float knobs need a step, the budget fits the grid.

    A conditional space is refused: Optuna's grid is the product of every knob's values, so each
    configuration that leaves a knob out would be run once per value of that knob."""

    multi_objective = True  # it proposes the grid's points whatever the objectives
    uses_constraints = False

    def check(self, space: knobs.Space, n_trials: int) -> Problem | None:
        conditional = [p.name for p in space if p.when is not None]
        if conditional:
            rule = f"must not be grid for a conditional space ({', '.join(conditional)} have a when); use tpe or random"
            return Problem("sampler", rule, "grid")
        for p in space:
            if isinstance(p, knobs.FloatParam) and p.step is None:
                return Problem(f"space.{p.name}.step", "must be set for a float knob when search.sampler is grid", None)
        size = sp.grid_size(space)
        if n_trials > size:
            return Problem("n_trials", f"must be <= the grid size {size} when search.sampler is grid", n_trials)
        return None

    def make(self, space: knobs.Space, n_trials: int, seed: int) -> optuna.samplers.BaseSampler:
        return _ask_tell_grid_sampler()(sp.grid_of(space), seed=seed)


@functools.cache
def _ask_tell_grid_sampler() -> type[optuna.samplers.GridSampler]:
    # Defined on first use: Optuna's import (0.3 s) is paid by a search, not by every command.
    import optuna

    class AskTellGridSampler(optuna.samplers.GridSampler):
        """GridSampler calls ``study.stop()`` once the grid is exhausted, which raises outside
        ``optimize()``; our loop stops by ``search.n_trials`` (at most the grid size) instead."""

        def after_trial(self, study, trial, state, values) -> None:  # noqa: ANN001
            pass

    return AskTellGridSampler
