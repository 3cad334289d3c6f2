"""The runs table of an ablation study: its contract, and which values are usable and paired.

One row per planned (arm, seed) trial with columns ``arm`` (str), ``seed`` (int), ``status``
(one of :data:`STATUSES`) and one float column per metric, NaN unless complete. Repeat i uses the
same seed in every arm, so rows that share a seed are paired across arms. A value is usable when
its row is complete and the value finite; a pair exists only where both arms are usable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

STATUSES = ("complete", "failed", "missing")


def check_runs(runs: pd.DataFrame, arms: Sequence[str]) -> None:
    """Raise ValueError unless ``runs`` keeps the table's contract and has rows for every arm in ``arms``."""
    if not {"arm", "seed", "status"} <= set(runs.columns):
        raise ValueError(f"runs must have columns arm, seed and status, but got {list(runs.columns)}")
    unknown = sorted(set(runs["status"]) - set(STATUSES))
    if unknown:
        raise ValueError(f"runs.status must be one of {list(STATUSES)}, but got {unknown}")
    # A second row for one (arm, seed) would make the pairing by seed ambiguous.
    repeated = runs.duplicated(["arm", "seed"], keep=False)
    if repeated.any():
        arm, seed = runs.loc[repeated, ["arm", "seed"]].iloc[0]
        count = int(((runs["arm"] == arm) & (runs["seed"] == seed)).sum())
        raise ValueError(f"runs must have one row per (arm, seed), but got {count} for arm {arm!r}, seed {seed}")
    # Every planned trial has a row (status "missing" if never run), so an arm without rows is a typo.
    known = set(runs["arm"])
    absent = [arm for arm in arms if arm not in known]
    if absent:
        raise ValueError(f"every arm must have rows in runs, but got none for {absent}; runs has {sorted(known)}")


def check_distinct(pairs: Sequence[tuple[str, str]]) -> None:
    """Raise ValueError if an arm is compared with itself."""
    for arm, other in pairs:
        if arm == other:
            raise ValueError(f"an arm and the arm it is compared with must differ, but got {arm!r} twice")


def usable_values(runs: pd.DataFrame, metric: str, arms: Sequence[str]) -> pd.DataFrame:
    """Seed x arm table of ``metric``: NaN unless usable; rows are every seed planned for ``arms``, sorted.

    A metric column absent from ``runs`` gives an all-NaN table.
    """
    arms = list(dict.fromkeys(arms))
    check_runs(runs, arms)
    rows = runs[runs["arm"].isin(arms)]
    seeds = np.sort(rows["seed"].unique())
    if metric not in rows.columns:
        return pd.DataFrame(np.nan, index=seeds, columns=arms)
    usable = rows.loc[rows["status"].eq("complete") & np.isfinite(rows[metric].astype(float))]
    wide = usable.pivot(index="seed", columns="arm", values=metric)
    return wide.reindex(index=seeds, columns=arms).astype(float)


def paired(values: pd.DataFrame, arm: str, other: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(seeds, arm values, other values)`` over the seeds where both are usable, by seed."""
    both = values[[arm, other]].dropna()
    return both.index.to_numpy(), both[arm].to_numpy(), both[other].to_numpy()
