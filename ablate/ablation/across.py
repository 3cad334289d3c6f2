"""Ablation across data sets: whether each arm's effect holds on every benchmark, not only on one.

Input is one value per complete (data set, arm, seed) trial. From it:

- **average ranks**: each data set ranks the arms by their mean over its seeds (1 = best, ties
  share the average rank); an arm's average rank is the mean over the data sets;
- **Friedman's test** over the arms, the data sets as blocks (``scipy.stats.friedmanchisquare``);
- **each arm against the baseline**: the z test on the rank sums of Siegel and Castellan that
  Demšar (2006) recommends for comparisons with a control (scikit-posthocs'
  ``posthoc_siegel_friedman``), Holm-adjusted over the arms' comparisons (statsmodels);
- **all pairs** for the critical-difference diagram: Nemenyi's test (scikit-posthocs'
  ``posthoc_nemenyi_friedman``), drawn by scikit-posthocs' ``critical_difference_diagram``;
- **a comparison that keeps the seeds**: the Bayesian hierarchical test of Corani et al. (2017)
  (baycomp's ``HierarchicalTest``) on every (data set, seed) paired difference, with the region of
  practical equivalence ±min_effect: each arm's probability of being worse than the baseline,
  practically equivalent to it, or better.

The first four use only the per-data-set means: they cannot tell a difference the seeds support
from one they do not (google/fuzzbench#1417). The hierarchical test models the seeds' spread
within each data set and the spread of the effect across them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ablate.ablation._hierarchical import child_env
from ablate.ablation.stats import holm
from ablate.vocab.direction import maximizes

VALUE_COLUMNS = ("dataset", "arm", "seed", "value")
# across.csv, in this order: the arm, its rank, the rank test against the baseline, the hierarchical test.
ACROSS_COLUMNS = (
    "arm role verdict mean_rank n_datasets mean_delta p_rank p_rank_holm significant p_worse p_rope p_better "
    "seeds_per_dataset note friedman_chi2 friedman_p"
).split()
MIN_ARMS_FRIEDMAN = 3  # Friedman's test compares three or more arms (two are a paired test)
MIN_DATASETS = 2
FEW_DATASETS_FOR_DIAGRAM = 5  # below this, the diagram's critical difference spans most of the axis
MIN_SEEDS_HIERARCHICAL = 2  # a spread within each data set
NOTE_FEW_SEEDS = f"fewer than {MIN_SEEDS_HIERARCHICAL} paired seeds on a data set: no hierarchical test"
NOTE_CONSTANT = "the same difference on every seed of every data set: no spread for the hierarchical test"
# The hierarchical test's verdict on an arm: the posterior probability that decides it (Benavoli et
# al. 2017 use 0.95 as the usual threshold).
DECISIVE = 0.95


def across_verdict(worse: float, rope: float, better: float) -> str:
    """``matters`` where the arm is worse or better than the baseline by more than min_effect with
    probability DECISIVE or more, ``negligible`` where it is within ±min_effect with that
    probability (impossible without min_effect: the region is empty), else ``inconclusive``."""
    if not np.isfinite([worse, rope, better]).all():
        return ""
    if max(worse, better) >= DECISIVE:
        return "matters"
    return "negligible" if rope >= DECISIVE else "inconclusive"


@dataclass(frozen=True)
class AcrossAnalysis:
    """What the across-data-sets part of a report shows; :attr:`table` is ``across.csv``."""

    metric: str
    direction: str
    baseline: str
    means: pd.DataFrame  # data set x arm: the mean over each data set's seeds
    ranks: pd.DataFrame  # data set x arm: 1 = best on that data set
    table: pd.DataFrame  # one row per arm (ACROSS_COLUMNS)
    pairwise: pd.DataFrame  # arm x arm: Nemenyi's p, what the diagram joins
    friedman_stat: float
    friedman_p: float
    alpha: float
    min_effect: float | None
    notes: list[str] = field(default_factory=list)


def analyze_across(
    values: pd.DataFrame,
    baseline: str,
    metric: str,
    direction: str,
    min_effect: float | None = None,
    alpha: float = 0.05,
    seed: int = 0,
) -> AcrossAnalysis:
    """The across-data-sets analysis of ``values`` (``dataset, arm, seed, value``: complete trials).

    Raises:
        ValueError: fewer than 2 data sets or 3 arms (with the baseline) in common, or no baseline.
    """
    import scikit_posthocs as sp
    from scipy import stats

    missing = set(VALUE_COLUMNS) - set(values.columns)
    if missing:
        raise ValueError(f"values lack the columns {sorted(missing)}")
    values = values[np.isfinite(values["value"].astype(float))]
    notes: list[str] = []
    means = values.groupby(["dataset", "arm"])["value"].mean().unstack("arm")
    if baseline not in means.columns:
        raise ValueError(f"the baseline arm {baseline!r} has no complete trial")
    partial = means.index[means.isna().any(axis=1)]
    if len(partial):
        notes.append(f"left out of the ranks (an arm has no complete trial there): {', '.join(map(str, partial))}")
        means = means.drop(index=partial)
    arms = [baseline, *sorted(a for a in means.columns if a != baseline)]
    means = means[arms]
    if len(means) < MIN_DATASETS or len(arms) < MIN_ARMS_FRIEDMAN:
        raise ValueError(
            f"the ranks across data sets need {MIN_DATASETS} or more data sets and {MIN_ARMS_FRIEDMAN} or more "
            f"arms with the baseline (Friedman's test); there are {len(means)} data sets and {len(arms)} arms"
        )
    if len(means) < FEW_DATASETS_FOR_DIAGRAM:
        notes.append(
            f"{len(means)} data sets: the critical-difference diagram is meaningful from about "
            f"{FEW_DATASETS_FOR_DIAGRAM}; with fewer, its critical difference spans most of the ranks"
        )
    better_high = maximizes(direction)
    ranks = means.rank(axis=1, ascending=not better_high)
    friedman = stats.friedmanchisquare(*(means[a].to_numpy() for a in arms))
    against = sp.posthoc_siegel_friedman(means.to_numpy())  # raw p-values, arms in the order of `arms`
    against.index = against.columns = arms
    p_rank = against.loc[arms[1:], baseline].to_numpy(dtype=float)
    pairwise = sp.posthoc_nemenyi_friedman(means.to_numpy())
    pairwise.index = pairwise.columns = arms

    sign = 1.0 if better_high else -1.0
    by_seed = {
        d: values[values["dataset"] == d].pivot_table(index="seed", columns="arm", values="value") for d in means.index
    }
    pairs = {arm: _paired(by_seed, baseline, arm) for arm in arms[1:]}
    constant: set[str] = set()
    for arm, (x, y) in pairs.items():
        n = x.shape[1]
        if n >= MIN_SEEDS_HIERARCHICAL and ((y - x).var(axis=1) == 0).all():
            constant.add(arm)  # no spread within any data set: the model has no scale (baycomp divides by it)
        elif n % 2 and n > MIN_SEEDS_HIERARCHICAL and ((y - x).var(axis=1) == 0).any():
            # baycomp 1.0.3 gives such a data set's differences a spread of its own (±rope, in two
            # halves) and fails where the seeds are odd in number: the last one is left out.
            pairs[arm] = (x[:, :-1], y[:, :-1])
            notes.append(
                f"{arm}: the same difference on every seed of some data set, and an odd number of seeds; the "
                f"hierarchical test uses the first {n - 1} (baycomp cannot take {n} there)"
            )
    probs = hierarchical_probs(
        {
            a: (sign * x, sign * y)
            for a, (x, y) in pairs.items()
            if x.shape[1] >= MIN_SEEDS_HIERARCHICAL and a not in constant
        },
        rope=min_effect or 0.0,
        seed=seed,
    )
    rows = [[baseline, "baseline", "", ranks[baseline].mean(), len(means)] + [np.nan] * 7 + [pd.NA, ""]]
    for arm, p, p_adj in zip(arms[1:], p_rank, holm(p_rank), strict=True):
        x, y = pairs[arm]
        note = "" if arm in probs else NOTE_CONSTANT if arm in constant else NOTE_FEW_SEEDS
        worse, rope, better = probs.get(arm, (np.nan, np.nan, np.nan))
        delta = float(np.mean(means[arm] - means[baseline]))
        rows.append([arm, "arm", across_verdict(worse, rope, better), ranks[arm].mean(), len(means), delta, p, p_adj,
                     bool(p_adj <= alpha),
                     worse, rope, better, x.shape[1], note])  # fmt: skip
    rows = [[*row, float(friedman.statistic), float(friedman.pvalue)] for row in rows]  # the test of all arms
    table = pd.DataFrame(rows, columns=ACROSS_COLUMNS)
    table["seeds_per_dataset"] = table["seeds_per_dataset"].astype("Int64")
    table.loc[table["role"] == "baseline", "significant"] = pd.NA
    return AcrossAnalysis(
        metric=metric,
        direction=direction,
        baseline=baseline,
        means=means,
        ranks=ranks,
        table=table,
        pairwise=pairwise,
        friedman_stat=float(friedman.statistic),
        friedman_p=float(friedman.pvalue),
        alpha=alpha,
        min_effect=min_effect,
        notes=notes,
    )


def _paired(by_seed: Mapping[str, pd.DataFrame], baseline: str, arm: str) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, arm) values on the seeds both completed, a row per data set (``by_seed``: seed x
    arm on each): the first n seeds of each, n the fewest any data set has, as the hierarchical
    test takes a matrix."""
    rows = [here[[baseline, arm]].dropna().sort_index().to_numpy() for here in by_seed.values()]
    n = min(len(r) for r in rows)
    return np.array([r[:n, 0] for r in rows]), np.array([r[:n, 1] for r in rows])


def hierarchical_probs(
    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]], rope: float, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """baycomp's ``HierarchicalTest.probs`` for each arm's (baseline, arm) matrices (data sets x
    seeds, oriented so that higher is better): (P(arm worse), P(practically equivalent), P(arm
    better)).

    Run in a child process in a folder of its own: baycomp writes its last sample to
    ``last-sample.pickle`` in the working folder, and PyStan runs an event loop of its own. Stan
    compiles the model once per Python environment (about a minute; then cached by httpstan), one
    process at a time (:func:`ablate.ablation._hierarchical.build_lock_path`)."""
    if not pairs:
        return {}
    payload = {
        "rope": rope,
        "seed": seed,
        "pairs": {arm: [x.tolist(), y.tolist()] for arm, (x, y) in pairs.items()},
    }
    with tempfile.TemporaryDirectory(prefix="ablate-hierarchical-") as folder:
        done = subprocess.run(
            [sys.executable, "-m", "ablate.ablation._hierarchical"],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=folder,
            env=child_env(),
            check=False,
        )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"baycomp's hierarchical test failed: {last}")
    return {arm: tuple(p) for arm, p in json.loads(done.stdout).items()}
