"""Leave one component out (as in Maggy): the baseline, and one arm per component removed."""

from __future__ import annotations

from collections.abc import Mapping

from ablate.ablation.design import Arm, PlanContext


class LeaveOneOut:
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        arms = [ctx.arm_without((), "baseline", "baseline", None)]
        for c in ctx.cfg.components:
            if not ctx.component_changes(c):
                ctx.notes.append(f"component {c.name} changes nothing against this baseline: no arm for it")
                continue
            arms.append(ctx.arm_without({c.name}, f"-{c.name}", "ablated", "baseline"))
        return arms
