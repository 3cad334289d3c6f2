"""The adaptive schedule (run_looks): who gets the next round of seeds, what a look waits for, and
what raising max_seeds runs; on results given by a lookup, as bench_verdicts drives it."""

from __future__ import annotations

import numpy as np

from ablate.ablation.design import PlanContext, repeat_seeds
from ablate.ablation.runs import plan_arms
from ablate.ablation.schedule import run_looks
from ablate.ablation.verdicts import Verdict
from ablate.vocab.ablation import AblationConfig, Component

EFFECTS = {"big": -0.05, "none": 0.0, "tiny": -0.003}  # in units of val_accuracy; min_effect 0.01


def setup(max_seeds: int = 30, noise: float = 0.004):
    names = list(EFFECTS)
    cfg = AblationConfig(
        baseline={n: 1 for n in names}, components=tuple(Component(n, {n: 0}) for n in names),
        seeds=None, min_effect=0.01, max_seeds=max_seeds,
    )  # fmt: skip
    arms = plan_arms(PlanContext(cfg, cfg.baseline, (), "maximize", seed=0), {})
    rng = np.random.default_rng(4)
    shared = rng.normal(0, 0.02, 100)
    values = {a.name: 0.9 + EFFECTS.get(a.name[1:], 0.0) + shared + rng.normal(0, noise, 100) for a in arms}
    return cfg, arms, repeat_seeds(cfg, 0), values


def lookup_of(values, tried: set | None = None):
    def lookup(arm, seed, i):
        if tried is not None and (arm.name, i) not in tried:
            return "missing", {}
        return "complete", {"val_accuracy": float(values[arm.name][i])}

    return lookup


def test_an_arm_stops_at_its_verdict_and_the_reference_gets_every_seed_any_arm_needs() -> None:
    cfg, arms, seeds, values = setup()
    s = run_looks(arms, cfg, seeds, "val_accuracy", lookup_of(values), lambda *_: False)
    assert s.decisions["-big"].verdict is Verdict.MATTERS and s.counts["-big"] == 5
    assert s.decisions["-none"].verdict is Verdict.NEGLIGIBLE
    assert s.counts["baseline"] == max(s.counts.values()) > 5
    for arm in ("-big", "-none", "-tiny"):
        assert s.counts[arm] == s.decisions[arm].look  # no seed past its verdict
    assert not s.todo


def test_a_look_waits_for_its_trials_and_asks_only_for_them() -> None:
    cfg, arms, seeds, values = setup()
    pilot = {(a.name, i) for a in arms for i in range(5)}
    waiting = lambda arm, seed, i: (arm.name, i) not in pilot  # noqa: E731
    s = run_looks(arms, cfg, seeds, "val_accuracy", lookup_of(values, pilot), waiting)
    assert s.todo and {i for _, _, i in s.todo} == set(range(5, 10))  # the second round only
    asked = {arm.name for arm, _, _ in s.todo}
    assert "-big" not in asked and "baseline" in asked  # -big was settled at the pilot
    assert s.decisions["-big"].final and not s.decisions["-none"].final


def test_raising_max_seeds_runs_only_what_the_open_verdicts_need() -> None:
    cfg, arms, seeds, values = setup(max_seeds=10, noise=0.012)
    small = run_looks(arms, cfg, seeds, "val_accuracy", lookup_of(values), lambda *_: False)
    open_ = [n for n, d in small.decisions.items() if d.verdict is Verdict.INCONCLUSIVE]
    assert open_ and small.decisions["-big"].verdict is Verdict.MATTERS
    cfg40, _, seeds40, _ = setup(max_seeds=40, noise=0.012)
    kept = cfg40.seed_plan.planned(cfg.seed_plan.planned(None))  # as plan_ablation keeps the first round's
    large = run_looks(arms, cfg40, seeds40, "val_accuracy", lookup_of(values), lambda *_: False, kept)
    for name, d in small.decisions.items():
        if d.verdict is not Verdict.INCONCLUSIVE:  # a verdict reached stays, on the seeds it had
            assert large.decisions[name] == d and large.counts[name] == small.counts[name]
    assert all(large.counts[n] > 10 for n in open_)


def test_an_arm_whose_every_seed_fails_gets_no_more_seeds() -> None:
    cfg, arms, seeds, values = setup()

    def lookup(arm, seed, i):
        if arm.name == "-tiny":
            return "failed", {}
        return "complete", {"val_accuracy": float(values[arm.name][i])}

    s = run_looks(arms, cfg, seeds, "val_accuracy", lookup, lambda *_: False)
    assert s.counts["-tiny"] == 5 and s.decisions["-tiny"].verdict is Verdict.INCONCLUSIVE
