"""Add one component in: a minimal arm without any component, one arm per component added
back, and the full baseline, each compared with the minimal arm."""

from __future__ import annotations

from collections.abc import Mapping

from ablate.ablation.design import Arm, PlanContext


class AddOneIn:
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        every = {c.name for c in ctx.cfg.components}
        arms = [ctx.arm_without(every, "minimal", "minimal", None)]
        if len(every) > 1:
            for c in ctx.cfg.components:
                arms.append(ctx.arm_without(every - {c.name}, f"+{c.name}", "added", "minimal"))
        arms.append(ctx.arm_without((), "baseline", "baseline", "minimal"))
        return arms
