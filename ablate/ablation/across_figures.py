"""Figures of an ablation across data sets: the critical-difference diagram of the arms' average
ranks (scikit-posthocs draws it) and a heat map of every arm's Δ on every data set with its verdict.

Built on ``matplotlib.figure.Figure``, never through pyplot; the caller saves them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from ablate.ablation._palette import BETTER_COLOR, WORSE_COLOR
from ablate.ablation.across import AcrossAnalysis
from ablate.plots import DPI
from ablate.vocab.direction import maximizes


def plot_critical_difference(a: AcrossAnalysis) -> Figure:
    """The arms on the axis of their average rank (1 = best), a bar joining those that Nemenyi's
    test does not tell apart at ``a.alpha``."""
    import scikit_posthocs as sp

    fig = Figure(figsize=(7.5, 1.2 + 0.32 * len(a.means.columns)), dpi=DPI)
    ax = fig.add_subplot()
    mean_ranks = a.ranks.mean()
    sp.critical_difference_diagram(mean_ranks, a.pairwise, alpha=a.alpha, ax=ax)
    ax.set_title(
        f"Average rank of each arm over {len(a.means)} data sets ({a.metric}; 1 = best)\n"
        f"Friedman p = {a.friedman_p:.2g}; a bar joins arms Nemenyi's test does not separate at α = {a.alpha:g}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_heatmap(deltas: pd.DataFrame, verdicts: pd.DataFrame, metric: str, direction: str) -> Figure:
    """Arms (rows) x data sets (columns): each cell the arm's Δ against the baseline on that data
    set, coloured by its side (blue better, vermillion worse), with its verdict written in it."""
    arms, datasets = list(deltas.index), list(deltas.columns)
    values = deltas.to_numpy(dtype=float)
    shown = values if maximizes(direction) else -values  # colour by better / worse, not by sign
    bound = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
    bound = bound or 1.0
    cmap = LinearSegmentedColormap.from_list("ablate", [WORSE_COLOR, "#FFFFFF", BETTER_COLOR])
    fig = Figure(figsize=(1.6 + 1.25 * len(datasets), 1.2 + 0.55 * len(arms)), dpi=DPI)
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap=cmap, norm=TwoSlopeNorm(0.0, -bound, bound), aspect="auto")
    decimals = max(0, 2 - int(np.floor(np.log10(bound))))  # three significant digits of the largest |Δ|
    for i, arm in enumerate(arms):
        for j, dataset in enumerate(datasets):
            if not np.isfinite(values[i, j]):
                ax.text(j, i, "–", ha="center", va="center", fontsize=8)
                continue
            verdict = str(verdicts.loc[arm, dataset]) if arm in verdicts.index and dataset in verdicts else ""
            ax.text(j, i, f"{values[i, j]:+.{decimals}f}\n{verdict}", ha="center", va="center", fontsize=7.5)
    ax.set_xticks(range(len(datasets)), datasets, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(arms)), arms, fontsize=8)
    ax.set_title(f"Δ {metric} against the baseline, per data set, with its verdict", fontsize=9)
    bar = fig.colorbar(image, ax=ax, fraction=0.04)
    bar.set_ticks([])  # the colour is the side of Δ (by direction), the number is in the cell
    bar.set_label("worse ← → better", fontsize=8)
    fig.tight_layout()
    return fig
