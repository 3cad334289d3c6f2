from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate._reader import Reader
from ablate.pruners._base import read_window

if TYPE_CHECKING:
    import optuna


class Percentile:
    """Like median, at another percentile: keep only trials in the top ``percentile`` % at each step."""

    def read(self, r: Reader) -> dict[str, Any]:
        return {"percentile": r.float("percentile", 25.0, low=0.0, high=100.0), **read_window(r)}

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        import optuna

        return optuna.pruners.PercentilePruner(**options)
