"""Benchmark: what ablate's orchestration costs, against plain Optuna + Dask, as users run it.

Through the command line: each side is launched in a fresh process and timed to its exit, as a
user runs it: ``ablate run PARAMS`` (prepare, search, analyze: the report; the study lies outside
the repository, so there is no DVC sync), and a script with the reference. The reference is the
leanest correct design: Optuna ask/tell (in memory) with Dask futures and
``distributed.as_completed``, two trials in flight per worker, no Prefect. Both on a Dask
LocalCluster of 2 worker processes, against the long-lived local Prefect server ``ablate`` uses
(or PREFECT_API_URL), which the ``ablate`` command finds as a user's does: PREFECT_API_URL where
the user set it, else the checkout's prefect.toml.

- W2: 40 trials sleeping 0.1-1.0 s: the whole command's wall, and utilization over the search =
  sum of trial time / (search span x workers), the span from the first trial's start to the last
  one's end.
- W1: 200 no-op trials. Orchestration cost per trial per worker = (search span x workers -
  trial time) / trials.
- Start-up: from launching the command (a new study of 4 trials) to its first trial running.

With ``--in-process``, also the figures of the study flow called in this process (the way this
benchmark measured before), and the rerun of the finished W2 study.

Medians over repeats; ratio = ablate / reference (for utilization, higher is better; for the
others lower). Usage: ``python bench/bench_search.py [--repeats 3] [--in-process]``
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
    env = _command_env()
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
ABLATE_CLI = "from flows.cli import command; command()"  # what the `ablate` script runs


REF_RUN = (
    "import json, sys; from bench.bench_search import reference_run; "
    "_, _, s = reference_run(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])); "
    "open('stamps.json', 'w').write(json.dumps(s))"
)


def command_run(command: list[str], workdir: Path) -> tuple[float, float, list[Stamp]]:
    """Launch ``command`` (the reference's script in ``workdir``; ``ablate run`` from the repository,
    as `make run` does) and wait for it to exit; returns (launch, exit, the trials' stamps)."""
    env = _command_env()
    cwd = workdir if command[2] == REF_RUN else ROOT
    start = time.time()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    end = time.time()
    if proc.returncode != 0:
        raise RuntimeError(f"{command} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    if command[2] == REF_RUN:
        import json

        return start, end, [tuple(s) for s in json.loads((workdir / "stamps.json").read_text())]
    return start, end, _stamps(workdir)


def workload(n_trials: int, low: float, high: float) -> dict[str, dict[str, float]]:
    """One workload through the command line, each side in a fresh process: the reference's
    script and ``ablate run PARAMS`` (prepare, search, analyze; no DVC sync, the study lies outside
    the repository)."""
    with tempfile.TemporaryDirectory() as tmp:
        ref = figures(*command_run([sys.executable, "-c", REF_RUN, str(n_trials), str(low), str(high)], Path(tmp)))
    with tempfile.TemporaryDirectory() as tmp:
        path = study_params(Path(tmp), n_trials, low, high)
        ours = figures(*command_run([sys.executable, "-c", ABLATE_CLI, "run", str(path)], Path(tmp)))
    return {"ref": ref, "ablate": ours}


def repeat(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    w2, w1 = workload(40, 0.1, 1.0), workload(args.noop_trials, 0.0, 0.0)
    out["w2_ref"], out["w2"], out["w1_ref"], out["w1"] = w2["ref"], w2["ablate"], w1["ref"], w1["ablate"]
    with tempfile.TemporaryDirectory() as tmp:
        out["start_ref"] = startup([sys.executable, "-c", REF_STARTUP], Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        path = study_params(Path(tmp), 4, 0.1, 0.2)
        out["start"] = startup([sys.executable, "-c", ABLATE_CLI, "run", str(path)], Path(tmp))
    if args.in_process:
        s, e, st = reference_run(40, 0.1, 1.0)
        out["w2_ref_in"] = figures(s, e, st)
        with tempfile.TemporaryDirectory() as tmp:
            s, e, st, rerun = ablate_run(40, 0.1, 1.0, Path(tmp))
        out["w2_in"] = figures(s, e, st)
        out["rerun"] = {"rerun_s": rerun, "first_s": e - s, "ratio": rerun / (e - s)}
        s, e, st = reference_run(args.noop_trials, 0.0, 0.0)
        out["w1_ref_in"] = figures(s, e, st)
        with tempfile.TemporaryDirectory() as tmp:
            s, e, st, _ = ablate_run(args.noop_trials, 0.0, 0.0, Path(tmp))
        out["w1_in"] = figures(s, e, st)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--noop-trials", type=int, default=200)
    parser.add_argument("--in-process", action="store_true", help="also the study flow called in this process")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with _prefect_api():
        runs = [repeat(args) for _ in range(args.repeats)]

    def med(key: str, fig: str) -> float:
        return statistics.median(r[key][fig] if fig else r[key] for r in runs)

    def row(label: str, ref: float, ours: float, goal: str = "") -> None:
        ratio = ours / ref if ref else float("nan")
        print(f"{label:<48}{ref:>11.3f}{ours:>10.3f}{ratio:>8.2f}  {goal}")

    print(f"{WORKERS} Dask worker processes; ablate vs plain Optuna + Dask futures; medians of {args.repeats}")
    print("through the command line: each side a fresh process (`ablate run PARAMS`; the reference's script)")
    print(f"{'figure':<48}{'reference':>11}{'ablate':>10}{'ratio':>8}  goal")
    row("W2 (40 trials, 0.1-1.0 s) whole command, s", med("w2_ref", "wall_s"), med("w2", "wall_s"), "<= 1.3x")
    row("W2 utilization over the search", med("w2_ref", "utilization"), med("w2", "utilization"))
    row("W2 launch to first trial, s", med("w2_ref", "startup_s"), med("w2", "startup_s"))
    row("W2 last trial to exit, s", med("w2_ref", "teardown_s"), med("w2", "teardown_s"))
    label = f"W1 ({args.noop_trials} no-op) cost per trial per worker, ms"
    row(label, med("w1_ref", "cost_ms"), med("w1", "cost_ms"), "<= 3x")
    row("W1 whole command, s", med("w1_ref", "wall_s"), med("w1", "wall_s"))
    row("start-up, launch to first trial (4 trials), s", med("start_ref", ""), med("start", ""), "<= 2.5x")
    if args.in_process:
        print("in this process (the study flow called from Python, as before; the reference in process too)")
        row("W2 whole run wall, s", med("w2_ref_in", "wall_s"), med("w2_in", "wall_s"))
        row("W2 utilization over the search", med("w2_ref_in", "utilization"), med("w2_in", "utilization"))
        row(label, med("w1_ref_in", "cost_ms"), med("w1_in", "cost_ms"))
        print(
            f"{'rerun of the finished W2 study, s':<48}{'':>11}{med('rerun', 'rerun_s'):>10.3f}"
            f"  ({med('rerun', 'ratio'):.3f} of its first run's wall, {med('rerun', 'first_s'):.1f} s)"
        )


_API_FOUND: list[str] = []  # the API this benchmark found for itself (not the user's PREFECT_API_URL)


def _command_env() -> dict[str, str]:
    """The environment of a launched command: this one's, less the PREFECT_API_URL this benchmark
    set for itself, so that `ablate` finds its server as a user's command does (the checkout's
    prefect.toml, from the repository, where the commands run)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if _API_FOUND:
        env.pop("PREFECT_API_URL", None)
    return env


@contextlib.contextmanager
def _prefect_api():
    """PREFECT_API_URL, else the long-lived local server `ablate` itself uses (started if need be)."""
    if not os.environ.get("PREFECT_API_URL"):
        from flows.server import ensure_api

        _API_FOUND.append(ensure_api())  # sets PREFECT_API_URL for this process (the in-process figures)
    yield


if __name__ == "__main__":
    main()
