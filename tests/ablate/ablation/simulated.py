"""Ablations analysed from simulated results: the product's own policies, seed schedule and
analysis, with each (arm, seed) drawn from known component effects instead of run."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ablate.ablation.analysis import AblationAnalysis, analyze_ablation
from ablate.ablation.design import PlanContext, repeat_seeds
from ablate.ablation.runs import design_record, plan_arms, runs_table
from ablate.ablation.schedule import run_looks
from ablate.vocab.ablation import AblationConfig, Component


def simulated_ablation(
    effects: Mapping[str, float],
    policy: str = "loco",
    seeds: int | None = 5,
    min_effect: float | None = 0.01,
    metric: str = "val_accuracy",
    direction: str = "maximize",
    base: float = 0.9,
    noise: float = 0.004,
    seed: int = 0,
    **cfg: object,
) -> AblationAnalysis:
    """An ablation of components whose removal shifts the metric by ``effects[name]``: per seed a
    shared term (the pairing removes it) and per (arm, seed) a noise of sd ``noise``; the held-out
    test metric is the same minus 0.005."""
    components = tuple(Component(name, {name: 0}) for name in effects)
    baseline = {name: 1 for name in effects}
    target = {name: 0 for name in effects} if policy == "path" else None
    config = AblationConfig(
        baseline=baseline, components=() if policy == "path" else components, policy=policy, seeds=seeds,
        min_effect=min_effect, target=target, **cfg,
    )  # fmt: skip
    ctx = PlanContext(config, baseline, (), direction, seed=seed, target=target)
    repeats = repeat_seeds(config, seed)

    def lookup(arm, s, i):
        removed = [name for name, on in arm.params.items() if name in effects and on == 0]
        shared = np.random.default_rng([seed, s]).normal(scale=0.02)
        which = sum(1 << list(effects).index(r) for r in removed)  # one noise stream per arm
        own = np.random.default_rng([seed, s, which]).normal(scale=noise)
        value = base + sum(effects[r] for r in removed) + shared + own
        return "complete", {metric: value, "test_" + metric.removeprefix("val_"): value - 0.005}

    arms = plan_arms(ctx, {})
    if policy == "path":  # grow the path as a run does: each round from the means so far
        while True:
            table = runs_table(arms, repeats, None, lookup)
            means = table.groupby("arm")[metric].mean().to_dict()
            grown = plan_arms(ctx, means)
            done = [a.name for a in grown] == [a.name for a in arms]
            arms = grown
            if done:
                break
    counts = {a.name: len(repeats) for a in arms}
    if config.adaptive:
        counts = run_looks(arms, config, repeats, metric, lookup, lambda *_: False).counts
    runs = runs_table(arms, repeats, counts, lookup)
    given = repeats[: max(counts.values())]
    design = design_record(ctx, arms, given, "the params file", counts)
    design["split_sizes"] = {"val": 288, "test": 360}
    return analyze_ablation(design, runs, metric, direction)
