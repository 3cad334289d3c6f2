"""A verdict for every comparison of an ablation: does the component matter, is it negligible, or
do we not know yet?

Each comparison (an arm against its reference, a factorial effect, a step of a path) is a sample
of per-seed values: paired differences, or per-seed contrasts. Two tests are run on it (Lakens
2018), both from scipy.stats:

- the difference test: a two-sided t-test of Δ = 0 (``ttest_1samp``; on paired differences it is
  ``ttest_rel``);
- the equivalence test, with a margin ``min_effect``: two one-sided t-tests (TOST) of Δ ≤ −margin
  and Δ ≥ +margin, its p the larger of the two (what statsmodels' ``ttost_paired`` computes).

Each test is a family across the comparisons, Holm-corrected at every look of the seed plan with
that look's share of α (``ablate.vocab.seed_plan``). A comparison rejected in a family stays
rejected at later looks; one that got its verdict from the other family stays in, never rejected
again (p taken as 1), so a family never grows a true null's chance. The four outcomes:

=========  =====================  =============================================================
verdict    difference rejected    equivalence shown
=========  =====================  =============================================================
matters    yes                    no: the interval is not inside ±min_effect
small      yes                    yes: real, but smaller than the effect of interest
negligible no                     yes
inconcl.   no                     no
=========  =====================  =============================================================

Without ``min_effect`` there is no equivalence test: a comparison can only matter, or stay
inconclusive.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import TTestPower

from ablate.ablation.stats import holm
from ablate.vocab.seed_plan import SeedPlan
from ablate.vocab.word import Word

# Values that differ by less than this share of their magnitude differ by float round-off only:
# no variance for t (the same rule as ablate.ablation.stats).
_RTOL = 1e-12
_MIN_TEST = 3  # fewer values than this: no test (as in ablate.ablation.stats)
# seeds_needed searches this far; beyond, it says "more than" (a study that needs thousands of seeds
# to settle an arm has an effect of interest far below its seeds' spread).
MAX_NEEDED = 2000


class Verdict(Word):
    MATTERS = "matters"
    SMALL = "small"
    NEGLIGIBLE = "negligible"
    INCONCLUSIVE = "inconclusive"

    @classmethod
    def of(cls, difference: bool, equivalence: bool) -> Verdict:
        if difference:
            return cls.SMALL if equivalence else cls.MATTERS
        return cls.NEGLIGIBLE if equivalence else cls.INCONCLUSIVE


VERDICTS = tuple(v.value for v in Verdict)


@dataclass(frozen=True)
class SampleTests:
    """The two tests of one comparison at one look."""

    n: int  # usable values (seeds) the tests saw
    p_value: float  # difference test, two-sided; NaN without a test
    p_equivalence: float  # TOST; NaN without min_effect or without a test


def sample_tests(values: np.ndarray, min_effect: float | None) -> SampleTests:
    """The difference test and (with ``min_effect``) the equivalence test of ``values``.

    NaN values are dropped; fewer than 3 values, or values without spread, give NaN p-values.
    """
    return tests_of({"": values}, min_effect)[""]


def tests_of(samples: Mapping[str, np.ndarray], min_effect: float | None) -> dict[str, SampleTests]:
    """:func:`sample_tests` of every sample, with one scipy call per test for the samples of one size
    (a look's comparisons mostly share theirs: scipy's per-call cost dominated a simulated study)."""
    clean = {}
    for name, values in samples.items():
        x = np.asarray(values, dtype=float)
        clean[name] = x[np.isfinite(x)]
    out = {}
    for n in {len(x) for x in clean.values()}:
        names = [name for name, x in clean.items() if len(x) == n]
        x = np.array([clean[name] for name in names]).reshape(len(names), n)
        scale = np.max(np.abs(x), axis=1) if n else np.zeros(len(names))
        flat = (np.ptp(x, axis=1) <= _RTOL * scale) if n else np.ones(len(names), bool)
        if n < _MIN_TEST:
            out.update({name: SampleTests(n, math.nan, math.nan) for name in names})
            continue
        spread = x[~flat]  # no spread: scipy would warn and give a huge t
        p = stats.ttest_1samp(spread, 0.0, axis=1).pvalue if len(spread) else np.empty(0)
        if min_effect is None:
            equivalent = np.full(len(spread), np.nan)
        elif len(spread):
            above = stats.ttest_1samp(spread, -min_effect, axis=1, alternative="greater").pvalue  # H0: Δ <= -margin
            below = stats.ttest_1samp(spread, min_effect, axis=1, alternative="less").pvalue  # H0: Δ >= +margin
            equivalent = np.maximum(above, below)
        else:
            equivalent = np.empty(0)
        tested = iter(zip(p, equivalent))
        for name, no_spread, values, size in zip(names, flat, x, scale):
            d, e = _limits(values[0], size, min_effect) if no_spread else next(tested)
            out[name] = SampleTests(n, float(d), float(e))
    return out


def _limits(delta: float, scale: float, min_effect: float | None) -> tuple[float, float]:
    """The two tests' p where every seed gave the same difference ``delta`` (a trial that ignores its
    seed): their limits as the spread goes to 0. Δ is then exact: it differs from 0 unless it is 0
    (up to round-off), and it is inside ±min_effect or not."""
    difference = 1.0 if abs(delta) <= _RTOL * max(1.0, scale) else 0.0  # a - b of equal values is 0.0
    equivalence = math.nan if min_effect is None else (0.0 if abs(delta) < min_effect else 1.0)
    return difference, equivalence


@dataclass(frozen=True)
class Decision:
    """A comparison's verdict, and the look it was reached at (or the last look, if none was).

    ``p_holm`` and ``p_equivalence_holm`` are adjusted for every comparison of the family and for
    the look's share of α: a test rejects when its adjusted p is below α.
    """

    verdict: Verdict
    look: int  # the seeds of the look: what the comparison's statistics are computed over
    tests: SampleTests
    p_holm: float
    p_equivalence_holm: float
    family: int  # comparisons in the difference family at that look (Holm's first divisor)
    final: bool = True  # False: the comparison's next look has not been made yet (a run in progress)


class _Family:
    """One test's family across looks: what it has rejected so far."""

    def __init__(self) -> None:
        self.rejected: set[str] = set()

    def adjust(self, names: Collection[str], p: Mapping[str, float], share: float) -> dict[str, float]:
        """Holm-adjusted p of every name not rejected before, over the look's share of α (names
        without a p of this look, or with NaN, count with p = 1)."""
        members = [n for n in names if n not in self.rejected]
        if not members:
            return {}
        raw = np.array([p.get(n, 1.0) for n in members], dtype=float)
        raw = np.where(np.isfinite(raw), raw, 1.0)
        adjusted = holm(raw) / share
        return {n: float(min(1.0, a)) for n, a in zip(members, adjusted)}


