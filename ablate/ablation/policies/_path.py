"""Ablation path (Fawcett & Hoos 2016), measured by real runs over the seeds.

From the source configuration (the baseline) towards the target (e.g. the tuned ``best``):
each round sets each remaining differing parameter alone to its target value; the flip whose
arm has the best mean over the seeds is kept, and the next round starts from it. The path is
re-derived from the results each time, so a resumed run takes the same steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ablate.ablation.design import Arm, PlanContext
from ablate.vocab.direction import better


def differing(source: Mapping, target: Mapping) -> list[str]:
    """Params whose values differ, in the target's order."""
    return [k for k in target if source.get(k) != target[k]]


class AblationPath:
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        target = ctx.target
        assert target is not None
        source = Arm("baseline", "baseline", dict(ctx.baseline))
        arms, current, flipped = [source], source, list[str]()
        remaining = differing(ctx.baseline, target)
        while remaining:
            candidates = [self._flip(ctx, target, current, flipped, p) for p in remaining]
            known = [a for a in candidates if a.name in means]
            if len(known) < len(candidates):  # this round still runs
                return arms + candidates
            finite = [a for a in candidates if math.isfinite(means[a.name])]
            if not finite:
                ctx.notes.append(f"path stopped after {len(flipped)} steps: every candidate of the next round failed")
                return arms + candidates
            best = finite[0]
            for a in finite[1:]:
                if better(means[a.name], means[best.name], ctx.direction):
                    best = a
            arms += [
                Arm(a.name, "step" if a is best else "candidate", a.params, reference=a.reference, param=a.param)
                for a in candidates
            ]
            assert best.param is not None  # a candidate flips one parameter
            current, flipped = best, [*flipped, best.param]
            remaining = [p for p in remaining if p != best.param]
        return arms

    @staticmethod
    def _flip(ctx: PlanContext, target: Mapping[str, Any], current: Arm, flipped: list[str], param: str) -> Arm:
        params = {**current.params, param: target[param]}
        name = "".join(f"+{p}" for p in [*flipped, param])
        return Arm(name, "candidate", params, reference=current.name, param=param)
