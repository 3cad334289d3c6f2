"""Benchmark: how many epochs pruning saves, and what it costs in the best result found.

The digits MLP of ``params/digits.yaml`` (20 epochs a trial), 40 trials of TPE, searched with a
pruner and without, over 3 seeds. Printed per seed and in total: epochs trained and the best
val_accuracy of each arm, the share of epochs saved and the difference in best.

Two ways to run the trials:

- ``--mode cluster`` (the default): as users run it, ``ablate run`` in a fresh process per study,
  on the default cluster (a LocalCluster of 2 workers, a trial queued behind the running one on
  each: 4 in flight), its ``ctx.report`` every epoch going from the workers to the study's journal
  and its pruner. Which trials see which others' steps depends on timing, so a seed's figures
  vary a little from run to run. The outputs go to a temporary folder (outside any DVC repository:
  no sync).
- ``--mode sequential``: trials one after another in one process per study, through ablate's own
  code (StudySession asks, execute_trial runs the MLP): deterministic for its seed, and what a
  pruner saves when every trial sees every earlier one finished.

Usage: ``python bench/bench_pruning.py [--mode cluster|sequential] [--trials 40] [--seeds 3]
[--pruner hyperband] [--options '{...}']``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PARAMS = ROOT / "params" / "digits.yaml"
EPOCHS = 20
PRUNER_OPTIONS: dict[str, str] = {}  # the pruners' defaults, unless --options says otherwise


def cli_study(seed: int, pruner: str, n_trials: int, root: str, options: str | None) -> dict[str, float]:
    """One study through ``ablate run`` in a fresh process on the default cluster."""
    name = f"bench-{pruner}-{seed}"
    overrides = [
        f"study.name={name}",
        f"study.seed={seed}",
        f"search.n_trials={n_trials}",
        "search.sampler=tpe",
        f"search.pruner={pruner}",
        f"paths.data={root}/data",
        f"paths.reports={root}/reports",
        f"trial.options.epochs={EPOCHS}",
    ]
    if options and pruner != "none":
        overrides.append(f"search.pruner_options={options}")
    command = [str(Path(sys.executable).parent / "ablate"), "run", str(PARAMS)]
    for item in overrides:
        command += ["--set", item]
    start = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    trials_dir = Path(root) / "data" / "studies" / name / "trials"
    metrics = json.loads((Path(root) / "reports" / name / "metrics.json").read_text())
    return {
        "epochs": sum(len((d / "history.jsonl").read_text().splitlines()) for d in trials_dir.iterdir()),
        "best": metrics["best_value"],
        "pruned": metrics["pruned"],
        "wall_s": time.monotonic() - start,
    }


def run_study(seed: int, pruner: str, n_trials: int, root: str, options: str | None) -> dict[str, float]:
    """One study, trials one after another; returns epochs trained, best val_accuracy and wall time."""
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
    if options and pruner != "none":
        overrides.append(f"search.pruner_options={options}")
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
    ap.add_argument("--first-seed", type=int, default=0, help="study seeds first-seed, first-seed + 1, ...")
    ap.add_argument("--pruner", default="hyperband")
    ap.add_argument("--options", help="search.pruner_options as YAML (default: the pruner's defaults)")
    ap.add_argument("--mode", choices=("cluster", "sequential"), default="cluster")
    ap.add_argument("--jobs", type=int, default=2, help="sequential mode: studies run at once (one process each)")
    args = ap.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(seed, pruner) for seed in seeds for pruner in (args.pruner, "none")]
    with tempfile.TemporaryDirectory(prefix="bench-pruning-") as root:
        if args.mode == "cluster":  # one study at a time: its 2 workers take the 2 cores
            results = {job: cli_study(*job, args.trials, root, args.options) for job in jobs}
        else:
            with ProcessPoolExecutor(args.jobs) as pool:
                futures = {job: pool.submit(run_study, *job, args.trials, root, args.options) for job in jobs}
                results = {job: f.result() for job, f in futures.items()}
    how = "ablate run on 2 workers, 4 trials in flight" if args.mode == "cluster" else "trials one after another"
    print(
        f"digits MLP, {args.trials} trials of TPE, {EPOCHS} epochs a trial, {how}: "
        f"{args.pruner} {args.options or '(defaults)'} vs none"
    )
    print(
        f"{'seed':>4}  {'epochs (pruned)':>16} {'epochs (none)':>14} {'saved':>6}  {'best (pruned)':>13} "
        f"{'best (none)':>11} {'diff':>7}  {'pruned trials':>13}"
    )
    totals = {"p": 0, "n": 0, "bp": 0.0, "bn": 0.0}
    for seed in seeds:
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
