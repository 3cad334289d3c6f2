"""Figures of an ablation study: a forest plot of the arms, the ablation path as a waterfall and (from
``_interactions``) the interaction plots of a factorial design.

Like ``ablate.report.figures``, figures are built on ``matplotlib.figure.Figure``, never through pyplot, so
nothing here changes the process-wide backend; the caller saves them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ablate.ablation._interactions import plot_interactions
from ablate.ablation._palette import BETTER_COLOR, FLAG_COLOR, NEGLIGIBLE_COLOR, NEUTRAL_COLOR, WORSE_COLOR
from ablate.ablation._waterfall import plot_waterfall
from ablate.ablation.tables import P_HOLM, format_table, p_text, table_unit
from ablate.ablation.units import Unit
from ablate.plots import DPI, plot_message
from ablate.vocab.direction import maximizes

__all__ = ["BETTER_COLOR", "FLAG_COLOR", "NEGLIGIBLE_COLOR", "NEUTRAL_COLOR", "WORSE_COLOR", "plot_forest"]
__all__ += ["dress_delta_axis", "mark_better_side", "plot_interactions", "plot_waterfall", "shade_margin"]

ROW_INCHES = 0.34  # per forest row: 30 arms stay legible at 100 dpi


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


# --------------------------------------------------------------------------------------- forest


def _compared(table: pd.DataFrame, shown: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The arms compared with a reference, in table order, and their Holm p as displayed."""
    keep = (table["reference"].notna() & table["reference"].astype(str).ne("")).to_numpy()
    return table[keep].reset_index(drop=True), list(shown.loc[keep, P_HOLM])


def _style(verdict: str, delta: float, direction: str) -> tuple[str, str, bool]:
    """Colour, marker and whether it is filled, by verdict (and, for a real effect, its side)."""
    side = BETTER_COLOR if (delta > 0) == (maximizes(direction)) else WORSE_COLOR
    return {
        "matters": (side, "D", True),
        "small": (side, "D", False),
        "negligible": (NEGLIGIBLE_COLOR, "o", True),
    }.get(verdict, (NEUTRAL_COLOR, "o", False))


_VERDICT_LABELS = {
    "matters": "matters (Δ ≠ 0, not within ±min_effect)",
    "small": "small (Δ ≠ 0, within ±min_effect)",
    "negligible": "negligible (within ±min_effect)",
    "inconclusive": "inconclusive",
}


def _arm_label(row: pd.Series, many_references: bool) -> tuple[str, bool]:
    """``-batchnorm (n=5)``, or ``-batchnorm (⚠ n=3/5)`` when seeds failed or are missing."""
    n, failed, missing = (int(np.nan_to_num(float(row[c]))) for c in ("n", "n_failed", "n_missing"))
    vs = f" vs {row['reference']}" if many_references else ""
    if failed + missing:
        return f"{row['arm']}{vs} (⚠ n={n}/{n + failed + missing})", True
    return f"{row['arm']}{vs} (n={n})", False


def _draw_arm(ax: Axes, y: int, row: pd.Series, seeds: np.ndarray, style: tuple[str, str, bool], scale: float) -> None:
    color, marker, filled = style
    if seeds.size:
        # Fixed seed per row: the same study renders the same picture, and rows do not share a pattern.
        jitter = np.random.default_rng(y).uniform(-0.17, 0.17, seeds.size)
        ax.scatter(seeds * scale, y + jitter, s=14, color=color, alpha=0.4, linewidths=0, zorder=2)
    low, high, delta = (float(row[c]) * scale for c in ("delta_ci_low", "delta_ci_high", "delta"))
    if math.isfinite(low) and math.isfinite(high):
        ax.plot([low, high], [y, y], color=color, linewidth=2.2, solid_capstyle="butt", zorder=3, gid="ci")
    if math.isfinite(delta):
        face = color if filled else "white"
        ax.plot([delta], [y], ls="none", marker=marker, ms=7, color=color, mfc=face, mew=1.6, zorder=4, gid="mean")
    else:
        note = str(row["note"]) if isinstance(row.get("note"), str) and row["note"] else "no estimate"
        ax.text(0.01, y, note, transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="0.4", style="italic")


def _seed_deltas(differences: pd.DataFrame, row: pd.Series) -> np.ndarray:
    mine = differences[(differences["arm"] == row["arm"]) & (differences["reference"] == row["reference"])]
    values = _floats(mine, "delta")
    return values[np.isfinite(values)]


def _label_rows(ax: Axes, compared: pd.DataFrame, right_texts: list[str], equivalence: bool) -> None:
    many = compared["reference"].astype(str).nunique() > 1
    labels = [_arm_label(row, many) for _, row in compared.iterrows()]
    rows = np.arange(len(compared))
    ax.set_yticks(rows, [text for text, _ in labels], fontsize=9)
    for tick, (_, flagged) in zip(ax.get_yticklabels(), labels):
        if flagged:
            tick.set_color(FLAG_COLOR)
    # The adjusted p and the verdict of each row on the right, as the classic forest plot's text column.
    right = ax.secondary_yaxis("right")
    right.set_yticks(rows, right_texts, fontsize=8)
    what = "p (Holm): Δ ≠ 0 / within ±min_effect · verdict" if equivalence else "p (Holm) · verdict"
    right.set_ylabel(what, fontsize=8, color="0.3")
    right.tick_params(length=0)
    for odd in rows[1::2]:  # banding guides the eye from a label to its row across a wide axis
        ax.axhspan(odd - 0.5, odd + 0.5, color="0.95", zorder=0, linewidth=0)
    ax.set_ylim(len(compared) - 0.5, -0.5)


