"""Ablation tables as Markdown and LaTeX, from the frames of ``ablate.ablation.stats``.

:func:`format_table` is the one place where numbers become text; the renderers only add a legend,
emphasis and the markup of their format (pandas' ``to_markdown`` and ``Styler.to_latex``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DELTA = "Δ vs ref [95% CI]"
P_HOLM = "p (Holm)"
D_Z = "d_z"
MARK = "*"
# Every number of one metric gets the decimals that show 4 significant digits of its largest value,
# so a column lines up and a mean and its Δ are printed to the same precision. Tables of differences
# alone (path gains, factorial effects) get 3: their largest value is itself a small difference.
_DIGITS = 4
_DIFF_DIGITS = 3
# The exact two-sided Wilcoxon p is at least 2 / 2^n: 0.0625 at n = 5 (see ABLATION-NOTES.md).
_WILCOXON_MIN_N = 6
TEXT_COLUMNS = ("arm", "vs", "param", "effect", "kind", "note")


def _check(direction: str, alpha: float) -> None:
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', but got {direction!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, but got {alpha!r}")


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _decimals(*columns: np.ndarray, digits: int = _DIGITS) -> int:
    values = np.abs(np.concatenate([np.asarray(c, dtype=float) for c in columns]))
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return digits
    return min(8, max(0, digits - 1 - math.floor(math.log10(values.max()))))


def _interval(value: float, low: float, high: float, decimals: int, signed: bool = False) -> str:
    """``0.9712 [0.9650, 0.9774]``; the value alone when the interval is unknown; n/a without a value."""
    if not math.isfinite(value):
        return "n/a"
    spec = f"{'+' if signed else ''}.{decimals}f"
    if math.isfinite(low) and math.isfinite(high):
        return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"
    return f"{value:{spec}}"


def _intervals(frame: pd.DataFrame, names: tuple[str, str, str], decimals: int, signed: bool = False) -> list[str]:
    value, low, high = (_floats(frame, name) for name in names)
    return [_interval(*row, decimals, signed) for row in zip(value, low, high)]


def _p_text(value: float, significant: bool) -> str:
    if not math.isfinite(value):
        return "n/a"
    text = "<0.001" if value < 0.001 else f"{value:.3f}"
    return text + MARK if significant else text


def _p_texts(frame: pd.DataFrame, column: str) -> list[str]:
    significant = frame["significant"].eq(True) if "significant" in frame.columns else pd.Series(False, frame.index)
    return [_p_text(p, s) for p, s in zip(_floats(frame, column), significant)]


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if pd.isna(v) else str(v) for v in frame[column]]


def _integers(frame: pd.DataFrame, column: str) -> list[str]:
    return ["n/a" if not math.isfinite(v) else f"{v:.0f}" for v in _floats(frame, column)]


def _seeds(frame: pd.DataFrame) -> list[str]:
    """``5``, or ``3/5`` when 2 of 5 seeds failed or are missing."""
    complete, failed, missing = (np.nan_to_num(_floats(frame, c)).astype(int) for c in ("n", "n_failed", "n_missing"))
    return [f"{n}/{n + f + m}" if f + m else f"{n}" for n, f, m in zip(complete, failed, missing)]


def _test_header(metric: str) -> str:
    """``val_accuracy`` -> ``test_accuracy``: the column of the held-out split's score."""
    return "test_" + metric[len("val_") :] if metric.startswith("val_") else f"test {metric}"


def references(table: pd.DataFrame) -> pd.Series:
    return pd.Series(_texts(table, "reference"), index=table.index)


