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
from ablate.ablation.compare import compare, differences_at, looks_of, with_test, with_verdicts
from ablate.ablation.design import Arm
from ablate.ablation.runs import FAILED, MISSING
from ablate.ablation.samples import difference_samples, effect_samples
from ablate.ablation.verdicts import Decision, decide
from ablate.vocab.seed_plan import SeedPlan

RUN_COLUMNS = ("arm", "seed", "status")
# ablation.csv, in this order: what the row is, its verdict, the arm's own mean, the paired comparison
# the verdict rests on, the same on the held-out test split, then the design's constants.
TABLE_COLUMNS = (
    "arm role reference verdict n n_failed n_missing mean std ci_low ci_high n_pairs delta delta_ci_low "
    "delta_ci_high p_value p_holm significant p_equivalence p_equivalence_holm seeds_needed p_wilcoxon cohen_dz "
    "detectable_delta test_mean test_ci_low test_ci_high test_delta test_delta_ci_low test_delta_ci_high "
    "test_p_value test_p_holm test_p_equivalence_holm test_verdict min_effect alpha confidence note params"
).split()


@dataclass(frozen=True)
class AblationAnalysis:
    """Everything the ablation section of a report shows."""

    metric: str
    direction: str
    alpha: float
    policy: str
    baseline_from: str
    seeds: list[int]  # the repeat seeds given to some arm (the reference gets them all)
    arms: list[Arm]
    runs: pd.DataFrame  # arm, seed, status, metrics
    table: pd.DataFrame  # one row per arm: what ablation.csv holds
    metrics: pd.DataFrame  # every returned metric per arm (long)
    differences: pd.DataFrame  # per-seed paired differences, up to each comparison's verdict
    steps: pd.DataFrame | None = None  # path only
    effects: pd.DataFrame | None = None  # factorial only
    notes: list[str] = field(default_factory=list)
    best_value: float | None = None  # the search's best value, when the baseline is its best trial
    plan: SeedPlan = field(default_factory=SeedPlan)
    min_effect: float | None = None
    power: float = 0.8
    split_sizes: dict[str, int] = field(default_factory=dict)  # examples in the val and test splits
    components: list[str] = field(default_factory=list)


def test_metric_of(metric: str) -> str:
    """The held-out counterpart of a validation metric: ``val_accuracy`` -> ``test_accuracy``."""
    return "test_" + (metric[len("val_") :] if metric.startswith("val_") else metric)


def plan_of(design: dict[str, Any]) -> SeedPlan:
    """The seed plan a design was run with (a record from before plans: its seeds, fixed)."""
    if "seed_plan" in design:
        return SeedPlan.from_dict(design["seed_plan"])
    return SeedPlan(alpha=float(design["alpha"]), fixed=max(1, len(design["seeds"])))


def analyze_ablation(design: dict[str, Any], runs: pd.DataFrame, metric: str, direction: str) -> AblationAnalysis:
    """The statistics and verdicts of one ablation; ``design`` is what the ablation step recorded."""
    arms = [Arm.from_dict(a) for a in design["arms"]]
    names = [a.name for a in arms]
    plan, min_effect = plan_of(design), design.get("min_effect")
    seeds = list(design["seeds"])
    comparisons = [tuple(c) for c in design["comparisons"]]
    metric_names = [c for c in runs.columns if c not in RUN_COLUMNS]
    if metric not in runs.columns:
        runs = runs.assign(**{metric: np.nan})
    summary = stats.summarize_arms(runs, names, [metric, *[m for m in metric_names if m != metric]])
    effect_decisions = _effect_decisions(arms, runs, design, metric, plan, min_effect, seeds)
    # The family that drove the rounds decides at its first rejecting look; another family is read at
    # the look its comparisons stopped at (a factorial's arms: where its effects stopped).
    stops = None if effect_decisions is None or not plan.adaptive else _counts(design, arms)
    val = decide(difference_samples(runs, comparisons, metric, seeds), plan, min_effect, stops)
    compared = compare(runs, comparisons, val, metric, seeds) if comparisons else None
    differences = differences_at(runs, comparisons, val, metric, seeds)
    table = _table(arms, summary, compared, metric, _counts(design, arms))
    table = with_verdicts(table, val, plan, min_effect, float(design.get("power", 0.8)), differences)
    test_metric = test_metric_of(metric)
    test = (
        decide(difference_samples(runs, comparisons, test_metric, seeds), plan, min_effect, looks_of(val))
        if comparisons and test_metric in runs.columns and runs[test_metric].notna().any()
        else {}
    )
    table = with_test(table, runs, comparisons, test, test_metric, seeds)
    constants = {"min_effect": np.nan if min_effect is None else min_effect, "alpha": plan.alpha, "confidence": 0.95}
    table = table.assign(**constants)[TABLE_COLUMNS]
    return AblationAnalysis(
        metric=metric,
        direction=direction,
        alpha=plan.alpha,
        policy=design["policy"],
        baseline_from=design.get("baseline_from", ""),
        seeds=seeds,
        arms=arms,
        runs=runs,
        table=table,
        metrics=summary,
        differences=differences,
        steps=_path(arms, table, runs, metric, direction) if design["policy"] == "path" else None,
        effects=(
            _factorial(arms, runs, design, metric, plan, effect_decisions) if effect_decisions is not None else None
        ),
        notes=list(design.get("notes", [])),
        best_value=design.get("best_value"),
        plan=plan,
        min_effect=min_effect,
        power=float(design.get("power", 0.8)),
        split_sizes=dict(design.get("split_sizes") or {}),
        components=list(design.get("components") or []),
    )


