"""Running an ablation: its arms x seeds as trials, what each has finished, and its record.

Each (arm, seed) is one trial, in ``data/ablations/<study>/<arm slug>.s<seed>/``, with the
same contract, cache and atomic outputs as a search trial. A trial counts as finished when its
folder holds a result for the very same content address, so a rerun runs only what is missing
and a changed baseline (a new ``best``) runs its arms anew. ``design.json`` records the arms, the
seeds and where the baseline came from, for the report.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ablate.ablation.design import Arm, PlanContext, comparisons, repeat_seeds
from ablate.ablation.policies import POLICIES
from ablate.trial.contract import ERROR, read_result, seed_folder
from ablate.vocab.provenance import Provenance
from ablate.vocab.trial import PreparedData, TrialSpec

DESIGN = "design.json"
RUNS = "runs.csv"
COMPLETE, FAILED, MISSING = "complete", "failed", "missing"


@dataclass(frozen=True)
class AblationRun:
    """What every trial of one ablation shares; makes the spec of each (arm, seed)."""

    study: str
    ablation_dir: str  # data/ablations/<study>: a DVC output of its own, beside the search's study
    entrypoint: str
    code_version: str
    data: PreparedData
    timeout_s: float | None
    device: str
    score_test: bool
    provenance: Provenance
    metric: str = ""  # the study metric: a trial without it as a finite number fails on the worker
    monitor_system: bool = False  # execution.monitor_system
    dataset: str = ""  # one of data.sources: named in each trial's task run

    def spec(self, arm: Arm, seed: int, repeat: int) -> TrialSpec:
        return TrialSpec(
            study=self.study,
            number=repeat,
            params=arm.params,
            seed=seed,
            entrypoint=self.entrypoint,
            code_version=self.code_version,
            data=self.data,
            trials_dir=self.ablation_dir,
            timeout_s=self.timeout_s,
            device=self.device,
            provenance=self.provenance,
            drop_features=arm.drop_features,
            score_test=self.score_test,
            folder=seed_folder(arm.slug, seed),
            name=f"{self.dataset}: {arm.name} seed {seed}" if self.dataset else f"{arm.name} seed {seed}",
            metric=self.metric,
            monitor_system=self.monitor_system,
        )


def status_of(spec: TrialSpec) -> tuple[str, dict[str, float]]:
    """``complete`` (with its metrics) when the folder holds this spec's result, ``failed`` when
    its last attempt failed, else ``missing``."""
    result = read_result(spec.out_dir)
    if result is not None and result.cache_key == spec.cache_key:
        return COMPLETE, result.metrics
    if result is None and (spec.out_dir / ERROR).exists():
        return FAILED, {}
    return MISSING, {}


def metric_returned(ablation_dir: str | Path, metric: str) -> bool:
    """Whether some finished trial of the ablation returned ``metric`` (an arm's trial without it
    then broke the contract; where none ever did, the params misname it)."""
    for result_file in Path(ablation_dir).glob("*/result.json"):
        result = read_result(result_file.parent)
        if result is not None and metric in result.metrics:
            return True
    return False


def plan_arms(ctx: PlanContext, means: Mapping[str, float]) -> list[Arm]:
    """The policy's arms; in a re-tuned ablation, each with its own search's best params."""
    arms = POLICIES[ctx.cfg.policy].plan(ctx, means)
    if ctx.tuned is None:
        return arms
    return [dataclasses.replace(a, params=dict(ctx.tuned[a.name])) for a in arms]


def arm_means(run: AblationRun, arms: Sequence[Arm], seeds: Sequence[int], metric: str) -> dict[str, float]:
    """Mean study metric of every arm whose seeds have all been tried (NaN when none completed)."""
    means = {}
    for arm in arms:
        statuses = [status_of(run.spec(arm, s, i)) for i, s in enumerate(seeds)]
        if any(st == MISSING for st, _ in statuses):
            continue
        values = [m[metric] for st, m in statuses if st == COMPLETE and metric in m]
        means[arm.name] = sum(values) / len(values) if values else math.nan
    return means


def pending_specs(
    run: AblationRun, arms: Sequence[Arm], seeds: Sequence[int], counts: Mapping[str, int] | None = None
) -> list[TrialSpec]:
    """The (arm, seed) trials not finished yet, seed-major so that early results pair up; an arm
    gets the first ``counts[arm]`` seeds (all of ``seeds`` without ``counts``)."""
    out = []
    for i, seed in enumerate(seeds):
        for arm in arms:
            if counts is not None and i >= counts.get(arm.name, 0):
                continue
            spec = run.spec(arm, seed, i)
            if status_of(spec)[0] != COMPLETE:
                out.append(spec)
    return out


def current_design(run: AblationRun, ctx: PlanContext, seeds: Sequence[int], metric: str) -> list[Arm]:
    """The arms as far as the results so far decide them (for a path: every round whose
    candidates have all been tried, and the next round's candidates)."""
    arms = plan_arms(ctx, {})
    while True:
        grown = plan_arms(ctx, arm_means(run, arms, seeds, metric))
        if [a.name for a in grown] == [a.name for a in arms]:
            return grown
        arms = grown


# What the results say of one (arm, seed): (status, metrics), given the arm, the seed and its position.
Lookup = Callable[[Arm, int, int], tuple[str, Mapping[str, float]]]


def collect_runs(
    run: AblationRun, arms: Sequence[Arm], seeds: Sequence[int], counts: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """One row per (arm, seed) given to the arm: ``arm, seed, status`` and the metrics of complete ones."""
    return runs_table(arms, seeds, counts, lambda arm, seed, i: status_of(run.spec(arm, seed, i)))


def runs_table(
    arms: Sequence[Arm], seeds: Sequence[int], counts: Mapping[str, int] | None, lookup: Lookup
) -> pd.DataFrame:
    """The runs table of the first ``counts[arm]`` seeds of every arm (all of them without counts)."""
    rows = []
    for arm in arms:
        for i, seed in enumerate(seeds):
            if counts is not None and i >= counts.get(arm.name, 0):
                break
            status, metrics = lookup(arm, seed, i)
            rows.append({"arm": arm.name, "seed": seed, "status": status, **metrics})
    return pd.DataFrame(rows, columns=None if rows else ["arm", "seed", "status"])


def record_ablation(
    run: AblationRun,
    ctx: PlanContext,
    arms: Sequence[Arm],
    seeds: Sequence[int],
    baseline_from: str,
    counts: Mapping[str, int] | None = None,
) -> None:
    """Keep the design and every (arm, seed)'s status and metrics with the ablation, for its report
    and for ``ablate status`` (also between the rounds of an adaptive design)."""
    counts = dict(counts) if counts is not None else {a.name: len(seeds) for a in arms}
    runs = collect_runs(run, arms, seeds, counts)
    Path(run.ablation_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(run.ablation_dir) / f".{RUNS}.tmp"
    runs.to_csv(tmp, index=False)
    os.replace(tmp, Path(run.ablation_dir) / RUNS)
    given = list(seeds[: max(counts.values(), default=0)])
    write_design(Path(run.ablation_dir), design_record(ctx, arms, given, baseline_from, counts, run.data))


def read_runs(ablation_dir: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(Path(ablation_dir) / RUNS)
    except FileNotFoundError:
        return None


def write_design(ablation_dir: Path, record: Mapping[str, Any]) -> None:
    path = Path(ablation_dir) / DESIGN
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_design(ablation_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(ablation_dir) / DESIGN).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def design_record(
    ctx: PlanContext,
    arms: Sequence[Arm],
    seeds: Sequence[int],
    baseline_from: str,
    counts: Mapping[str, int] | None = None,
    data: PreparedData | None = None,
) -> dict[str, Any]:
    """What the report needs to analyze the runs: the arms, the seeds each was given, the seed plan
    and margin the verdicts use, and the sizes of the validation and test splits (what one
    example is worth in an accuracy)."""
    cfg = ctx.cfg
    shapes = data.shapes if data is not None else {}
    return {
        "best_value": ctx.best_value,
        "policy": cfg.policy,
        "components": [c.name for c in cfg.components],
        "seeds": list(seeds),
        "counts": dict(counts) if counts is not None else {a.name: len(seeds) for a in arms},
        "alpha": cfg.alpha,
        "min_effect": cfg.min_effect,
        "power": cfg.power,
        "seed_plan": ctx.seed_plan.to_dict(),
        "baseline_from": baseline_from,
        "arms": [a.to_dict() for a in arms],
        "comparisons": comparisons(arms),
        "notes": list(dict.fromkeys(ctx.notes)),
        "split_sizes": {k: int(v[0]) for k, v in shapes.items() if k in ("val", "test") and v},
    }


__all__ = [
    "COMPLETE",
    "FAILED",
    "MISSING",
    "AblationRun",
    "arm_means",
    "collect_runs",
    "runs_table",
    "current_design",
    "design_record",
    "pending_specs",
    "plan_arms",
    "read_design",
    "read_runs",
    "record_ablation",
    "repeat_seeds",
    "status_of",
    "write_design",
]
