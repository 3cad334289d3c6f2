"""The ablation's results as a paper would write them: ``ablation_paragraph.md`` and ``.tex``.

Generated from the ablation table (``ablation.csv``'s frame) and never edited by hand: every
number in the paragraph is a cell of that table, written as the table writes it (a share in
points, rounded); "significant" is said only of an arm whose p (Holm) is below α, and "no effect"
only of an arm shown negligible. The words (the design, the verdicts' meaning) come from the
analysis; the numbers only from the table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ablate.ablation.latex import escape_latex
from ablate.ablation.tables import decimals_of, floats, table_unit
from ablate.ablation.units import Unit, plain_number

_POINT_DECIMALS = 2


class Numbers:
    """How the paragraph writes the table's numbers: as the table does."""

    def __init__(self, table: pd.DataFrame, metric: str) -> None:
        self.unit: Unit = table_unit(table, metric)
        self.decimals = (
            _POINT_DECIMALS if self.unit.is_points else decimals_of(floats(table, "mean"), floats(table, "test_mean"))
        )
        self.units = f" {self.unit.delta_name}" if self.unit.delta_name else ""
        levels = floats(table, "confidence")
        self.confidence = 100 * float(levels[np.isfinite(levels)][0]) if np.isfinite(levels).any() else 95.0

    def size(self, value: float) -> str:
        """A magnitude in the table's unit: ``2.10 points``."""
        return plain_number(abs(value) * self.unit.scale, self.decimals) + self.units

    def signed(self, value: float) -> str:
        return plain_number(value * self.unit.scale, self.decimals, signed=True) + self.units

    def interval(self, low: float, high: float) -> str:
        if not (math.isfinite(low) and math.isfinite(high)):
            return "no interval"
        lo, hi = (plain_number(v * self.unit.scale, self.decimals) for v in (low, high))
        return f"{self.confidence:g}% CI {lo} to {hi}"


def p_phrase(value: float) -> str:
    """A p-value as a sentence writes it: ``= 0.012``, ``< 0.001``, ``n/a``."""
    if not math.isfinite(value):
        return "n/a"
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def _subject(row: pd.Series, policy: str, removed: list[str], param: str | None) -> str:
    """What the arm does, as the subject of a sentence."""
    if row["role"] in ("step", "candidate"):
        what = "a step of the path" if row["role"] == "step" else "a candidate the path did not take"
        return f"Flipping {param} ({what})"
    if policy == "add_one":
        if row["role"] == "baseline":
            return "Adding every component back (the full model)"
        return f"Adding {', '.join(c for c in row['_present'] if c)} back"
    if removed:
        names = removed[0] if len(removed) == 1 else ", ".join(removed[:-1]) + f" and {removed[-1]}"
        minimal = row["role"] == "cell" and row["arm"] == "minimal"
        return f"Removing {names}" + (" (the minimal model)" if minimal else "")
    return f"Arm {row['arm']}"


def _arm_sentence(row: pd.Series, metric: str, policy: str, alpha: float, num: Numbers) -> str:
    delta = float(row["delta"])
    seeds = f"{int(row['n_pairs'])} seeds"
    subject = _subject(row, policy, list(row["_removed"]), row["_param"])
    if not math.isfinite(delta):
        return f"{subject} has no complete pair of seeds, so no estimate."
    how = "lowered" if delta < 0 else "raised"
    low, high = float(row["delta_ci_low"]), float(row["delta_ci_high"])
    ci = num.interval(low, high)
    p_holm, p_eq = float(row["p_holm"]), float(row["p_equivalence_holm"])
    verdict = str(row["verdict"])
    if verdict in ("matters", "small") and p_holm < alpha:
        size_ci = num.interval(-high, -low) if delta < 0 else ci  # "lowered by 3.30 (95% CI 2.95 to 3.66)"
        head = f"{subject} {how} {metric} by {num.size(delta)} ({size_ci}; p_Holm {p_phrase(p_holm)}; {seeds})"
        if verdict == "matters":
            margin = float(row["min_effect"])
            inside = math.isfinite(margin) and -margin < low and high < margin
            adjusted = (
                f"; its interval lies within ±{num.size(margin)}, but equivalence is not shown once adjusted for "
                f"the arms and looks (equivalence p_Holm {p_phrase(p_eq)})"
                if inside
                else ""
            )
            smaller = ", not shown to be smaller than the effect of interest" if math.isfinite(margin) else ""
            return f"{head}: a statistically significant difference{adjusted}{smaller}, so it matters."
        return (
            f"{head}: statistically significant, but shown to lie within ±{num.size(float(row['min_effect']))}, "
            "smaller than the effect of interest (small)."
        )
    head = f"{subject} changed {metric} by {num.signed(delta)} ({ci}; {seeds})"
    if verdict == "negligible":
        return (
            f"{head}, equivalent to no effect within ±{num.size(float(row['min_effect']))} "
            f"(equivalence p_Holm {p_phrase(p_eq)}): negligible."
        )
    needed = float(row["seeds_needed"]) if "seeds_needed" in row else math.nan
    settle = f"; about {int(needed)} seeds would settle it" if math.isfinite(needed) else ""
    return f"{head}: inconclusive{settle}."


