from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate._reader import Reader
from ablate.pruners._base import read_resource

if TYPE_CHECKING:
    import optuna


class Hyperband:
    """Several successive-halving brackets at once, from aggressive to lenient, so a slow starter
    is not always cut at the first rung. ``max_resource``: the steps of a full trial (epochs)."""

    def read(self, r: Reader) -> dict[str, Any]:
        return {
            "min_resource": r.int("min_resource", 1, low=1),
            "max_resource": read_resource(r, "max_resource", "auto"),
            "reduction_factor": r.int("reduction_factor", 3, low=2),
            "bootstrap_count": r.int("bootstrap_count", 0, low=0),
        }

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        import optuna

        return optuna.pruners.HyperbandPruner(**options)
