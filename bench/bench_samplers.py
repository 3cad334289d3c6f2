"""Benchmark: does the `gp` sampler beat `random` at equal budget on a smooth 3-parameter function?

The function is a smooth bowl over a log-scaled learning rate, a width and a dropout rate,
``f = 1 - (log10(lr) + 2.5)^2 / 9 - ((width - 96) / 160)^2 - (dropout - 0.15)^2``, maximal (1.0)
at lr = 10^-2.5, width = 96, dropout = 0.15, declared with ablate's own space (``ablate.space``)
and searched by ablate's own sampler registry (``ablate.samplers.make_sampler``: the same
samplers, startup trials and options a study gets). Each sampler runs ``--trials`` trials per
seed; printed per seed and as medians: the regret (1 - best found) of each sampler, their ratio,
and how many seeds each sampler won. Also ``tpe`` and ``auto`` (what it picks for this space).

Usage: ``python bench/bench_samplers.py [--trials 30] [--seeds 5]``
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLERS = ("random", "gp", "tpe", "auto")


def space() -> tuple:
    from ablate.vocab import knobs

    return (
        knobs.FloatParam("lr", 1e-5, 1e-1, log=True),
        knobs.IntParam("width", 16, 256),
        knobs.FloatParam("dropout", 0.0, 0.6),
    )


def objective(params: dict) -> float:
    return (
        1.0
        - (math.log10(params["lr"]) + 2.5) ** 2 / 9
        - ((params["width"] - 96) / 160) ** 2
        - (params["dropout"] - 0.15) ** 2
    )


def search(sampler: str, seed: int, n_trials: int) -> tuple[float, float]:
    """Best value found and wall seconds of one study."""
    import optuna

    from ablate import samplers
    from ablate import space as sp

    knobs = space()
    study = optuna.create_study(direction="maximize", sampler=samplers.make_sampler(sampler, knobs, n_trials, seed))
    start = time.perf_counter()
    for _ in range(n_trials):
        trial = study.ask()
        study.tell(trial, objective(sp.suggest_params(trial, knobs)))
    return study.best_value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    import optuna

    from ablate import samplers

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    picked = samplers.resolve_sampler("auto", space(), args.trials)
    print(f"smooth 3-parameter bowl (max 1.0), {args.trials} trials a study, seeds 0..{args.seeds - 1}")
    print(f"auto picks: {picked.describe()}\n")
    regret: dict[str, list[float]] = {s: [] for s in SAMPLERS}
    wall: dict[str, list[float]] = {s: [] for s in SAMPLERS}
    print(f"{'seed':>4}  " + "  ".join(f"{s + ' regret':>14}" for s in SAMPLERS))
    for seed in range(args.seeds):
        row = []
        for name in SAMPLERS:
            best, seconds = search(name, seed, args.trials)
            regret[name].append(1.0 - best)
            wall[name].append(seconds)
            row.append(f"{1.0 - best:>14.5f}")
        print(f"{seed:>4}  " + "  ".join(row))
    med = {s: statistics.median(regret[s]) for s in SAMPLERS}
    print(f"\n{'median':>4}  " + "  ".join(f"{med[s]:>14.5f}" for s in SAMPLERS))
    print(f"{'wall':>4}  " + "  ".join(f"{statistics.median(wall[s]):>13.2f}s" for s in SAMPLERS))
    wins = sum(g < r for g, r in zip(regret["gp"], regret["random"], strict=True))
    ratio = med["gp"] / med["random"] if med["random"] > 0 else float("nan")
    print(f"\ngp vs random: median regret ratio {ratio:.2g} (below 1: gp better)", end="; ")
    print(f"gp better on {wins}/{args.seeds} seeds")


if __name__ == "__main__":
    main()
