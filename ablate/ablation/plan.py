"""Resolving an ablation's design before it runs: the baseline (and a path's target) as full
trial params, the data's columns for feature components, and what every trial shares."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ablate.ablation.design import PlanContext, repeat_seeds
from ablate.ablation.retune import RETUNED
from ablate.ablation.runs import AblationRun, plan_arms, read_design
from ablate.data import read_features
from ablate.errors import ConfigError
from ablate.study.storage import load_study
from ablate.study.table import best_of
from ablate.trial.entrypoint import code_version
from ablate.vocab.ablation import BEST
from ablate.vocab.params import Params
from ablate.vocab.provenance import Provenance
from ablate.vocab.seed_plan import SeedPlan
from ablate.vocab.trial import PreparedData


@dataclass(frozen=True)
class AblationPlan:
    run: AblationRun
    ctx: PlanContext
    seeds: list[int]
    baseline_from: str  # "the params file", or "best trial 17 of the search (val_accuracy=0.97)"


def plan_ablation(
    params: Params, prepared: PreparedData, provenance: Provenance, tuned: dict[str, dict[str, Any]] | None = None
) -> AblationPlan:
    """Everything the ablation step needs; raises ConfigError when ``best`` has no trial to name.

    ``tuned``: the re-tuned ablation (``ablation.retune``): each arm's params by name, the best of
    its own search; its trials and record in ``<ablation dir>/retuned/``.
    """
    cfg = params.ablation
    assert cfg is not None
    best, best_from, best_value = _best(params) if cfg.uses_best else (None, "", None)
    baseline = dict(cfg.baseline) if isinstance(cfg.baseline, dict) else best
    assert baseline is not None  # `best` gives the search's best trial, or _best refuses
    target = best if cfg.target == BEST else cfg.target
    if cfg.policy == "path" and baseline == target:
        raise ConfigError(
            params.source, "ablation.target", "must differ from the baseline, but both are the same params"
        )
    ctx = PlanContext(
        cfg=cfg,
        baseline=baseline,
        columns=read_features(prepared.path, prepared.data_hash),
        direction=params.study.direction,
        seed=params.study.seed,
        target=dict(target) if isinstance(target, dict) else None,
        best_value=best_value if cfg.baseline == BEST and tuned is None else None,
    )
    ablation_dir = params.ablation_dir / RETUNED if tuned is not None else params.ablation_dir
    ctx = dataclasses.replace(ctx, tuned=tuned)
    ctx = dataclasses.replace(ctx, planned=_planned(ctx, ablation_dir))
    run = AblationRun(
        study=params.study.name,
        ablation_dir=str(ablation_dir),
        entrypoint=params.trial.entrypoint,
        code_version=code_version(params.trial.entrypoint),
        data=prepared,
        timeout_s=params.execution.trial_timeout_s,
        device=params.execution.device,
        score_test=cfg.score_test,
        provenance=provenance,
        metric=params.study.metric,
        monitor_system=params.execution.monitor_system,
        dataset=params.dataset,
    )
    baseline_from = best_from if cfg.baseline == BEST else "the params file"
    if tuned is not None and cfg.retune is not None:
        baseline_from = f"re-tuned: each arm with the best of its own search of {cfg.retune.n_trials} trials"
    tuned_seeds = params.search.seeds if params.search is not None else 1
    return AblationPlan(run, ctx, repeat_seeds(cfg, params.study.seed, tuned_seeds), baseline_from)


def _planned(ctx: PlanContext, ablation_dir: Path) -> SeedPlan:
    """The seed plan as the ablation's first round planned it: the pilot, rounds and budget of the
    recorded design when it ran these very arms adaptively, so that a raised max_seeds spends only
    α's reserve; otherwise the params' plan, its budget its max_seeds."""
    plan = ctx.cfg.seed_plan
    record = read_design(ablation_dir)
    if not plan.adaptive or record is None or "seed_plan" not in record:
        return plan.planned(None)
    arms = [a.to_dict() for a in plan_arms(ctx, {})]
    same = [(a["name"], a["params"], a["drop_features"]) for a in record["arms"]] == [
        (a["name"], a["params"], a["drop_features"]) for a in arms
    ]
    previous = SeedPlan.from_dict(record["seed_plan"]) if same else None
    planned = plan.planned(previous)
    if planned != plan.planned(None):
        ctx.notes.append(
            f"the seed plan of the ablation's first round is kept (pilot {planned.pilot}, rounds of "
            f"{planned.round}, α spent over {planned.spending_budget} seeds): the error rates hold for a plan "
            "fixed before the results; a new one needs a new ablation"
        )
    return planned


def _best(params: Params) -> tuple[dict[str, Any], str, float]:
    best = best_of(load_study(params), params)
    if best is None:
        raise ConfigError(
            params.source,
            "ablation.baseline",
            f"best must name a completed trial of study {params.study.name}'s search, but it has none",
        )
    where = f"best trial {best['number']} of the search ({best['metric']}={best['value']:.4g})"
    return dict(best["params"]), where, float(best["value"])
