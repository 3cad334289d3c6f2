"""Figures of an ablation study: a forest plot of the arms, the ablation path as a waterfall and (from
``_interactions``) the interaction plots of a factorial design.

Like ``ablate.report.figures``, figures are built on ``matplotlib.figure.Figure``, never through pyplot, so
nothing here changes the process-wide backend; the caller saves them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ablate.ablation._interactions import plot_interactions
from ablate.ablation.tables import P_HOLM, check_arguments, format_table, table_unit
from ablate.ablation.units import Unit
from ablate.report.figures import DPI, plot_message

__all__ = ["plot_forest", "plot_interactions", "plot_waterfall"]

# Okabe-Ito blue and vermillion: they stay apart for red-green colour-blind readers too.
BETTER_COLOR = "#0072B2"
WORSE_COLOR = "#D55E00"
NEUTRAL_COLOR = "0.45"
NEGLIGIBLE_COLOR = "#009E73"  # Okabe-Ito bluish green: within the margin
FLAG_COLOR = "#A35200"  # arm labels with failed or missing seeds
ROW_INCHES = 0.34  # per forest row: 30 arms stay legible at 100 dpi


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _check_direction(direction: str) -> None:
    check_arguments(direction, 0.05)


# --------------------------------------------------------------------------------------- forest


def _compared(table: pd.DataFrame, shown: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The arms compared with a reference, in table order, and their Holm p as displayed."""
    keep = (table["reference"].notna() & table["reference"].astype(str).ne("")).to_numpy()
    return table[keep].reset_index(drop=True), list(shown.loc[keep, P_HOLM])


def _style(verdict: str, delta: float, direction: str) -> tuple[str, str, bool]:
    """Colour, marker and whether it is filled, by verdict (and, for a real effect, its side)."""
    side = BETTER_COLOR if (delta > 0) == (direction == "maximize") else WORSE_COLOR
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


def _label_rows(ax: Axes, compared: pd.DataFrame, right_texts: list[str]) -> None:
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
    right.set_ylabel("p (Holm) · verdict", fontsize=8, color="0.3")
    right.tick_params(length=0)
    for odd in rows[1::2]:  # banding guides the eye from a label to its row across a wide axis
        ax.axhspan(odd - 0.5, odd + 0.5, color="0.95", zorder=0, linewidth=0)
    ax.set_ylim(len(compared) - 0.5, -0.5)


def _forest_legend(fig: Figure, seen: list[tuple[str, str, bool]], verdicts: list[str], margin: str) -> None:
    handles = [
        Line2D([], [], linestyle="-", marker=m, color=c, markerfacecolor=c if f else "white", label=_VERDICT_LABELS[v])
        for v, (c, m, f) in zip(verdicts, seen)
    ]
    handles.append(Line2D([], [], linestyle="none", marker="o", color=NEUTRAL_COLOR, alpha=0.4, label="per seed"))
    if margin:
        handles.append(Patch(color=NEGLIGIBLE_COLOR, alpha=0.15, label=margin))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)), fontsize=8, frameon=False)


def _better_side(ax: Axes, metric: str, direction: str) -> None:
    if direction == "maximize":
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
        ±min_effect shaded. Δ in points for a share. Labels give the complete seeds and flag arms
        with failed or missing seeds (``⚠ n=3/5``). Without any compared arm, or without any
        estimate, a figure saying so.
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
    margin = _shade_margin(ax, _floats(compared, "min_effect"), unit)
    seen: dict[str, tuple[str, str, bool]] = {}
    verdicts = [str(v) if isinstance(v, str) and v else "inconclusive" for v in compared.get("verdict", [])]
    for y, row in compared.iterrows():
        style = _style(verdicts[int(y)], float(row["delta"]), direction)
        seen.setdefault(verdicts[int(y)], style)
        _draw_arm(ax, int(y), row, _seed_deltas(differences, row), style, unit.scale)
    _label_rows(ax, compared, [f"{p} · {v}" for p, v in zip(p_texts, verdicts)])
    ax.axvline(0, color="0.2", linewidth=0.9, zorder=1)
    references = compared["reference"].astype(str).unique()
    vs = references[0] if len(references) == 1 else "reference"
    units = f" ({unit.delta_name})" if unit.delta_name else ""
    ax.set_xlabel(f"Δ {metric}{units} vs {vs} (arm − reference)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=9)
    _better_side(ax, metric, direction)
    fig.suptitle(f"{title}: paired mean difference over seeds, 95% CI, verdict", fontsize=11)
    order = [v for v in _VERDICT_LABELS if v in seen]
    _forest_legend(fig, [seen[v] for v in order], order, margin)
    return fig


def _shade_margin(ax: Axes, margins: np.ndarray, unit: Unit) -> str:
    """Shade ±min_effect (what an arm must be shown within to be negligible); its legend label."""
    margins = margins[np.isfinite(margins)]
    if not margins.size:
        return ""
    m = float(margins[0]) * unit.scale
    ax.axvspan(-m, m, color=NEGLIGIBLE_COLOR, alpha=0.15, linewidth=0, zorder=0.5, gid="margin")
    shown = f"{m:.2f} {unit.delta_name}" if unit.is_points else f"{m:g}"
    return f"±min_effect ({shown}): the zone of negligible effects"


# --------------------------------------------------------------------------------------- waterfall


def _levels(gain: np.ndarray, start: float, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """The metric before and after each step; a positive (better) gain lowers a minimized metric."""
    sign = 1.0 if direction == "maximize" else -1.0
    after = start + sign * np.cumsum(np.nan_to_num(gain))
    return np.r_[start, after[:-1]], after


def _whiskers(steps: pd.DataFrame, before: np.ndarray, direction: str) -> np.ndarray:
    """The CI of each step's gain as (low, high) metric levels, NaN where the CI is unknown."""
    sign = 1.0 if direction == "maximize" else -1.0
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
    _check_direction(direction)
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
    better = "higher" if direction == "maximize" else "lower"
    fig.suptitle(f"{title}: baseline → target ({better} is better)", fontsize=11)
    handles = [
        Patch(color=BETTER_COLOR, label="gain"),
        Patch(color=WORSE_COLOR, label="loss"),
        Line2D([], [], color="0.15", label="95% CI of the step's gain"),
        Patch(color="0.7", label="baseline / target"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return fig
