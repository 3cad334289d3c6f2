"""The ablation's analysis: from its design and its (arm, seed) results to the statistics a
paper needs (per-arm means with CIs, paired differences against each arm's reference with
Holm-corrected tests and effect sizes, factorial effects, path gains) and the files that show
them: ``ablation.csv``, ``ablation_metrics.csv``, ``ablation.md``, ``ablation.tex`` and figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ablate.ablation import effects, stats
from ablate.ablation.design import Arm
from ablate.ablation.runs import FAILED, MISSING

RUN_COLUMNS = ("arm", "seed", "status")


@dataclass(frozen=True)
class AblationAnalysis:
    """Everything the ablation section of a report shows."""

    metric: str
    direction: str
    alpha: float
    policy: str
    baseline_from: str
    seeds: list[int]
    arms: list[Arm]
    runs: pd.DataFrame  # arm, seed, status, metrics
    table: pd.DataFrame  # one row per arm: what ablation.csv holds
    metrics: pd.DataFrame  # every returned metric per arm (long)
    differences: pd.DataFrame  # per-seed paired differences
    steps: pd.DataFrame | None = None  # path only
    effects: pd.DataFrame | None = None  # factorial only
    notes: list[str] = field(default_factory=list)
    best_value: float | None = None  # the search's best value, when the baseline is its best trial


def test_metric_of(metric: str) -> str:
    """The held-out counterpart of a validation metric: ``val_accuracy`` -> ``test_accuracy``."""
    return "test_" + (metric[len("val_") :] if metric.startswith("val_") else metric)


def analyze_ablation(design: dict[str, Any], runs: pd.DataFrame, metric: str, direction: str) -> AblationAnalysis:
    """The statistics of one ablation; ``design`` is what the ablation step recorded."""
    arms = [Arm.from_dict(a) for a in design["arms"]]
    names = [a.name for a in arms]
    alpha = float(design["alpha"])
    comparisons = [tuple(c) for c in design["comparisons"]]
    metric_names = [c for c in runs.columns if c not in RUN_COLUMNS]
    if metric not in runs.columns:
        runs = runs.assign(**{metric: np.nan})
    summary = stats.summarize_arms(runs, names, [metric, *[m for m in metric_names if m != metric]])
    compared = stats.compare_to_reference(runs, comparisons, metric, alpha) if comparisons else None
    differences = stats.paired_differences(runs, comparisons, metric) if comparisons else _no_differences()
    table = _table(arms, summary, compared, metric, len(design["seeds"]))
    table["detectable_delta"] = _detectable(table, differences, alpha)
    table = _with_test_deltas(table, runs, comparisons, test_metric_of(metric), alpha)
    return AblationAnalysis(
        metric=metric,
        direction=direction,
        alpha=alpha,
        policy=design["policy"],
        baseline_from=design.get("baseline_from", ""),
        seeds=list(design["seeds"]),
        arms=arms,
        runs=runs,
        table=table,
        metrics=summary,
        differences=differences,
        steps=_path(arms, runs, metric, direction) if design["policy"] == "path" else None,
        effects=_factorial(arms, runs, design, metric, alpha) if design["policy"] == "factorial" else None,
        notes=list(design.get("notes", [])),
        best_value=design.get("best_value"),
    )


def _no_differences() -> pd.DataFrame:
    return pd.DataFrame(columns=["arm", "reference", "seed", "delta"])


def _table(
    arms: Sequence[Arm], summary: pd.DataFrame, compared: pd.DataFrame | None, metric: str, n_seeds: int
) -> pd.DataFrame:
    main = summary[summary["metric"] == metric].set_index("arm")
    test = summary[summary["metric"] == test_metric_of(metric)].set_index("arm")
    cmp = compared.set_index("arm") if compared is not None else pd.DataFrame()
    rows = []
    for arm in arms:
        m = main.loc[arm.name]
        c = cmp.loc[arm.name] if arm.name in cmp.index else None
        row = {
            "arm": arm.name,
            "role": arm.role,
            "reference": arm.reference,
            **{k: m[k] for k in ("n", "n_failed", "n_missing", "mean", "std", "ci_low", "ci_high")},
        }
        for key in ("delta", "delta_ci_low", "delta_ci_high", "p_value", "p_wilcoxon", "p_holm", "cohen_dz"):
            row[key] = c[key] if c is not None else np.nan
        row["significant"] = bool(c["significant"]) if c is not None else False
        for key in ("mean", "ci_low", "ci_high"):
            row[f"test_{key}"] = test.loc[arm.name, key] if arm.name in test.index else np.nan
        row["note"] = _note(m, c, n_seeds, arm)
        row["params"] = _changes(arm, arms[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _with_test_deltas(
    table: pd.DataFrame, runs: pd.DataFrame, comparisons: list, test_metric: str, alpha: float
) -> pd.DataFrame:
    """The paired Δ on the held-out test split too (a secondary result: the study metric decides)."""
    columns = ["test_delta", "test_delta_ci_low", "test_delta_ci_high", "test_p_holm"]
    if not comparisons or test_metric not in runs.columns or runs[test_metric].isna().all():
        return table.assign(**{c: np.nan for c in columns})
    test = stats.compare_to_reference(runs, comparisons, test_metric, alpha).set_index("arm")
    test = test[["delta", "delta_ci_low", "delta_ci_high", "p_holm"]].set_axis(columns, axis=1)
    return table.join(test, on="arm")


def _detectable(table: pd.DataFrame, differences: pd.DataFrame, alpha: float) -> list[float]:
    """Per compared arm, the smallest |Δ| a paired t-test could call significant at the first
    (strictest) Holm step, alpha / k, given its seeds' spread: t(1 - alpha/2k, n-1) sd / sqrt(n).
    It says how large an effect these seeds could have shown, when none was found."""
    from scipy import stats as st

    k = max(1, int(table["p_value"].notna().sum()))
    out = []
    for row in table.itertuples():
        d = differences.loc[differences["arm"] == row.arm, "delta"].to_numpy(dtype=float)
        if pd.isna(row.reference) or len(d) < 3 or not np.std(d) > 0:
            out.append(np.nan)
            continue
        out.append(float(st.t.ppf(1 - alpha / (2 * k), len(d) - 1) * np.std(d, ddof=1) / np.sqrt(len(d))))
    return out


def _note(m: pd.Series, c: pd.Series | None, n_seeds: int, arm: Arm) -> str:
    """Failed or missing seeds are said, never silently averaged over; a path's arms say whether
    the path took them."""
    parts = {"step": ["a step of the path"], "candidate": ["a candidate the path did not take"]}.get(arm.role, [])
    if m["n_failed"] or m["n_missing"]:
        parts.append(
            f"{int(m['n'])} of {n_seeds} seeds complete ({int(m['n_failed'])} failed, {int(m['n_missing'])} missing)"
        )
    if c is not None and c["note"]:
        parts.append(str(c["note"]))
    elif c is not None and not np.isfinite(c["p_wilcoxon"]) and np.isfinite(c["p_value"]):
        parts.append("no Wilcoxon p: fewer than 5 non-zero paired differences")
    return "; ".join(parts)


def _changes(arm: Arm, first: Arm) -> str:
    """What this arm changes against the first arm (the baseline or minimal arm), for the table."""
    changed = [f"{k}={v}" for k, v in arm.params.items() if first.params.get(k) != v]
    if arm.drop_features:
        changed.append(f"drops {len(arm.drop_features)} columns")
    return ", ".join(changed)


def _path(arms: Sequence[Arm], runs: pd.DataFrame, metric: str, direction: str) -> pd.DataFrame:
    steps = [(a.name, a.reference, a.param) for a in arms if a.role == "step"]
    return effects.path_steps(runs, steps, metric, direction)


def _factorial(arms: Sequence[Arm], runs: pd.DataFrame, design: dict, metric: str, alpha: float) -> pd.DataFrame:
    present = {a.name: set(a.present) for a in arms}
    return effects.factorial_effects(runs, present, design["components"], metric, alpha)


def incomplete_arms(runs: pd.DataFrame) -> list[str]:
    bad = runs[runs["status"].isin([FAILED, MISSING])]
    return list(dict.fromkeys(bad["arm"]))


# ------------------------------------------------------------------------------------- files
