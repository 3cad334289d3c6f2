"""The seed plan: its looks, and the share of α each look spends."""

from __future__ import annotations

import pytest

from ablate.vocab.seed_plan import SeedPlan, spent


def test_a_fixed_design_looks_once_with_all_of_alpha() -> None:
    plan = SeedPlan(alpha=0.05, fixed=7)
    assert plan.looks() == [7] and not plan.adaptive and plan.most == 7
    assert plan.share(7) == 1.0 and plan.level(7) == 0.05


def test_an_adaptive_design_looks_after_the_pilot_and_every_round() -> None:
    plan = SeedPlan(alpha=0.05, fixed=None, pilot=4, round=3, max_seeds=16)
    assert plan.looks() == [4, 7, 10, 13, 16] and plan.adaptive and plan.most == 16
    assert plan.grid(22) == [4, 7, 10, 13, 16, 19, 22]


@pytest.mark.parametrize(("pilot", "round_", "budget"), [(5, 5, 30), (3, 1, 10), (6, 4, 18)])
def test_the_looks_of_every_budget_together_never_spend_more_than_alpha(pilot: int, round_: int, budget: int) -> None:
    plan = SeedPlan(alpha=0.05, fixed=None, pilot=pilot, round=round_, max_seeds=budget, budget=budget)
    shares = [plan.share(n) for n in plan.grid(20_000)]
    assert all(s > 0 for s in shares)
    assert sum(shares) == pytest.approx(spent(plan.grid(20_000)[-1], budget))
    assert 0.999 < sum(shares) <= 1.0
    assert sum(plan.share(n) for n in plan.looks()) == pytest.approx(0.9)  # the reserve: 10 %


def test_raising_max_seeds_keeps_the_planned_budget_and_every_earlier_look_as_it_was() -> None:
    """The first round plans α over max_seeds; raised later, max_seeds only adds looks, which spend
    the reserve: the levels of the looks already made stay, so a verdict reached stays."""
    planned = SeedPlan(fixed=None, pilot=5, round=5, max_seeds=30).planned(None)
    raised = SeedPlan(fixed=None, pilot=5, round=5, max_seeds=50).planned(planned)
    assert planned.budget == raised.budget == 30
    assert [planned.level(n) for n in planned.looks()] == [raised.level(n) for n in planned.looks()]
    beyond = sum(raised.share(n) for n in raised.looks() if n > 30)
    assert 0 < beyond < 0.1 and sum(raised.share(n) for n in raised.looks()) < 1.0
    fresh = SeedPlan(fixed=None, pilot=5, round=5, max_seeds=50).planned(None)  # a new ablation: all of it
    assert fresh.budget == 50 and sum(fresh.share(n) for n in fresh.looks()) == pytest.approx(0.9)


def test_a_kept_plan_keeps_its_pilot_and_rounds_too() -> None:
    first = SeedPlan(fixed=None, pilot=4, round=3, max_seeds=16).planned(None)
    again = SeedPlan(fixed=None, pilot=5, round=5, max_seeds=30).planned(first)
    assert (again.pilot, again.round, again.budget, again.max_seeds) == (4, 3, 16, 30)


def test_most_of_alpha_is_spent_on_the_last_looks_of_the_budget() -> None:
    assert spent(0, 30) == 0.0 and spent(30, 30) == pytest.approx(0.9) and spent(15, 30) == pytest.approx(0.225)
    assert spent(60, 30) == pytest.approx(0.975)


def test_the_plan_round_trips_through_its_record() -> None:
    for plan in (
        SeedPlan(alpha=0.1, fixed=9),
        SeedPlan(alpha=0.01, fixed=None, pilot=4, round=2, max_seeds=20),
        SeedPlan(alpha=0.01, fixed=None, pilot=4, round=2, max_seeds=20, budget=12),
    ):
        assert SeedPlan.from_dict(plan.to_dict()) == plan
