from __future__ import annotations

from typing import Any

import optuna

from ablate._reader import Reader
from ablate.pruners._base import read_window


class Percentile:
    """Like median, at another percentile: keep only trials in the top ``percentile`` % at each step."""

    def read(self, r: Reader) -> dict[str, Any]:
        return {"percentile": r.float("percentile", 25.0, low=0.0, high=100.0), **read_window(r)}

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        return optuna.pruners.PercentilePruner(**options)