def format_table(table: pd.DataFrame, metric: str, direction: str, alpha: float) -> pd.DataFrame:
    """Turn the ablation table into display strings, one row per arm in the same order.

    Args:
        table: The ablation table (``arm, role, reference, n, n_failed, n_missing, mean, ...``).
        metric: The study metric, named in the headers.
        direction: ``"maximize"`` or ``"minimize"``.
        alpha: The level ``significant`` was decided at (checked here; the legends state it).

    Returns:
        Columns ``arm``, ``vs`` (only when arms are compared with different references), ``n``,
        ``"<metric> (mean [95% CI])"``, ``"Δ vs ref [95% CI]"``, ``"p (Holm)"``, ``"d_z"``,
        ``"test <metric>"`` (only when some test mean is finite) and ``note``. The reference row
        reads ``(reference)`` under Δ; significant p values end in ``*``; ``n`` reads ``3/5``
        when 2 of 5 seeds failed or are missing.

    Raises:
        ValueError: If ``direction`` or ``alpha`` is invalid.
    """
    _check(direction, alpha)
    table = table.reset_index(drop=True)
    refs = references(table)
    is_ref = refs.eq("")
    decimals = _decimals(_floats(table, "mean"), _floats(table, "test_mean"))
    shown = pd.DataFrame({"arm": table["arm"].astype(str)})
    if refs[~is_ref].nunique() > 1:
        shown["vs"] = refs
    shown["n"] = _seeds(table)
    shown[f"{metric} (mean [95% CI])"] = _intervals(table, ("mean", "ci_low", "ci_high"), decimals)
    shown[DELTA] = _intervals(table, ("delta", "delta_ci_low", "delta_ci_high"), decimals, signed=True)
    shown[P_HOLM] = _p_texts(table, "p_holm")
    shown[D_Z] = ["n/a" if not math.isfinite(d) else f"{d:+.2f}" for d in _floats(table, "cohen_dz")]
    for column, text in ((DELTA, "(reference)"), (P_HOLM, ""), (D_Z, "")):
        shown.loc[is_ref, column] = text
    if np.isfinite(_floats(table, "test_mean")).any():
        test = ("test_mean", "test_ci_low", "test_ci_high")
        shown[_test_header(metric)] = _intervals(table, test, decimals)
    shown["note"] = _texts(table, "note")
    return shown


def table_legend(table: pd.DataFrame, metric: str, direction: str, alpha: float, shown: pd.DataFrame) -> list[str]:
    refs = references(table)
    compared = refs.ne("")
    named = refs[compared].unique()
    reference = named[0] if len(named) == 1 else "the arm in column vs"
    better = "higher" if direction == "maximize" else "lower"
    seeds = "; a/b: a of b seeds complete, the others failed or are missing (see note)"
    lines = [
        f"Δ: mean over seeds of the paired difference arm − {reference} in {metric}, with its 95% t-interval; "
        f"{better} {metric} is better ({direction}).",
        f"p (Holm): paired t-test over seeds, Holm-corrected across the compared arms; {MARK} marks p < {alpha:g} "
        "after correction. d_z: Cohen's d_z, the mean paired difference over its standard deviation.",
        f"n: complete seeds{seeds if shown['n'].str.contains('/').any() else ''}.",
        "The 95% intervals are per arm, not adjusted for multiple comparisons; p (Holm) is.",
    ]
    if _test_header(metric) in shown.columns:
        lines.append(
            f"{_test_header(metric)}: the same metric on the held-out test split (never seen by any search), "
            "mean [95% CI]."
        )
    n = _floats(table, "n")[compared.to_numpy()]
    if n.size and (np.nan_to_num(n) < _WILCOXON_MIN_N).all():
        lines.append(
            f"With n < {_WILCOXON_MIN_N} seeds the exact Wilcoxon test cannot reach p < 0.05, whatever the effect; "
            "its p (p_wilcoxon in the CSV) is no evidence either way."
        )
    return lines


def drop_empty(shown: pd.DataFrame, column: str = "note") -> pd.DataFrame:
    return shown.drop(columns=column) if column in shown.columns and shown[column].eq("").all() else shown


def _markdown(shown: pd.DataFrame) -> str:
    # tabulate leaves "|" as is (it would split the cell) and, without disable_numparse, rewrites
    # "0.9700" as "0.97": the strings from format_table must reach the page unchanged.
    cells = shown.apply(lambda column: column.str.replace("|", r"\|", regex=False))
    align = ["left" if c in TEXT_COLUMNS else "right" for c in shown.columns]
    return cells.to_markdown(index=False, disable_numparse=True, colalign=align)


