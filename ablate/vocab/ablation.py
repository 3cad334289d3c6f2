"""The ``ablation:`` section of a params file as frozen, typed records (its reader is
:mod:`ablate.config.ablation`).

What a researcher writes: a baseline (a configuration, or ``best``, the best trial of the same
study's search), named components and what removing each means (params set in the ablated arm,
or input columns dropped), a policy that turns them into arms, how many paired seeds, and whether
every arm is re-tuned.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ablate.vocab.seed_plan import SeedPlan

AUTO = "auto"  # ablation.seeds: chosen adaptively (ablate.vocab.seed_plan)
BEST = "best"
POLICIES = ("loco", "add_one", "factorial", "path", "random")
MAX_FACTORIAL_COMPONENTS = 8  # 2^8 = 256 arms times the seeds; beyond it, choose random subsets
# Names the design itself uses for arms, or that would read as something else in the report.
RESERVED_ARM_NAMES = ("baseline", "minimal", "best", "target")


@dataclass(frozen=True)
class RetuneConfig:
    """``ablation.retune``: every arm, the baseline included, gets a search of its own over the
    searched knobs no component sets, with the same budget, sampler and sampler seed, and runs
    over the paired seeds with that search's best configuration.

    - ``n_trials``: int >= 1. Each arm's search budget.
    - ``sampler``: a sampler name; default the search's.
    """

    n_trials: int
    sampler: str | None = None  # None: search.sampler

    def to_dict(self) -> dict[str, Any]:
        return {"n_trials": self.n_trials, **({"sampler": self.sampler} if self.sampler else {})}


@dataclass(frozen=True)
class Component:
    """One thing an ablation removes: params set to other values, and/or input columns dropped."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)  # their values in an arm without it
    features: tuple[str, ...] = ()  # glob patterns of input columns an arm without it lacks


@dataclass(frozen=True)
class AblationConfig:
    """The ``ablation:`` section. The seed knobs, each with its default:

    - ``seeds``: int or ``auto``, default 5. Paired repeats per arm (repeat i uses the same seed in
      every arm); ``auto``: chosen adaptively, a pilot then rounds while an arm is inconclusive.
    - ``min_effect``: float > 0, no default. The smallest effect of interest, in units of the study
      metric: the equivalence margin that lets an arm be shown ``negligible`` (required by ``auto``).
    - ``max_seeds``: int, default 30 (``auto`` only). The budget: the most seeds any arm gets.
    - ``pilot_seeds``: int >= 3, default 5 (``auto`` only). Seeds of the first look.
    - ``round_seeds``: int >= 1, default 5 (``auto`` only). Seeds added per later look.
    - ``power``: float in (0, 1), default 0.8. The chance with which ``seeds_needed`` settles an arm.
    """

    baseline: dict[str, Any] | str  # full trial params (over trial.options; {}: the options), or "best"
    components: tuple[Component, ...] = ()
    policy: str = "loco"
    seeds: int | None = SeedPlan.fixed  # None: auto
    alpha: float = SeedPlan.alpha  # the error rate of each family of verdicts, after Holm's correction across arms
    target: dict[str, Any] | str | None = None  # path only: a configuration or "best"
    n_arms: int | None = None  # random only: how many random subsets of components
    score_test: bool = True  # also score every arm on the held-out test split
    min_effect: float | None = None
    max_seeds: int = SeedPlan.max_seeds
    pilot_seeds: int = SeedPlan.pilot
    round_seeds: int = SeedPlan.round
    power: float = 0.8
    retune: RetuneConfig | None = None

    @property
    def fixed_knobs(self) -> tuple[str, ...]:
        """Params some component sets: held at each arm's own value in its re-tuning search."""
        return tuple(dict.fromkeys(k for c in self.components for k in c.params))

    def tuned_knobs(self, space_names: Collection[str]) -> list[str]:
        """The searched knobs every arm's re-tuning search covers: those no component sets."""
        return [n for n in space_names if n not in self.fixed_knobs]

    @property
    def uses_best(self) -> bool:
        return BEST in (self.baseline, self.target)

    @property
    def adaptive(self) -> bool:
        return self.seeds is None

    @property
    def seed_plan(self) -> SeedPlan:
        return SeedPlan(self.alpha, self.seeds, self.pilot_seeds, self.round_seeds, self.max_seeds)

    def describe_seeds(self) -> str:
        """``5 seeds``, or ``seeds auto (5 + 5 per round, at most 30)``: for the run's first line."""
        if self.seeds is not None:
            return f"{self.seeds} seeds"
        return f"seeds auto ({self.pilot_seeds} + {self.round_seeds} per round, at most {self.max_seeds})"

    def to_dict(self) -> dict[str, Any]:
        """As written in a params file (``components`` a mapping by name)."""
        out = {**self.design_dict(), "seeds": AUTO if self.seeds is None else self.seeds, "alpha": self.alpha}
        if self.min_effect is not None:
            out["min_effect"] = self.min_effect
        if self.adaptive:
            out.update(max_seeds=self.max_seeds, pilot_seeds=self.pilot_seeds, round_seeds=self.round_seeds)
        out["power"] = self.power
        return out | ({"retune": self.retune.to_dict()} if self.retune is not None else {})

    def design_dict(self) -> dict[str, Any]:
        """What decides which configurations run (not seeds or alpha): for the fingerprint."""
        return {
            "baseline": self.baseline,
            "components": {c.name: _component_dict(c) for c in self.components},
            "policy": self.policy,
            "target": self.target,
            "n_arms": self.n_arms,
            "score_test": self.score_test,
        }


def _component_dict(c: Component) -> dict[str, Any]:
    return {k: v for k, v in (("params", dict(c.params)), ("features", list(c.features))) if v}
