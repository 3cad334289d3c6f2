"""Ablation policies: how a baseline and its components become arms. One file each; a new
policy is one file and one line in :data:`POLICIES` (and its name in ``ablate.config.ablation.POLICIES``,
the params' closed set, which a test holds equal to these keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ablate.ablation.design import Arm, PlanContext
from ablate.ablation.policies._add_one import AddOneIn
from ablate.ablation.policies._factorial import Factorial
from ablate.ablation.policies._loco import LeaveOneOut
from ablate.ablation.policies._path import AblationPath
from ablate.ablation.policies._random import RandomSubsets


class Policy(Protocol):
    def plan(self, ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
        """The arms to run given the mean study metric of the arms finished so far."""
        ...


POLICIES: dict[str, Policy] = {
    "loco": LeaveOneOut(),
    "add_one": AddOneIn(),
    "factorial": Factorial(),
    "path": AblationPath(),
    "random": RandomSubsets(),
}

__all__ = ["POLICIES", "Policy"]
