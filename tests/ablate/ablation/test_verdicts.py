"""Verdicts: the difference and equivalence tests against scipy and statsmodels, Holm across the
comparisons at every look, the four outcomes, the looks of an adaptive plan, and seeds_needed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import ttost_paired

from ablate.ablation.verdicts import Verdict, decide, sample_tests, seeds_needed
from ablate.vocab.seed_plan import SeedPlan

# Every warning is an error here, but not an object of an earlier test in this process that Python
# collects meanwhile (DVC's in-process Repo leaves dulwich's pack files of the project's .git to it).
pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.filterwarnings("default::pytest.PytestUnraisableExceptionWarning"),
]
FIXED = SeedPlan(alpha=0.05, fixed=10)
AUTO = SeedPlan(alpha=0.05, fixed=None, pilot=5, round=5, max_seeds=30)


def sample(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float))


def normal(mean: float, sd: float, n: int, seed: int) -> np.ndarray:
    return mean + sd * np.random.default_rng(seed).standard_normal(n)


def test_the_two_tests_are_scipy_s_t_test_and_statsmodels_tost() -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(0.9, 0.01, 8)
    arm = ref + rng.normal(0.002, 0.004, 8)
    got = sample_tests(arm - ref, min_effect=0.01)
    assert got.n == 8
    assert got.p_value == pytest.approx(stats.ttest_rel(arm, ref).pvalue, rel=1e-12)
    assert got.p_equivalence == pytest.approx(ttost_paired(arm, ref, -0.01, 0.01)[0], rel=1e-9)
    assert math.isnan(sample_tests(arm - ref, None).p_equivalence)


def test_too_few_seeds_give_no_test() -> None:
    assert math.isnan(sample_tests(np.array([0.1, 0.2]), 0.1).p_value)
    assert sample_tests(np.array([0.1, np.nan, 0.3, 0.2]), 0.5).n == 3  # a failed seed is a value fewer


@pytest.mark.parametrize(
    "values, min_effect, verdict",
    [
        ([0.1] * 4, 0.05, Verdict.MATTERS),  # an exact Δ of 10 points, above the margin
        ([0.1] * 4, 0.5, Verdict.SMALL),  # real, and inside the margin
        ([0.0] * 4, 0.5, Verdict.NEGLIGIBLE),  # a component that changes nothing
        ([-0.36] * 3, None, Verdict.MATTERS),
        ([0.0] * 3, None, Verdict.INCONCLUSIVE),  # nothing to show it negligible against
    ],
)
def test_a_trial_that_ignores_its_seed_gives_an_exact_difference(
    values: list[float], min_effect: float | None, verdict: Verdict
) -> None:
    # Every seed gives the same difference: the tests take their limits as the spread goes to 0
    # (scipy's ttest_1samp of a constant, nonzero sample is t = inf, p = 0).
    tests = sample_tests(np.array(values), min_effect)
    assert tests.p_value == (1.0 if abs(values[0]) < 1e-12 else 0.0)
    plan = SeedPlan(alpha=0.05, fixed=len(values))
    d = decide({"a": pd.Series(values)}, plan, min_effect)["a"]
    assert d.verdict is verdict
    assert sample_tests(np.array([0.1, np.nan, 0.3, 0.2]), 0.5).n == 3  # a failed seed is a value fewer


def test_the_four_outcomes() -> None:
    assert Verdict.of(True, False) is Verdict.MATTERS
    assert Verdict.of(True, True) is Verdict.SMALL
    assert Verdict.of(False, True) is Verdict.NEGLIGIBLE
    assert Verdict.of(False, False) is Verdict.INCONCLUSIVE


def test_a_fixed_design_is_holm_across_comparisons_and_each_gets_its_verdict() -> None:
    samples = {
        "big": sample(normal(3.0, 0.5, 10, 1)),  # far beyond the margin 1
        "zero": sample(normal(0.0, 0.3, 10, 2)),  # tight around 0
        "small": sample(normal(0.4, 0.05, 10, 3)),  # real, well inside the margin
        "noisy": sample(normal(0.5, 3.0, 10, 4)),  # cannot tell
    }
    got = decide(samples, FIXED, min_effect=1.0)
    assert {k: d.verdict for k, d in got.items()} == {
        "big": Verdict.MATTERS,
        "zero": Verdict.NEGLIGIBLE,
        "small": Verdict.SMALL,
        "noisy": Verdict.INCONCLUSIVE,
    }
    raw = [sample_tests(s.to_numpy(), 1.0) for s in samples.values()]
    holm_d = multipletests([t.p_value for t in raw], method="holm")[1]
    holm_e = multipletests([t.p_equivalence for t in raw], method="holm")[1]
    assert [got[k].p_holm for k in samples] == pytest.approx(holm_d, rel=1e-12)
    assert [got[k].p_equivalence_holm for k in samples] == pytest.approx(holm_e, rel=1e-12)
    assert all(d.look == 10 and d.final and d.family == 4 for d in got.values())


def test_without_min_effect_nothing_is_negligible_or_small() -> None:
    samples = {"big": sample(normal(3.0, 0.5, 10, 1)), "zero": sample(normal(0.0, 0.3, 10, 2))}
    got = decide(samples, FIXED, min_effect=None)
    assert got["big"].verdict is Verdict.MATTERS and got["zero"].verdict is Verdict.INCONCLUSIVE
    assert math.isnan(got["zero"].p_equivalence_holm)


def test_an_adaptive_design_decides_a_large_effect_at_the_pilot_and_spends_the_look_s_share() -> None:
    samples = {"big": sample(normal(5.0, 0.3, 30, 1)), "zero": sample(normal(0.0, 0.4, 30, 2))}
    got = decide(samples, AUTO, min_effect=1.0)
    big = got["big"]
    assert big.verdict is Verdict.MATTERS and big.look == 5
    raw = [sample_tests(s.to_numpy()[:5], 1.0).p_value for s in samples.values()]
    assert big.p_holm == pytest.approx(multipletests(raw, method="holm")[1][0] / AUTO.share(5))
    zero = got["zero"]
    assert zero.verdict is Verdict.NEGLIGIBLE and 5 < zero.look < 30
    # "big" was rejected at the pilot: at later looks Holm divides among the one left.
    assert zero.family == 1


def test_a_comparison_decided_by_one_test_stays_in_the_other_family() -> None:
    """Once "zero" is shown negligible it is never tested for a difference again, but it still
    counts in that family: the other comparison's later looks divide α by 2, not by 1."""
    samples = {"zero": sample(normal(0.0, 0.05, 30, 5)), "noisy": sample(normal(0.3, 1.5, 30, 6))}
    got = decide(samples, AUTO, min_effect=1.0)
    assert got["zero"].verdict is Verdict.NEGLIGIBLE and got["zero"].look == 5
    assert got["noisy"].look > 5 and got["noisy"].family == 2


