"""Figures for study reports: objective history and per-parameter effects.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot, so this module
works headless and never changes the process-wide backend. ``ablate.report`` re-exports the public
functions here; this module exists only to keep each file short.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

if TYPE_CHECKING:
    from ablate.report import ParamInfo

DPI = 120
MAX_COLS = 3
BEST_COLOR = "C3"
POINT_COLOR = "C0"
# Non-complete trials have no objective value; they sit in a strip at the bottom of the axes.
_BOTTOM_MARKS = {
    "FAIL": ("x", "C3", "failed"),
    "PRUNED": ("v", "C1", "pruned"),
    "RUNNING": ("o", "0.6", "running"),
}
_BOTTOM_Y = 0.03


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _completed(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """COMPLETE trials with a finite objective, sorted by trial number."""
    values = _numeric(trials[metric])
    done = trials[(trials["state"] == "COMPLETE") & values.notna()].copy()
    done[metric] = values[done.index]
    return done.sort_values("number", kind="stable")


def best_trial(trials: pd.DataFrame, metric: str, direction: str) -> pd.Series | None:
    """Pick the best COMPLETE trial by the objective.

    Args:
        trials: The trials frame (``number``, ``state``, metric and parameter columns, ...).
        metric: Name of the objective column.
        direction: ``"maximize"`` or ``"minimize"``.

    Returns:
        The best trial's row, or None when no COMPLETE trial has a value. Ties go to the lowest
        trial number, so the choice is stable across re-runs.

    Raises:
        ValueError: If ``direction`` is neither ``"maximize"`` nor ``"minimize"``.
    """
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    done = _completed(trials, metric)
    if done.empty:
        return None
    values = done[metric]
    label = values.idxmax() if direction == "maximize" else values.idxmin()
    return trials.loc[label]


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


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=13, color="0.4")
    ax.set_yticks([])


def plot_message(title: str, message: str) -> Figure:
    """A figure that says why there is nothing to draw (so every report has the same files)."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xticks([])
    _no_data(ax, message)
    return fig


def _draw_progress(ax: Axes, trials: pd.DataFrame, metric: str, direction: str, best: pd.Series) -> None:
    """Complete trials as dots, the best-so-far step line and the starred best trial."""
    done = _completed(trials, metric)
    x, y = done["number"].to_numpy(), done[metric].to_numpy()
    ax.plot(x, y, linestyle="none", marker="o", color=POINT_COLOR, alpha=0.75, label=f"complete ({len(x)})")
    running = np.maximum.accumulate(y) if direction == "maximize" else np.minimum.accumulate(y)
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
        _no_data(ax, "no trial completed")
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


def _grid(n: int) -> tuple[int, int, tuple[float, float]]:
    """Rows, columns and figure size for ``n`` subplots wrapping at MAX_COLS columns."""
    ncols = min(max(n, 1), MAX_COLS)
    nrows = math.ceil(max(n, 1) / ncols)
    width = {1: 8.0, 2: 9.0}.get(ncols, 10.0)
    return nrows, ncols, (width, 3.3 * nrows + 0.7)


def _choice_key(value: object) -> tuple[int, float, str]:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _categorical(ax: Axes, x: pd.Series, y: pd.Series, best_x: object) -> float | None:
    """Jittered strip plot with a mean marker per choice; returns the best trial's x position."""
    labels = x.astype(str)
    # Numeric choices in numeric order (16 < 128), anything else alphabetically after them.
    ordered = sorted(x.unique(), key=_choice_key)
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
        _no_data(ax, "no values")
    elif p.kind == "categorical":
        best_x = _categorical(ax, x, y, best_x)
    else:
        x = _numeric(x)
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
    done = _completed(trials, metric)
    best = None if direction is None else best_trial(trials, metric, direction)
    # A shared y axis makes the size of each parameter's effect comparable at a glance.
    axes = list(fig.subplots(nrows, ncols, sharey=True, squeeze=False).flat)
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    if not params or done.empty:
        axes[0].set_visible(True)
        axes[0].set_xticks([])
        _no_data(axes[0], "no parameters" if not params else "no trial completed")
    for i, p in enumerate(params if not done.empty else ()):
        _param_axes(axes[i], p, done, metric, best)
        if i % ncols == 0:  # the y axis is shared: label it once per row
            axes[i].set_ylabel(metric, fontsize=11)
    fig.suptitle(f"{metric} vs parameters ({len(done)} complete trials)", fontsize=12)
    fig.legend(handles=_legend_handles(params, best), loc="outside lower center", ncols=3, fontsize=9, frameon=False)
    return fig
