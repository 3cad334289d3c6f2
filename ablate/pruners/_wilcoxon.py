from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate._reader import Reader

if TYPE_CHECKING:
    import optuna


class Wilcoxon:
    """For trials whose steps are instances (folds, tasks), not epochs: stop a trial once a
    Wilcoxon signed-rank test says it is worse than the best trial on the same steps."""

    def read(self, r: Reader) -> dict[str, Any]:
        return {
            "p_threshold": r.float("p_threshold", 0.1, low=0.0, high=1.0, open_interval=True),
            "n_startup_steps": r.int("n_startup_steps", 2, low=0),
        }

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        import optuna

        return optuna.pruners.WilcoxonPruner(**options)
