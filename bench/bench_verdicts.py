"""Benchmark: do the ablation's verdicts keep their error rates when the seeds are chosen from the
results, and how many seeds do they cost?

Simulated studies of 4 arms (leave one component out, ``min_effect`` δ = 0.01 of an accuracy),
run through ablate's own code: the policy's arms (``plan_arms``), the adaptive schedule's looks
(``run_looks``: the same function that decides a real ablation's rounds, given a lookup of results
instead of trial folders) and its verdicts (``decide``). Each (arm, seed) is 0.9 + the arm's true
Δ + a term shared by every arm of the seed (sd 0.02: what pairing removes) + the arm's own noise
(sd σ_e); so a paired difference has sd σ_d = √2 σ_e.

Printed for ``seeds: auto`` (pilot 5, rounds of 5, at most 30, α = 0.05, power 0.8), each rate
with its 95 % Clopper-Pearson interval over the simulated studies (statsmodels):

1. no true effect (Δ = 0 in every arm): a false "Δ ≠ 0" verdict (matters or small) on any arm;
2. a true |Δ| of 1.5 δ in every arm: a false "within the margin" verdict (negligible or small) on
   any arm; also at |Δ| = δ, the margin itself, where that error is most likely;
3. the power: the share of arms called matters at |Δ| = 1.5 δ (and shown within the margin at Δ = 0);
4. the mean seeds an arm gets and the trials a study runs, against the fixed design (``seeds: N``,
   one look at all of α) that reaches the same power in that scenario (its N found by the same
   simulation, by bisection).

Usage: ``python bench/bench_verdicts.py [--studies 2000] [--noise 1.0] [--workers 2]`` (``--noise``:
σ_d in units of δ; about 4 minutes on 2 cores at the defaults).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DELTA = 0.01  # min_effect: one point of accuracy
ALPHA, POWER = 0.05, 0.8
METRIC = "val_accuracy"
COMPONENTS = ("c1", "c2", "c3", "c4")
VERDICTS = ("matters", "small", "negligible", "inconclusive")
SCENARIOS = {  # true Δ of removing each component, in units of min_effect
    "no effect": (0.0, 0.0, 0.0, 0.0),
    "|Δ| = 1.5 δ": (-1.5, -1.5, 1.5, -1.5),
    "|Δ| = δ (the margin)": (-1.0, 1.0, -1.0, 1.0),
    "mixed: 3 δ, 0.6 δ, 0, 0": (-3.0, -0.6, 0.0, 0.0),
}


def design(seeds: int | None):
    """The ablation's config, its arms and repeat seeds, as ablate plans them."""
    from ablate.ablation.design import PlanContext, repeat_seeds
    from ablate.ablation.runs import plan_arms
    from ablate.vocab.ablation import AblationConfig, Component

    baseline = {c: 1 for c in COMPONENTS}
    cfg = AblationConfig(
        baseline=baseline,
        components=tuple(Component(c, {c: 0}) for c in COMPONENTS),
        seeds=seeds,
        min_effect=DELTA,
        alpha=ALPHA,
        power=POWER,
    )
    ctx = PlanContext(cfg, baseline, (), "maximize", seed=0)
    return cfg, plan_arms(ctx, {}), repeat_seeds(cfg, 0)


def one_study(args: tuple) -> tuple[list[str], dict[str, int]]:
    """Verdicts (per component, in order) and seeds per arm of one simulated study."""
    from ablate.ablation.schedule import primary_samples, run_looks
    from ablate.ablation.verdicts import decide

    effects, sd_arm, seeds, study = args
    cfg, arms, repeats = design(seeds)
    rng = np.random.default_rng([study, 7])
    shared = rng.normal(0.0, 0.02, len(repeats))
    truth = {"baseline": 0.0, **{f"-{c}": e * DELTA for c, e in zip(COMPONENTS, effects)}}
    values = {a.name: 0.9 + truth[a.name] + shared + rng.normal(0.0, sd_arm, len(repeats)) for a in arms}

    def lookup(arm, seed, i):
        return "complete", {METRIC: float(values[arm.name][i])}

    if cfg.adaptive:
        schedule = run_looks(arms, cfg, repeats, METRIC, lookup, lambda *_: False)
        decisions, counts = schedule.decisions, schedule.counts
    else:
        from ablate.ablation.runs import runs_table

        runs = runs_table(arms, repeats, None, lookup)
        samples, _ = primary_samples(runs, arms, cfg, METRIC, repeats)
        decisions = decide(samples, cfg.seed_plan.planned(None), cfg.min_effect)
        counts = {a.name: len(repeats) for a in arms}
    return [decisions[f"-{c}"].verdict.value for c in COMPONENTS], counts


