"""The ablation table as text: display strings from ``ablation.csv``'s frame, its legend and its
footnotes, and the Markdown table (``ablate.ablation.latex`` sets the same strings in LaTeX).

:func:`format_table` is the one place where the arm table's numbers become text; the renderers
only add the legend, emphasis and the markup of their format (pandas' ``to_markdown`` and
``Styler.to_latex``). A share (an accuracy) is written in percent and its differences in points;
a note that rows share is one footnote, not a sentence per row.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ablate.ablation.units import Unit, example_worth, plain_number, unit_of
from ablate.vocab.direction import better_word, check_direction

P_RAW = "p"
P_HOLM = "p (Holm)"
P_EQUIVALENCE = "p equiv. (Holm)"
VERDICT = "verdict"
NOTES = "notes"
MARK = "*"
CUT = "†"  # an interval cut at the bound of a share
# Every number of one metric gets the decimals that show 4 significant digits of its largest value,
# so a column lines up and a mean and its Δ are printed to the same precision; points get 2.
_DIGITS = 4
_POINT_DECIMALS = 2
# The exact two-sided Wilcoxon p is at least 2 / 2^n: 0.0625 at n = 5 (see ABLATION-NOTES.md).
_WILCOXON_MIN_N = 6
TEXT_COLUMNS = ("arm", "vs", "param", "effect", "kind", "note", VERDICT, NOTES, "test verdict")


def check_arguments(direction: str, alpha: float) -> None:
    check_direction(direction)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, but got {alpha!r}")


def floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def decimals_of(*columns: np.ndarray, digits: int = _DIGITS) -> int:
    values = np.abs(np.concatenate([np.asarray(c, dtype=float) for c in columns]))
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return digits
    return min(8, max(0, digits - 1 - math.floor(math.log10(values.max()))))


def interval(
    value: float, low: float, high: float, decimals: int, signed: bool = False, bounds: tuple | None = None
) -> str:
    """``97.12 [96.50, 97.74]``; the value alone when the interval is unknown; n/a without a value.
    An end past ``bounds`` is cut there and marked with :data:`CUT`."""
    if not math.isfinite(value):
        return "n/a"
    if not (math.isfinite(low) and math.isfinite(high)):
        return plain_number(value, decimals, signed)
    ends = []
    for end in (low, high):
        cut = bounds is not None and not bounds[0] <= end <= bounds[1]
        end = min(max(end, bounds[0]), bounds[1]) if bounds is not None and cut else end
        ends.append(plain_number(end, decimals, signed) + (CUT if cut else ""))
    return f"{plain_number(value, decimals, signed)} [{ends[0]}, {ends[1]}]"


def p_text(value: float, significant: bool = False) -> str:
    if not math.isfinite(value):
        return "n/a"
    text = "<0.001" if value < 0.001 else f"{value:.3f}"
    return text + MARK if significant else text


def texts(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if pd.isna(v) else str(v) for v in frame[column]]


def seeds_text(frame: pd.DataFrame) -> list[str]:
    """``5``, or ``3/5`` when 2 of 5 seeds failed or are missing."""
    complete, failed, missing = (np.nan_to_num(floats(frame, c)).astype(int) for c in ("n", "n_failed", "n_missing"))
    return [f"{n}/{n + f + m}" if f + m else f"{n}" for n, f, m in zip(complete, failed, missing)]


def test_metric_name(metric: str) -> str:
    """``val_accuracy`` -> ``test_accuracy``: the held-out split's name for the metric."""
    return "test_" + metric[len("val_") :] if metric.startswith("val_") else f"test {metric}"


def references(table: pd.DataFrame) -> pd.Series:
    return pd.Series(texts(table, "reference"), index=table.index)


def table_unit(table: pd.DataFrame, metric: str) -> Unit:
    """The unit of the table's metric, from its name and its means."""
    values = np.concatenate([floats(table, c) for c in ("mean", "test_mean")])
    return unit_of(metric, values)


@dataclass(frozen=True)
class TableText:
    """The arm table as display strings, with what is said under it."""

    frame: pd.DataFrame  # one row per arm, display strings, in table order
    legend: list[str]  # what the columns mean
    footnotes: list[str]  # "a: ..." for the row notes, in marker order


