"""Benchmark: what ablate's orchestration costs per trial, against plain Optuna + Dask.

Both run the same workload in this process: N trials that each sleep 0.2-1.0 s (drawn by a
seeded random sampler, so both see the same durations), on a Dask LocalCluster of 2 worker
processes. The reference is the leanest correct design: Optuna ask/tell (in memory) with Dask
futures and ``distributed.as_completed``, no Prefect. ablate runs its real study flow: Prefect
task runs on a DaskTaskRunner against a real Prefect server, a journal-backed Optuna study,
result caching, a published folder per trial. Printed, as medians over repeats:

- gap: how long a worker sits idle between the end of one trial and the start of its next
  (the steady-state cost of orchestration per trial);
- start-up: from the start of the run to the first trial's start (cluster, imports, API);
- teardown: from the last trial's end to the end of the run (results told, cluster closed);
- utilization: sum of trial time / (wall time x workers), which both of the above lower;
- the ratio ablate / reference for each; and the wall time of a rerun of the finished study.

Usage: ``python bench/bench_search.py [--trials 40] [--repeats 3]`` (uses PREFECT_API_URL,
or a temporary Prefect server it starts and stops).
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

    from bench.workloads import stamped_plain

    start = time.time()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    stamps: list[tuple[int, float, float, float]] = []
    with (
        LocalCluster(n_workers=WORKERS, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        pending, meta = as_completed(), {}

        def submit() -> None:
            trial = study.ask()
            t = trial.suggest_float("t", 0.2, 1.0)
            fut = client.submit(stamped_plain, t, key=f"trial-{trial.number}")
            meta[fut.key] = trial
            pending.add(fut)

        for _ in range(min(WORKERS * 2, n_trials)):
            submit()
        asked = min(WORKERS * 2, n_trials)
        for fut in pending:
            value, pid, t0, t1 = fut.result()
            study.tell(meta.pop(fut.key), value)
            stamps.append((pid, t0, t1, t1 - t0))
            if asked < n_trials:
                submit()
                asked += 1
    return _figures(start, time.time(), stamps)


def ablate_run(n_trials: int, workdir: Path) -> tuple[dict[str, float], float]:
    import yaml

    from ablate.config import load_params
    from flows.pipeline import study_flow

    raw = {
        "study": {"name": "bench", "seed": 0},
        "data": {"source": "sklearn:wine"},
        "trial": {"entrypoint": "bench.workloads:stamped_sleep"},
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
    start = time.time()
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
        study_flow(params, ("prepare", "search"))
    end = time.time()
    stamps = []
    for f in (workdir / "data/studies/bench/trials").glob("*/stamps.txt"):
        pid, t0, t1 = f.read_text().split()
        stamps.append((int(pid), float(t0), float(t1), float(t1) - float(t0)))
    rerun = time.monotonic()
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
        study_flow(params)
    return _figures(start, end, stamps), time.monotonic() - rerun


def _figures(start: float, end: float, stamps: list[tuple[int, float, float, float]]) -> dict[str, float]:
    by_worker: dict[int, list[tuple[float, float]]] = {}
    for pid, t0, t1, _ in stamps:
        by_worker.setdefault(pid, []).append((t0, t1))
    gaps = []
    for runs in by_worker.values():
        runs.sort()
        gaps += [b[0] - a[1] for a, b in zip(runs, runs[1:])]
    busy = sum(s[3] for s in stamps)
    return {
        "gap_ms": statistics.median(gaps) * 1000,
        "startup_s": min(s[1] for s in stamps) - start,
        "teardown_s": end - max(s[2] for s in stamps),
        "utilization": busy / ((end - start) * WORKERS),
        "wall_s": end - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    refs, ours, reruns = [], [], []
    with _prefect_api():
        for _ in range(args.repeats):
            refs.append(reference_run(args.trials))
            with tempfile.TemporaryDirectory() as tmp:
                fig, rerun = ablate_run(args.trials, Path(tmp))
            ours.append(fig)
            reruns.append(rerun)
    print(f"{args.trials} trials sleeping 0.2-1.0 s on {WORKERS} Dask worker processes; medians of {args.repeats}")
    print(f"{'figure':<28}{'plain Optuna+Dask':>18}{'ablate':>12}{'ratio':>8}")
    for key in ("gap_ms", "startup_s", "teardown_s", "utilization", "wall_s"):
        r = statistics.median(x[key] for x in refs)
        a = statistics.median(x[key] for x in ours)
        print(f"{key:<28}{r:>18.3f}{a:>12.3f}{a / r if r else float('nan'):>8.2f}")
    print(f"{'rerun of the finished study':<28}{'':>18}{statistics.median(reruns):>12.3f} s (no trial runs)")


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