def _forest_legend(fig: Figure, seen: list[tuple[str, str, bool]], verdicts: list[str], margin: str) -> None:
    handles: list[Artist] = [
        Line2D([], [], linestyle="-", marker=m, color=c, markerfacecolor=c if f else "white", label=_VERDICT_LABELS[v])
        for v, (c, m, f) in zip(verdicts, seen)
    ]
    handles.append(Line2D([], [], linestyle="none", marker="o", color=NEUTRAL_COLOR, alpha=0.4, label="per seed"))
    if margin:
        handles.append(Patch(color=NEGLIGIBLE_COLOR, alpha=0.15, label=margin))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)), fontsize=8, frameon=False)


def mark_better_side(ax: Axes, metric: str, direction: str) -> None:
    if maximizes(direction):
        ax.set_title(f"better (higher {metric}) →", loc="right", fontsize=9, color=BETTER_COLOR)
    else:
        ax.set_title(f"← better (lower {metric})", loc="left", fontsize=9, color=BETTER_COLOR)


def plot_forest(table: pd.DataFrame, differences: pd.DataFrame, metric: str, direction: str, alpha: float) -> Figure:
    """Plot each arm's paired difference from its reference, with its CI, verdict and per-seed values.

    Args:
        table: The ablation table; rows without a reference (the reference itself) are not drawn.
        differences: Per-seed paired differences (``arm, reference, seed, delta``).
        metric: The study metric.
        direction: ``"maximize"`` or ``"minimize"``; sets which side is marked better.
        alpha: The level of the verdicts' tests, after Holm's correction.

    Returns:
        A figure with one row per compared arm, top to bottom in table order: the mean Δ and its
        95% CI, marked by verdict (matters: filled diamond, small: open diamond, both coloured by
        the side they fall on; negligible: green dot; inconclusive: open grey dot), the per-seed Δ
        as faint points, the Holm p and the verdict on the right, a zero line, and the band
        ±min_effect shaded, Δ in points for a share; labels flag failed or missing seeds
        (``⚠ n=3/5``). Without any compared arm or estimate, a figure saying so.
    """
    text = format_table(table, metric, direction, alpha)
    compared, p_texts = _compared(table.reset_index(drop=True), text.frame)
    title = f"Δ {metric} by arm"
    if compared.empty:
        return plot_message(title, "no arm is compared with a reference")
    if not np.isfinite(_floats(compared, "delta")).any():
        return plot_message(title, "no arm has a complete paired seed")
    unit = table_unit(table, metric)
    fig = Figure(figsize=(8.5, 1.9 + ROW_INCHES * len(compared)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    margin = shade_margin(ax, _floats(compared, "min_effect"), unit)
    seen: dict[str, tuple[str, str, bool]] = {}
    verdicts = [str(v) if isinstance(v, str) and v else "inconclusive" for v in compared.get("verdict", [])]
    for y, row in compared.iterrows():
        style = _style(verdicts[int(y)], float(row["delta"]), direction)
        seen.setdefault(verdicts[int(y)], style)
        _draw_arm(ax, int(y), row, _seed_deltas(differences, row), style, unit.scale)
    equivalence = [p_text(p, p < alpha) for p in _floats(compared, "p_equivalence_holm")] if margin else []
    right = [f"{p} / {e} · {v}" for p, e, v in zip(p_texts, equivalence, verdicts)] if margin else None
    _label_rows(ax, compared, right or [f"{p} · {v}" for p, v in zip(p_texts, verdicts)], bool(margin))
    dress_delta_axis(ax, compared, metric, unit, direction)
    fig.suptitle(f"{title}: paired mean difference over seeds, 95% CI, verdict", fontsize=11)
    order = [v for v in _VERDICT_LABELS if v in seen]
    _forest_legend(fig, [seen[v] for v in order], order, margin)
    return fig


def dress_delta_axis(ax: Axes, rows: pd.DataFrame, metric: str, unit: Unit, direction: str) -> None:
    """The x axis of arms' Δs against their references: the zero line, its label (in the unit, vs
    the one reference where all share it), the grid and which side is better."""
    ax.axvline(0, color="0.2", linewidth=0.9, zorder=1)
    references = rows["reference"].astype(str).unique()
    vs = references[0] if len(references) == 1 else "reference"
    units = f" ({unit.delta_name})" if unit.delta_name else ""
    ax.set_xlabel(f"Δ {metric}{units} vs {vs} (arm − reference)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=9)
    mark_better_side(ax, metric, direction)


def shade_margin(ax: Axes, margins: np.ndarray, unit: Unit) -> str:
    """Shade ±min_effect (what an arm must be shown within to be negligible); its legend label."""
    margins = margins[np.isfinite(margins)]
    if not margins.size:
        return ""
    m = float(margins[0]) * unit.scale
    ax.axvspan(-m, m, color=NEGLIGIBLE_COLOR, alpha=0.15, linewidth=0, zorder=0.5, gid="margin")
    shown = f"{m:.2f} {unit.delta_name}" if unit.is_points else f"{m:g}"
    return f"±min_effect ({shown}): the zone of negligible effects"
