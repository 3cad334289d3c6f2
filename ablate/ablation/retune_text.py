"""The words of a re-tuned ablation's comparison: its paragraph, its table as display strings and
the legend under it. Every number is a cell of ``retune.csv``, written as the ablation paragraph
writes it (``ablate.ablation.paragraph``)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ablate.ablation.paragraph import Numbers, p_phrase, subject_of
from ablate.ablation.retune_analysis import RetunedAblation
from ablate.ablation.units import plain_number


def verdict_change(row: Any) -> str:
    """``matters → negligible``: an arm's verdict fixed, then re-tuned."""
    return f"{row.verdict_fixed or 'no verdict'} → {row.verdict_retuned or 'no verdict'}"


def _is(verdict: str) -> str:
    """A verdict as a sentence's predicate: ``matters``, ``is negligible``."""
    return verdict if verdict == "matters" else f"is {verdict}" if verdict else "has no verdict"


def _moved(r: RetunedAblation, row: Any, num: Numbers) -> str:
    """Which side re-tuning moved: the arm's own mean and its reference's, re-tuned against fixed
    (a verdict can change because the reference's search did better or worse, not the arm's)."""
    table = r.table.set_index("arm")
    unit = f" {num.unit.delta_name}" if num.unit.delta_name else ""
    shifts = []
    for who, arm in (("its mean", row.arm), (f"{row.reference}'s", row.reference)):
        if arm not in table.index:
            return ""
        shift = float(table.loc[arm, "mean_retuned"]) - float(table.loc[arm, "mean_fixed"])
        if not math.isfinite(shift):
            return ""
        shifts.append(f"{who} by {plain_number(shift * num.unit.scale, num.decimals, signed=True)}{unit}")
    return f"; re-tuning moved {shifts[0]} and {shifts[1]}"


def _differ_sentence(r: RetunedAblation, row: Any, num: Numbers) -> str:
    changes = {a.arm: a.changes_text() for a in r.arms}[row.arm]
    moved = f"; its search moved {changes}" if changes else ""
    return (
        f"{subject_of(r.retuned, row.arm)} {_is(row.verdict_fixed)} with the baseline's hyperparameters "
        f"(Δ {num.signed(row.delta_fixed)}) but {_is(row.verdict_retuned)} re-tuned "
        f"(Δ {num.signed(row.delta_retuned)}{moved}{_moved(r, row, num)}){_shift_phrase(row, num)}."
    )


def _shift_phrase(row: Any, num: Numbers) -> str:
    """Whether the two Δs differ by a test: the seed-by-seed shift, its interval and Holm's p."""
    if not math.isfinite(float(row.shift)):
        return ""
    return (
        f"; the two Δs differ by {num.signed(row.shift)} ({num.interval(row.shift_ci_low, row.shift_ci_high)}; "
        f"paired over {int(row.n_shift)} seeds, p (Holm) {p_phrase(float(row.p_shift_holm))})"
    )


def _budget_sentence(r: RetunedAblation) -> str:
    n_arms, k = len(r.retuned.arms), r.n_trials
    per = f" × {r.search_seeds} seeds each" if r.search_seeds > 1 else ""
    knobs = f" over {', '.join(r.knobs)}" if r.knobs else ""
    return (
        f"We re-tuned every arm, the baseline included, by a search of its own{knobs} (the knobs no component "
        f"sets) with the same budget, sampler and sampler seed, and ran each arm's best configuration over the same "
        f"paired seeds as the fixed analysis: {n_arms} arms × {k} search trials{per} = {n_arms * k * r.search_seeds} "
        f"trials, then {len(r.retuned.runs)} (arm, seed) trials (the fixed analysis ran {len(r.fixed.runs)})."
    )


def _baseline_sentence(r: RetunedAblation, table: pd.DataFrame) -> str:
    """The re-tuned baseline against the tuned one: a search of K trials can fall short of the
    study's search, and every re-tuned Δ is taken against it."""
    base = table[table["reference"].isna()]
    if base.empty or not all(math.isfinite(float(base[c].iloc[0])) for c in ("mean_fixed", "mean_retuned")):
        return ""
    num = Numbers(r.fixed.table, r.fixed.metric)
    mean = [
        plain_number(float(base[c].iloc[0]) * num.unit.scale, num.decimals) + num.unit.mean_suffix
        for c in ("mean_fixed", "mean_retuned")
    ]
    return (
        f"Re-tuned, the baseline's mean {r.fixed.metric} over the seeds is {mean[1]}, against {mean[0]} with the "
        "study's tuned hyperparameters; each re-tuned Δ is taken against it."
    )


