"""Benchmark: how many epochs pruning saves, and what it costs in the best result found.

The digits MLP of ``params/digits.yaml`` (20 epochs a trial), 40 trials of TPE, searched with a
pruner and without, over 3 seeds. Each study runs its trials one after another in a process of
its own, through ablate's own code: StudySession asks, execute_trial runs the MLP, whose
``ctx.report`` every epoch goes to the study's journal and asks the pruner, exactly as on a Dask
worker (minus Prefect and Dask, which change nothing here but the wall time). Sequential trials
make each study deterministic for its seed. Printed per seed and in total: epochs trained and
the best val_accuracy of each arm, the share of epochs saved and the difference in best.

Usage: ``python bench/bench_pruning.py [--trials 40] [--seeds 3] [--pruner hyperband] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PARAMS = ROOT / "params" / "digits.yaml"
EPOCHS = 20
PRUNER_OPTIONS = {
    "hyperband": "{min_resource: 1, max_resource: 20, reduction_factor: 3}",
    "successive_halving": "{min_resource: 1, reduction_factor: 3}",
    "median": "{n_startup_trials: 5, n_warmup_steps: 3}",
}


def run_study(seed: int, pruner: str, n_trials: int, root: str) -> dict[str, float]:
    """One study; returns epochs trained, best val_accuracy and wall time."""
    os.environ.setdefault("ABLATE_TORCH_THREADS", "1")
    import optuna
    import torch

    from ablate.config.load import load_params
    from ablate.data import prepare_data
    from ablate.errors import TrialPruned
    from ablate.study.session import StudySession
    from ablate.trial.entrypoint import code_version
    from ablate.trial.execute import execute_trial

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    overrides = [
        f"study.name=bench-{pruner}-{seed}",
        f"study.seed={seed}",
        f"search.n_trials={n_trials}",
        "search.sampler=tpe",
        f"search.pruner={pruner}",
        f"paths.data={root}/{pruner}-{seed}",
        f"trial.options.epochs={EPOCHS}",
    ]
    if pruner in PRUNER_OPTIONS:
        overrides.append(f"search.pruner_options={PRUNER_OPTIONS[pruner]}")
    params = load_params(PARAMS, overrides)
    # One split for every study (seed 0): the arms and seeds differ only in the search.
    prepared, _ = prepare_data(params.data, 0, Path(root) / f"prepared-{pruner}-{seed}")
    session = StudySession(params, prepared, code_version(params.trial.entrypoint))
    start = time.monotonic()
    while session.can_ask():
        spec = session.ask()
        try:
            session.tell_result(spec.number, execute_trial(spec))
        except TrialPruned as err:
            session.tell_pruned(spec.number, err)
    epochs = sum(len((d / "history.jsonl").read_text().splitlines()) for d in session.trials_dir.iterdir())
    states = [t.state.name for t in session.study.trials]
    return {
        "epochs": epochs,
        "best": session.study.best_value,
        "pruned": states.count("PRUNED"),
        "wall_s": time.monotonic() - start,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--pruner", default="hyperband")
    ap.add_argument("--jobs", type=int, default=2, help="studies run at once (one process each)")
    args = ap.parse_args()
    jobs = [(seed, pruner) for seed in range(args.seeds) for pruner in (args.pruner, "none")]
    with tempfile.TemporaryDirectory(prefix="bench-pruning-") as root, ProcessPoolExecutor(args.jobs) as pool:
        futures = {job: pool.submit(run_study, *job, args.trials, root) for job in jobs}
        results = {job: f.result() for job, f in futures.items()}
    print(f"digits MLP, {args.trials} trials of TPE, {EPOCHS} epochs a trial: {args.pruner} vs none")
    print(
        f"{'seed':>4}  {'epochs (pruned)':>16} {'epochs (none)':>14} {'saved':>6}  {'best (pruned)':>13} "
        f"{'best (none)':>11} {'diff':>7}  {'pruned trials':>13}"
    )
    totals = {"p": 0, "n": 0, "bp": 0.0, "bn": 0.0}
    for seed in range(args.seeds):
        p, n = results[(seed, args.pruner)], results[(seed, "none")]
        totals["p"] += p["epochs"]
        totals["n"] += n["epochs"]
        totals["bp"] += p["best"] / args.seeds
        totals["bn"] += n["best"] / args.seeds
        print(
            f"{seed:>4}  {p['epochs']:>16} {n['epochs']:>14} {1 - p['epochs'] / n['epochs']:>6.0%}  "
            f"{p['best']:>13.4f} {n['best']:>11.4f} {100 * (p['best'] - n['best']):>+6.2f}p  {p['pruned']:>13}"
        )
    saved = 1 - totals["p"] / totals["n"]
    diff = 100 * (totals["bp"] - totals["bn"])
    print(
        f" all  {totals['p']:>16} {totals['n']:>14} {saved:>6.0%}  {totals['bp']:>13.4f} {totals['bn']:>11.4f} "
        f"{diff:>+6.2f}p  (mean best over seeds)"
    )
    print(
        f"goal: >= 50% fewer epochs ({'met' if saved >= 0.5 else 'NOT met'}); "
        f"best within 0.5 point ({'met' if abs(diff) <= 0.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
