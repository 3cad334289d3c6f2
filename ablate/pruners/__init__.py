"""Pruners: when a search trial is stopped early on its reported progress. One file each; a new
pruner is one file and one line in :data:`PRUNERS`. ``search.pruner`` names one and
``search.pruner_options`` sets its options; :mod:`ablate.pruners.link` carries a trial's reports
from the worker to the study."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate.pruners._base import Pruner
from ablate.pruners._hyperband import Hyperband
from ablate.pruners._median import Median
from ablate.pruners._none import NoPruning
from ablate.pruners._percentile import Percentile
from ablate.pruners._successive_halving import SuccessiveHalving
from ablate.pruners._wilcoxon import Wilcoxon

if TYPE_CHECKING:
    import optuna

PRUNERS: dict[str, Pruner] = {
    "none": NoPruning(),
    "median": Median(),
    "percentile": Percentile(),
    "successive_halving": SuccessiveHalving(),
    "hyperband": Hyperband(),
    "wilcoxon": Wilcoxon(),
}


def make_pruner(name: str, options: dict[str, Any]) -> optuna.pruners.BasePruner:
    return PRUNERS[name].make(dict(options))


__all__ = ["PRUNERS", "Pruner", "make_pruner"]
