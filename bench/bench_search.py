"""Benchmark: what ablate's orchestration costs per trial, against plain Optuna + Dask.

Both run the same workload in this process: N trials that each sleep 0.2-1.0 s (drawn by a
seeded random sampler, so both see the same durations), on a Dask LocalCluster of 2 worker
processes. The reference is the leanest correct design: Optuna ask/tell with Dask futures and
``distributed.as_completed``, no Prefect. ablate runs its real study flow (Prefect task runs on
a DaskTaskRunner, a real Prefect server, result caching, per-trial folders). Printed:

- utilization = sum of trial time / (wall time x workers), higher is better;
- overhead per trial = (wall x workers - sum of trial time) / trials;
- start-up: wall time before the first trial finished, minus that trial's own time;
- the ratio ablate / reference for each; and a rerun of the finished study (no trial runs).

Usage: ``python bench/bench_search.py [--trials 40]`` (uses PREFECT_API_URL, or a temporary
Prefect server it starts and stops).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKERS = 2


def reference_run(n_trials: int) -> dict[str, float]:
    from distributed import Client, LocalCluster, as_completed

    from bench.workloads import sleep_plain

    start = time.monotonic()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    with (
        LocalCluster(n_workers=WORKERS, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        pending, asked, busy, first = as_completed(), 0, 0.0, None
        for _ in range(min(WORKERS * 2, n_trials)):
            trial = study.ask()
            t = trial.suggest_float("t", 0.2, 1.0)
            pending.add(client.submit(sleep_plain, t, key=f"trial-{trial.number}"))
            pending_meta = getattr(pending, "meta", {})
            pending_meta[f"trial-{trial.number}"] = (trial, t)
            pending.meta = pending_meta
            asked += 1
        for fut in pending:
            trial, t = pending.meta.pop(fut.key)
            study.tell(trial, fut.result())
            busy += t
            first = first if first is not None else time.monotonic() - start - t
            if asked < n_trials:
                nxt = study.ask()
                tn = nxt.suggest_float("t", 0.2, 1.0)
                pending.meta[f"trial-{nxt.number}"] = (nxt, tn)
                pending.add(client.submit(sleep_plain, tn, key=f"trial-{nxt.number}"))
                asked += 1
    return _figures(time.monotonic() - start, busy, n_trials, first or 0.0)


def ablate_run(n_trials: int, workdir: Path) -> tuple[dict[str, float], float]:
    import yaml

    from ablate.config import load_params
    from flows.pipeline import study_flow

    raw = {
        "study": {"name": "bench", "seed": 0},
        "data": {"source": "sklearn:wine"},
        "trial": {"entrypoint": "bench.workloads:sleep_trial"},
        "search": {
            "sampler": "random",
            "n_trials": n_trials,
            "space": {"t": {"type": "float", "low": 0.2, "high": 1.0}},
        },
        "execution": {"workers": WORKERS, "retries": 0},
        "paths": {"data": str(workdir / "data"), "reports": str(workdir / "reports")},
    }
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(raw))
    params = load_params(path)
    start = time.monotonic()
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        study_flow(params)
    wall = time.monotonic() - start
    study = optuna.load_study(
        study_name="bench",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(workdir / "data/studies/bench/optuna.journal"))
        ),
    )
    busy = sum(t.params["t"] for t in study.trials)
    first_done = min(t.datetime_complete for t in study.trials)
    first_trial = min(study.trials, key=lambda t: t.datetime_complete)
    startup = (first_done.timestamp() - (time.time() - (time.monotonic() - start))) - first_trial.params["t"]
    rerun_start = time.monotonic()
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        study_flow(params)
    return _figures(wall, busy, n_trials, startup), time.monotonic() - rerun_start


def _figures(wall: float, busy: float, n: int, startup: float) -> dict[str, float]:
    return {
        "wall_s": wall,
        "utilization": busy / (wall * WORKERS),
        "overhead_ms_per_trial": (wall * WORKERS - busy) / n * 1000,
        "startup_s": startup,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    with _prefect_api():
        refs, ours, reruns = [], [], []
        for _ in range(args.repeats):
            refs.append(reference_run(args.trials))
            with tempfile.TemporaryDirectory() as tmp:
                fig, rerun = ablate_run(args.trials, Path(tmp))
            ours.append(fig)
            reruns.append(rerun)
    print(
        f"{args.trials} trials sleeping 0.2-1.0 s on {WORKERS} Dask worker processes, {args.repeats} repeat(s), medians"
    )
    print(f"{'figure':<24}{'plain Optuna+Dask':>20}{'ablate (Prefect)':>20}{'ratio':>10}")
    for key in ("wall_s", "utilization", "overhead_ms_per_trial", "startup_s"):
        r = statistics.median(x[key] for x in refs)
        a = statistics.median(x[key] for x in ours)
        print(f"{key:<24}{r:>20.3f}{a:>20.3f}{a / r if r else float('nan'):>10.2f}")
    print(f"{'rerun of finished study':<24}{'':>20}{statistics.median(reruns):>20.3f}  s (no trial runs)")


@contextlib.contextmanager
def _prefect_api():
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
        try:
            yield
        finally:
            os.environ.pop("PREFECT_API_URL", None)


if __name__ == "__main__":
    main()