def retune_paragraph(r: RetunedAblation) -> str:
    """The comparison in prose: the budget, every arm whose verdicts differ, and how many agree."""
    table = r.table
    compared = table[table["reference"].notna()]
    num = Numbers(r.fixed.table, r.fixed.metric)
    flagged = compared[compared["verdicts_differ"]]
    out = [_budget_sentence(r), _baseline_sentence(r, table)]
    out += [_differ_sentence(r, row, num) for row in flagged.itertuples()]
    same = len(compared) - len(flagged)
    if flagged.empty:
        out.append(
            f"Every arm reaches the same verdict both ways ({len(compared)} of {len(compared)}): at this budget, "
            "re-tuning does not change what the fixed analysis found."
        )
    elif same:
        others = "The other arm reaches" if same == 1 else f"The other {same} arms reach"
        out.append(f"{others} the same verdict both ways.")
    if len(compared):
        out.append(
            f"A re-tuned Δ also carries each search's luck: which configuration {r.n_trials} trials find, picked "
            "on the study's seed (never one of the paired seeds, so the Δ itself is measured afresh); every arm's "
            "search had the same sampler seed."
        )
    return " ".join(s for s in out if s)


def _delta_cell(row: Any, side: str, num: Numbers) -> str:
    delta, low, high = (float(getattr(row, f"delta_{side}{end}")) for end in ("", "_ci_low", "_ci_high"))
    if not math.isfinite(delta):
        return "—"
    shown = [plain_number(v * num.unit.scale, num.decimals, signed=True) for v in (delta, low, high)]
    return f"{shown[0]} [{shown[1]}, {shown[2]}]" if math.isfinite(low) else shown[0]


def _compared(row: Any) -> bool:
    return isinstance(row.reference, str) and bool(row.reference)


def retune_markdown_table(r: RetunedAblation) -> str:
    """The arms both ways, as markdown: Δ with its interval and verdict, fixed then re-tuned, whether
    the verdicts differ, and the knobs re-tuning set otherwise."""
    num = Numbers(r.fixed.table, r.fixed.metric)
    unit = f" ({num.unit.delta_name})" if num.unit.delta_name else ""
    rows = [
        {
            "arm": row.arm if _compared(row) else f"{row.arm} (reference)",
            f"Δ fixed{unit} [95% CI]": _delta_cell(row, "fixed", num),
            "verdict fixed": row.verdict_fixed,
            f"Δ re-tuned{unit} [95% CI]": _delta_cell(row, "retuned", num),
            "verdict re-tuned": row.verdict_retuned,
            "verdicts differ": "**yes**" if row.verdicts_differ else "no" if _compared(row) else "",
            "knobs re-tuned differently": row.retuned_changes or "—",
        }
        for row in r.table.itertuples()
    ]
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True)


def retune_legend(r: RetunedAblation) -> list[str]:
    units = Numbers(r.fixed.table, r.fixed.metric).unit.delta_name
    return [
        f"Δ: the arm's mean paired difference in {r.fixed.metric} from its reference over the seeds both ran "
        f"(arm − reference{', in ' + units if units else ''}), with its 95 % t-interval, and its verdict, as in each "
        "analysis's own table. Fixed: every arm with the tuned baseline's hyperparameters (ablation.csv). "
        f"Re-tuned: every arm, the reference included, with the best of its own search of {r.n_trials} trials "
        "(retuned/ablation.csv), so its Δ is taken against the re-tuned reference. Knobs re-tuned differently: "
        "where the arm's re-tuned value differs from what it ran with in the fixed analysis (the reference's "
        "row: what its own search changed in the tuned baseline). The re-tuned configurations in full are in "
        "retune.csv (retuned_config), and there too each arm's shift (re-tuned Δ − fixed Δ over the seeds both "
        "ran, seed by seed: the two analyses share them) with its 95 % t-interval and paired t-test, "
        "Holm-adjusted across the arms (shift, p_shift_holm): a difference of verdicts is not a test of one."
    ]
