"""Random subsets of components removed (as in Ablator), each compared with the baseline."""

from __future__ import annotations

import random
from collections.abc import Mapping

from ablate.ablation.design import Arm, PlanContext

DEFAULT_ARMS = 10


class RandomSubsets:
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        names = [c.name for c in ctx.cfg.components]
        possible = 2 ** len(names) - 1  # non-empty subsets
        n = min(ctx.cfg.n_arms or DEFAULT_ARMS, possible)
        if ctx.cfg.n_arms and ctx.cfg.n_arms > possible:
            ctx.notes.append(f"ablation.n_arms {ctx.cfg.n_arms} > {possible} distinct subsets: ran all {possible}")
        rng = random.Random(ctx.seed)  # the study's seed: the same subsets on every rerun
        chosen: list[frozenset[str]] = []
        while len(chosen) < n:
            subset = frozenset(x for x in names if rng.random() < 0.5)
            if subset and subset not in chosen:
                chosen.append(subset)
        arms = [ctx.arm_without((), "baseline", "baseline", None)]
        for removed in chosen:
            name = "".join(f"-{x}" for x in names if x in removed)
            arms.append(ctx.arm_without(removed, name, "subset", "baseline"))
        return arms
