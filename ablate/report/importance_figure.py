"""The figure of parameter importance (``importance.png``): one panel per method, the knobs in
the same order in each, bars at the median share of the refits on random halves of the trials,
whiskers over their range (see :mod:`ablate.study.importance`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ablate.plots import DPI, POINT_COLOR
from ablate.study.importance import METHODS, REPEATS, method_caption

ROW_INCHES = 0.32


def plot_importance(table: pd.DataFrame, metric: str, n_used: int, repeats: int = REPEATS) -> Figure:
    """Plot each knob's importance per method as horizontal bars with the refits' range.

    Args:
        table: ``importance.csv``'s rows (``param, importance, ci_low, ci_high, method``).
        metric: The objective the importance is of.
        n_used: Complete trials the fits drew from (for the title).
        repeats: Refits per method (for the title).

    Returns:
        A figure with one panel per method in ``table``, knobs sorted by the first method's
        importance (most important on top) and shared across panels; a knob a method did not rate
        (a conditional knob, for fANOVA) reads "not rated" in that panel.
    """
    methods = [m for m in METHODS if m in set(table["method"])]
    order = _knob_order(table, methods)
    height = 1.6 + ROW_INCHES * len(order)
    fig = Figure(figsize=(10, max(3.0, height)), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(methods), sharey=True, squeeze=False)[0]
    y = np.arange(len(order))[::-1]  # the first knob on top
    for ax, method in zip(axes, methods, strict=True):
        rows = table[table["method"] == method].set_index("param").reindex(order)
        _bars(ax, y, rows)
        ax.set_title(method_caption(method, n_used), fontsize=10)
        ax.set_xlabel("share of importance (sums to 1 per refit)", fontsize=10)
        ax.set_xlim(0, 1.02)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=9)
    axes[0].set_yticks(y, order)
    axes[0].set_ylim(-0.6, len(order) - 0.4)
    fig.suptitle(
        f"Importance for {metric}: bar = median of {repeats} refits on random halves of the "
        f"{n_used} complete trials, whisker = their range",
        fontsize=11,
    )
    return fig


def _knob_order(table: pd.DataFrame, methods: list[str]) -> list[str]:
    """Knobs by the first method's importance, then those it did not rate by the next method's."""
    order: list[str] = []
    for m in methods:
        rows = table[table["method"] == m].sort_values(["importance", "param"], ascending=[False, True])
        order += [p for p in rows["param"] if p not in order]
    return order


def _bars(ax, y: np.ndarray, rows: pd.DataFrame) -> None:
    rated = rows["importance"].notna().to_numpy()
    value = rows["importance"].to_numpy(dtype=float)
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    err = np.vstack([value - low, high - value])[:, rated]
    ax.barh(y[rated], value[rated], height=0.6, color=POINT_COLOR, alpha=0.8, gid="importance")
    ax.errorbar(value[rated], y[rated], xerr=err, fmt="none", ecolor="0.15", capsize=3, linewidth=1.1)
    for yy in y[~rated]:
        ax.text(0.01, yy, "not rated", va="center", ha="left", fontsize=8, color="0.45", style="italic")