def format_table(
    table: pd.DataFrame,
    metric: str,
    direction: str,
    alpha: float,
    split_sizes: Mapping[str, int] | None = None,
    adaptive: bool = False,
) -> TableText:
    """Turn the ablation table (``ablation.csv``'s frame) into display strings, one row per arm.

    Columns: ``arm``, ``vs`` (only when arms are compared with different references), ``seeds``,
    the metric's mean [95% CI] (in % for a share), ``Δ (points) [95% CI]``, ``p``, ``p (Holm)``
    (``*`` when below α), ``verdict``, the same three on the held-out test split when it was scored,
    and ``notes`` (footnote letters; left out when no row has a note). The reference row reads
    ``(reference)`` under Δ; ``seeds`` reads ``3/5`` when 2 of 5 seeds failed or are missing.

    Raises:
        ValueError: If ``direction`` or ``alpha`` is invalid.
    """
    check_arguments(direction, alpha)
    table = table.reset_index(drop=True)
    unit = table_unit(table, metric)
    refs = references(table)
    is_ref = refs.eq("").to_numpy()
    means = ("mean", "ci_low", "ci_high")
    decimals = _POINT_DECIMALS if unit.is_points else decimals_of(floats(table, "mean"), floats(table, "test_mean"))
    shown = pd.DataFrame({"arm": table["arm"].astype(str)})
    if refs[~is_ref].nunique() > 1:
        shown["vs"] = refs
    shown["seeds"] = seeds_text(table)
    shown[f"{unit.header(metric)} [95% CI]"] = _intervals(table, means, decimals, unit, bounds=True)
    delta = f"{unit.delta_header()} [95% CI]"
    shown[delta] = _intervals(table, ("delta", "delta_ci_low", "delta_ci_high"), decimals, unit, signed=True)
    shown[P_RAW] = [p_text(p) for p in floats(table, "p_value")]
    significant = floats(table, "p_holm") < alpha
    shown[P_HOLM] = [p_text(p, s) for p, s in zip(floats(table, "p_holm"), significant)]
    if np.isfinite(floats(table, "min_effect")).any():
        equivalent = floats(table, "p_equivalence_holm")
        shown[P_EQUIVALENCE] = [p_text(p, p < alpha) for p in equivalent]
    shown[VERDICT] = texts(table, "verdict")
    if np.isfinite(floats(table, "test_mean")).any():
        test = test_metric_name(metric)
        test_means = ("test_mean", "test_ci_low", "test_ci_high")
        shown[f"{unit.header(test)} [95% CI]"] = _intervals(table, test_means, decimals, unit, bounds=True)
        shown[f"test {delta}"] = _intervals(
            table, ("test_delta", "test_delta_ci_low", "test_delta_ci_high"), decimals, unit, signed=True
        )
        shown["test verdict"] = texts(table, "test_verdict")
    for column in shown.columns:
        if column.endswith(f"{delta}"):
            shown.loc[is_ref, column] = "(reference)"
    for column in (P_RAW, P_HOLM, P_EQUIVALENCE, VERDICT, "test verdict"):
        if column in shown.columns:
            shown.loc[is_ref, column] = ""
    marks, footnotes = _footnotes(texts(table, "note"))
    if any(marks):
        shown[NOTES] = marks
    legend = table_legend(table, metric, direction, alpha, shown, unit, split_sizes or {}, adaptive)
    return TableText(shown, legend, footnotes)


def _intervals(
    table: pd.DataFrame, names: tuple[str, str, str], decimals: int, unit: Unit, bounds: bool = False, signed=False
) -> list[str]:
    value, low, high = (floats(table, name) * unit.scale for name in names)
    limits = tuple(b * unit.scale for b in unit.bounds) if bounds and unit.bounds else None
    return [interval(*row, decimals, signed, limits) for row in zip(value, low, high)]


def _footnotes(notes: list[str]) -> tuple[list[str], list[str]]:
    """Per row its footnote letters (``a`` or ``a,b``); and the footnotes, ``a: ...``, one per distinct note."""
    letters: dict[str, str] = {}
    marks = []
    for note in notes:
        parts = [p.strip() for p in note.split(";") if p.strip()]
        for part in parts:
            letters.setdefault(part, string.ascii_lowercase[len(letters) % 26])
        marks.append(",".join(letters[p] for p in parts))
    return marks, [f"{letter}: {note}" for note, letter in letters.items()]