def test_a_look_whose_seeds_are_not_all_there_waits_and_says_so() -> None:
    values = normal(0.3, 2.0, 12, 7)
    partial = pd.Series(values, index=range(12)).drop(index=[11])  # seed 11 still running
    got = decide({"noisy": partial}, AUTO, min_effect=1.0)["noisy"]
    assert got.verdict is Verdict.INCONCLUSIVE and got.look == 10 and not got.final


def test_a_second_family_is_read_at_the_looks_the_first_stopped_at() -> None:
    """The test split's verdict is taken where the validation verdict was reached, even when a
    test at an earlier look would have rejected."""
    samples = {"big": sample(normal(5.0, 0.3, 30, 1)), "other": sample(normal(0.0, 0.4, 30, 2))}
    got = decide(samples, AUTO, 1.0, stops={"big": 15, "other": 20})
    assert got["big"].look == 15 and got["big"].verdict is Verdict.MATTERS
    assert got["other"].look == 20


def test_seeds_needed_is_the_smallest_fixed_design_that_reaches_the_power() -> None:
    d = normal(0.0, 1.0, 10, 9)
    sd = float(np.std(d, ddof=1))
    n = seeds_needed(d, FIXED, min_effect=0.5, power=0.8, family=3, after=10)
    power = TTestPower().power
    level = 0.05 / 3

    def settles(k: float) -> bool:
        return (
            power(effect_size=0.5 / sd, nobs=k, alpha=level, alternative="larger") >= 0.9
            and power(effect_size=0.75 / sd, nobs=k, alpha=level) >= 0.8
        )

    assert n > 10 and settles(n) and not settles(n - 1)
    assert math.isnan(seeds_needed(d, FIXED, min_effect=None, power=0.8, family=3, after=10))


def test_seeds_needed_of_an_adaptive_design_is_one_of_its_looks() -> None:
    d = normal(0.0, 1.0, 10, 9)
    n = seeds_needed(d, AUTO, min_effect=0.5, power=0.8, family=2, after=30)
    assert n in AUTO.grid(2000) and n > 30
