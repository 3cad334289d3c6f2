"""Which (arm, seed) trials an ablation runs next, and the verdicts that decided it.

A fixed design gives every arm all its seeds at once. An adaptive one (``seeds: auto``) gives
every arm the pilot, then, look after look, the next round of seeds only to the arms whose
comparison is still inconclusive, and to their references (the reference gets every seed any arm
needs, so arms stay paired). What drives the rounds is the primary family of verdicts: the arms
against their references, or, for a factorial design, its main effects and interactions (every
effect uses every arm, so all arms run each round while any effect is inconclusive).

Everything here is a pure function of the results on disk, so a run killed in the middle of a
round re-derives the same looks, the same verdicts and the same trials still missing, and a
finished ablation derives that nothing is left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ablate.ablation.design import Arm, PlanContext, comparisons
from ablate.ablation.runs import (
    COMPLETE,
    AblationRun,
    Lookup,
    current_design,
    pending_specs,
    plan_arms,
    runs_table,
    status_of,
)
from ablate.ablation.samples import difference_samples, effect_samples
from ablate.ablation.verdicts import Decision, Verdict, decide
from ablate.vocab.ablation import AblationConfig
from ablate.vocab.seed_plan import SeedPlan


@dataclass(frozen=True)
class Schedule:
    """Where an ablation stands: its arms, how many of the repeat seeds each has been given, the
    trials of those still to run, and the primary verdicts so far."""

    arms: list[Arm]
    counts: dict[str, int]  # arm -> the first n repeat seeds it is given
    todo: list  # TrialSpec (a run's), or (arm, seed, position) (run_looks')
    decisions: dict[str, Decision] = field(default_factory=dict)

    @property
    def look(self) -> int:
        return max(self.counts.values(), default=0)


def primary_samples(
    runs: pd.DataFrame, arms: Sequence[Arm], cfg: AblationConfig, metric: str, seeds: Sequence[int]
) -> tuple[dict[str, pd.Series], dict[str, set[str]]]:
    """The samples of the family that drives an adaptive design's rounds, and the arms each needs."""
    if cfg.policy == "factorial" and cfg.adaptive:
        present = {a.name: set(a.present) for a in arms}
        samples = effect_samples(runs, present, [c.name for c in cfg.components], metric, seeds)
        return samples, {name: set(present) for name in samples}
    pairs = comparisons(arms)
    return difference_samples(runs, pairs, metric, seeds), {arm: {arm, ref} for arm, ref in pairs}


def next_trials(run: AblationRun, ctx: PlanContext, seeds: Sequence[int], metric: str, attempted: set[str]) -> Schedule:
    """The design as far as the results so far decide it, and its trials still to run, less those
    already attempted in this run (a failed trial is tried once per run, not in a loop).

    ``seeds``: the repeat seeds, as many as any arm may get (``seeds``, or ``max_seeds``).
    """
    plan = ctx.seed_plan
    if not plan.adaptive:
        arms = current_design(run, ctx, seeds, metric)
        counts = {a.name: len(seeds) for a in arms}
        return Schedule(arms, counts, [s for s in pending_specs(run, arms, seeds, counts) if s.folder not in attempted])

    def lookup(arm: Arm, seed: int, i: int) -> tuple[str, Mapping[str, float]]:
        return status_of(run.spec(arm, seed, i))

    def waiting(arm: Arm, seed: int, i: int) -> bool:
        spec = run.spec(arm, seed, i)
        return spec.folder not in attempted and status_of(spec)[0] != COMPLETE

    # No path here: its arms depend on the means (the spec refuses seeds: auto for it).
    schedule = run_looks(plan_arms(ctx, {}), ctx.cfg, seeds, metric, lookup, waiting, plan)
    todo = [run.spec(arm, seed, i) for arm, seed, i in schedule.todo]
    return Schedule(schedule.arms, schedule.counts, todo, schedule.decisions)


def run_looks(
    arms: Sequence[Arm],
    cfg: AblationConfig,
    seeds: Sequence[int],
    metric: str,
    lookup: Lookup,
    waiting: Callable[[Arm, int, int], bool],
    plan: SeedPlan | None = None,
) -> Schedule:
    """An adaptive design's looks over the results ``lookup`` gives, up to the first look whose
    trials are ``waiting`` to run (returned as ``todo``, ``(arm, seed, position)``), or to the end.

    The same code decides the rounds of a real ablation and of ``bench/bench_verdicts.py``'s
    simulated ones (whose results are all there: it runs through every look it needs).
    """
    plan = plan or cfg.seed_plan.planned(None)
    counts: dict[str, int] = {}
    decisions: dict[str, Decision] = {}
    needs: dict[str, set[str]] = {}
    for look in plan.looks():
        live = [name for name in needs if not decisions.get(name) or not decisions[name].final]
        if needs and not live:
            break
        given = {a.name for a in arms} if not needs else set().union(*(needs[n] for n in live))
        counts.update({name: look for name in given})
        todo = [
            (arm, seed, i)
            for i, seed in enumerate(seeds)
            for arm in arms
            if i < counts.get(arm.name, 0) and waiting(arm, seed, i)
        ]
        if todo:
            return Schedule(list(arms), counts, todo, decisions)
        runs = runs_table(arms, seeds, counts, lookup)
        samples, needs = primary_samples(runs, arms, cfg, metric, seeds)
        decisions = decide(samples, plan, cfg.min_effect)
        # No more seeds for a comparison none of whose seeds gave a value (every trial failed): more
        # of the same would fail too. It stays inconclusive, and the report says why.
        needs = {name: arms_of for name, arms_of in needs.items() if samples[name].notna().any()}
        if any(not d.final and d.look < look for d in decisions.values()) or not needs:
            break  # a trial of this look was neither completed nor failed (or nothing to decide)
    return Schedule(list(arms), counts, [], decisions)


def describe_look(schedule: Schedule, next_look: int | None) -> str:
    """One line after a look of an adaptive design: the verdicts so far, and who gets more seeds."""
    counts = verdict_counts(schedule.decisions)
    verdicts = ", ".join(f"{n} {v}" for v, n in counts.items()) or "no verdict"
    looked = max((d.look for d in schedule.decisions.values()), default=schedule.look)
    line = f"ablation: look at {looked} seeds: {verdicts}"
    open_ = [name for name, d in schedule.decisions.items() if not d.final]
    if open_ and next_look:
        line += f"; {', '.join(open_)} get seeds up to {next_look}"
    return line


def verdict_counts(decisions: dict[str, Decision]) -> dict[str, int]:
    """Verdict -> how many comparisons have it, in the order matters, small, negligible, inconclusive."""
    out = {}
    for verdict in Verdict:
        n = sum(d.verdict is verdict for d in decisions.values())
        if n:
            out[verdict.value] = n
    return out
