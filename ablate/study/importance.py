"""Parameter importance with an interval: Optuna's PED-ANOVA and fANOVA, each refit on random
halves of the study's complete trials (``importance.csv`` and its figure).

Why refit: one importance fit hides how much it would change with other trials, and Optuna
users report just that instability. PED-ANOVA is deterministic given its trials, so only other
trials can show its spread; fANOVA's random forest adds its own randomness, so each of its refits
also takes a new forest seed. Each of ``REPEATS`` refits draws half of the complete trials without
replacement (at most ``MAX_TRIALS[method]``). Half-samples, not the bootstrap: a bootstrap
resample repeats trials, and PED-ANOVA's top 10 % of a small study then holds two or three
distinct trials whose copies make any knob look decisive (a noise knob reached a 0.47 share in
one such refit on 40 trials). For a smooth statistic, estimates from random halves spread around
the full-sample estimate as much as that estimate spreads around the truth (half-sampling:
variance (1/m - 1/n) s^2 = s^2/n at m = n/2). A knob's ``importance`` is the median of its shares
over the refits (each refit's shares sum to 1, as in ``optuna.importance.get_param_importances``)
and ``[ci_low, ci_high]`` their range: with 10 refits the range covers about 9/11 ~ 80 % of the
refits' distribution, a spread, not a 95 % confidence interval.

Pruned, failed and running trials are left out (they have no final value). A knob that a trial
lacks (a conditional knob, inactive there) is rated by PED-ANOVA, which compares the trials with
and without it (conditional PED-ANOVA), and not by fANOVA, whose forest needs every knob in every
trial it fits.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ablate._logs import logger_held_at
from ablate.vocab import states

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

METHODS = ("ped_anova", "fanova")
METHOD_LABELS = {"ped_anova": "PED-ANOVA", "fanova": "fANOVA"}
COLUMNS = ["param", "importance", "ci_low", "ci_high", "method", "n_trials"]
# Each refit fits half of the complete trials: below 10 a fit rates noise. The report says so instead.
MIN_TRIALS = 20
# A conditional knob active in fewer complete trials is not rated: its half-samples hold a handful
# of trials with it (or none), and a share of 0 [0, 0] would read as "does not matter" when the
# study cannot tell. The report names it and its count instead.
MIN_KNOB_TRIALS = 10
REPEATS = 10  # refits per method
# A refit's cost grows faster than linearly with its trials for fANOVA (its variance decomposition
# walks every leaf of every tree, in Python): on this project's 2-core machine one 64-tree fit took
# 1.7 s on 256 trials and 20 s on 1,000. Refits of at most 256 trials with 8 trees each (80 over
# the 10 refits, against Optuna's 64 in its one fit) keep a 5,000-trial study's report under 30 s
# (docs/reports.md, "Parameter importance"). PED-ANOVA is cheap; building each refit's in-memory study
# (Optuna copies every trial) is what its cap of 500 bounds.
MAX_TRIALS = {"ped_anova": 500, "fanova": 256}
FANOVA_TREES = 8
# PED-ANOVA rates what it takes to reach the top 10 % of trials; it needs a few trials up there
# (Optuna's documentation advises at least 5), so small studies use their top 5 instead.
TOP_QUANTILE, MIN_TOP_TRIALS = 0.1, 5


@dataclass(frozen=True)
class ParamImportance:
    """The importance table of a study and what it rests on.

    Attributes:
        table: one row per knob and method (``COLUMNS``), most important first per method.
        n_used: complete trials with a finite value: what the fits draw from.
        excluded: trials left out, by state (``PRUNED``, ``FAIL``, ``RUNNING``, ...).
        reason: why there is no table ("" when there is one).
        notes: what a reader needs to weigh the numbers (conditional knobs, caps, a single knob).
        key: what it was computed from (``ablate.study.importance_record``); "" when not kept.
    """

    table: pd.DataFrame
    n_used: int
    excluded: dict[str, int] = field(default_factory=dict)
    reason: str = ""
    notes: tuple[str, ...] = ()
    key: str = ""


def param_importance(
    trials: Sequence[FrozenTrial], direction: str, seed: int = 0, repeats: int = REPEATS
) -> ParamImportance:
    """Rate each searched knob by PED-ANOVA and fANOVA, with their spread over refits on random halves of the trials.

    Args:
        trials: The study's trials (any state); only complete ones with a finite value are used.
            A multi-objective study is rated on its first objective.
        direction: ``"maximize"`` or ``"minimize"``: of that objective.
        seed: Seeds the resamples and forests: the same trials always give the same table.
        repeats: Refits per method.

    Returns:
        The table, or an empty one with ``reason`` set when too few trials completed, none
        has a knob, or the objective is the same in every trial.
    """
    done = [t for t in trials if t.state.name == states.COMPLETE and t.values and math.isfinite(t.values[0])]
    used = {id(t) for t in done}
    excluded = dict(Counter(t.state.name for t in trials if id(t) not in used))
    empty = pd.DataFrame(columns=COLUMNS)
    active = Counter(k for t in done for k in t.distributions)
    thin = sorted(k for k, n in active.items() if n < MIN_KNOB_TRIALS)
    knobs = sorted(k for k in active if k not in thin)
    if len(done) < MIN_TRIALS:
        reason = f"too few complete trials for parameter importance: {len(done)}, at least {MIN_TRIALS} needed"
        return ParamImportance(empty, len(done), excluded, reason)
    if not knobs:
        reason = f"no knob is active in {MIN_KNOB_TRIALS} complete trials or more" if thin else "no knob is searched"
        return ParamImportance(empty, len(done), excluded, reason, _thin_note(thin, active, len(done)))
    if np.ptp([t.values[0] for t in done]) == 0:
        reason = f"the objective is {done[0].values[0]:.4g} in every complete trial: no knob explains anything"
        return ParamImportance(empty, len(done), excluded, reason)
    everywhere = [k for k in knobs if all(k in t.distributions for t in done)]
    rated = {"ped_anova": knobs, "fanova": everywhere}
    results = {method: _rate(done, method, rated[method], direction, seed, repeats) for method in METHODS}
    table = pd.concat([t for t, _ in results.values() if len(t)], ignore_index=True)
    notes = _notes(done, knobs, everywhere) + _thin_note(thin, active, len(done))
    for method, (_, void) in results.items():
        if void:
            rest = "no row of its own" if void == repeats else "the others make its rows"
            notes += (
                f"{void} of {repeats} {METHOD_LABELS[method]} refits found no variance to explain in their "
                f"half of the trials (a forest whose trees all predict one value): {rest}.",
            )
    return ParamImportance(table, len(done), excluded, "", notes)


def _rate(
    done: list[FrozenTrial], method: str, knobs: list[str], direction: str, seed: int, repeats: int
) -> tuple[pd.DataFrame, int]:
    """One method's median share and range per knob over ``repeats`` refits on random halves,
    and how many refits had nothing to explain (left out of the median and range)."""
    if not knobs:
        return pd.DataFrame(columns=COLUMNS), 0
    size = half_size(len(done), method)
    shares = np.full((repeats, len(knobs)), np.nan)
    light = _for_fanova if method == "fanova" else _light
    copies: dict[int, FrozenTrial] = {}  # light copies, made once: every refit's study copies its trials
    for r in range(repeats):
        rng = np.random.default_rng([seed, METHODS.index(method), r])
        picked = rng.choice(len(done), size, replace=False).tolist()
        for i in picked:
            if i not in copies:
                copies[i] = light(done[i])
        sample = [copies[i] for i in picked]
        got = _fit(sample, method, knobs, direction, seed + r)
        if got is not None:
            # A knob no trial of the half has (a rare conditional one) counts as 0, as PED-ANOVA
            # counts a regime with too few trials.
            shares[r] = [got.get(k, 0.0) for k in knobs]
    valid = shares[~np.isnan(shares).any(axis=1)]
    if not len(valid):
        return pd.DataFrame(columns=COLUMNS), repeats
    counts = [sum(k in t.distributions for t in done) for k in knobs]
    table = pd.DataFrame(
        {
            "param": knobs,
            "importance": np.median(valid, axis=0),
            "ci_low": valid.min(axis=0),
            "ci_high": valid.max(axis=0),
            "method": method,
            "n_trials": counts,
        }
    )
    return table.sort_values(["importance", "param"], ascending=[False, True], ignore_index=True), repeats - len(valid)


def _fit(
    sample: list[FrozenTrial], method: str, knobs: list[str], direction: str, seed: int
) -> dict[str, float] | None:
    """One refit's normalized shares; None when fANOVA's forest has no variance to split."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    study = _study_of(sample, direction)
    if method == "fanova":
        evaluator: optuna.importance.BaseImportanceEvaluator = FanovaImportanceEvaluator(
            n_trees=FANOVA_TREES, seed=seed
        )
        params: list[str] | None = knobs
    else:
        evaluator = PedAnovaImportanceEvaluator(target_quantile=top_quantile(len(sample)))
        params = [k for k in knobs if any(k in t.distributions for t in sample)]
    # The evaluators warn about thin regimes and small samples; the report states its own caveats.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = optuna.importance.get_param_importances(study, evaluator=evaluator, params=params)
        except RuntimeError as err:
            # Optuna's fANOVA refuses a forest whose trees all predict one value (the half's values
            # are equal, or too close for the trees to split): this refit rates nothing.
            if "zero total variance" not in str(err):
                raise
            return None
    return {k: float(v) for k, v in got.items()}