def _with_legend(body: str, legend: list[str], title: str | None = None) -> str:
    head = [f"**{title}**", ""] if title else []
    return "\n".join([*head, body, "", *(f"- {line}" for line in legend)]) + "\n"


def to_markdown(table: pd.DataFrame, metric: str, direction: str, alpha: float, title: str | None = None) -> str:
    """Render the ablation table as a Markdown table followed by a short legend.

    Args:
        table: The ablation table.
        metric: The study metric.
        direction: ``"maximize"`` or ``"minimize"``.
        alpha: The significance level after Holm correction.
        title: Bold line above the table; none when None.

    Returns:
        Markdown text ending in a newline. The note column is left out when every note is empty.
    """
    shown = drop_empty(format_table(table, metric, direction, alpha))
    return _with_legend(_markdown(shown), table_legend(table, metric, direction, alpha, shown), title)


def steps_markdown(steps: pd.DataFrame, metric: str) -> str:
    """Render the ablation path as a Markdown table with a legend.

    Args:
        steps: The path (``step, arm, previous, param, n, gain, gain_ci_low, gain_ci_high, p_value,
            share, cumulative, note``), gains oriented so that positive is better.
        metric: The study metric.

    Returns:
        Markdown text: one row per step with the flipped parameter, the gain [95% CI], the
        uncorrected p, the step's share of the total gain and the cumulative share.
    """
    decimals = _decimals(*(_floats(steps, c) for c in ("gain", "gain_ci_low", "gain_ci_high")), digits=_DIFF_DIGITS)
    share = _floats(steps, "share")
    shown = pd.DataFrame(
        {
            "step": _integers(steps, "step"),
            "param": _texts(steps, "param"),
            "n": _seeds(steps),
            f"gain in {metric} [95% CI]": _intervals(steps, ("gain", "gain_ci_low", "gain_ci_high"), decimals, True),
            "p": [_p_text(p, False) for p in _floats(steps, "p_value")],
            "share": [_percent(s) for s in share],
            # Summed here from the shares, so the column means one thing whatever ``cumulative`` holds.
            "cumulative share": [_percent(s) for s in np.cumsum(np.nan_to_num(share))],
            "note": _texts(steps, "note"),
        }
    )
    legend = [
        f"gain: change in {metric} from flipping param to its target value, against the previous step, "
        "oriented so that positive is better; mean over paired seeds with its 95% t-interval.",
        "p: paired t-test over seeds, not corrected for multiple comparisons (the arm table's p (Holm) is). "
        "share: the step's part of the total gain along the path; shares depend on the order of the flips "
        "(an interaction is credited to the later step).",
    ]
    return _with_legend(_markdown(drop_empty(shown)), legend)


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "n/a"


def effects_markdown(effects: pd.DataFrame, metric: str) -> str:
    """Render the factorial effects as a Markdown table with a legend.

    Args:
        effects: The effects (``effect, kind, components, n, estimate, ci_low, ci_high, p_value,
            p_holm, significant, note``).
        metric: The study metric.

    Returns:
        Markdown text: one row per main effect or interaction with its estimate [95% CI] and the
        Holm-adjusted p (``*`` when significant).
    """
    decimals = _decimals(*(_floats(effects, c) for c in ("estimate", "ci_low", "ci_high")), digits=_DIFF_DIGITS)
    shown = pd.DataFrame(
        {
            "effect": _texts(effects, "effect"),
            "kind": _texts(effects, "kind"),
            "n": _seeds(effects),
            f"estimate in {metric} [95% CI]": _intervals(effects, ("estimate", "ci_low", "ci_high"), decimals, True),
            P_HOLM: _p_texts(effects, "p_holm"),
            "note": _texts(effects, "note"),
        }
    )
    legend = [
        f"estimate: the factorial effect on {metric} (main: component present − removed, averaged over the "
        "other components; interaction A × B: half the difference between A's effect with B present and "
        "with B removed, as in Box, Hunter & Hunter), "
        "with its 95% t-interval over seeds.",
        f"p (Holm): Holm-corrected across the effects; {MARK} marks a significant effect.",
    ]
    return _with_legend(_markdown(drop_empty(shown)), legend)
