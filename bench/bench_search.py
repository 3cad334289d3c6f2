"""Benchmark: what ablate's orchestration costs per trial, against plain Optuna + Dask.

Both run the same workloads, on a Dask LocalCluster of 2 worker processes, side by side in
this process. The reference is the leanest correct design: Optuna ask/tell (in memory) with Dask
futures and ``distributed.as_completed``, two trials in flight per worker, no Prefect. ablate runs
its real study flow: each trial a Prefect task run against a real Prefect server, handed to
Dask, a journal-backed Optuna study, result caching, a published folder per trial.

- W2: 40 trials sleeping 0.1-1.0 s. Utilization over the search = sum of trial time /
  (search span x workers), the span from the first trial's start to the last one's end; the
  whole run's wall (cluster start to cluster closed) beside it.
- W1: 200 no-op trials. Orchestration cost per trial per worker = (search span x workers -
  trial time) / trials.
- Start-up: from launching the command (``ablate run PARAMS`` in a fresh process; for the
  reference a fresh process running it) to its first trial running.
- Rerun: the wall of ``study_flow`` on the finished W2 study (no trial runs), against the
  first run's wall.

Medians over repeats; ratio = ablate / reference (for utilization, higher is better; for the
others lower). Usage: ``python bench/bench_search.py [--repeats 3]`` (uses PREFECT_API_URL, or
a temporary Prefect server it starts and stops).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKERS = 2
Stamp = tuple[int, float, float]  # worker pid, trial start, trial end (time.time())


def reference_run(
    n_trials: int,
    low: float,
    high: float,
    workers: int = WORKERS,
    threads: int = 1,
    in_flight: int = WORKERS * 2,
    sampler: optuna.samplers.BaseSampler | None = None,
) -> tuple[float, float, list[Stamp]]:
    """Plain Optuna ask/tell + Dask futures, ``in_flight`` trials at once; returns (start, end, stamps)."""
    from distributed import Client, LocalCluster, as_completed

    from bench.workloads import stamped_plain

    start = time.time()
    sampler = sampler or optuna.samplers.RandomSampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    stamps: list[Stamp] = []
    with (
        LocalCluster(n_workers=workers, threads_per_worker=threads, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        pending, meta = as_completed(), {}

        def submit() -> None:
            trial = study.ask()
            t = trial.suggest_float("t", low, high) if high > low else 0.0
            fut = client.submit(stamped_plain, t, key=f"trial-{trial.number}")
            meta[fut.key] = trial
            pending.add(fut)

        asked = min(in_flight, n_trials)
        for _ in range(asked):
            submit()
        for fut in pending:
            value, pid, t0, t1 = fut.result()
            study.tell(meta.pop(fut.key), value)
            stamps.append((pid, t0, t1))
            if asked < n_trials:
                submit()
                asked += 1
    return start, time.time(), stamps


def study_params(
    workdir: Path,
    n_trials: int,
    low: float,
    high: float,
    workers: int = WORKERS,
    queue_ahead: int = 1,
    sampler: str = "random",
) -> Path:
    import yaml

    entry = "stamped_sleep" if high > 0 else "stamped_noop"
    raw = {
        "study": {"name": "bench", "seed": 0},
        "data": {"source": "sklearn:wine"},
        "trial": {"entrypoint": f"bench.workloads:{entry}"},
        "search": {
            "sampler": sampler,
            "n_trials": n_trials,
            "space": {"t": {"type": "float", "low": low, "high": high if high > low else low + 1e-9}},
        },
        "execution": {"workers": workers, "queue_ahead": queue_ahead, "retries": 0},
        "paths": {"data": str(workdir / "data"), "reports": str(workdir / "reports")},
    }
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def ablate_run(n_trials: int, low: float, high: float, workdir: Path) -> tuple[float, float, list[Stamp], float]:
    """ablate's study flow (prepare, search); returns (start, end, stamps, rerun wall)."""
    from ablate.config.load import load_params
    from flows.pipeline import study_flow, without_heartbeats

    params = load_params(study_params(workdir, n_trials, low, high))
    start = time.time()
    # As `ablate run` calls it (flows/cli.py).
    with contextlib.redirect_stdout(open(os.devnull, "w")), without_heartbeats():  # noqa: SIM115
        study_flow(params, ("prepare", "search"))
    end = time.time()
    rerun = time.monotonic()
    with contextlib.redirect_stdout(open(os.devnull, "w")), without_heartbeats():  # noqa: SIM115
        study_flow(params, ("prepare", "search"))
    rerun = time.monotonic() - rerun
    return start, end, _stamps(workdir), rerun


