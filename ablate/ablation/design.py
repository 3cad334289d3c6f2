"""An ablation design: the arms a policy derives from a baseline and its components.

An :class:`Arm` is one configuration (full trial params plus input columns dropped); every arm
runs once per seed of :func:`repeat_seeds`, the same seeds in every arm, so results are paired.
Policies live in :mod:`ablate.ablation.policies`, one file each; a policy's ``plan`` is a pure
function of the results so far, so a resumed run re-derives the same design from the same
results (an ablation path re-takes the same greedy steps) and runs only what is missing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ablate.config.ablation import match_features
from ablate.vocab.ablation import AblationConfig, Component
from ablate.vocab.seed_plan import SeedPlan


@dataclass(frozen=True)
class Arm:
    """One configuration of the ablation.

    Attributes:
        name: shown in tables and the Prefect UI: ``baseline``, ``-batchnorm``, ``+dropout``,
            ``minimal``, or for a path the parameters flipped so far (``+lr+dropout``).
        role: baseline | ablated | minimal | added | cell | subset | step | candidate.
        params: the full trial params.
        drop_features: input columns removed.
        present: components present (not removed); empty for a path.
        reference: the arm this one is compared with (None for a reference itself).
        param: for a path, the parameter this arm flips to the target's value.
    """

    name: str
    role: str
    params: dict[str, Any]
    drop_features: tuple[str, ...] = ()
    present: frozenset[str] = frozenset()
    reference: str | None = None
    param: str | None = None

    @property
    def slug(self) -> str:
        """A folder-safe name, unique per arm name."""
        safe = re.sub(r"[^A-Za-z0-9_.]+", "_", self.name.replace("+", "_with_").replace("-", "_without_"))
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:6]
        return f"{safe.strip('_') or 'arm'}-{digest}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["present"] = sorted(self.present)
        d["drop_features"] = list(self.drop_features)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Arm:
        return cls(
            name=d["name"],
            role=d["role"],
            params=dict(d["params"]),
            drop_features=tuple(d.get("drop_features", ())),
            present=frozenset(d.get("present", ())),
            reference=d.get("reference"),
            param=d.get("param"),
        )


@dataclass(frozen=True)
class PlanContext:
    """What a policy needs to derive arms: the resolved baseline (and target), the components,
    the data's columns (for feature components) and the direction of the study metric."""

    cfg: AblationConfig
    baseline: dict[str, Any]
    columns: tuple[str, ...]
    direction: str
    seed: int
    target: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    best_value: float | None = None  # the search's best value, when baseline or target is best
    planned: SeedPlan | None = None  # the seed plan as the first round planned it (None: the config's)
    tuned: dict[str, dict[str, Any]] | None = None  # a re-tuned ablation: each arm's params by name

    @property
    def seed_plan(self) -> SeedPlan:
        return self.planned if self.planned is not None else self.cfg.seed_plan.planned(None)

    def arm_without(self, removed: Collection[str], name: str, role: str, reference: str | None) -> Arm:
        """The baseline with the components named in ``removed`` taken out."""
        params = dict(self.baseline)
        patterns: list[str] = []
        for c in self.cfg.components:
            if c.name in removed:
                params.update(c.params)
                patterns += c.features
        drop = match_features(patterns, self.columns) if patterns else ()
        present = frozenset(c.name for c in self.cfg.components if c.name not in removed)
        return Arm(name, role, params, drop, present, reference)

    def component_changes(self, c: Component) -> bool:
        """Whether removing ``c`` changes the baseline (its params differ, or it drops columns)."""
        return bool(c.features) or any(self.baseline.get(k) != v for k, v in c.params.items())


def repeat_seeds(cfg: AblationConfig, study_seed: int, tuned_seeds: int = 1) -> list[int]:
    """Seeds of the paired repeats, as many as any arm may get (``seeds``, or ``max_seeds`` when
    they are chosen adaptively): ``study.seed + 1 ...``, after the ``tuned_seeds`` the search ran
    each trial over (``search.seeds``: study.seed and up). Repeat i uses seed i in every arm.

    None is a seed the search tuned on, so a tuned baseline is not flattered by being
    measured again on the very seeds it was selected on.
    """
    return [study_seed + tuned_seeds + i for i in range(cfg.seed_plan.most)]


def comparisons(arms: Sequence[Arm]) -> list[tuple[str, str]]:
    """(arm, reference) pairs, in arm order."""
    return [(a.name, a.reference) for a in arms if a.reference is not None]
