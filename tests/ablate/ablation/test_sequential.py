"""The seed plan: its looks, and the share of α each look spends."""

from __future__ import annotations

import pytest

from ablate.ablation.sequential import SeedPlan, spent


def test_a_fixed_design_looks_once_with_all_of_alpha() -> None:
    plan = SeedPlan(alpha=0.05, fixed=7)
    assert plan.looks() == [7] and not plan.adaptive and plan.most == 7
    assert plan.share(7) == 1.0 and plan.level(7) == 0.05


def test_an_adaptive_design_looks_after_the_pilot_and_every_round() -> None:
    plan = SeedPlan(alpha=0.05, fixed=None, pilot=4, round=3, max_seeds=16)
    assert plan.looks() == [4, 7, 10, 13, 16] and plan.adaptive and plan.most == 16
    assert plan.grid(22) == [4, 7, 10, 13, 16, 19, 22]


@pytest.mark.parametrize(("pilot", "round_"), [(5, 5), (3, 1), (6, 4)])
def test_the_looks_of_every_budget_together_never_spend_more_than_alpha(pilot: int, round_: int) -> None:
    plan = SeedPlan(alpha=0.05, fixed=None, pilot=pilot, round=round_, max_seeds=pilot)
    shares = [plan.share(n) for n in plan.grid(10_000)]
    assert all(s > 0 for s in shares)
    assert sum(shares) == pytest.approx(spent(plan.grid(10_000)[-1]))
    assert 0.999 < sum(shares) <= 1.0


def test_raising_max_seeds_keeps_every_earlier_look_as_it_was() -> None:
    """max_seeds is a budget, not part of the test: the levels of the looks already made do not
    depend on it, so a verdict reached with max_seeds 30 stays the verdict with 50."""
    small, large = (SeedPlan(fixed=None, pilot=5, round=5, max_seeds=m) for m in (30, 50))
    assert [small.level(n) for n in small.looks()] == [large.level(n) for n in small.looks()]
    assert large.looks()[: len(small.looks())] == small.looks()


def test_half_of_alpha_is_spent_by_15_seeds() -> None:
    assert spent(15) == pytest.approx(0.5) and spent(0) == 0.0
    assert 0.88 < spent(30) < 0.9 and spent(50) > 0.96


def test_the_plan_round_trips_through_its_record() -> None:
    for plan in (SeedPlan(alpha=0.1, fixed=9), SeedPlan(alpha=0.01, fixed=None, pilot=4, round=2, max_seeds=20)):
        assert SeedPlan.from_dict(plan.to_dict()) == plan
