"""Samplers: how Optuna proposes the next configuration. One file each; a new sampler is one file
and one line in :data:`SAMPLERS`. ``auto`` is not a sampler but a choice among them
(:func:`choose_sampler`), resolved by :func:`resolve_sampler` before a search starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ablate.samplers._auto import Choice, choose_sampler
from ablate.samplers._base import Problem, Sampler
from ablate.samplers._cmaes import CmaEs
from ablate.samplers._gp import GP
from ablate.samplers._grid import Grid
from ablate.samplers._nsga2 import NSGA2
from ablate.samplers._qmc import QMC
from ablate.samplers._random import Random
from ablate.samplers._tpe import TPE
from ablate.vocab import knobs

if TYPE_CHECKING:
    import optuna

SAMPLERS: dict[str, Sampler] = {
    "tpe": TPE(),
    "random": Random(),
    "grid": Grid(),
    "gp": GP(),
    "cmaes": CmaEs(),
    "qmc": QMC(),
    "nsga2": NSGA2(),
}
NAMES = (*SAMPLERS, "auto")  # what search.sampler accepts


def resolve_sampler(name: str, space: knobs.Space, n_trials: int, n_objectives: int = 1) -> Choice:
    """The sampler a search with ``search.sampler: name`` runs, and why (for ``auto``)."""
    if name == "auto":
        return choose_sampler(space, n_trials, n_objectives)
    return Choice(name, "")


def check_sampler(name: str, space: knobs.Space, n_trials: int, n_objectives: int = 1) -> Problem | None:
    """Whether the (resolved) sampler can serve the space, and ``n_objectives`` objectives at
    once; see :meth:`Sampler.check`."""
    choice = resolve_sampler(name, space, n_trials, n_objectives)
    sampler = SAMPLERS[choice.name]
    if n_objectives > 1 and not sampler.multi_objective:
        return Problem(
            "sampler",
            f"must serve several objectives (study.metric names {n_objectives}): one of "
            f"{', '.join(n for n, s in SAMPLERS.items() if s.multi_objective)} or auto, not {choice.name}",
            name,
        )
    return sampler.check(space, n_trials)


def make_sampler(
    name: str, space: knobs.Space, n_trials: int, seed: int, n_objectives: int = 1
) -> optuna.samplers.BaseSampler:
    return SAMPLERS[resolve_sampler(name, space, n_trials, n_objectives).name].make(space, n_trials, seed)


__all__ = ["NAMES", "SAMPLERS", "Choice", "Problem", "Sampler", "check_sampler", "make_sampler", "resolve_sampler"]
