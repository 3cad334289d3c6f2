"""``auto``: pick a sampler from the space and the budget, and say why.

The rules, in order (the sampler table of docs/search.md states them too):

1. several objectives: at least ``NSGA2_MIN_TRIALS`` trials and no conditional knob -> ``nsga2``,
   else ``tpe`` (multi-objective TPE). Below that budget NSGA-II's populations (a fifth of the
   budget) get only five generations to evolve, while TPE models the front from its first ten
   trials; from there the population is full (50) and NSGA-II gets more generations, at no model
   cost. GP (EHVI) would also serve, but its cost grows with the objectives, and CMA-ES cannot.
2. any conditional knob (a ``when``) -> ``tpe``, which then models each group of knobs that
   occur together (``group=True``, see ablate.samplers._tpe); GP, CMA-ES and QMC model only the
   knobs every trial has and draw a conditional one at random.
3. any categorical knob -> ``tpe``: TPE models categories directly; GP and CMA-ES would embed
   them in a continuous space or sample them at random.
4. at most ``GP_MAX_KNOBS`` numeric knobs and a budget of at most ``GP_MAX_TRIALS`` -> ``gp``:
   the most sample-efficient on small smooth spaces, and affordable at that budget.
5. at least two numeric knobs and a budget of at least ``CMAES_MIN_TRIALS`` -> ``cmaes``: enough
   trials for its generations to adapt (CMA-ES is not defined on one dimension).
6. otherwise -> ``tpe``.
"""

from __future__ import annotations

from typing import NamedTuple

from ablate.samplers._base import numeric
from ablate.vocab import knobs

GP_MAX_KNOBS = 6
GP_MAX_TRIALS = 100
CMAES_MIN_TRIALS = 100
NSGA2_MIN_TRIALS = 250


class Choice(NamedTuple):
    name: str
    why: str

    def describe(self) -> str:
        return f"{self.name} (auto: {self.why})"


def choose_sampler(space: knobs.Space, n_trials: int, n_objectives: int = 1) -> Choice:
    conditional = [p.name for p in space if p.when is not None]
    if n_objectives > 1:
        return _choose_multi_objective(n_trials, n_objectives, conditional)
    if conditional:
        return Choice("tpe", f"{len(conditional)} conditional knob(s) ({', '.join(conditional)}) of {len(space)}")
    n_num = len(numeric(space))
    n_cat = len(space) - n_num
    counted = f"{n_num} numeric knob(s)"
    if n_cat:
        return Choice("tpe", f"{n_cat} categorical knob(s) of {len(space)}")
    if n_num <= GP_MAX_KNOBS and n_trials <= GP_MAX_TRIALS:
        return Choice("gp", f"{counted} (<= {GP_MAX_KNOBS}), no categorical, {n_trials} trials (<= {GP_MAX_TRIALS})")
    if n_num >= 2 and n_trials >= CMAES_MIN_TRIALS:
        return Choice("cmaes", f"{counted}, no categorical, {n_trials} trials (>= {CMAES_MIN_TRIALS})")
    return Choice(
        "tpe", f"{counted}, no categorical, {n_trials} trials: too many knobs for gp, too few trials for cmaes"
    )


def _choose_multi_objective(n_trials: int, n_objectives: int, conditional: list[str]) -> Choice:
    if conditional:
        return Choice("tpe", f"{n_objectives} objectives, {len(conditional)} conditional knob(s): multi-objective TPE")
    if n_trials >= NSGA2_MIN_TRIALS:
        return Choice("nsga2", f"{n_objectives} objectives, {n_trials} trials (>= {NSGA2_MIN_TRIALS})")
    return Choice("tpe", f"{n_objectives} objectives, {n_trials} trials (< {NSGA2_MIN_TRIALS}: multi-objective TPE)")
