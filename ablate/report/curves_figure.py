"""The learning curves figure (``curves.png``): the study metric per step of every trial that
reported progress, pruned and failed trials marked where they stopped, the best trial on top."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ablate.plots import BEST_COLOR, DPI, POINT_COLOR
from ablate.study.table import best_trial
from ablate.vocab import states
from ablate.vocab.direction import maximizes

# state -> (line colour, label, end marker); complete trials end where they finished, no marker.
_STYLES = {
    states.COMPLETE: (POINT_COLOR, "complete", None),
    states.PRUNED: ("0.55", "pruned", "x"),
    states.FAIL: ("C1", "failed", "x"),
    states.RUNNING: ("0.75", "running", None),
}


def plot_learning_curves(curves: pd.DataFrame, trials: pd.DataFrame, metric: str, direction: str) -> Figure:
    """Plot each trial's metric against its step.

    Args:
        curves: ``number, step, value`` rows (:func:`ablate.study.curves.learning_curves`).
        trials: The trials frame, for each trial's state and the best trial.
        metric: The study metric (the y axis).
        direction: ``"maximize"`` or ``"minimize"``, to pick the highlighted best trial.

    Returns:
        A figure with one line per trial that reported a step, grouped by state in collections
        whose ``gid`` is the state (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``); pruned and
        failed lines end in an x at their last step; the best trial is a thick line (gid ``best``).
        When a few slow or failed learners stretch the y axis over the good trials, a second
        panel repeats the plot zoomed on the best 90 % of the complete trials' last values.
    """
    by_trial = _split_by_trial(curves)
    best = best_trial(trials, metric, direction)
    best_number = None if best is None else int(best["number"])
    zoom = _zoom(by_trial, trials, direction)
    fig = Figure(figsize=(13 if zoom else 9, 4.8), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 2 if zoom else 1, squeeze=False)[0]
    for ax in axes:
        _draw_curves(ax, by_trial, trials.set_index("number")["state"], best_number)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("step (epoch) reported by ctx.report", fontsize=11)
        ax.tick_params(labelsize=9)
        ax.grid(True, alpha=0.3)
        ax.margins(x=0.02, y=0.05)
    axes[0].set_ylabel(metric, fontsize=11)
    axes[0].set_title(f"{metric} per step, {len(by_trial)} trials ({direction})", fontsize=12)
    if zoom:
        axes[1].set_ylim(*zoom)
        axes[1].set_title("zoom: from the 10th percentile of complete trials' last values", fontsize=12)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=max(1, len(handles)), fontsize=9, frameon=False)
    return fig


def _split_by_trial(curves: pd.DataFrame) -> dict[int, np.ndarray]:
    """Each trial's (step, value) rows; one split of the sorted arrays (a groupby over 5,000
    trials takes seconds)."""
    ordered = curves.sort_values(["number", "step"], kind="stable")
    numbers = ordered["number"].to_numpy()
    cuts = np.flatnonzero(np.diff(numbers)) + 1
    parts = np.split(ordered[["step", "value"]].to_numpy(dtype=float), cuts)
    return {int(n): xy for n, xy in zip(numbers[np.r_[0, cuts]] if len(numbers) else [], parts, strict=False)}


def _draw_curves(ax: Axes, by_trial: dict[int, np.ndarray], state_of: pd.Series, best_number: int | None) -> None:
    # Faint lines when there are many: 200 curves at full opacity are a solid band.
    alpha = float(np.clip(6 / np.sqrt(max(1, len(by_trial))), 0.15, 0.8))
    for state, (color, label, marker) in _STYLES.items():
        numbers = [n for n in by_trial if state_of.get(n) == state]
        lines = [by_trial[n] for n in numbers if n != best_number]
        if numbers:
            _draw_group(ax, lines, state, (color, f"{label} ({len(numbers)})", marker), alpha)
    if best_number is not None and best_number in by_trial:
        xy = by_trial[best_number]
        label = f"best (#{best_number})"
        ax.plot(xy[:, 0], xy[:, 1], color=BEST_COLOR, linewidth=2.6, zorder=5, gid="best", label=label)


def _zoom(by_trial: dict[int, np.ndarray], trials: pd.DataFrame, direction: str) -> tuple[float, float] | None:
    """A y range from the complete trials' 10th-percentile last value to the best value seen,
    when the whole plot spans more than three times that (a few slow or failed learners)."""
    complete = set(trials.loc[trials["state"] == states.COMPLETE, "number"])
    last = np.array([xy[-1, 1] for n, xy in by_trial.items() if n in complete])
    if len(last) < 4:
        return None
    every = np.concatenate([xy[:, 1] for xy in by_trial.values()])
    if maximizes(direction):
        lo, hi = float(np.quantile(last, 0.1)), float(every.max())
    else:
        lo, hi = float(every.min()), float(np.quantile(last, 0.9))
    span = hi - lo
    if span <= 0 or np.ptp(every) < 3 * span:
        return None
    return lo - 0.1 * span, hi + 0.1 * span


def _draw_group(ax: Axes, lines: list[np.ndarray], state: str, style: tuple, alpha: float) -> None:
    color, label, marker = style
    width = 1.4 if state == states.COMPLETE else 1.0
    # One legend entry per state, drawn at full opacity so it reads.
    ax.add_line(Line2D([], [], color=color, linewidth=width, marker=marker, label=label))
    if not lines:  # the best trial was this state's only one
        return
    ax.add_collection(LineCollection(lines, colors=color, linewidths=width, alpha=alpha, gid=state, zorder=2))
    ax.update_datalim(np.vstack(lines))
    ax.autoscale_view()
    if marker is not None:
        ends = np.array([xy[-1] for xy in lines])
        ax.plot(ends[:, 0], ends[:, 1], linestyle="none", marker=marker, color=color, markersize=6, zorder=3)
