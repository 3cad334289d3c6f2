"""The ablation path as a waterfall figure, in the metric's units (see ``ablate.ablation.figures``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ablate.ablation._palette import BETTER_COLOR, WORSE_COLOR
from ablate.ablation.tables import check_arguments
from ablate.plots import DPI, plot_message
from ablate.vocab.direction import better_word
from ablate.vocab.direction import sign as gain_sign


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _levels(gain: np.ndarray, start: float, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """The metric before and after each step; a positive (better) gain lowers a minimized metric."""
    sign = gain_sign(direction)
    after = start + sign * np.cumsum(np.nan_to_num(gain))
    return np.r_[start, after[:-1]], after


def _whiskers(steps: pd.DataFrame, before: np.ndarray, direction: str) -> np.ndarray:
    """The CI of each step's gain as (low, high) metric levels, NaN where the CI is unknown."""
    sign = gain_sign(direction)
    ends = before[:, None] + sign * np.c_[_floats(steps, "gain_ci_low"), _floats(steps, "gain_ci_high")]
    return np.sort(ends, axis=1)


def _draw_steps(ax: Axes, steps: pd.DataFrame, before: np.ndarray, after: np.ndarray, whiskers: np.ndarray) -> None:
    gain, share = _floats(steps, "gain"), _floats(steps, "share")
    for i in range(len(steps)):
        x = i + 1
        if not math.isfinite(gain[i]):
            ax.text(x, before[i], "n/a", ha="center", va="bottom", fontsize=9, color="0.4")
            continue
        color = BETTER_COLOR if gain[i] >= 0 else WORSE_COLOR
        ax.bar(x, after[i] - before[i], bottom=before[i], width=0.6, color=color, zorder=3)
        low, high = whiskers[i]
        if math.isfinite(low) and math.isfinite(high):
            spread = np.abs([[after[i] - low], [high - after[i]]])
            ax.errorbar(x, after[i], yerr=spread, fmt="none", ecolor="0.15", elinewidth=1.2, capsize=4, zorder=4)
        top = np.nanmax([before[i], after[i], high])
        text = f"{100 * share[i]:.0f}%" if math.isfinite(share[i]) else ""
        ax.annotate(text, (x, top), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=9)


def _draw_ends(ax: Axes, levels: tuple[float, float], floor: float, last: int) -> None:
    """Start and end bars, grounded at the axis floor and labelled with their value (the axis does not start at 0)."""
    for x, level in zip((0, last), levels):
        ax.bar(x, level - floor, bottom=floor, width=0.6, color="0.7", zorder=3)
        ax.annotate(f"{level:.4g}", (x, level), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=9)


def _connect(ax: Axes, levels: np.ndarray) -> None:
    for x, level in enumerate(levels):
        ax.plot([x + 0.3, x + 0.7], [level, level], color="0.5", linewidth=0.8, linestyle=":", zorder=2)


def _y_range(values: np.ndarray) -> tuple[float, float]:
    low, high = np.nanmin(values), np.nanmax(values)
    span = (high - low) or abs(high) * 0.01 or 1.0
    return low - 0.35 * span, high + 0.15 * span


def plot_waterfall(steps: pd.DataFrame, baseline_mean: float, metric: str, direction: str) -> Figure:
    """Plot the ablation path as a waterfall, in the metric's units.

    Args:
        steps: The path (``step, param, gain, gain_ci_low, gain_ci_high, share, ...``) in step order,
            gains oriented so that positive is better.
        baseline_mean: The source (baseline) configuration's mean metric.
        metric: The study metric.
        direction: ``"maximize"`` or ``"minimize"``; for minimize a positive gain is drawn as the
            metric going down.

    Returns:
        A figure: the baseline bar, one floating bar per step from the level before it to the
        level after it with the CI of its gain as a whisker and its share of the total gain in %,
        and the target bar at the level the path ends. Steps without an estimate count as 0.
    """
    check_arguments(direction, 0.05)
    title = f"Ablation path of {metric}"
    if steps.empty or not math.isfinite(baseline_mean):
        return plot_message(title, "no step" if steps.empty else "the baseline has no complete seed")
    before, after = _levels(_floats(steps, "gain"), baseline_mean, direction)
    whiskers = _whiskers(steps, before, direction)
    floor, ceiling = _y_range(np.r_[before, after, whiskers.ravel()])
    last = len(steps) + 1
    fig = Figure(figsize=(max(7.0, 0.9 * (last + 1) + 2.0), 4.8), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    _draw_ends(ax, (baseline_mean, after[-1]), floor, last)
    _draw_steps(ax, steps, before, after, whiskers)
    _connect(ax, np.r_[before, after[-1]])
    labels = ["baseline", *(str(p) for p in steps["param"]), "target"]
    long = len(labels) > 7 or max(map(len, labels)) > 10
    ax.set_xticks(range(last + 1), labels, rotation=30 if long else 0, ha="right" if long else "center", fontsize=9)
    ax.set_ylim(floor, ceiling)
    ax.set_ylabel(f"{metric} (mean over seeds)", fontsize=10)
    unknown = "\n(steps without an estimate count as 0)" if not np.isfinite(_floats(steps, "gain")).all() else ""
    ax.set_xlabel(f"parameter flipped to its target value, in path order{unknown}", fontsize=10)
    ax.grid(axis="y", alpha=0.3, zorder=0)
    better = better_word(direction)
    fig.suptitle(f"{title}: baseline → target ({better} is better)", fontsize=11)
    handles = [
        Patch(color=BETTER_COLOR, label="gain"),
        Patch(color=WORSE_COLOR, label="loss"),
        Line2D([], [], color="0.15", label="95% CI of the step's gain"),
        Patch(color="0.7", label="baseline / target"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return fig
