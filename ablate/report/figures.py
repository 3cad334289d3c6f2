"""Figures for study reports: the objective's history, and what the search's figures share (the
best trial's mark, the strip of unfinished trials); what every figure shares is :mod:`ablate.plots`.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot, so they draw
headless and never change the process-wide backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ablate.plots import BEST_COLOR, DPI, POINT_COLOR, no_data
from ablate.study.table import best_trial, completed_trials
from ablate.vocab import states
from ablate.vocab.direction import maximizes

# Non-complete trials have no objective value; they sit in a strip at the bottom of the axes.
_BOTTOM_MARKS = {
    states.FAIL: ("x", "C3", "failed"),
    states.PRUNED: ("v", "C1", "pruned"),
    states.RUNNING: ("o", "0.6", "running"),
}


_BOTTOM_Y = 0.03


def _mark_unfinished(ax: Axes, trials: pd.DataFrame) -> None:
    """Draw failed and pruned trials as markers in a shaded strip at the bottom of the axes."""
    drawn = False
    for state, (marker, color, label) in _BOTTOM_MARKS.items():
        numbers = trials.loc[trials["state"] == state, "number"].to_numpy()
        if len(numbers) == 0:
            continue
        # x in data coordinates, y in axes coordinates: the strip stays put whatever the y range.
        ax.plot(
            numbers,
            np.full(len(numbers), _BOTTOM_Y),
            linestyle="none",
            marker=marker,
            color=color,
            markersize=7,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label=f"{label} ({len(numbers)})",
        )
        drawn = True
    if drawn:
        # Shade the strip so its markers do not read as objective values on the y scale.
        ax.add_patch(Rectangle((0, 0), 1, 2 * _BOTTOM_Y, transform=ax.transAxes, color="0.92", zorder=0, linewidth=0))


def _annotate_best(ax: Axes, x: float, y: float, number: int, text: str) -> None:
    """Star the best point and label it beside the star, on whichever side has room."""
    ax.plot(
        [x],
        [y],
        linestyle="none",
        marker="*",
        markersize=16,
        color=BEST_COLOR,
        markeredgecolor="black",
        markeredgewidth=0.6,
        zorder=5,
        label=f"best (#{number})",
    )
    ax.get_xlim()  # settle autoscaling first, else transData may still hold stale limits
    frac_x = ax.transAxes.inverted().transform(ax.transData.transform((x, y)))[0]
    right = frac_x < 0.6
    ax.annotate(
        text,
        (x, y),
        xytext=(11 if right else -11, 0),
        textcoords="offset points",
        ha="left" if right else "right",
        va="center",
        fontsize=9,
        color=BEST_COLOR,
        fontweight="bold",
        zorder=6,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
    )


def _draw_progress(ax: Axes, trials: pd.DataFrame, metric: str, direction: str, best: pd.Series) -> None:
    """Complete trials as dots, the best-so-far step line and the starred best trial."""
    done = completed_trials(trials, metric)
    x, y = done["number"].to_numpy(), done[metric].to_numpy()
    ax.plot(x, y, linestyle="none", marker="o", color=POINT_COLOR, alpha=0.75, label=f"complete ({len(x)})")
    running = np.maximum.accumulate(y) if maximizes(direction) else np.minimum.accumulate(y)
    # Extend the step to the last trial so the curve covers the whole run.
    last = max(x[-1], trials["number"].max())
    ax.step(
        np.append(x, last),
        np.append(running, running[-1]),
        where="post",
        color="0.25",
        linewidth=1.5,
        label="best so far",
    )
    # Leave room below the data so the failed/pruned strip never covers a point.
    ax.margins(x=0.03, y=0.15)
    number, value = int(best["number"]), float(best[metric])
    _annotate_best(ax, number, value, number, f"#{number}: {value:.4g}")


def plot_history(trials: pd.DataFrame, metric: str, direction: str) -> Figure:
    """Plot the objective per trial number with the best-so-far curve.

    Args:
        trials: The trials frame.
        metric: Name of the objective column.
        direction: ``"maximize"`` or ``"minimize"``.

    Returns:
        A figure: complete trials as dots, failed/pruned trials marked along the bottom, the
        best-so-far step line and the best trial starred and labelled with its number.
    """
    fig = Figure(figsize=(9, 4.8), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    best = best_trial(trials, metric, direction)
    if best is None:
        no_data(ax, "no trial completed")
    else:
        _draw_progress(ax, trials, metric, direction, best)
    _mark_unfinished(ax, trials)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial number", fontsize=11)
    ax.set_ylabel(metric, fontsize=11)
    ax.set_title(f"{metric} per trial ({direction})", fontsize=12)
    ax.tick_params(labelsize=9)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        # Below the axes rather than inside: it can never hide a point.
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=9, frameon=False)
    return fig
