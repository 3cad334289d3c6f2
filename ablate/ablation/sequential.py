"""How many paired seeds an ablation runs, and how much of α each look at its results may spend.

A fixed design (``ablation.seeds: N``) looks once, at N seeds, with all of α.

An adaptive design (``ablation.seeds: auto``) looks at the pilot (``pilot_seeds``) and again after
every round of ``round_seeds`` more, up to ``max_seeds``; an arm stops getting seeds once it has a
verdict. Choosing the number of seeds from the results makes a test at a plain α wrong: looking
after every round and stopping at the first "significant" finds one far more often than α. So each
look n spends only its share of α,

    α · (F(n) − F(n_prev)),   F(n) = n³ / (n³ + 15³),

and Holm's procedure runs at every look at that look's level (``ablate.ablation.verdicts``). F rises
from 0 to 1 over the seeds, whatever ``max_seeds`` is (half of α by 15 seeds, 89 % by 30, 97 % by
50), so the shares of every look the design could ever make add up to at most α. By the union
bound, the chance that any look gives a false verdict is then at most α, however the looks turn
out and wherever the design stops: a group-sequential design with α spending, Bonferroni across
looks (conservative where looks are correlated, and exact without any model of that correlation).
``max_seeds`` is a budget, not part of the test: raising it later continues the same looks.
``bench/bench_verdicts.py`` measures the error rates and the seeds this spends on simulated studies.
"""

from __future__ import annotations

from dataclasses import dataclass

# F(n) = n^SHAPE / (n^SHAPE + HALF^SHAPE): half of alpha is spent by HALF seeds. Chosen by simulation
# (bench_verdicts.py): among half-points 10-20 and shapes 2-3 this one used the fewest seeds across
# spreads of 0.5-1.5 x min_effect and kept 11 % of alpha for budgets beyond 30 seeds.
SPEND_HALF = 15
SPEND_SHAPE = 3


def spent(n: int) -> float:
    """The share of α that the looks up to ``n`` seeds may spend together (0 at 0 seeds, 1 at ∞)."""
    return n**SPEND_SHAPE / (n**SPEND_SHAPE + SPEND_HALF**SPEND_SHAPE) if n > 0 else 0.0


@dataclass(frozen=True)
class SeedPlan:
    """The seeds of an ablation and the looks at them.

    Attributes:
        alpha: the error rate of every family of verdicts (false ``matters``, false ``negligible``).
        fixed: ``seeds: N`` (one look at N), or None for ``seeds: auto``.
        pilot: seeds of the first look (``auto``).
        round: seeds added per later look (``auto``).
        max_seeds: the last look (``auto``); a look of the design: ``pilot + k * round``.
    """

    alpha: float = 0.05
    fixed: int | None = 5
    pilot: int = 5
    round: int = 5
    max_seeds: int = 30

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

    def share(self, n: int) -> float:
        """The part of α the look at ``n`` seeds spends (1 for a fixed design)."""
        if self.fixed is not None:
            return 1.0
        return spent(n) - spent(n - self.round if n > self.pilot else 0)

    def level(self, n: int) -> float:
        """The look's level: what Holm's procedure at the look at ``n`` seeds divides among the arms."""
        return self.alpha * self.share(n)

    def describe(self) -> str:
        """One line for the report: what decided the number of seeds."""
        if self.fixed is not None:
            return f"{self.fixed} paired seeds, fixed in advance (one look, all of α = {self.alpha:g})"
        return (
            f"paired seeds chosen adaptively: a pilot of {self.pilot}, then rounds of {self.round} while an arm "
            f"is inconclusive, at most {self.max_seeds}; each look spends its share of α = {self.alpha:g}, "
            f"α·(F(n) − F(n_prev)) with F(n) = n³/(n³ + {SPEND_HALF}³)"
        )

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "alpha": self.alpha,
            "fixed": self.fixed,
            "pilot": self.pilot,
            "round": self.round,
            "max_seeds": self.max_seeds,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SeedPlan:
        return cls(
            alpha=float(d["alpha"]),
            fixed=None if d.get("fixed") is None else int(d["fixed"]),
            pilot=int(d.get("pilot", 5)),
            round=int(d.get("round", 5)),
            max_seeds=int(d.get("max_seeds", 30)),
        )