def _study_of(trials: list[FrozenTrial], direction: str) -> optuna.Study:
    """An in-memory single-objective study of ``trials`` (single-objective, light copies)."""
    import optuna
    from optuna.study import StudyDirection

    storage = optuna.storages.InMemoryStorage()
    # The storage logs "A new study created in memory" at INFO for each (a line per refit where
    # Optuna logs at INFO: a flow or the report called from Python); ablate's command logs Optuna
    # at WARNING anyway.
    with logger_held_at("optuna.storages._in_memory", logging.WARNING):
        storage.create_new_study([StudyDirection[direction.upper()]], "importance")
    study = optuna.load_study(study_name="importance", storage=storage)
    study.add_trials(trials)
    return study


def _light(t: FrozenTrial) -> FrozenTrial:
    """The trial without its attributes (a study's trials carry their metrics, params, ...)."""
    import optuna

    return optuna.trial.create_trial(params=t.params, distributions=t.distributions, value=t.values[0])


def _for_fanova(t: FrozenTrial) -> FrozenTrial:
    """The trial with its log-scaled knobs as log10 values on a plain range.

    fANOVA integrates its forest over the search space with a uniform measure, and Optuna's
    evaluator takes log knobs on their raw scale: a learning rate searched on 1e-4..1e-1 would be
    weighed as if 1e-2..1e-1 were 90 % of the space. On log10 values the measure is the one the
    knob was searched with.
    """
    import optuna

    params, dists = {}, {}
    for name, dist in t.distributions.items():
        params[name], dists[name] = _log10_knob(t.params[name], dist)
    return optuna.trial.create_trial(params=params, distributions=dists, value=t.values[0])


