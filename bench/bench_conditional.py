"""Benchmark: TPE on a conditional space, with ``group=True`` (what ablate uses) and without.

The space has a branch per optimizer (``momentum`` only with sgd, ``beta1`` only with adam) and
a knob that exists only for deep networks (``units_3`` when ``hidden_layers >= 3``), declared
with ablate's own conditional knobs (``ablate.space``, ``ablate.vocab.conditions``). The function is
maximal (1.0) for sgd with momentum 0.9 and sgd_lr = 10^-1.5 (its best lr moves with momentum),
3 or more layers and units_3 = 128; adam tops out at 0.95. Each sampler runs ``--trials``
trials per seed, one after another; printed: the regret (1 - best found) per seed, the medians,
the seeds each TPE variant won against random, and a paired Wilcoxon test of group against no
group. ``tpe`` is ablate's registry (multivariate, constant liar, ``group=True`` for this space);
``tpe-nogroup`` the same without ``group``, where every conditional knob falls back to an
independent univariate draw; ``random`` the reference.

Usage: ``python bench/bench_conditional.py [--trials 100] [--seeds 30]`` (under a minute)
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLERS = ("random", "tpe-nogroup", "tpe")


def space() -> tuple:
    from ablate.vocab import knobs
    from ablate.vocab.conditions import Clause, Condition

    def when(knob: str, op: str, value: object) -> Condition:
        return Condition((Clause(knob, op, value),))

    sgd, adam = when("optimizer", "==", "sgd"), when("optimizer", "==", "adam")
    return (
        knobs.CategoricalParam("optimizer", ("adam", "sgd")),
        knobs.FloatParam("sgd_lr", 1e-4, 1.0, log=True, when=sgd),
        knobs.FloatParam("momentum", 0.0, 0.99, when=sgd),
        knobs.FloatParam("adam_lr", 1e-5, 1e-1, log=True, when=adam),
        knobs.FloatParam("beta1", 0.5, 0.99, when=adam),
        knobs.IntParam("hidden_layers", 1, 4),
        knobs.IntParam("units_3", 16, 512, log=True, when=when("hidden_layers", ">=", 3)),
    )


def objective(p: dict) -> float:
    # Each optimizer's knobs interact: SGD's effective step is lr / (1 - momentum), so its best
    # lr moves with momentum (a ridge, as in real training); adam's with beta1, less steeply.
    if p["optimizer"] == "sgd":
        step = math.log10(p["sgd_lr"] / (1 - p["momentum"]))
        value = 1.0 - (step + 0.5) ** 2 / 4 - (p["momentum"] - 0.9) ** 2
    else:
        step = math.log10(p["adam_lr"] / (1.1 - p["beta1"]))
        value = 0.95 - (step + 2.0) ** 2 / 4 - (p["beta1"] - 0.9) ** 2 / 2
    depth = 0.05 * math.exp(-(math.log2(p["units_3"] / 128) ** 2)) if p["hidden_layers"] >= 3 else 0.0
    return value - 0.05 + depth


def make(name: str, seed: int, n_trials: int):  # noqa: ANN201
    import optuna

    from ablate import samplers
    from ablate.samplers._base import startup_trials

    if name == "tpe-nogroup":
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=startup_trials(n_trials),
            multivariate=True,
            constant_liar=True,
        )
    return samplers.make_sampler(name, space(), n_trials, seed)


def search(name: str, seed: int, n_trials: int) -> float:
    import optuna

    from ablate import space as sp

    knobs = space()
    study = optuna.create_study(direction="maximize", sampler=make(name, seed, n_trials))
    for _ in range(n_trials):
        trial = study.ask()
        study.tell(trial, objective(sp.suggest_params(trial, knobs)))
    return study.best_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=30)
    args = parser.parse_args()

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # tpe-nogroup warns at each independent draw
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    print(f"conditional space (max 1.0), {args.trials} trials a study, seeds 0..{args.seeds - 1}\n")
    regret: dict[str, list[float]] = {s: [] for s in SAMPLERS}
    print(f"{'seed':>4}  " + "  ".join(f"{s + ' regret':>18}" for s in SAMPLERS))
    for seed in range(args.seeds):
        for name in SAMPLERS:
            regret[name].append(1.0 - search(name, seed, args.trials))
        print(f"{seed:>4}  " + "  ".join(f"{regret[s][-1]:>18.4f}" for s in SAMPLERS))
    print(f"\n{'median':>4}  " + "  ".join(f"{statistics.median(regret[s]):>18.4f}" for s in SAMPLERS))
    print(f"{'mean':>4}  " + "  ".join(f"{statistics.mean(regret[s]):>18.4f}" for s in SAMPLERS))
    for name in ("tpe-nogroup", "tpe"):
        wins = sum(a < b for a, b in zip(regret[name], regret["random"], strict=True))
        print(f"{name} better than random on {wins}/{args.seeds} seeds")
    from scipy.stats import wilcoxon

    wins = sum(a < b for a, b in zip(regret["tpe"], regret["tpe-nogroup"], strict=True))
    p = wilcoxon(regret["tpe"], regret["tpe-nogroup"]).pvalue
    print(f"tpe (group) better than tpe-nogroup on {wins}/{args.seeds} seeds (paired Wilcoxon p = {p:.2f})")


if __name__ == "__main__":
    main()
