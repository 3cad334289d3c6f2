"""The figure of the objective against each searched parameter (``params.png``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from ablate.plots import BEST_COLOR, DPI, POINT_COLOR, no_data
from ablate.report.figures import _annotate_best
from ablate.report.model import ParamInfo
from ablate.study.table import best_trial, completed_trials, numeric_values

MAX_COLS = 3


def _grid(n: int) -> tuple[int, int, tuple[float, float]]:
    """Rows, columns and figure size for ``n`` subplots wrapping at MAX_COLS columns."""
    ncols = min(max(n, 1), MAX_COLS)
    nrows = math.ceil(max(n, 1) / ncols)
    width = {1: 8.0, 2: 9.0}.get(ncols, 10.0)
    return nrows, ncols, (width, 3.3 * nrows + 0.7)


def choice_key(value: object) -> tuple[int, float, str]:
    """Order of a categorical knob's choices in every figure: numbers by value, then the rest by name."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _categorical(ax: Axes, x: pd.Series, y: pd.Series, best_x: object) -> float | None:
    """Jittered strip plot with a mean marker per choice; returns the best trial's x position."""
    labels = x.astype(str)
    # Numeric choices in numeric order (16 < 128), anything else alphabetically after them.
    ordered = sorted(x.unique(), key=choice_key)
    choices = list(dict.fromkeys(str(v) for v in ordered))
    pos = labels.map({c: i for i, c in enumerate(choices)}).to_numpy(dtype=float)
    # Fixed seed: the same study always renders the same picture.
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(pos))
    ax.plot(pos + jitter, y.to_numpy(), linestyle="none", marker="o", color=POINT_COLOR, alpha=0.6)
    means = y.groupby(labels).mean().reindex(choices)
    ax.plot(
        range(len(choices)),
        means.to_numpy(),
        linestyle="none",
        marker="_",
        markersize=28,
        markeredgewidth=2.5,
        color="black",
        zorder=4,
    )
    ax.set_xticks(range(len(choices)))
    long = max((len(c) for c in choices), default=0) > 8 or len(choices) > 5
    ax.set_xticklabels(choices, rotation=30 if long else 0, ha="right" if long else "center")
    ax.set_xlim(-0.6, len(choices) - 0.4)
    return None if best_x is None else float(choices.index(str(best_x)))


def _log_axis(ax: Axes, x: pd.Series, is_int: bool) -> None:
    """Log x-axis whose tick labels never collide, even over less than two decades."""
    ax.set_xscale("log")
    # Matplotlib labels minor ticks on short log ranges; those labels overlap in a small subplot.
    ax.xaxis.set_minor_formatter(NullFormatter())
    powers_of_two = is_int and bool((np.log2(x) % 1 == 0).all())
    if powers_of_two:  # batch sizes, widths: 16 32 64 ... reads better than 2x10^1
        ax.xaxis.set_major_locator(LogLocator(base=2, numticks=8))
    elif x.max() / x.min() < 100:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    else:
        return  # wide ranges: matplotlib's 10^k labels are the clearest
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _numeric_param(ax: Axes, p: ParamInfo, x: pd.Series, y: pd.Series) -> None:
    ax.plot(x.to_numpy(), y.to_numpy(), linestyle="none", marker="o", color=POINT_COLOR, alpha=0.7)
    if p.log and (x > 0).all():
        _log_axis(ax, x, p.kind == "int")
    else:
        # Few ticks: a third of a 10-inch figure has no room for eight 3-digit labels.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=p.kind == "int"))


def _param_axes(ax: Axes, p: ParamInfo, done: pd.DataFrame, metric: str, best: pd.Series | None) -> None:
    """One subplot: the objective against one parameter, best trial starred."""
    raw = done[p.name] if p.name in done.columns else pd.Series(dtype=object)
    has = raw.notna()
    x, y = raw[has], done.loc[has, metric]
    best_x = best[p.name] if best is not None and p.name in best.index else None
    best_x = None if best_x is None or pd.isna(best_x) else best_x
    if x.empty:
        no_data(ax, "no values")
    elif p.kind == "categorical":
        best_x = _categorical(ax, x, y, best_x)
    else:
        x = numeric_values(x)
        _numeric_param(ax, p, x, y)
        best_x = None if best_x is None else float(best_x)
    ax.margins(y=0.1)
    if best_x is not None and best is not None:
        value = float(best[metric])
        _annotate_best(ax, best_x, value, int(best["number"]), f"#{best['number']}")
    ax.set_xlabel(f"{p.name} (log)" if ax.get_xscale() == "log" else p.name, fontsize=11)
    ax.tick_params(labelsize=9)
    ax.grid(True, alpha=0.3)


def _legend_handles(params: tuple[ParamInfo, ...], best: pd.Series | None) -> list[Line2D]:
    handles = [Line2D([], [], linestyle="none", marker="o", color=POINT_COLOR, label="trial")]
    if best is not None:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="*",
                markersize=12,
                color=BEST_COLOR,
                markeredgecolor="black",
                label=f"best (#{best['number']})",
            )
        )
    if any(p.kind == "categorical" for p in params):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="_",
                markersize=14,
                markeredgewidth=2.5,
                color="black",
                label="mean per choice",
            )
        )
    return handles


def plot_param_effects(
    trials: pd.DataFrame, metric: str, params: tuple[ParamInfo, ...], direction: str | None = None
) -> Figure:
    """Plot the objective against each searched parameter, one subplot each.

    Args:
        trials: The trials frame; only COMPLETE trials with a value are drawn.
        metric: Name of the objective column.
        params: The searched parameters; the grid wraps at three columns.
        direction: ``"maximize"`` or ``"minimize"``, used to pick the highlighted best trial.
            None (the default) highlights nothing: guessing a direction could star the worst.

    Returns:
        A figure with one subplot per parameter (log x-axis where ``ParamInfo.log``; categorical
        parameters as a jittered strip with a mean marker per choice), best trial starred.
    """
    nrows, ncols, size = _grid(len(params))
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    done = completed_trials(trials, metric)
    best = None if direction is None else best_trial(trials, metric, direction)
    # A shared y axis makes the size of each parameter's effect comparable at a glance.
    axes = list(fig.subplots(nrows, ncols, sharey=True, squeeze=False).flat)
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    if not params or done.empty:
        axes[0].set_visible(True)
        axes[0].set_xticks([])
        no_data(axes[0], "no parameters" if not params else "no trial completed")
    for i, p in enumerate(params if not done.empty else ()):
        _param_axes(axes[i], p, done, metric, best)
        if i % ncols == 0:  # the y axis is shared: label it once per row
            axes[i].set_ylabel(metric, fontsize=11)
    fig.suptitle(f"{metric} vs parameters ({len(done)} complete trials)", fontsize=12)
    fig.legend(handles=_legend_handles(params, best), loc="outside lower center", ncols=3, fontsize=9, frameon=False)
    return fig
