"""Interaction plots of a 2^k factorial ablation: one panel per pair of components.

Re-exported by ``ablate.ablation.figures``; a module of its own because it reads the raw runs and the
factorial's design, where the other figures read the statistics frames.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from ablate.plots import DPI, plot_message

PRESENT_COLOR = "#0072B2"
REMOVED_COLOR = "0.45"
MAX_COLS = 3


def _complete(runs: pd.DataFrame, present: Mapping[str, Collection[str]], metric: str) -> pd.DataFrame:
    """Complete runs of the factorial's arms that have a value."""
    value = pd.to_numeric(runs[metric], errors="coerce")
    done = runs[runs["status"].eq("complete") & runs["arm"].isin(list(present)) & value.notna()].copy()
    done[metric] = value[done.index]
    return done


def _has(done: pd.DataFrame, present: Mapping[str, Collection[str]], component: str) -> pd.Series:
    return done["arm"].map(lambda arm: component in present[arm]).astype(bool)


def _mean_ci(values: pd.Series) -> tuple[float, float]:
    """Mean and half-width of the 95% t-interval (NaN below two values)."""
    n = len(values)
    if n < 2:
        return (float(values.mean()) if n else math.nan), math.nan
    return float(values.mean()), float(stats.t.ppf(0.975, n - 1) * values.std() / math.sqrt(n))


def _draw_pair(
    ax: Axes, done: pd.DataFrame, present: Mapping[str, Collection[str]], pair: tuple[str, str], metric: str
) -> None:
    a, b = pair
    has_a, has_b = _has(done, present, a), _has(done, present, b)
    for b_on, color, line, dx in ((False, REMOVED_COLOR, "--", -0.05), (True, PRESENT_COLOR, "-", 0.05)):
        cells = []
        for a_on in (False, True):
            cell = done[(has_a == a_on) & (has_b == b_on)]
            # Average the cell's arms within each seed first: the other components' effects are part of
            # the design, not noise, so the interval is over seeds only.
            cells.append(_mean_ci(cell.groupby("seed")[metric].mean()))
        means, halves = np.array(cells).T
        label = f"{b} {'present' if b_on else 'removed'}"
        x = np.array([0, 1]) + dx
        ax.errorbar(x, means, yerr=halves, color=color, linestyle=line, marker="o", capsize=4, label=label)
    ax.set_xticks([0, 1], ["removed", "present"], fontsize=9)
    ax.set_xlim(-0.35, 1.35)
    ax.set_xlabel(a, fontsize=10)
    ax.set_title(f"{a} × {b}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="best")


def plot_interactions(
    runs: pd.DataFrame, present: Mapping[str, Collection[str]], components: Sequence[str], metric: str
) -> Figure:
    """Plot the classic two-way interaction plot for each pair of components of a factorial design.

    Args:
        runs: Raw runs (``arm, seed, status`` and the metric); only complete runs of arms named in
            ``present`` are used.
        present: The components present in each factorial arm.
        components: The factorial's components, in the order of the panels.
        metric: The metric column to plot.

    Returns:
        A grid of panels, one per pair (A, B): x is A removed or present, one line for B removed
        and one for B present, y the mean over seeds (each seed averaged over the cell's arms) with
        95% t-interval error bars. Parallel lines mean no interaction. With fewer than two
        components or no complete run, a figure saying so.
    """
    title = f"Interactions on {metric}"
    pairs = list(itertools.combinations(components, 2))
    if not pairs:
        return plot_message(title, "an interaction needs at least two components")
    done = _complete(runs, present, metric)
    if done.empty:
        return plot_message(title, "no complete run")
    ncols = min(len(pairs), MAX_COLS)
    nrows = math.ceil(len(pairs) / ncols)
    fig = Figure(figsize=(3.4 * ncols + 0.8, 3.2 * nrows + 0.9), dpi=DPI, layout="constrained")
    axes = list(fig.subplots(nrows, ncols, sharey=True, squeeze=False).flat)
    for ax, pair in zip(axes, pairs):
        _draw_pair(ax, done, present, pair, metric)
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel(f"{metric} (mean, 95% CI)", fontsize=10)
    fig.suptitle(f"{title}: mean over seeds; parallel lines mean no interaction", fontsize=11)
    return fig