def _design_sentence(a, compared: pd.DataFrame, num: Numbers) -> str:
    names = ", ".join(c for c in _components(a)) or "no component"
    baseline = "the tuned model (the search's best configuration)" if a.best_value is not None else "the baseline"
    # A component that changes nothing against the baseline gets no arm (the plan's note says why).
    armed = {arm.name.lstrip("-+") for arm in a.arms if arm.reference}
    removed = [c for c in _components(a) if c in armed]
    idle = [c for c in _components(a) if c not in armed]
    model = "the tuned model" if a.best_value is not None else "the baseline"
    skipped = f"; {', '.join(idle)} got no arm, as {model} already has what removing it sets" if idle else ""
    what = {
        "loco": f"We removed each of {', '.join(removed) or 'no component'} from {baseline} in turn (leave one "
        f"component out{skipped})",
        "add_one": f"Starting from a minimal model without {names}, we added each back in turn",
        "factorial": f"We ran every combination of {names} (a full factorial design), each compared with the "
        "full model",
        "random": f"We removed random subsets of {names} from {baseline}",
        "path": "Along the ablation path from the baseline to the target configuration we flipped one parameter "
        "at a time",
    }[a.policy]
    n = floats(compared, "n_pairs")
    n = n[np.isfinite(n) & (n > 0)].astype(int)
    if not a.plan.adaptive:
        seeds = f"{n.max()} paired seeds per arm" if n.size else "paired seeds"
    elif n.size and n.min() != n.max():
        seeds = (
            f"paired seeds chosen adaptively, more only while an arm's verdict was open ({n.min()} to {n.max()} "
            "per arm)"
        )
    else:
        seeds = f"paired seeds chosen adaptively ({n.max() if n.size else 0} per arm)"
    return f"{what}, and measured {a.metric} over {seeds}, the same seeds in every arm."


def _components(a) -> list[str]:
    return list(a.components) or [arm.name.lstrip("-+") for arm in a.arms if arm.reference]


def subject_of(a, arm_name: str) -> str:
    """What the arm ``arm_name`` of analysis ``a`` does, as the subject of a sentence: ``Removing
    batchnorm``, ``Adding dropout back``."""
    arm = next(x for x in a.arms if x.name == arm_name)
    components = list(a.components)
    row = pd.Series({"role": arm.role, "arm": arm.name, "_present": [c for c in components if c in arm.present]})
    return _subject(row, a.policy, [c for c in components if c not in arm.present], arm.param)


def _methods_sentence(a, compared: pd.DataFrame, num: Numbers) -> str:
    alpha = f"α = {float(compared['alpha'].iloc[0]):g}"
    spent = ", with α spent over the looks of the adaptive design" if a.plan.adaptive else ""
    margins = floats(compared, "min_effect")
    if not np.isfinite(margins).any():
        return (
            f"Each arm's difference Δ from its reference was tested with a paired t-test, Holm-corrected across "
            f"arms at {alpha}{spent}; no smallest effect of interest was set, so no component can be shown to be "
            "negligible, only to matter."
        )
    return (
        f"Each arm's difference Δ from its reference was tested with a paired t-test and, for equivalence within "
        f"±{num.size(float(margins[np.isfinite(margins)][0]))} (the smallest effect of interest), with two one-sided "
        f"tests; both were Holm-corrected across arms at {alpha}{spent}."
    )


def _test_sentence(compared: pd.DataFrame, metric: str, num: Numbers) -> str:
    if "test_verdict" not in compared or not compared["test_verdict"].fillna("").astype(str).ne("").any():
        return ""
    differ = compared[compared["test_verdict"].fillna("") != compared["verdict"].fillna("")]
    if differ.empty:
        return "On the held-out test split, read at the same seeds, every arm reaches the same verdict."
    parts = [
        f"{row.arm} is {row.test_verdict} there (Δ {num.signed(float(row.test_delta))}, "
        f"{num.interval(float(row.test_delta_ci_low), float(row.test_delta_ci_high))}, "
        f"p_Holm {p_phrase(float(row.test_p_holm))}) where validation finds it {row.verdict}"
        for row in differ.itertuples()
    ]
    same = len(compared) - len(differ)
    agree = "the other arms agree" if same else "no arm agrees"
    return f"On the held-out test split, read at the same seeds, {'; '.join(parts)}; {agree}."


def paragraph_text(a) -> str:
    """The paragraph as plain text (Unicode), from ``a.table`` and the analysis' words."""
    table = a.table
    compared = table[table["reference"].notna() & table["reference"].astype(str).ne("")]
    if compared.empty:
        return ""
    num = Numbers(table, a.metric)
    alpha = float(compared["alpha"].iloc[0])
    arms = {arm.name: arm for arm in a.arms}
    components = list(a.components)
    # Words about each arm (what it removes, adds or flips) come from the design, not the table.
    compared = compared.assign(
        _removed=[[c for c in components if c not in arms[n].present] for n in compared["arm"]],
        _present=[[c for c in components if c in arms[n].present] for n in compared["arm"]],
        _param=[arms[n].param for n in compared["arm"]],
    )
    sentences = [_design_sentence(a, compared, num), _methods_sentence(a, compared, num)]
    sentences += [_arm_sentence(row, a.metric, a.policy, alpha, num) for _, row in compared.iterrows()]
    test = _test_sentence(compared, a.metric, num)
    return " ".join(s for s in [*sentences, test] if s)


def paragraph_markdown(a) -> str:
    text = paragraph_text(a)
    return text + "\n" if text else ""


def paragraph_latex(a) -> str:
    text = paragraph_text(a)
    return escape_latex(text).replace("p\\_Holm", "$p_{\\mathrm{Holm}}$") + "\n" if text else ""
