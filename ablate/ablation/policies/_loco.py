"""Leave one component out (as in Maggy): the baseline, and one arm per component removed."""

from __future__ import annotations

from collections.abc import Mapping

from ablate.ablation.design import Arm, PlanContext


class LeaveOneOut:
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        arms = [ctx.arm_without((), "baseline", "baseline", None)]
        for c in ctx.cfg.components:
            if not ctx.component_changes(c):
                same = ", ".join(f"{k}={v!r}" for k, v in c.params.items())
                which = "the search's best trial" if ctx.cfg.uses_best else "the params' baseline"
                ctx.notes.append(f"component {c.name} gets no arm: removing it sets {same}, as {which} has already")
                continue
            arms.append(ctx.arm_without({c.name}, f"-{c.name}", "ablated", "baseline"))
        return arms
