"""How many paired seeds an ablation runs, and how much of α each look at its results may spend.

A fixed design (``ablation.seeds: N``) looks once, at N seeds, with all of α.

An adaptive design (``ablation.seeds: auto``) looks at the pilot (``pilot_seeds``) and again after
every round of ``round_seeds`` more, up to ``max_seeds``; an arm stops getting seeds once it has a
verdict. Choosing the number of seeds from the results makes a test at a plain α wrong: looking
after every round and stopping at the first "significant" finds one far more often than α. So each
look n spends only its share of α,

    α · (F(n) − F(n_prev)),   F(n) = 0.9 (n / B)²  for n <= B,   0.9 + 0.1 (1 − (B / n)²) beyond,

where B, the budget, is ``max_seeds`` when the ablation's first round was planned; Holm's
procedure runs at every look at that look's level (``ablate.ablation.verdicts``). F rises from 0
to 1, so the shares of every look the design could ever make add up to at most α. By the union
bound, the chance that any look gives a false verdict is then at most α, however the looks turn
out and wherever the design stops: a group-sequential design with α spending, Bonferroni across
looks (conservative where looks are correlated, and exact without any model of that correlation).
90 % of α is spent by the budget, most of it on the last looks, where an arm that needs many seeds
is decided; 10 % is kept for looks beyond it, so raising ``max_seeds`` after the first round keeps
the error rates: the budget stays as planned and the new looks spend the reserve.
``bench/bench_verdicts.py`` measures the error rates and the seeds this spends on simulated studies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# F's shape and reserve, chosen by simulation (bench_verdicts.py): a quadratic spent by the budget
# decided arms that need most of it (a spread of 1.5 x min_effect) twice as often as a spending that
# ignores the budget (n^3 / (n^3 + 15^3)), for 5-10 % more trials where the spread is small.
SPEND_SHAPE = 2
RESERVE = 0.1  # the share of alpha kept for looks beyond the budget (a raised max_seeds)


def spent(n: int, budget: int) -> float:
    """The share of α that the looks up to ``n`` seeds may spend together: 0 at 0 seeds, 1 - RESERVE
    at the budget, 1 at infinitely many."""
    if n <= 0:
        return 0.0
    if n <= budget:
        return (1 - RESERVE) * (n / budget) ** SPEND_SHAPE
    return (1 - RESERVE) + RESERVE * (1 - (budget / n) ** SPEND_SHAPE)


@dataclass(frozen=True)
class SeedPlan:
    """The seeds of an ablation and the looks at them.

    Attributes:
        alpha: the error rate of every family of verdicts (false ``matters``, false ``negligible``).
        fixed: ``seeds: N`` (one look at N), or None for ``seeds: auto``.
        pilot: seeds of the first look (``auto``).
        round: seeds added per later look (``auto``).
        max_seeds: the last look (``auto``); a look of the design: ``pilot + k * round``.
        budget: the seeds α is spent over (``auto``): ``max_seeds`` when the first round was planned
            (None: ``max_seeds``, a plan not run yet).
    """

    alpha: float = 0.05
    fixed: int | None = 5
    pilot: int = 5
    round: int = 5
    max_seeds: int = 30
    budget: int | None = None

    @property
    def adaptive(self) -> bool:
        return self.fixed is None

    @property
    def most(self) -> int:
        """The most seeds any arm may get."""
        return self.max_seeds if self.fixed is None else self.fixed

    def looks(self) -> list[int]:
        """The seed counts at which the results are looked at, in order."""
        if self.fixed is not None:
            return [self.fixed]
        return list(range(self.pilot, self.max_seeds + 1, self.round))

    def grid(self, upto: int) -> list[int]:
        """The looks an adaptive design would make up to ``upto`` seeds, beyond ``max_seeds`` too."""
        return list(range(self.pilot, upto + 1, self.round))

    @property
    def spending_budget(self) -> int:
        return self.budget if self.budget is not None else self.max_seeds

    def planned(self, previous: SeedPlan | None) -> SeedPlan:
        """This plan as the ablation's first round planned it: an adaptive ablation that has run
        keeps its pilot, rounds and budget (so a raised ``max_seeds`` spends only the reserve); a
        fresh one spends α over its ``max_seeds``."""
        if self.fixed is not None:
            return self
        if previous is None or previous.fixed is not None:
            return dataclasses.replace(self, budget=self.max_seeds)
        return dataclasses.replace(self, pilot=previous.pilot, round=previous.round, budget=previous.spending_budget)

    def share(self, n: int) -> float:
        """The part of α the look at ``n`` seeds spends (1 for a fixed design)."""
        if self.fixed is not None:
            return 1.0
        budget = self.spending_budget
        return spent(n, budget) - spent(n - self.round if n > self.pilot else 0, budget)

    def level(self, n: int) -> float:
        """The look's level: what Holm's procedure at the look at ``n`` seeds divides among the arms."""
        return self.alpha * self.share(n)

    def describe(self) -> str:
        """One line for the report: what decided the number of seeds."""
        if self.fixed is not None:
            return f"{self.fixed} paired seeds, fixed in advance (one look, all of α = {self.alpha:g})"
        budget = self.spending_budget
        raised = (
            f" (α planned for {budget} seeds; beyond them the looks spend a reserve)"
            if budget != self.max_seeds
            else ""
        )
        return (
            f"paired seeds chosen adaptively: a pilot of {self.pilot}, then rounds of {self.round} while an arm "
            f"is inconclusive, at most {self.max_seeds}{raised}; each look spends its share of α = {self.alpha:g}, "
            f"α·(F(n) − F(n_prev)) with F(n) = 0.9·(n/{budget})²"
        )

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "alpha": self.alpha,
            "fixed": self.fixed,
            "pilot": self.pilot,
            "round": self.round,
            "max_seeds": self.max_seeds,
            "budget": self.budget,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SeedPlan:
        return cls(
            alpha=float(d["alpha"]),
            fixed=None if d.get("fixed") is None else int(d["fixed"]),
            pilot=int(d.get("pilot", cls.pilot)),
            round=int(d.get("round", cls.round)),
            max_seeds=int(d.get("max_seeds", cls.max_seeds)),
            budget=None if d.get("budget") is None else int(d["budget"]),
        )
