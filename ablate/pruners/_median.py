from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate._reader import Reader
from ablate.pruners._base import read_window

if TYPE_CHECKING:
    import optuna


class Median:
    """Stop a trial whose best value so far is worse than the median of earlier trials at that step."""

    def read(self, r: Reader) -> dict[str, Any]:
        return read_window(r)

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        import optuna

        return optuna.pruners.MedianPruner(**options)
