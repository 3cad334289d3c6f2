"""A re-tuned ablation (``ablation.retune``) analysed: the same arms and paired seeds with the
tuned baseline's hyperparameters (the fixed analysis) and with each arm's own (the re-tuned one),
paired arm by arm in ``retune.csv``'s table, with what re-tuning changed in each arm.

One test of its own: the two analyses share their paired seeds, so each arm's shift (re-tuned Δ −
fixed Δ, seed by seed) gets a t-interval and a paired t-test (``stats.estimate``: scipy),
Holm-adjusted across the arms. The report's texts, figure and files are ``retune_text``,
``retune_figure`` and ``retune_report``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from ablate.ablation import stats
from ablate.ablation.analysis import AblationAnalysis

# retune.csv, in this order: the arm, the fixed analysis's comparison, the re-tuned one's, whether
# their verdicts differ, and what re-tuning changed.
RETUNE_COLUMNS = (
    "arm role reference mean_fixed delta_fixed delta_fixed_ci_low delta_fixed_ci_high verdict_fixed mean_retuned "
    "delta_retuned delta_retuned_ci_low delta_retuned_ci_high verdict_retuned verdicts_differ shift shift_ci_low "
    "shift_ci_high p_shift p_shift_holm n_shift retuned_changes retuned_config"
).split()
_ABSENT = "–"  # a knob the arm's configuration lacks (a conditional knob that is off)


@dataclass(frozen=True)
class ArmRetune:
    """One arm's re-tuned configuration and what re-tuning changed in it.

    Attributes:
        arm: the arm's name, as in both analyses.
        config: the params it ran with in the re-tuned analysis (the best of its own search).
        changes: ``(knob, fixed value, re-tuned value)`` for each re-tuned knob whose value differs
            from what the arm ran with in the fixed analysis, in the order of ``search.space``.
    """

    arm: str
    config: Mapping[str, Any]
    changes: tuple[tuple[str, Any, Any], ...] = ()

    def changes_text(self) -> str:
        """``lr 0.01 → 0.002; dropout 0.1 → 0.3`` (empty where re-tuning changed nothing)."""
        return "; ".join(f"{k} {_value(old)} → {_value(new)}" for k, old, new in self.changes)


@dataclass(frozen=True)
class RetunedAblation:
    """The same arms and paired seeds analysed twice: with the tuned baseline's hyperparameters
    (``fixed``) and with each arm's own (``retuned``), and what re-tuning changed per arm.

    ``n_trials`` is each arm's search budget, ``search_seeds`` the seeds each search trial ran
    over, ``knobs`` the knobs every arm re-tuned (searched, set by no component)."""

    fixed: AblationAnalysis
    retuned: AblationAnalysis
    arms: tuple[ArmRetune, ...]
    n_trials: int
    knobs: tuple[str, ...] = ()
    search_seeds: int = 1

    @property
    def table(self) -> pd.DataFrame:
        """What ``retune.csv`` holds: one row per arm of the re-tuned analysis, its reference first."""
        return retune_table(self)


def analyze_retuned(
    fixed: AblationAnalysis, retuned: AblationAnalysis, knobs: Sequence[str], n_trials: int, search_seeds: int = 1
) -> RetunedAblation:
    """Pair the two analyses of one ablation; ``knobs``: the searched knobs no component sets."""
    before = {arm.name: arm.params for arm in fixed.arms}
    baseline = fixed.arms[0].params
    arms = tuple(
        ArmRetune(arm.name, dict(arm.params), _changes(before.get(arm.name, baseline), arm.params, knobs))
        for arm in retuned.arms
    )
    # The re-tuned record names the search's best value (that of the fixed baseline): its arms ran
    # configurations of their own, so no selection note or "tuned model" wording applies to them.
    return RetunedAblation(fixed, replace(retuned, best_value=None), arms, n_trials, tuple(knobs), search_seeds)


def _changes(before: Mapping[str, Any], after: Mapping[str, Any], knobs: Sequence[str]) -> tuple:
    missing = object()
    return tuple(
        (k, before.get(k, _ABSENT), after.get(k, _ABSENT))
        for k in knobs
        if before.get(k, missing) != after.get(k, missing)
    )


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def retune_table(r: RetunedAblation) -> pd.DataFrame:
    """``retune.csv``: each arm's Δ, interval and verdict in both analyses, whether the verdicts
    differ, and its re-tuned configuration with what changed."""
    fixed, tuned = r.fixed.table.set_index("arm"), r.retuned.table.set_index("arm")
    changes = {a.arm: a for a in r.arms}
    rows = []
    for arm, t in tuned.iterrows():
        f = fixed.loc[arm] if arm in fixed.index else pd.Series(dtype=object)
        verdicts = (_verdict(f.get("verdict")), _verdict(t["verdict"]))
        rows.append(
            {
                "arm": arm,
                "role": t["role"],
                "reference": t["reference"],
                **_side(f, "fixed"),
                "verdict_fixed": verdicts[0],
                **_side(t, "retuned"),
                "verdict_retuned": verdicts[1],
                "verdicts_differ": bool(all(verdicts) and verdicts[0] != verdicts[1]),
                **_shift(r, arm),
                "retuned_changes": changes[arm].changes_text(),
                "retuned_config": json.dumps(dict(changes[arm].config), sort_keys=True, default=str),
            }
        )
    out = pd.DataFrame(rows)
    out["p_shift_holm"] = stats.holm(out["p_shift"].to_numpy(dtype=float))
    return out[RETUNE_COLUMNS]


def _shift(r: RetunedAblation, arm: str) -> dict[str, float]:
    """The re-tuned Δ minus the fixed Δ of ``arm``, seed by seed over the seeds both compared: its
    mean, 95 % t-interval (as the tables' Δ), paired t-test p, and how many seeds."""
    fixed, tuned = (a.differences[a.differences["arm"] == arm][["seed", "delta"]] for a in (r.fixed, r.retuned))
    both = tuned.merge(fixed, on="seed", suffixes=("_retuned", "_fixed"))
    values = (both["delta_retuned"] - both["delta_fixed"]).to_numpy(dtype=float)
    if not len(values):
        nan = float("nan")
        return {"shift": nan, "shift_ci_low": nan, "shift_ci_high": nan, "p_shift": nan, "n_shift": 0}
    scale = stats.scale_of(both["delta_retuned"].to_numpy(dtype=float), both["delta_fixed"].to_numpy(dtype=float))
    est = stats.estimate(values, scale, 0.95)
    return {
        "shift": est.mean,
        "shift_ci_low": est.ci_low,
        "shift_ci_high": est.ci_high,
        "p_shift": est.p_value,
        "n_shift": est.n,
    }


def _side(row: pd.Series, side: str) -> dict[str, float]:
    """One analysis's cells of an arm: ``mean_fixed, delta_fixed, delta_fixed_ci_low, delta_fixed_ci_high``."""
    nan = float("nan")
    return {
        f"mean_{side}": float(row.get("mean", nan)),
        f"delta_{side}": float(row.get("delta", nan)),
        f"delta_{side}_ci_low": float(row.get("delta_ci_low", nan)),
        f"delta_{side}_ci_high": float(row.get("delta_ci_high", nan)),
    }


def _verdict(v: Any) -> str:
    return v if isinstance(v, str) else ""