def _stamps(workdir: Path) -> list[Stamp]:
    stamps = []
    for f in (workdir / "data/studies/bench/trials").glob("*/stamps.txt"):
        pid, t0, t1 = f.read_text().split()
        stamps.append((int(pid), float(t0), float(t1)))
    return stamps


def figures(start: float, end: float, stamps: list[Stamp]) -> dict[str, float]:
    first, last = min(s[1] for s in stamps), max(s[2] for s in stamps)
    busy = sum(t1 - t0 for _, t0, t1 in stamps)
    span = last - first
    return {
        "utilization": busy / (span * WORKERS),
        "cost_ms": (span * WORKERS - busy) / len(stamps) * 1000,
        "startup_s": first - start,
        "teardown_s": end - last,
        "wall_s": end - start,
    }


def startup(command: list[str], workdir: Path) -> float:
    """Seconds from launching ``command`` (in ``workdir``; ablate's from the repository, as
    `make run` does) to the first trial's start (its stamps)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cwd = workdir if command[2] == REF_STARTUP else ROOT
    start = time.time()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if not (workdir / "stamps").exists() and not _stamps(workdir):
        raise RuntimeError(f"{command} ran no trial:\n{proc.stdout}\n{proc.stderr}")
    if (workdir / "stamps").exists():
        return float((workdir / "stamps").read_text()) - start
    return min(s[1] for s in _stamps(workdir)) - start


REF_STARTUP = (
    "import time, pathlib; from bench.bench_search import reference_run; "
    "_, _, s = reference_run(4, 0.1, 0.2); pathlib.Path('stamps').write_text(str(min(x[1] for x in s)))"
)
ABLATE_CLI = "import sys; from flows.cli import main; sys.exit(main(sys.argv[1:]))"  # `ablate`


def repeat(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    s, e, st = reference_run(40, 0.1, 1.0)
    out["w2_ref"] = figures(s, e, st)
    with tempfile.TemporaryDirectory() as tmp:
        s, e, st, rerun = ablate_run(40, 0.1, 1.0, Path(tmp))
    out["w2"] = figures(s, e, st)
    out["rerun"] = {"rerun_s": rerun, "first_s": e - s, "ratio": rerun / (e - s)}
    s, e, st = reference_run(args.noop_trials, 0.0, 0.0)
    out["w1_ref"] = figures(s, e, st)
    with tempfile.TemporaryDirectory() as tmp:
        s, e, st, _ = ablate_run(args.noop_trials, 0.0, 0.0, Path(tmp))
    out["w1"] = figures(s, e, st)
    with tempfile.TemporaryDirectory() as tmp:
        out["start_ref"] = startup([sys.executable, "-c", REF_STARTUP], Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        path = study_params(Path(tmp), 4, 0.1, 0.2)
        out["start"] = startup([sys.executable, "-c", ABLATE_CLI, "run", str(path)], Path(tmp))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--noop-trials", type=int, default=200)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with _prefect_api():
        runs = [repeat(args) for _ in range(args.repeats)]

    def med(key: str, fig: str) -> float:
        return statistics.median(r[key][fig] if fig else r[key] for r in runs)

    print(f"{WORKERS} Dask worker processes, ablate vs plain Optuna + Dask futures; medians of {args.repeats}")
    print(f"{'figure':<44}{'reference':>11}{'ablate':>10}{'ratio':>8}")
    rows = [
        ("W2 utilization over the search", "w2", "utilization"),
        ("W2 whole run wall, s", "w2", "wall_s"),
        ("W2 start-up in process, s", "w2", "startup_s"),
        ("W2 teardown, s", "w2", "teardown_s"),
        (f"W1 ({args.noop_trials} no-op) cost per trial per worker, ms", "w1", "cost_ms"),
        ("W1 utilization (trial time ~0)", "w1", "utilization"),
    ]
    for label, key, fig in rows:
        ref, ours = med(key + "_ref", fig), med(key, fig)
        print(f"{label:<44}{ref:>11.3f}{ours:>10.3f}{ours / ref if ref else float('nan'):>8.3f}")
    ref, ours = med("start_ref", ""), med("start", "")
    print(f"{'start-up, fresh process to first trial, s':<44}{ref:>11.3f}{ours:>10.3f}{ours / ref:>8.3f}")
    print(
        f"{'rerun of the finished W2 study, s':<44}{'':>11}{med('rerun', 'rerun_s'):>10.3f}"
        f"{med('rerun', 'ratio'):>8.3f}  (of its first run's wall, {med('rerun', 'first_s'):.1f} s)"
    )


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
