"""The Pareto front of a study with several objectives.

A trial dominates another when it is at least as good on every objective and better on one; the
front is the set of trials no other dominates. Only COMPLETE trials that meet every constraint
take part (as in Optuna's ``Study.best_trials``): an infeasible trial is never on the front, nor
does it push a feasible one off it. Trials with equal values are all on the front.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ablate.vocab import states
from ablate.vocab.direction import sign as gain_sign


def as_losses(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Objective values (one row per trial) turned so that smaller is better in every column."""
    signs = np.array([-gain_sign(d) for d in directions])  # minimized: a lower value is better
    return np.asarray(values, dtype=float).reshape(-1, len(directions)) * signs


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether values ``a`` dominate values ``b``: no worse on every objective, better on one."""
    la, lb = as_losses(np.array([a, b]), directions)
    return bool(np.all(la <= lb) and np.any(la < lb))


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """For each row of ``values`` (trials x objectives), whether no other row dominates it.

    O(n² k) in numpy: a study has thousands of trials at most.
    """
    losses = as_losses(values, directions)
    if len(losses) == 0:
        return np.zeros(0, dtype=bool)
    # no_worse[i, j]: row j is no worse than row i on every objective; better[i, j]: on some one.
    no_worse = np.all(losses[None, :, :] <= losses[:, None, :], axis=2)
    better = np.any(losses[None, :, :] < losses[:, None, :], axis=2)
    return ~np.any(no_worse & better, axis=1)


def flag_set(column: pd.Series) -> pd.Series:
    """Where a flag column (``pareto``, ``feasible``) holds True; missing values count as False."""
    return column.eq(True).fillna(False).astype(bool)


def front_flags(trials: pd.DataFrame, metrics: Sequence[str], directions: Sequence[str]) -> pd.Series:
    """``trials``' ``pareto`` column: True for the trials on the front among the COMPLETE ones
    with every objective finite and (where a ``feasible`` column exists) feasible."""
    candidates = trials["state"] == states.COMPLETE
    values = trials[list(metrics)].apply(pd.to_numeric, errors="coerce").astype(float)
    candidates &= np.isfinite(values.to_numpy()).all(axis=1)
    if "feasible" in trials:
        candidates &= flag_set(trials["feasible"])
    flags = pd.Series(False, index=trials.index)
    chosen = candidates[candidates].index
    flags[chosen] = pareto_mask(values.loc[chosen].to_numpy(), directions)
    return flags


def front_numbers(trials: pd.DataFrame) -> list[int]:
    """The numbers of the trials on the front (from the trials table's ``pareto`` column)."""
    if "pareto" not in trials:
        return []
    return sorted(int(n) for n in trials.loc[flag_set(trials["pareto"]), "number"])
