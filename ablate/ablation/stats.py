"""Statistics of an ablation study over repeated seeds.

Input everywhere is the runs table (one row per planned (arm, seed); see ``ablate.ablation._runs``):
only complete rows with a finite metric value enter a statistic, paired across arms by seed.

Every test and interval comes from scipy.stats or statsmodels; this module pairs, selects and labels.
Degenerate input (too few seeds, differences without variance) never raises and never warns: the
statistic is NaN and the ``note`` column says why.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ablate.ablation._runs import check_distinct, check_runs, paired, usable_values

__all__ = [
    "NOTE_CONSTANT",
    "NOTE_FEW",
    "compare_to_reference",
    "factorial_effects",
    "holm",
    "paired_differences",
    "path_steps",
    "summarize_arms",
]

NOTE_FEW = "fewer than 3 paired seeds: no test"
NOTE_CONSTANT = "every paired seed gave the same difference: t undefined"

_MIN_TEST = 3
# Below 5 non-zero differences the exact two-sided Wilcoxon p cannot go under 2/2^4 = 0.125.
_MIN_WILCOXON = 5
# Values that differ by less than this share of their magnitude differ by float round-off only
# (0.9 - 0.8 != 0.7 - 0.6 in binary): no variance for t (scipy would warn and give a huge t), and
# a total path gain that is zero up to round-off (shares would be +-1e15).
_RTOL = 1e-12

# Output columns, in order; the tables and figures read these names.
_SUMMARY_COLUMNS = "arm metric n n_failed n_missing mean std ci_low ci_high".split()
_DIFF_COLUMNS = "arm reference seed delta".split()
_COMPARE_COLUMNS = (
    "arm reference n_pairs delta delta_ci_low delta_ci_high t_stat p_value p_wilcoxon p_holm significant cohen_dz note"
).split()
_EFFECT_COLUMNS = "effect kind components n estimate ci_low ci_high p_value p_holm significant note".split()
_PATH_COLUMNS = "step arm previous param n gain gain_ci_low gain_ci_high p_value share cumulative note".split()


class _Estimate(NamedTuple):
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    t_stat: float
    p_value: float
    note: str


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels ``multipletests``); NaN stays NaN and is not counted.

    Args:
        p_values: Raw p-values; NaN marks a row that had no test.

    Returns:
        The adjusted p-values, same length and order.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.isfinite(p)
    if tested.any():
        adjusted[tested] = multipletests(p[tested], method="holm")[1]
    return adjusted


def summarize_arms(
    runs: pd.DataFrame, arms: Sequence[str], metrics: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Per (arm, metric): usable runs, failed/missing counts, mean, sample std and t-interval of the mean.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        arms: Arms to report, in row order.
        metrics: Metric columns; one absent from ``runs`` gives ``n`` 0 and NaN statistics.
        confidence: Level of the Student-t interval.

    Returns:
        One row per (arm, metric), arms outer: ``arm, metric, n, n_failed, n_missing, mean, std,
        ci_low, ci_high``. The interval is NaN for n < 2 and collapses to the mean when std is 0.
    """
    _check_level("confidence", confidence)
    check_runs(runs, arms)
    wides = {metric: usable_values(runs, metric, arms) for metric in metrics}
    rows = []
    for arm in arms:
        status = runs.loc[runs["arm"] == arm, "status"]
        failed, missing = int((status == "failed").sum()), int((status == "missing").sum())
        for metric in metrics:
            values = wides[metric][arm].dropna().to_numpy()
            est = _estimate(values, _scale(values), confidence, test=False)
            rows.append([arm, metric, est.n, failed, missing, est.mean, est.std, est.ci_low, est.ci_high])
    return _frame(rows, _SUMMARY_COLUMNS, ints=["n", "n_failed", "n_missing"])


def paired_differences(runs: pd.DataFrame, comparisons: Sequence[tuple[str, str]], metric: str) -> pd.DataFrame:
    """Per-seed differences ``arm - reference`` over the seeds where both are usable.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        comparisons: ``(arm, reference)`` pairs, in row order.
        metric: The metric column.

    Returns:
        ``arm, reference, seed, delta``, by comparison order, then seed.
    """
    check_distinct(comparisons)
    wide = usable_values(runs, metric, [name for pair in comparisons for name in pair])
    rows = []
    for arm, reference in comparisons:
        seeds, a, b = paired(wide, arm, reference)
        rows += [[arm, reference, seed, delta] for seed, delta in zip(seeds, a - b)]
    return _frame(rows, _DIFF_COLUMNS, ints=["seed"])


