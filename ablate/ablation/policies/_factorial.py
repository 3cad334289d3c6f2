"""Full factorial: every one of the 2^k combinations of components present or removed, for
main effects and two-way interactions; each arm is also compared with the full baseline."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product

from ablate.ablation.design import Arm, PlanContext


class Factorial:
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        names = [c.name for c in ctx.cfg.components]
        arms = []
        # Most components present first, so the table reads from the baseline downwards.
        for removed_flags in sorted(product((False, True), repeat=len(names)), key=sum):
            removed = {n for n, r in zip(names, removed_flags) if r}
            if not removed:
                arms.append(ctx.arm_without((), "baseline", "baseline", None))
            elif len(removed) == len(names):
                arms.append(ctx.arm_without(removed, "minimal", "cell", "baseline"))
            else:
                name = "".join(f"-{n}" for n in names if n in removed)
                arms.append(ctx.arm_without(removed, name, "cell", "baseline"))
        return arms
