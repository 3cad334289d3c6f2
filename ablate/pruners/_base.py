"""What every pruner of the registry provides: its options read from ``search.pruner_options``
(each checked, unknown ones rejected) and the Optuna pruner made from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ablate._reader import Reader

if TYPE_CHECKING:
    import optuna


class Pruner(Protocol):
    def read(self, r: Reader) -> dict[str, Any]:
        """The options, defaults filled in; raises ConfigError naming the bad one."""
        ...

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner: ...


def read_resource(r: Reader, name: str, default: int | str) -> int | str:
    """An amount of steps (epochs), or ``auto`` to let Optuna estimate it from the first trials."""
    if r.raw.get(name, default) == "auto":
        r.get(name, default)
        return "auto"
    return r.int(name, default if isinstance(default, int) else None, low=1)


def read_window(r: Reader) -> dict[str, Any]:
    """The options median and percentile share: when they start judging, and how often."""
    return {
        "n_startup_trials": r.int("n_startup_trials", 5, low=0),  # finished trials before any pruning
        "n_warmup_steps": r.int("n_warmup_steps", 0, low=0),  # steps of each trial never pruned
        "interval_steps": r.int("interval_steps", 1, low=1),
        "n_min_trials": r.int("n_min_trials", 1, low=1),  # trials reported at a step to compare with
    }
