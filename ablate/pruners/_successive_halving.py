from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate._reader import Reader
from ablate.pruners._base import read_resource

if TYPE_CHECKING:
    import optuna


class SuccessiveHalving:
    """Asynchronous successive halving (ASHA): at rungs of min_resource * reduction_factor**k
    steps, only the top 1/reduction_factor of the trials that reached the rung go on."""

    def read(self, r: Reader) -> dict[str, Any]:
        return {
            "min_resource": read_resource(r, "min_resource", "auto"),
            "reduction_factor": r.int("reduction_factor", 4, low=2),
            "min_early_stopping_rate": r.int("min_early_stopping_rate", 0, low=0),
            "bootstrap_count": r.int("bootstrap_count", 0, low=0),
        }

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        import optuna

        return optuna.pruners.SuccessiveHalvingPruner(**options)
