"""The tables of an ablation path's steps and a factorial design's effects, as Markdown with a
legend, each with its verdict (the arm table is ``ablate.ablation.tables``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ablate.ablation.tables import (
    MARK,
    P_HOLM,
    VERDICT,
    decimals_of,
    floats,
    interval,
    markdown_cells,
    p_text,
    seeds_text,
    texts,
)
from ablate.ablation.tables import with_legend as _with_legend

_DIFF_DIGITS = 3  # path gains and factorial effects are themselves small differences


def _intervals(frame: pd.DataFrame, names: tuple[str, str, str], decimals: int, signed: bool = False) -> list[str]:
    value, low, high = (floats(frame, name) for name in names)
    return [interval(*row, decimals, signed) for row in zip(value, low, high)]


def _p_texts(frame: pd.DataFrame, column: str) -> list[str]:
    significant = frame["significant"].eq(True) if "significant" in frame.columns else pd.Series(False, frame.index)
    return [p_text(p, s) for p, s in zip(floats(frame, column), significant)]


def _integers(frame: pd.DataFrame, column: str) -> list[str]:
    return ["n/a" if not math.isfinite(v) else f"{v:.0f}" for v in floats(frame, column)]


def _markdown(shown: pd.DataFrame) -> str:
    empty = [c for c in ("note", VERDICT) if c in shown.columns and shown[c].eq("").all()]
    return markdown_cells(shown.drop(columns=empty))


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
    decimals = decimals_of(*(floats(steps, c) for c in ("gain", "gain_ci_low", "gain_ci_high")), digits=_DIFF_DIGITS)
    share = floats(steps, "share")
    shown = pd.DataFrame(
        {
            "step": _integers(steps, "step"),
            "param": texts(steps, "param"),
            "n": seeds_text(steps),
            f"gain in {metric} [95% CI]": _intervals(steps, ("gain", "gain_ci_low", "gain_ci_high"), decimals, True),
            "p": [p_text(p, False) for p in floats(steps, "p_value")],
            "share": [_percent(s) for s in share],
            # Summed here from the shares, so the column means one thing whatever ``cumulative`` holds.
            "cumulative share": [_percent(s) for s in np.cumsum(np.nan_to_num(share))],
            VERDICT: texts(steps, "verdict"),
            "note": texts(steps, "note"),
        }
    )
    legend = [
        f"gain: change in {metric} from flipping param to its target value, against the previous step, "
        "oriented so that positive is better; mean over paired seeds with its 95% t-interval.",
        "p: paired t-test over seeds, not corrected for multiple comparisons. verdict: the step's arm against "
        "the previous step in the arm table, Holm-adjusted there with the path's other comparisons. "
        "share: the step's part of the total gain along the path; shares depend on the order of the flips "
        "(an interaction is credited to the later step).",
    ]
    return _with_legend(_markdown(shown), legend)


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
    decimals = decimals_of(*(floats(effects, c) for c in ("estimate", "ci_low", "ci_high")), digits=_DIFF_DIGITS)
    shown = pd.DataFrame(
        {
            "effect": texts(effects, "effect"),
            "kind": texts(effects, "kind"),
            "n": seeds_text(effects),
            f"estimate in {metric} [95% CI]": _intervals(effects, ("estimate", "ci_low", "ci_high"), decimals, True),
            P_HOLM: _p_texts(effects, "p_holm"),
            VERDICT: texts(effects, "verdict"),
            "note": texts(effects, "note"),
        }
    )
    legend = [
        f"estimate: the factorial effect on {metric} (main: component present − removed, averaged over the "
        "other components; interaction A × B: half the difference between A's effect with B present and "
        "with B removed, as in Box, Hunter & Hunter), "
        "with its 95% t-interval over seeds.",
        f"p (Holm): Holm-corrected across the effects; {MARK} marks a significant effect. verdict: as in the arm "
        "table, with the effects as one family (the same margin min_effect).",
    ]
    return _with_legend(_markdown(shown), legend)
