"""The paired comparisons of an ablation, each at the look its verdict was reached at: the
statistics behind a row of ``ablation.csv`` (Δ, its interval and tests over the seeds the verdict
rests on), the verdict columns, and the same on the held-out test split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from ablate.ablation import stats
from ablate.ablation.verdicts import Decision, Verdict, seeds_needed
from ablate.vocab.seed_plan import SeedPlan


def looks_of(decisions: dict[str, Decision]) -> dict[str, int]:
    return {name: d.look for name, d in decisions.items()}


def _upto(runs: pd.DataFrame, names: Sequence[str], seeds: Sequence[int], look: int) -> pd.DataFrame:
    """The rows of ``names`` on the first ``look`` repeat seeds."""
    return runs[runs["arm"].isin(list(names)) & runs["seed"].isin(list(seeds[:look]))]


def compare(
    runs: pd.DataFrame, comparisons: Sequence[tuple[str, str]], decisions: dict[str, Decision], metric: str, seeds
) -> pd.DataFrame:
    """Each comparison's paired statistics over the seeds of the look its verdict was reached at."""
    rows = []
    for arm, reference in comparisons:
        d = decisions.get(arm)
        subset = _upto(runs, [arm, reference], seeds, d.look) if d is not None else runs
        rows.append(stats.compare_to_reference(subset, [(arm, reference)], metric))
    return pd.concat(rows, ignore_index=True)


def differences_at(
    runs: pd.DataFrame, comparisons: Sequence[tuple[str, str]], decisions: dict[str, Decision], metric: str, seeds
) -> pd.DataFrame:
    frames = [
        stats.paired_differences(_upto(runs, [arm, ref], seeds, decisions[arm].look), [(arm, ref)], metric)
        for arm, ref in comparisons
        if arm in decisions
    ]
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["arm", "reference", "seed", "delta"])
    )


def with_verdicts(
    table: pd.DataFrame,
    decisions: dict[str, Decision],
    plan: SeedPlan,
    min_effect: float | None,
    power: float,
    differences: pd.DataFrame,
) -> pd.DataFrame:
    """The verdict columns of each compared row: adjusted p-values, verdict, the seeds it rests on
    and, for an inconclusive one, the seeds that would settle it."""
    out = table.copy()
    names = ("p_holm", "significant", "p_equivalence", "p_equivalence_holm", "verdict")
    columns: dict[str, list[Any]] = {k: [] for k in names}
    columns.update(seeds_needed=[], detectable_delta=[])
    for row in table.itertuples():
        d = decisions.get(row.arm) if isinstance(row.reference, str) else None
        if d is None:
            for k, empty in (("p_holm", np.nan), ("significant", False), ("p_equivalence", np.nan)):
                columns[k].append(empty)
            for k in ("p_equivalence_holm", "seeds_needed", "detectable_delta"):
                columns[k].append(np.nan)
            columns["verdict"].append("")
            continue
        values = differences.loc[differences["arm"] == row.arm, "delta"].to_numpy(dtype=float)
        columns["p_holm"].append(d.p_holm)
        columns["significant"].append(bool(d.p_holm < plan.alpha))
        columns["p_equivalence"].append(d.tests.p_equivalence)
        columns["p_equivalence_holm"].append(d.p_equivalence_holm)
        columns["verdict"].append(d.verdict.value)
        needed = seeds_needed(values, plan, min_effect, power, d.family, d.look)
        columns["seeds_needed"].append(needed if d.verdict is Verdict.INCONCLUSIVE else np.nan)
        columns["detectable_delta"].append(_detectable(values, plan.level(d.look) / max(1, d.family)))
    for key, values in columns.items():
        out[key] = values
    return out


def _detectable(d: np.ndarray, level: float) -> float:
    """The smallest |Δ| a paired t-test could have called significant at Holm's strictest step of
    the look, given these seeds' spread: t(1 - level/2, n-1) sd / sqrt(n). It says how large an effect
    these seeds could have shown, when none was found."""
    d = d[np.isfinite(d)]
    if len(d) < 3 or not np.std(d) > 0:
        return np.nan
    return float(st.t.ppf(1 - level / 2, len(d) - 1) * np.std(d, ddof=1) / np.sqrt(len(d)))


def with_test(
    table: pd.DataFrame,
    runs: pd.DataFrame,
    comparisons: list,
    decisions: dict[str, Decision],
    test_metric: str,
    seeds: Sequence[int],
) -> pd.DataFrame:
    """The paired Δ on the held-out test split too (a secondary result: the study metric decides how
    many seeds run), with its own verdict at the look the validation verdict was reached at."""
    columns = [
        "test_delta", "test_delta_ci_low", "test_delta_ci_high", "test_p_value", "test_p_holm",
        "test_p_equivalence_holm", "test_verdict",
    ]  # fmt: skip
    if not decisions:
        return table.assign(**{c: np.nan for c in columns[:-1]}, test_verdict="")
    test = compare(runs, comparisons, decisions, test_metric, seeds).set_index("arm")
    rows: dict[str, list[Any]] = {c: [] for c in columns}
    for arm in table["arm"]:
        d = decisions.get(arm)
        has = d is not None and arm in test.index
        for key, column in zip(("delta", "delta_ci_low", "delta_ci_high", "p_value"), columns):
            rows[column].append(test.loc[arm, key] if has else np.nan)
        rows["test_p_holm"].append(d.p_holm if d is not None else np.nan)
        rows["test_p_equivalence_holm"].append(d.p_equivalence_holm if d is not None else np.nan)
        rows["test_verdict"].append(d.verdict.value if d is not None else "")
    return table.assign(**rows)
