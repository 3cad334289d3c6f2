"""The figure of a re-tuned ablation (``retune.png``): every arm's Δ on one axis twice, with the
tuned baseline's hyperparameters and with its own, so a verdict that re-tuning overturns shows as
two intervals on either side of the ±min_effect band.

Built on ``matplotlib.figure.Figure``, never through pyplot; the caller saves it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ablate.ablation._palette import DIFFER_COLOR, FIXED_COLOR, NEGLIGIBLE_COLOR, RETUNED_COLOR
from ablate.ablation.figures import ROW_INCHES, dress_delta_axis, shade_margin
from ablate.ablation.units import Unit
from ablate.plots import DPI, plot_message

OFFSET = 0.18  # each row's two intervals, fixed above and re-tuned below its centre
_SIDES = (("fixed", FIXED_COLOR, "s", -OFFSET), ("retuned", RETUNED_COLOR, "D", OFFSET))


def _draw_side(ax: Axes, y: float, row: pd.Series, side: str, color: str, marker: str, scale: float) -> None:
    delta, low, high = (float(row[f"delta_{side}{end}"]) * scale for end in ("", "_ci_low", "_ci_high"))
    if math.isfinite(low) and math.isfinite(high):
        ax.plot([low, high], [y, y], color=color, linewidth=2.2, solid_capstyle="butt", zorder=3, gid=f"ci_{side}")
    if math.isfinite(delta):
        ax.plot([delta], [y], ls="none", marker=marker, ms=7, color=color, mew=1.4, mec="0.15", zorder=4, gid=side)


def _label_rows(ax: Axes, rows: pd.DataFrame) -> None:
    """Arm names on the left, ``fixed → re-tuned`` verdicts on the right; rows whose verdicts differ
    in bold on a highlighted band."""
    ys = np.arange(len(rows))
    flags = [bool(f) for f in rows["verdicts_differ"]]
    ax.set_yticks(ys, list(rows["arm"]), fontsize=9)
    right = ax.secondary_yaxis("right")
    texts = [f"{f or '–'} → {t or '–'}" for f, t in zip(rows["verdict_fixed"], rows["verdict_retuned"])]
    right.set_yticks(ys, texts, fontsize=8)
    right.set_ylabel("verdict: fixed → re-tuned", fontsize=8, color="0.3")
    right.tick_params(length=0)
    for labels in (ax.get_yticklabels(), right.get_yticklabels()):
        for label, flagged in zip(labels, flags):
            label.set_fontweight("bold" if flagged else "normal")
    for y, flagged in zip(ys, flags):
        if flagged:
            # A little short of the row's edges: neighbouring flagged rows stay apart.
            ax.axhspan(y - 0.46, y + 0.46, color=DIFFER_COLOR, alpha=0.3, zorder=0, linewidth=0, gid="differ")
        elif y % 2:  # banding guides the eye from a label to its row across a wide axis
            ax.axhspan(y - 0.5, y + 0.5, color="0.95", zorder=0, linewidth=0)
    ax.set_ylim(len(rows) - 0.5, -0.5)


def _legend(fig: Figure, n_trials: int, margin: str, any_differ: bool) -> None:
    labels = ("fixed: the tuned baseline's hyperparameters", f"re-tuned: its own search ({n_trials} trials)")
    handles: list[Artist] = [
        Line2D([], [], color=color, marker=marker, mec="0.15", label=label)
        for (_, color, marker, _), label in zip(_SIDES, labels)
    ]
    if margin:
        handles.append(Patch(color=NEGLIGIBLE_COLOR, alpha=0.15, label=margin))
    if any_differ:
        handles.append(Patch(color=DIFFER_COLOR, alpha=0.3, label="verdicts differ"))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)


def plot_retune(
    table: pd.DataFrame, metric: str, direction: str, unit: Unit, min_effect: float | None, n_trials: int
) -> Figure:
    """Plot each arm's Δ from its reference in the fixed and the re-tuned analysis.

    Args:
        table: ``retune.csv``'s frame; rows without a reference are not drawn.
        metric: The study metric.
        direction: ``"maximize"`` or ``"minimize"``; sets which side is marked better.
        unit: The unit Δ is written in (points for a share).
        min_effect: The smallest effect of interest, shaded as ±min_effect; None: no band.
        n_trials: Each arm's search budget, for the legend.

    Returns:
        A figure with one row per compared arm, in table order: the fixed Δ (orange square) above
        the re-tuned Δ (purple diamond), each with its 95% t-interval, a zero line, the band
        ±min_effect shaded, both verdicts on the right, and the rows whose verdicts differ
        highlighted in bold. Without an estimate on either side, a figure saying so.
    """
    rows = table[table["reference"].notna()].reset_index(drop=True)
    title = f"Δ {metric} by arm, fixed and re-tuned"
    deltas = rows[["delta_fixed", "delta_retuned"]].to_numpy(dtype=float)
    if rows.empty or not np.isfinite(deltas).any():
        return plot_message(title, "no arm has a complete paired seed in either analysis")
    fig = Figure(figsize=(8.5, 2.1 + 2 * ROW_INCHES * len(rows)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    margin = shade_margin(ax, np.array([np.nan if min_effect is None else min_effect]), unit)
    for y, row in rows.iterrows():
        for side, color, marker, offset in _SIDES:
            _draw_side(ax, int(y) + offset, row, side, color, marker, unit.scale)
    _label_rows(ax, rows)
    dress_delta_axis(ax, rows, metric, unit, direction)
    fig.suptitle(f"{title}: paired mean difference over seeds, 95% CI", fontsize=11)
    _legend(fig, n_trials, margin, bool(rows["verdicts_differ"].any()))
    return fig