def simulate(effects: tuple, sd_arm: float, seeds: int | None, studies: int, pool, first: int = 0) -> dict:
    jobs = [(effects, sd_arm, seeds, first + s) for s in range(studies)]
    results = list(pool.map(one_study, jobs, chunksize=50))
    verdicts = np.array([v for v, _ in results])
    counts = [c for _, c in results]
    truth = np.abs(np.array(effects))[None, :].repeat(len(results), axis=0)
    return {
        "verdicts": verdicts,
        "false_difference": int((np.isin(verdicts, ["matters", "small"]) & (truth == 0)).any(axis=1).sum()),
        "false_within": int((np.isin(verdicts, ["negligible", "small"]) & (truth >= 1)).any(axis=1).sum()),
        "arm_seeds": float(np.mean([[c[f"-{x}"] for x in COMPONENTS] for c in counts])),
        "trials": float(np.mean([sum(c.values()) for c in counts])),
        "studies": len(results),
    }


def correct_share(result: dict, effects: tuple) -> float:
    """The share of arms whose truth the seeds were enough to show (the power): shown within the
    margin where Δ = 0 (negligible, or small: a false Δ ≠ 0 is counted by (1), not here), matters
    where |Δ| >= 1.5 δ."""
    truth = np.abs(np.array(effects))
    verdicts = result["verdicts"]
    zero, large = truth == 0, truth >= 1.5
    if not (zero.any() or large.any()):
        return float("nan")
    shown = np.concatenate(
        [np.isin(verdicts[:, zero], ["negligible", "small"]).ravel(), (verdicts[:, large] == "matters").ravel()]
    )
    return float(shown.mean())


def interval(k: int, n: int) -> str:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=0.05, method="beta")
    return f"{k / n:.4f} [{low:.4f}, {high:.4f}]"


def fixed_seeds_for(effects: tuple, sd_arm: float, target: float, studies: int, pool) -> tuple[int, float]:
    """The fewest seeds of a fixed design whose share of right verdicts reaches ``target``."""
    low, high = 3, 100
    best = (high, float("nan"))
    while low <= high:  # the share grows with the seeds: bisect
        n = (low + high) // 2
        share = correct_share(simulate(effects, sd_arm, n, studies, pool, first=10**6), effects)
        if share >= target:
            best, high = (n, share), n - 1
        else:
            low = n + 1
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--studies", type=int, default=2000, help="simulated studies per scenario")
    parser.add_argument("--noise", type=float, default=1.0, help="sd of a paired difference, in units of δ")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sd_arm = args.noise * DELTA / np.sqrt(2)
    start = time.perf_counter()
    print(
        f"{args.studies} simulated studies per scenario, 4 arms, min_effect δ = {DELTA}, "
        f"sd of a paired difference σ_d = {args.noise:g} δ, α = {ALPHA}, power {POWER}; seeds: auto "
        "(pilot 5, rounds of 5, at most 30)\n"
    )
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for name, effects in SCENARIOS.items():
            result = simulate(effects, sd_arm, None, args.studies, pool)
            share = correct_share(result, effects)
            fixed_n, at_target = None, None
            if np.isfinite(share):
                fixed_n = fixed_seeds_for(effects, sd_arm, share, max(500, args.studies // 2), pool)[0]
                at_target = fixed_seeds_for(effects, sd_arm, POWER, max(500, args.studies // 2), pool)[0]
            rows.append((name, effects, result, share, fixed_n, at_target))
            print(f"  {name}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    n = args.studies
    print(
        "| scenario | (1) false Δ ≠ 0 on any arm | (2) false within ±δ on any arm | (3) power | seeds per arm "
        f"| trials per study | (4) fixed design at the same power: seeds (trials) | fixed design at power {POWER} |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, effects, r, share, fixed_n, at_target in rows:
        zero, real = (np.abs(effects) == 0).any(), (np.abs(effects) >= 1).any()
        difference = interval(r["false_difference"], n) if zero else "–"
        within = interval(r["false_within"], n) if real else "–"
        right = f"{share:.3f}" if np.isfinite(share) else "–"
        fixed = f"{fixed_n} ({5 * fixed_n})" if fixed_n else "–"
        target = f"{at_target} ({5 * at_target})" if at_target else "–"
        print(
            f"| {name} | {difference} | {within} | {right} | {r['arm_seeds']:.1f} | {r['trials']:.1f} | {fixed} "
            f"| {target} |"
        )
    print()
    for name, effects, r, *_ in rows:
        shares = {v: (r["verdicts"] == v).mean(axis=0).round(3).tolist() for v in VERDICTS}
        print(f"{name}: verdict shares per arm (Δ/δ = {effects}): {shares}")
    needed = max(t for *_, t in rows if t)
    print(
        f"\nA fixed design picks its seeds before it knows which scenario it is in: to reach power {POWER} in "
        f"every one of these it needs {needed} seeds per arm ({5 * needed} trials a study)."
    )
    print(f"(1) and (2) must stay at or below α = {ALPHA}; (3) at |Δ| = 1.5 δ is the power, at least {POWER}.")
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