def table_legend(
    table: pd.DataFrame,
    metric: str,
    direction: str,
    alpha: float,
    shown: pd.DataFrame,
    unit: Unit,
    split_sizes: Mapping[str, int],
    adaptive: bool = False,
) -> list[str]:
    """What the table's columns mean, in the order a reader meets them."""
    refs = references(table)
    compared = refs.ne("").to_numpy()
    named = refs[compared].unique()
    reference = named[0] if len(named) == 1 else "the arm in column vs"
    better = better_word(direction)
    worth = example_worth(split_sizes.get("val"), unit)
    in_unit = f", in {unit.delta_name}" if unit.delta_name else ""
    lines = [
        f"Δ: arm − {reference}, the mean over paired seeds of their difference in {metric}{in_unit}"
        + (f" (one validation example is worth {worth})" if worth else "")
        + f"; {better} is better ({direction}). [95% CI]: Student-t intervals, per arm, not adjusted.",
        f"p: paired t-test of Δ = 0. p (Holm): adjusted across the {int(compared.sum())} compared arms"
        + (" and for the looks of the adaptive design (each look spends its share of α)" if adaptive else "")
        + f"; {MARK} marks p (Holm) < {alpha:g}.",
        _verdict_line(table, alpha, unit),
    ]
    if shown["seeds"].str.contains("/").any():
        lines.append("seeds: a/b means a of b seeds complete; failed or missing ones are left out, never averaged.")
    if "test verdict" in shown.columns:
        lines.append(
            "test: the same on the held-out test split (never seen by a search), its verdict taken at the same "
            "seeds as the validation verdict (a secondary result)."
        )
    n = floats(table, "n_pairs")[compared]
    if n.size and (np.nan_to_num(n) < _WILCOXON_MIN_N).all():
        lines.append(
            f"With n < {_WILCOXON_MIN_N} seeds the exact Wilcoxon test cannot reach p < 0.05, whatever the effect; "
            "its p (p_wilcoxon in ablation.csv) is no evidence either way."
        )
    if any(CUT in cell for column in shown.columns for cell in shown[column].astype(str)):
        lines.append(
            f"{CUT}: the t-interval runs past 100 % and is cut there (a share cannot); this close to the bound "
            "the seeds' spread is far from normal, and the interval only approximate."
        )
    return lines


def _verdict_line(table: pd.DataFrame, alpha: float, unit: Unit) -> str:
    margins = floats(table, "min_effect")
    margin = margins[np.isfinite(margins)]
    if not margin.size:
        return (
            "verdict: matters when p (Holm) < α; otherwise inconclusive. Without ablation.min_effect there is no "
            "equivalence test, so no arm can be shown negligible: set it (the smallest effect of interest) for that."
        )
    m = margin[0] * unit.scale
    shown = f"±{plain_number(m, _POINT_DECIMALS)} {unit.delta_name}" if unit.is_points else f"±{margin[0]:g}"
    return (
        f"verdict: the paired t-test of Δ = 0 and the equivalence test (two one-sided tests) with margin "
        f"min_effect = {shown}, each Holm-adjusted at α = {alpha:g} (p (Holm) and p equiv. (Holm), {MARK} below "
        "α): matters (Δ ≠ 0, not shown within the margin), small (Δ ≠ 0 and shown within it), negligible (shown "
        "within it, Δ ≠ 0 not shown), inconclusive (neither: seeds_needed in ablation.csv gives the seeds that "
        "would settle it). The tests are adjusted, the 95% intervals not: an interval inside the margin is not "
        "yet equivalence shown."
    )


def drop_empty(shown: pd.DataFrame, column: str = "note") -> pd.DataFrame:
    return shown.drop(columns=column) if column in shown.columns and shown[column].eq("").all() else shown


def markdown_cells(shown: pd.DataFrame) -> str:
    # tabulate leaves "|" as is (it would split the cell) and, without disable_numparse, rewrites
    # "0.9700" as "0.97": the strings from format_table must reach the page unchanged.
    cells = shown.apply(lambda column: column.astype(str).str.replace("|", r"\|", regex=False))
    align = ["left" if c in TEXT_COLUMNS else "right" for c in shown.columns]
    return cells.to_markdown(index=False, disable_numparse=True, colalign=align)


def with_legend(body: str, legend: list[str], title: str | None = None) -> str:
    head = [f"**{title}**", ""] if title else []
    return "\n".join([*head, body, "", *(f"- {line}" for line in legend)]) + "\n"


def to_markdown(
    table: pd.DataFrame,
    metric: str,
    direction: str,
    alpha: float,
    title: str | None = None,
    split_sizes: Mapping[str, int] | None = None,
    adaptive: bool = False,
) -> str:
    """Render the ablation table as a Markdown table followed by its legend and footnotes.

    Returns:
        Markdown text ending in a newline.
    """
    text = format_table(table, metric, direction, alpha, split_sizes, adaptive)
    return with_legend(markdown_cells(text.frame), text.legend + text.footnotes, title)
