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


def _wide(
    runs: pd.DataFrame, metric: str, arms: Sequence[str], seeds: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Position x arm: the metric where complete and finite (NaN where tried otherwise), and whether
    the arm has tried the position at all."""
    position = {seed: i for i, seed in enumerate(seeds)}
    rows = runs[runs["arm"].isin(list(arms)) & runs["status"].isin(TRIED) & runs["seed"].isin(list(position))]
    values = rows[metric].astype(float) if metric in rows.columns else pd.Series(np.nan, index=rows.index)
    values = values.where(rows["status"].eq("complete") & np.isfinite(values))
    frame = pd.DataFrame({"arm": rows["arm"], "position": rows["seed"].map(position), "value": values})
    wide = frame.pivot(index="position", columns="arm", values="value").reindex(columns=list(arms))
    tried = frame.assign(tried=True).pivot(index="position", columns="arm", values="tried")
    return wide, tried.reindex(index=wide.index, columns=list(arms)).notna()


def difference_samples(
    runs: pd.DataFrame, comparisons: Sequence[tuple[str, str]], metric: str, seeds: Sequence[int]
) -> dict[str, pd.Series]:
    """arm -> its per-seed ``arm - reference`` over the positions both have tried."""
    names = list(dict.fromkeys(name for pair in comparisons for name in pair))
    wide, tried = _wide(runs, metric, names, seeds)
    out = {}
    for arm, reference in comparisons:
        both = (tried[arm] & tried[reference]).to_numpy()
        out[arm] = (wide[arm] - wide[reference])[both].astype(float)
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
    wide, tried = _wide(runs, metric, arms, seeds)
    wide = wide[tried.all(axis=1).to_numpy()]
    half = len(arms) // 2
    y = wide.to_numpy(dtype=float)
    return {name: pd.Series(y @ c / half, index=wide.index) for name, c in zip(names, contrasts.T)}
