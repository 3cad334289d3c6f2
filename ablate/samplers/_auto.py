"""``auto``: pick a sampler from the space and the budget, and say why.

The rules, in order (the README's sampler table states them too):

1. any conditional knob (a ``when``) -> ``tpe``, which then models each group of knobs that
   occur together (``group=True``, see ablate.samplers._tpe); GP, CMA-ES and QMC model only the
   knobs every trial has and draw a conditional one at random.
2. any categorical knob -> ``tpe``: TPE models categories directly; GP and CMA-ES would embed
   them in a continuous space or sample them at random.
3. at most ``GP_MAX_KNOBS`` numeric knobs and a budget of at most ``GP_MAX_TRIALS`` -> ``gp``:
   the most sample-efficient on small smooth spaces, and affordable at that budget.
4. at least two numeric knobs and a budget of at least ``CMAES_MIN_TRIALS`` -> ``cmaes``: enough
   trials for its generations to adapt (CMA-ES is not defined on one dimension).
5. otherwise -> ``tpe``.
"""

from __future__ import annotations

from typing import NamedTuple

from ablate import space as sp
from ablate.samplers._base import numeric

GP_MAX_KNOBS = 6
GP_MAX_TRIALS = 100
CMAES_MIN_TRIALS = 100


class Choice(NamedTuple):
    name: str
    why: str

    def describe(self) -> str:
        return f"{self.name} (auto: {self.why})"


def choose_sampler(space: sp.Space, n_trials: int) -> Choice:
    conditional = [p.name for p in space if p.when is not None]
    if conditional:
        return Choice("tpe", f"{len(conditional)} conditional knob(s) ({', '.join(conditional)}) of {len(space)}")
    n_num = len(numeric(space))
    n_cat = len(space) - n_num
    knobs = f"{n_num} numeric knob(s)"
    if n_cat:
        return Choice("tpe", f"{n_cat} categorical knob(s) of {len(space)}")
    if n_num <= GP_MAX_KNOBS and n_trials <= GP_MAX_TRIALS:
        return Choice("gp", f"{knobs} (<= {GP_MAX_KNOBS}), no categorical, {n_trials} trials (<= {GP_MAX_TRIALS})")
    if n_num >= 2 and n_trials >= CMAES_MIN_TRIALS:
        return Choice("cmaes", f"{knobs}, no categorical, {n_trials} trials (>= {CMAES_MIN_TRIALS})")
    return Choice("tpe", f"{knobs}, no categorical, {n_trials} trials: too many knobs for gp, too few trials for cmaes")
