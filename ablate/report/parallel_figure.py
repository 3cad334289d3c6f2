"""The parallel coordinates figure (``parallel.png``): one line per complete trial across the
searched knobs and the objective, coloured by the objective, the best trial on top.

Each vertical axis spans what the complete trials took: log-scaled knobs on a log scale,
categorical knobs as evenly spaced choices in the order of ``params.png`` (numbers in numeric
order, then the rest). A trial without a value for a knob (a conditional knob, inactive there)
meets that axis at an "n/a" slot below it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ablate.plots import BEST_COLOR, DPI
from ablate.report.model import ParamInfo
from ablate.report.params_figure import choice_key
from ablate.study.table import best_trial, completed_trials, numeric_values
from ablate.vocab.direction import maximizes

NA_Y = -0.12  # where a trial without the knob meets its axis


@dataclass(frozen=True)
class _Axis:
    name: str
    y: np.ndarray  # position of each trial on the axis, in [0, 1], NaN where it has no value
    ticks: list[tuple[float, str]]


def plot_parallel_coordinates(
    trials: pd.DataFrame, metric: str, params: tuple[ParamInfo, ...], direction: str
) -> Figure:
    """Plot every complete trial as a line across the knobs' axes and the objective's.

    Args:
        trials: The trials frame; only COMPLETE trials with a value are drawn.
        metric: The objective (the colour, and the last axis).
        params: The searched knobs, one axis each in this order.
        direction: ``"maximize"`` or ``"minimize"``: brighter colours are better either way.

    Returns:
        A figure whose trial lines form one collection (gid ``trials``, one path per trial, best
        drawn last), the best trial a thick line on top (gid ``best``), and a colorbar of the
        objective.
    """
    done = completed_trials(trials, metric).reset_index(drop=True)
    value = done[metric].to_numpy(dtype=float)
    axes = [_param_axis(p, done[p.name] if p.name in done else pd.Series(np.nan, index=done.index)) for p in params]
    axes.append(_numeric_axis(metric, done[metric], log=False, integer=False))
    fig = Figure(figsize=(max(8.0, 1.25 * len(axes) + 1.5), 5.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ys = np.column_stack([np.where(np.isnan(a.y), NA_Y, a.y) for a in axes])
    x = np.arange(len(axes), dtype=float)
    # Worst first, so the best trials are drawn on top of the crowd.
    order = np.argsort(value if maximizes(direction) else -value, kind="stable")
    cmap = colormaps["viridis" if maximizes(direction) else "viridis_r"]
    low, high, extend = _colour_range(value, direction)
    lines = LineCollection(
        [np.column_stack([x, ys[i]]) for i in order],
        array=value[order],
        cmap=cmap,
        norm=Normalize(low, high),
        linewidths=1.2,
        alpha=float(np.clip(8 / np.sqrt(max(1, len(done))), 0.25, 0.85)),
        gid="trials",
        zorder=2,
    )
    ax.add_collection(lines)
    best = best_trial(trials, metric, direction)
    if best is not None:
        i = int(np.flatnonzero(done["number"].to_numpy() == int(best["number"]))[0])
        ax.plot(x, ys[i], color=BEST_COLOR, linewidth=3, zorder=4, gid="best", label=f"best (#{int(best['number'])})")
        fig.legend(loc="outside lower center", fontsize=9, frameon=False)
    _draw_axes(ax, axes)
    bar = fig.colorbar(lines, ax=ax, pad=0.01, fraction=0.04, extend=extend)
    if bar.solids is not None:
        bar.solids.set_alpha(1)  # the lines are translucent; the scale must not be
    bar.set_label(metric + (" (worst 10 % clipped)" if extend != "neither" else ""), fontsize=10)
    ax.set_title(f"{len(done)} complete trials across the knobs, coloured by {metric} ({direction})", fontsize=12)
    return fig


def _colour_range(value: np.ndarray, direction: str) -> tuple[float, float, str]:
    """The colour scale: from the 10th percentile of the trials on the bad side to the best, so
    that a few failed-to-learn trials do not paint every good one the same colour."""
    low, high = float(value.min()), float(value.max())
    if len(value) < 10:
        return low, high, "neither"
    if maximizes(direction):
        cut = float(np.quantile(value, 0.1))
        return (cut, high, "min") if cut > low else (low, high, "neither")
    cut = float(np.quantile(value, 0.9))
    return (low, cut, "max") if cut < high else (low, high, "neither")


def _param_axis(p: ParamInfo, raw: pd.Series) -> _Axis:
    if p.kind == "categorical":
        return _categorical_axis(p.name, raw)
    values = numeric_values(raw)
    log = p.log and bool((values.dropna() > 0).all())
    return _numeric_axis(f"{p.name} (log)" if log else p.name, values, log=log, integer=p.kind == "int")


def _categorical_axis(name: str, raw: pd.Series) -> _Axis:
    present = raw.dropna()
    choices = list(dict.fromkeys(str(v) for v in sorted(present.unique(), key=choice_key)))
    step = 1 / (len(choices) - 1) if len(choices) > 1 else 0.0
    where = {c: (i * step if len(choices) > 1 else 0.5) for i, c in enumerate(choices)}
    y = np.array([where[str(v)] if pd.notna(v) else np.nan for v in raw], dtype=float)
    return _Axis(name, y, [(where[c], c) for c in choices] + _na_tick(y))


def _numeric_axis(name: str, raw: pd.Series, log: bool, integer: bool) -> _Axis:
    v = numeric_values(raw).to_numpy(dtype=float)
    t = np.log10(v) if log else v
    finite = t[np.isfinite(t)]
    if finite.size == 0:
        return _Axis(name, np.full(len(v), np.nan), _na_tick(np.full(len(v), np.nan)))
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo
    y = (t - lo) / span if span > 0 else np.where(np.isfinite(t), 0.5, np.nan)
    if span == 0:
        return _Axis(name, y, [(0.5, _label(v[np.isfinite(t)][0], log, integer))] + _na_tick(y))
    if integer and not log and span <= 6:  # a few whole numbers: label each
        marks = np.arange(np.ceil(lo), np.floor(hi) + 1)
    else:
        marks = np.linspace(lo, hi, 5)
    ticks = [((m - lo) / span, _label(10**m if log else m, log, integer)) for m in marks]
    # Rounded labels may repeat (an int knob over a short range): keep each label once.
    ticks = [t for i, t in enumerate(ticks) if i == 0 or t[1] != ticks[i - 1][1]]
    return _Axis(name, y, ticks + _na_tick(y))


def _label(value: float, log: bool, integer: bool) -> str:
    if integer:
        return str(round(value))
    return f"{value:.2g}" if log else f"{value:.3g}"


def _na_tick(y: np.ndarray) -> list[tuple[float, str]]:
    return [(NA_Y, "n/a")] if np.isnan(y).any() else []


def _draw_axes(ax: Axes, axes: list[_Axis]) -> None:
    """The vertical axes, their tick labels beside them and their names below."""
    for i, a in enumerate(axes):
        ax.axvline(i, color="0.25", linewidth=1.0, zorder=3)
        for y, text in a.ticks:
            ax.plot([i - 0.03, i], [y, y], color="0.25", linewidth=1.0, zorder=3)
            ax.annotate(
                text,
                (i, y),
                xytext=(4, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=8,
                zorder=5,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
            )
    names = [a.name for a in axes]
    long = max(len(n) for n in names) > 12 or len(names) > 8
    ax.set_xticks(range(len(axes)), names, rotation=20 if long else 0, ha="right" if long else "center", fontsize=10)
    ax.set_yticks([])
    ax.set_xlim(-0.15, len(axes) - 0.55)
    missing = any(np.isnan(a.y).any() for a in axes)
    ax.set_ylim(NA_Y - 0.06 if missing else -0.05, 1.05)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