def _counts(design: dict[str, Any], arms: Sequence[Arm]) -> dict[str, int]:
    """Arm -> the seeds it was given (all of them, in a record from before adaptive designs)."""
    given = design.get("counts") or {}
    return {a.name: int(given.get(a.name, len(design["seeds"]))) for a in arms}


def _table(
    arms: Sequence[Arm], summary: pd.DataFrame, compared: pd.DataFrame | None, metric: str, counts: dict[str, int]
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
        for key in ("delta", "delta_ci_low", "delta_ci_high", "p_value", "p_wilcoxon", "cohen_dz"):
            row[key] = c[key] if c is not None else np.nan
        row["n_pairs"] = int(c["n_pairs"]) if c is not None else 0
        for key in ("mean", "ci_low", "ci_high"):
            row[f"test_{key}"] = test.loc[arm.name, key] if arm.name in test.index else np.nan
        row["note"] = _note(m, c, counts[arm.name], arm)
        row["params"] = _changes(arm, arms[0])
        rows.append(row)
    return pd.DataFrame(rows)


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


def _path(arms: Sequence[Arm], table: pd.DataFrame, runs: pd.DataFrame, metric: str, direction: str) -> pd.DataFrame:
    """The path's steps, each with the verdict of its arm against the previous step (one family
    with the path's other comparisons, as in the arm table)."""
    steps: list[tuple[str, str, str]] = []
    for a in arms:
        if a.role == "step":
            assert a.reference is not None and a.param is not None  # a step flips one param of the previous
            steps.append((a.name, a.reference, a.param))
    out = effects.path_steps(runs, steps, metric, direction)
    verdicts = table.set_index("arm")["verdict"]
    return out.assign(verdict=[verdicts.get(arm, "") for arm in out["arm"]])


def _effect_decisions(
    arms: Sequence[Arm],
    runs: pd.DataFrame,
    design: dict,
    metric: str,
    plan: SeedPlan,
    min_effect: float | None,
    seeds: Sequence[int],
) -> dict[str, Decision] | None:
    """A factorial's effects decided as one family (None for other policies)."""
    if design["policy"] != "factorial":
        return None
    present = {a.name: set(a.present) for a in arms}
    return decide(effect_samples(runs, present, design["components"], metric, seeds), plan, min_effect)


def _factorial(
    arms: Sequence[Arm],
    runs: pd.DataFrame,
    design: dict,
    metric: str,
    plan: SeedPlan,
    decisions: dict[str, Decision],
) -> pd.DataFrame:
    present = {a.name: set(a.present) for a in arms}
    out = effects.factorial_effects(runs, present, design["components"], metric, plan.alpha)
    adjusted = [decisions[e].p_holm if e in decisions else np.nan for e in out["effect"]]
    return out.assign(
        p_holm=adjusted,
        significant=[bool(p < plan.alpha) for p in adjusted],
        p_equivalence_holm=[decisions[e].p_equivalence_holm if e in decisions else np.nan for e in out["effect"]],
        verdict=[decisions[e].verdict.value if e in decisions else "" for e in out["effect"]],
    )


def incomplete_arms(runs: pd.DataFrame) -> list[str]:
    bad = runs[runs["status"].isin([FAILED, MISSING])]
    return list(dict.fromkeys(bad["arm"]))


# ------------------------------------------------------------------------------------- files
