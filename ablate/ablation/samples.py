"""The per-seed samples the verdicts test: an arm's paired differences from its reference, or a
factorial effect's per-seed contrast, indexed by the seed's position among the repeat seeds.

A sample holds one entry per seed tried in every arm it needs (complete or failed), NaN where a
trial failed or its metric is not a finite number; a seed not tried yet in one of them is absent.
So ``ablate.ablation.verdicts.decide`` can tell a look whose trials have all been tried from one
still running, and a failed seed is one pair fewer, never a value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from ablate.ablation.effects import contrast_matrix

TRIED = ("complete", "failed")


def _values(runs: pd.DataFrame, metric: str, arms: Sequence[str], seeds: Sequence[int]) -> pd.DataFrame:
    """Position x arm: the metric where complete and finite, NaN where tried otherwise; rows are the
    positions every one of ``arms`` has tried."""
    position = {seed: i for i, seed in enumerate(seeds)}
    rows = runs[runs["arm"].isin(list(arms)) & runs["status"].isin(TRIED) & runs["seed"].isin(list(position))]
    if rows.empty:
        return pd.DataFrame(columns=list(arms), dtype=float)
    values = rows[metric].astype(float) if metric in rows.columns else pd.Series(np.nan, index=rows.index)
    values = values.where(rows["status"].eq("complete") & np.isfinite(values))
    wide = (
        pd.DataFrame({"arm": rows["arm"], "position": rows["seed"].map(position), "value": values})
        .pivot(index="position", columns="arm", values="value")
        .reindex(columns=list(arms))
    )
    tried = rows.assign(position=rows["seed"].map(position)).groupby("position")["arm"].nunique()
    return wide.loc[tried[tried == len(set(arms))].index].sort_index()


def difference_samples(
    runs: pd.DataFrame, comparisons: Sequence[tuple[str, str]], metric: str, seeds: Sequence[int]
) -> dict[str, pd.Series]:
    """arm -> its per-seed ``arm - reference`` over the positions both have tried."""
    out = {}
    for arm, reference in comparisons:
        wide = _values(runs, metric, [arm, reference], seeds)
        out[arm] = (wide[arm] - wide[reference]).astype(float) if len(wide) else pd.Series(dtype=float)
    return out


def effect_samples(
    runs: pd.DataFrame,
    present: Mapping[str, Collection[str]],
    components: Sequence[str],
    metric: str,
    seeds: Sequence[int],
) -> dict[str, pd.Series]:
    """effect -> its per-seed factorial contrast (see ``ablate.ablation.effects``) over the positions
    every arm has tried; NaN at a position where any arm failed."""
    arms, names, contrasts = contrast_matrix(present, components)
    wide = _values(runs, metric, arms, seeds)
    half = len(arms) // 2
    y = wide.to_numpy(dtype=float)
    return {name: pd.Series(y @ c / half, index=wide.index) for name, c in zip(names, contrasts.T)}