def compare_to_reference(
    runs: pd.DataFrame,
    comparisons: Sequence[tuple[str, str]],
    metric: str,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Paired comparison of each arm with its reference over shared seeds, Holm-corrected across rows.

    ``delta`` is the mean of ``arm - reference``; its t-interval, the paired t-test (two-sided;
    ``scipy.stats.ttest_rel`` is the one-sample t-test of these differences) and Cohen's d_z
    (mean / sample std of the differences) come with it. ``p_wilcoxon`` is the signed-rank test
    beside it, NaN with fewer than 5 non-zero differences; Holm uses ``p_value`` only.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        comparisons: ``(arm, reference)`` pairs, in row order.
        metric: The metric column.
        alpha: Level for ``significant`` (``p_holm < alpha``).
        confidence: Level of the interval on ``delta``.

    Returns:
        ``arm, reference, n_pairs, delta, delta_ci_low, delta_ci_high, t_stat, p_value, p_wilcoxon,
        p_holm, significant, cohen_dz, note``.

    Raises:
        ValueError: An arm is compared with itself, or ``runs`` breaks the table's contract.
    """
    _check_level("alpha", alpha)
    _check_level("confidence", confidence)
    check_distinct(comparisons)
    wide = usable_values(runs, metric, [name for pair in comparisons for name in pair])
    rows = []
    for arm, reference in comparisons:
        _, a, b = paired(wide, arm, reference)
        est = _estimate(a - b, _scale(a, b), confidence)
        dz = est.mean / est.std if est.std > 0 else np.nan
        rows.append([arm, reference, est.n, est.mean, est.ci_low, est.ci_high, est.t_stat, est.p_value])
        rows[-1] += [_wilcoxon(a - b), np.nan, False, dz, est.note]
    return _with_holm(_frame(rows, _COMPARE_COLUMNS, ints=["n_pairs"]), alpha)


def factorial_effects(
    runs: pd.DataFrame,
    present: Mapping[str, Collection[str]],
    components: Sequence[str],
    metric: str,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Main effects and two-way interactions of a full two-level factorial design, over seeds.

    With +-1 coding (+1 = component present), per seed the effect of a contrast is
    ``mean(y | +1) - mean(y | -1)`` (Box, Hunter & Hunter); only seeds usable in every arm count.
    Each effect gets the mean over seeds, a t-interval, a one-sample t-test against 0 and Holm
    across all effects.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        present: Arm -> the components present (not removed) in it; the arms form a full 2^k design.
        components: The k factors, in row order.
        metric: The metric column.
        alpha: Level for ``significant`` (``p_holm < alpha``).
        confidence: Level of the intervals.

    Returns:
        ``effect, kind, components, n, estimate, ci_low, ci_high, p_value, p_holm, significant, note``;
        main effects in component order, then interactions ``"a × b"`` in (i < j) order.

    Raises:
        ValueError: The design is not a full 2^k factorial over ``components`` (the message names a
            missing or repeated combination), or ``runs`` breaks the table's contract.
    """
    _check_level("alpha", alpha)
    _check_level("confidence", confidence)
    arms, design = _factorial_design(present, components)
    wide = usable_values(runs, metric, arms)
    y = wide.dropna().to_numpy()
    dropped = len(wide) - len(y)
    dropped_note = f"{dropped} seeds dropped: incomplete in some arm" if dropped else ""
    half = len(arms) // 2  # each +-1 contrast of a full 2^k design has 2^(k-1) arms on each side
    rows = []
    for effect, kind, names, contrast in _contrasts(components, design):
        est = _estimate(y @ contrast / half, _scale(y), confidence)
        note = "; ".join(part for part in (est.note, dropped_note) if part)
        rows.append([effect, kind, names, est.n, est.mean, est.ci_low, est.ci_high, est.p_value, np.nan, False, note])
    return _with_holm(_frame(rows, _EFFECT_COLUMNS, ints=["n"]), alpha)


def path_steps(
    runs: pd.DataFrame,
    steps: Sequence[tuple[str, str, str]],
    metric: str,
    direction: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Measured gain of each step of an ablation path (Fawcett & Hoos 2016), paired over seeds.

    A positive gain is an improvement: ``arm - previous`` when maximizing, ``previous - arm`` when
    minimizing. ``share`` is a step's mean gain over the sum of all steps' mean gains (NaN when that
    sum is 0, up to float round-off, or a step has no paired seed); ``cumulative`` is the running sum of mean gains. No
    multiple-comparison correction: the steps are read as one path, not as competing claims.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        steps: ``(arm, previous_arm, changed_param)`` in path order.
        metric: The metric column.
        direction: ``"maximize"`` or ``"minimize"``, the metric's better direction.
        confidence: Level of the interval on each gain.

    Returns:
        ``step, arm, previous, param, n, gain, gain_ci_low, gain_ci_high, p_value, share, cumulative,
        note`` with ``step`` counted from 1.
    """
    _check_level("confidence", confidence)
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', but got {direction!r}")
    sign = 1.0 if direction == "maximize" else -1.0
    check_distinct([(arm, previous) for arm, previous, _ in steps])
    wide = usable_values(runs, metric, [name for arm, previous, _ in steps for name in (arm, previous)])
    rows = []
    for number, (arm, previous, param) in enumerate(steps, start=1):
        _, a, b = paired(wide, arm, previous)
        est = _estimate(sign * (a - b), _scale(a, b), confidence)
        rows.append([number, arm, previous, param, est.n, est.mean, est.ci_low, est.ci_high, est.p_value])
        rows[-1] += [np.nan, np.nan, est.note]
    out = _frame(rows, _PATH_COLUMNS, ints=["step", "n"])
    gains = out["gain"].to_numpy(dtype=float)
    total = gains.sum()
    out["share"] = gains / total if abs(total) > _RTOL * _scale(gains) else np.nan
    out["cumulative"] = np.cumsum(gains)
    return out


def _estimate(values: np.ndarray, scale: float, confidence: float, test: bool = True) -> _Estimate:
    """Mean, sample std, t-interval and (``test``) one-sample t-test against 0 of ``values``."""
    n = len(values)
    mean = float(np.mean(values)) if n else np.nan
    if n < 2:
        return _Estimate(n, mean, np.nan, np.nan, np.nan, np.nan, np.nan, NOTE_FEW)
    if np.ptp(values) <= _RTOL * scale:
        return _Estimate(n, mean, 0.0, mean, mean, np.nan, np.nan, NOTE_FEW if n < _MIN_TEST else NOTE_CONSTANT)
    std = float(np.std(values, ddof=1))
    low, high = stats.t.interval(confidence, df=n - 1, loc=mean, scale=stats.sem(values))
    if n < _MIN_TEST or not test:
        return _Estimate(n, mean, std, float(low), float(high), np.nan, np.nan, NOTE_FEW)
    # ttest_rel(a, b) is exactly ttest_1samp(a - b, 0) in scipy; one call serves paired and effect tests.
    result = stats.ttest_1samp(values, 0.0)
    return _Estimate(n, mean, std, float(low), float(high), float(result.statistic), float(result.pvalue), "")


def _wilcoxon(d: np.ndarray) -> float:
    # scipy's "auto" is exact without ties or zeros, an exhaustive permutation test with them (n <= 13).
    if np.count_nonzero(d) < _MIN_WILCOXON:
        return np.nan
    return float(stats.wilcoxon(d, alternative="two-sided").pvalue)


def _with_holm(out: pd.DataFrame, alpha: float) -> pd.DataFrame:
    out["p_holm"] = holm(out["p_value"].to_numpy(dtype=float))
    out["significant"] = (out["p_holm"] < alpha).astype(bool)  # NaN compares False: untested is not significant
    return out


def _contrasts(components: Sequence[str], design: np.ndarray) -> Iterator[tuple[str, str, tuple[str, ...], np.ndarray]]:
    """``(effect, kind, components, +-1 contrast over arms)``: mains, then pairwise interactions."""
    for j, name in enumerate(components):
        yield name, "main", (name,), design[:, j]
    for j, k in itertools.combinations(range(len(components)), 2):
        pair = (components[j], components[k])
        yield f"{pair[0]} × {pair[1]}", "interaction", pair, design[:, j] * design[:, k]


def _factorial_design(
    present: Mapping[str, Collection[str]], components: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    """The arms and their +-1 design matrix, after checking they form a full 2^k design."""
    if not components or len(set(components)) != len(components):
        raise ValueError(f"components must be at least one distinct name, but got {list(components)}")
    for arm, names in present.items():
        if not set(names) <= set(components):
            raise ValueError(f"present[{arm!r}] must name only components {list(components)}, but got {sorted(names)}")
    codes = [tuple(c in present[arm] for c in components) for arm in present]
    for code in itertools.product((True, False), repeat=len(components)):
        if codes.count(code) != 1:
            raise ValueError(
                f"a full 2^{len(components)} design needs each combination of {list(components)} in exactly one "
                f"arm, but {codes.count(code)} arms have {_describe(components, code)}"
            )
    return list(present), np.where(np.array(codes, dtype=bool).reshape(len(codes), -1), 1.0, -1.0)


def _describe(components: Sequence[str], code: tuple[bool, ...]) -> str:
    return "{" + ", ".join(f"{c} {'present' if on else 'removed'}" for c, on in zip(components, code)) + "}"


def _scale(*arrays: np.ndarray) -> float:
    return max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)


def _frame(rows: list[list], columns: list[str], ints: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).astype({c: "int64" for c in ints})


def _check_level(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), but got {value}")