def _log10_knob(value: Any, dist: BaseDistribution) -> tuple[Any, BaseDistribution]:
    from optuna.distributions import FloatDistribution, IntDistribution

    if isinstance(dist, (FloatDistribution, IntDistribution)) and dist.log:
        low, high = math.log10(dist.low), math.log10(dist.high)
        return min(max(math.log10(float(value)), low), high), FloatDistribution(low, high)
    return value, dist


def _notes(done: list[FrozenTrial], knobs: list[str], everywhere: list[str]) -> tuple[str, ...]:
    notes = []
    conditional = [k for k in knobs if k not in everywhere]
    if conditional:
        notes.append(
            f"Conditional knobs ({', '.join(conditional)}) are rated by PED-ANOVA only: fANOVA needs every "
            "knob in every trial it fits."
        )
    if len(knobs) == 1:
        notes.append(f"One knob: its share is 1 by construction ({knobs[0]}).")
    capped = [f"{METHOD_LABELS[m]} {n}" for m, n in MAX_TRIALS.items() if len(done) > n]
    if capped:
        notes.append(
            f"Each refit draws {' and '.join(capped)} of the {len(done)} trials, not half of them (time): "
            "the ranges are those of an estimate from that many trials, wider than from all."
        )
    return tuple(notes)


def _thin_note(thin: list[str], active: Counter[str], n_used: int) -> tuple[str, ...]:
    if not thin:
        return ()
    which = ", ".join(f"{k} ({active[k]})" for k in thin)
    return (
        f"Not rated: {which}, active in fewer than {MIN_KNOB_TRIALS} of the {n_used} complete trials "
        "(too few to tell whether they matter).",
    )


def half_size(n_used: int, method: str) -> int:
    """Trials in each refit of ``method``: half of them, at most its cap."""
    return min(math.ceil(n_used / 2), MAX_TRIALS[method])


def top_quantile(n: int) -> float:
    """PED-ANOVA's top quantile on ``n`` trials: 10 %, or enough for 5 trials, at most half."""
    return min(0.5, max(TOP_QUANTILE, MIN_TOP_TRIALS / max(1, n)))


def method_caption(method: str, n_used: int) -> str:
    """What a method's share measures, for figure titles and the report."""
    if method == "ped_anova":
        top = top_quantile(half_size(n_used, method))
        return f"PED-ANOVA: what it takes to reach the top {top:.0%} of trials"
    return "fANOVA: share of the objective's variance over the space"