def decide(
    samples: Mapping[str, pd.Series],
    plan: SeedPlan,
    min_effect: float | None,
    stops: Mapping[str, int] | None = None,
) -> dict[str, Decision]:
    """Replay the plan's looks over ``samples`` and give every comparison its verdict.

    Args:
        samples: comparison -> its per-seed values indexed by the seed's position in the plan
            (0, 1, ...), one entry per seed tried (NaN where the trial failed). A look at n seeds is
            made for a comparison once positions 0 .. n-1 are all there.
        plan: the seeds' looks and each look's share of α.
        min_effect: the equivalence margin (> 0), or None for no equivalence test.
        stops: None for the primary verdicts: a comparison is decided at the first look where a
            test rejects, and keeps running until then. Otherwise the look each comparison stopped at
            (decided by another family, e.g. the validation metric for the test split): its verdict
            is the one at that look.

    Returns:
        comparison -> Decision, for every comparison with at least one look (one whose first look is
        not complete yet is left out). One still running (its next look not complete) is
        inconclusive at its latest look, with ``final`` False.
    """
    names = list(samples)
    alpha = plan.alpha
    difference, equivalence = _Family(), _Family()
    out: dict[str, Decision] = {}
    latest: dict[str, Decision] = {}
    for look in plan.grid(max(plan.most, *(stops or {}).values(), 0)) if plan.adaptive else plan.looks():
        # A fixed design's one look is made on the seeds that are there (a missing one is a pair
        # fewer, and the report flags it); an adaptive design waits for a look's every seed.
        live = [n for n in names if n not in out and (_has_look(samples[n], look) or not plan.adaptive)]
        if not live:
            break
        tests = tests_of({n: _upto(samples[n], look).to_numpy() for n in live}, min_effect)
        share = plan.share(look)
        p_diff = difference.adjust(names, {n: tests[n].p_value for n in live}, share)
        p_eq = equivalence.adjust(names, {n: tests[n].p_equivalence for n in live}, share) if min_effect else {}
        family = len([n for n in names if n not in difference.rejected])
        last = look >= plan.most
        for n in live:
            d, e = p_diff.get(n, math.nan), p_eq.get(n, math.nan)
            rejects_d, rejects_e = d < alpha, e < alpha
            if stops is None:
                closing = rejects_d or rejects_e or last
            else:
                closing = stops.get(n, plan.most) <= look
            if closing:
                out[n] = Decision(Verdict.of(rejects_d, rejects_e), look, tests[n], d, e, family)
            else:
                latest[n] = Decision(Verdict.INCONCLUSIVE, look, tests[n], d, e, family, final=False)
        difference.rejected |= {n for n in live if n in out and p_diff.get(n, 1.0) < alpha}
        equivalence.rejected |= {n for n in live if n in out and p_eq.get(n, 1.0) < alpha}
        if all(n in out for n in names):
            break
    return {n: out.get(n) or latest[n] for n in names if n in out or n in latest}


def _has_look(sample: pd.Series, look: int) -> bool:
    return bool(np.isin(np.arange(look), sample.index.to_numpy()).all())


def _upto(sample: pd.Series, look: int) -> pd.Series:
    return sample[sample.index < look]


def seeds_needed(
    values: np.ndarray, plan: SeedPlan, min_effect: float | None, power: float, family: int, after: int
) -> float:
    """The paired seeds at which this design would settle a comparison with probability ``power``,
    from the spread of its ``values`` (statsmodels' TTestPower): showing it negligible if its true Δ
    were 0 (each one-sided test of TOST at power 1 − (1 − power)/2, so that both pass together with
    at least ``power``), and showing it matters if its true |Δ| were 1.5 × min_effect; the larger.

    Tested at Holm's strictest step (α/family) and, for an adaptive plan, at the level of the look
    that reaches it (earlier looks only add to the chance). NaN without min_effect or spread; ``inf``
    beyond :data:`MAX_NEEDED`.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if min_effect is None or len(x) < 2 or not np.std(x) > 0:
        return math.nan
    sd = float(np.std(x, ddof=1))
    one_sided = 1 - (1 - power) / 2
    power_of = TTestPower().power
    candidates = plan.grid(MAX_NEEDED) if plan.adaptive else range(_MIN_TEST, MAX_NEEDED + 1)
    for n in candidates:
        if n <= after:
            continue
        a = plan.level(n) / max(1, family)
        settles_zero = power_of(effect_size=min_effect / sd, nobs=n, alpha=a, alternative="larger") >= one_sided
        settles_large = power_of(effect_size=1.5 * min_effect / sd, nobs=n, alpha=a) >= power
        if settles_zero and settles_large:
            return float(n)
    return math.inf
