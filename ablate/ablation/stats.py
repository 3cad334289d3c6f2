"""Statistics of an ablation study over repeated seeds.

Input everywhere is the runs table (one row per planned (arm, seed); see ``ablate.ablation.runs_table``):
only complete rows with a finite metric value enter a statistic, paired across arms by seed.

Every test and interval comes from scipy.stats or statsmodels; this module pairs, selects and labels.
Degenerate input (too few seeds, differences without variance) never raises and never warns: the
statistic is NaN and the ``note`` column says why.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ablate.ablation.runs_table import check_distinct, check_runs, paired, usable_values

__all__ = [
    "NOTE_CONSTANT",
    "NOTE_FEW",
    "compare_to_reference",
    "holm",
    "paired_differences",
    "summarize_arms",
]

NOTE_FEW = "fewer than 3 paired seeds: no test"
# A trial that ignores its seed gives one difference on every seed: it is exact, and the t-test's
# limit as the spread goes to 0 is p = 0 (scipy gives t = inf for it), or p = 1 where it is 0.
NOTE_CONSTANT = "the same difference on every seed: no spread, so p is the t-test's limit (0, or 1 where Δ = 0)"

_MIN_TEST = 3
# Below 5 non-zero differences the exact two-sided Wilcoxon p cannot go under 2/2^4 = 0.125.
_MIN_WILCOXON = 5
# Values that differ by less than this share of their magnitude differ by float round-off only
# (0.9 - 0.8 != 0.7 - 0.6 in binary): no variance for t (scipy would warn and give a huge t), and
# a total path gain that is zero up to round-off (shares would be +-1e15).
RTOL = 1e-12

# Output columns, in order; the tables and figures read these names.
_SUMMARY_COLUMNS = "arm metric n n_failed n_missing mean std ci_low ci_high".split()
_DIFF_COLUMNS = "arm reference seed delta".split()
_COMPARE_COLUMNS = (
    "arm reference n_pairs delta delta_ci_low delta_ci_high t_stat p_value p_wilcoxon p_holm significant cohen_dz note"
).split()


class _Estimate(NamedTuple):
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    t_stat: float
    p_value: float
    note: str


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
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
        with _heap_frozen():
            adjusted[tested] = multipletests(p[tested], method="holm")[1]
    return adjusted


@contextlib.contextmanager
def _heap_frozen() -> Iterator[None]:
    """statsmodels 0.15's Holm runs a full ``gc.collect()`` on every call: 0.05-0.12 s in a process
    that holds pandas and Prefect, and an adaptive ablation's verdicts call it twice per look. A
    frozen heap is not traversed (freeze and unfreeze are O(1)); a heap frozen already by the host
    is left as it is (unfreezing would undo the host's freeze)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    check_level("confidence", confidence)
    check_runs(runs, arms)
    wides = {metric: usable_values(runs, metric, arms) for metric in metrics}
    rows = []
    for arm in arms:
        status = runs.loc[runs["arm"] == arm, "status"]
        failed, missing = int((status == "failed").sum()), int((status == "missing").sum())
        for metric in metrics:
            values = wides[metric][arm].dropna().to_numpy()
            est = estimate(values, scale_of(values), confidence, test=False)
            rows.append([arm, metric, est.n, failed, missing, est.mean, est.std, est.ci_low, est.ci_high])
    return as_frame(rows, _SUMMARY_COLUMNS, ints=["n", "n_failed", "n_missing"])


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
    return as_frame(rows, _DIFF_COLUMNS, ints=["seed"])


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
    check_level("alpha", alpha)
    check_level("confidence", confidence)
    check_distinct(comparisons)
    wide = usable_values(runs, metric, [name for pair in comparisons for name in pair])
    rows = []
    for arm, reference in comparisons:
        _, a, b = paired(wide, arm, reference)
        est = estimate(a - b, scale_of(a, b), confidence)
        dz = est.mean / est.std if est.std > 0 else np.nan
        rows.append([arm, reference, est.n, est.mean, est.ci_low, est.ci_high, est.t_stat, est.p_value])
        rows[-1] += [_wilcoxon(a - b), np.nan, False, dz, est.note]
    return with_holm(as_frame(rows, _COMPARE_COLUMNS, ints=["n_pairs"]), alpha)


def estimate(values: np.ndarray, scale: float, confidence: float, test: bool = True) -> _Estimate:
    """Mean, sample std, t-interval and (``test``) one-sample t-test against 0 of ``values``."""
    n = len(values)
    mean = float(np.mean(values)) if n else np.nan
    if n < 2:
        return _Estimate(n, mean, np.nan, np.nan, np.nan, np.nan, np.nan, NOTE_FEW)
    if np.ptp(values) <= RTOL * scale:
        if n < _MIN_TEST or not test:
            return _Estimate(n, mean, 0.0, mean, mean, np.nan, np.nan, NOTE_FEW if n < _MIN_TEST else NOTE_CONSTANT)
        zero = abs(mean) <= RTOL * scale
        t_stat, p = (np.nan, 1.0) if zero else (float(np.copysign(np.inf, mean)), 0.0)
        return _Estimate(n, mean, 0.0, mean, mean, t_stat, p, NOTE_CONSTANT)
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


def with_holm(out: pd.DataFrame, alpha: float) -> pd.DataFrame:
    out["p_holm"] = holm(out["p_value"].to_numpy(dtype=float))
    out["significant"] = (out["p_holm"] < alpha).astype(bool)  # NaN compares False: untested is not significant
    return out


def scale_of(*arrays: np.ndarray) -> float:
    return max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)


def as_frame(rows: list[list], columns: list[str], ints: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).astype({c: "int64" for c in ints})


def check_level(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), but got {value}")
