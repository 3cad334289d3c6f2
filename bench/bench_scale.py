"""Benchmark: how far ablate's driver scales, against plain Optuna + Dask futures.

- Throughput: no-op trials on a LocalCluster of 4 worker processes x 4 threads (16 trials in
  flight: ablate's ``workers: 4, queue_ahead: 3``), random sampler and TPE. Completions per
  second sustained = trials finished after the first 10 % / the time they took (worker stamps).
- A 5,000-trial study (no-op, random sampler, 4 x 4), run as a user would (``ablate search``
  in a fresh process): the driver's resident memory after 500 trials and at the end (read from
  /proc while its progress lines come in), ``ablate report`` on the finished study, and the
  Prefect database's growth per trial (its SQLite file and WAL, once the server has ingested
  the run). The reference runs the same 5,000 trials in a fresh process for its memory.

Usage: ``python bench/bench_scale.py [--repeats 3] [--big-trials 5000]`` (uses PREFECT_API_URL
with ``--prefect-db PATH`` for the database figure, or a temporary Prefect server it starts).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
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

from bench.bench_search import (  # noqa: E402
    ABLATE_CLI,
    Stamp,
    _prefect_api,
    _stamps,
    reference_run,
    study_params,
)

WORKERS, THREADS = 4, 4
WARM_UP = 0.1  # share of the trials left out of "sustained"


def sustained_rate(stamps: list[Stamp]) -> float:
    """Completions per second after the first WARM_UP share of them."""
    ends = sorted(t1 for _, _, t1 in stamps)
    first = int(len(ends) * WARM_UP)
    return (len(ends) - 1 - first) / (ends[-1] - ends[first])


def reference_rate(n_trials: int, sampler: str) -> float:
    make = optuna.samplers.TPESampler if sampler == "tpe" else optuna.samplers.RandomSampler
    _, _, stamps = reference_run(
        n_trials, 0.0, 0.0, workers=WORKERS, threads=THREADS, in_flight=WORKERS * THREADS, sampler=make(seed=0)
    )
    return sustained_rate(stamps)


def ablate_rate(n_trials: int, sampler: str) -> float:
    from ablate.config.load import load_params
    from flows.pipeline import study_flow, without_heartbeats

    with tempfile.TemporaryDirectory() as tmp:
        path = study_params(Path(tmp), n_trials, 0.0, 0.0, WORKERS, THREADS - 1, sampler)
        with contextlib.redirect_stdout(open(os.devnull, "w")), without_heartbeats():  # noqa: SIM115
            study_flow(load_params(path), ("prepare", "search"))
        return sustained_rate(_stamps(Path(tmp)))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


PROGRESS = re.compile(r"^\[\s*(\d+)/(\d+)\]")


def driver_memory(command: list[str], cwd: Path, first: int) -> tuple[float, float, float]:
    """Run ``command`` (it prints ``[done/total]`` per finished trial); return its RSS in MB
    after ``first`` trials and after the last one, and its wall."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    err = tempfile.TemporaryFile("w+")  # not a pipe: nobody reads it while the run goes on
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    at_first = at_end = float("nan")
    assert proc.stdout is not None
    for line in proc.stdout:
        m = PROGRESS.match(line)
        if not m:
            continue
        done, total = int(m.group(1)), int(m.group(2))
        if done == first:
            at_first = rss_mb(proc.pid)
        if done == total:
            at_end = rss_mb(proc.pid)
    if proc.wait() != 0:
        err.seek(0)
        raise RuntimeError(f"{command} failed:\n{err.read()}")
    return at_first, at_end, time.monotonic() - start


REF_BIG = """
import sys, optuna
from bench.bench_search import reference_run
n = int(sys.argv[1])
optuna.logging.set_verbosity(optuna.logging.WARNING)
class Printing(optuna.samplers.RandomSampler):
    done = 0
    def after_trial(self, study, trial, state, values):
        Printing.done += 1
        print(f"[{Printing.done}/{n}]", flush=True)
if __name__ == "__main__":
    reference_run(n, 0.0, 0.0, workers=4, threads=4, in_flight=16, sampler=Printing(seed=0))
"""


def big_study(n_trials: int, db: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "ref_big.py"
        script.write_text(REF_BIG)
        out["ref_mem"] = driver_memory([sys.executable, str(script), str(n_trials)], Path(tmp), n_trials // 10)
    with tempfile.TemporaryDirectory() as tmp:
        path = study_params(Path(tmp), n_trials, 0.0, 0.0, WORKERS, THREADS - 1)
        cli = [sys.executable, "-c", ABLATE_CLI]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([*cli, "prepare", str(path)], cwd=ROOT, env=env, check=True, capture_output=True)
        size0 = _settled_db_bytes(db)
        out["mem"] = driver_memory([*cli, "search", str(path)], ROOT, n_trials // 10)
        out["db_per_trial_kb"] = (_settled_db_bytes(db) - size0) / n_trials / 1024 if db else float("nan")
        start = time.monotonic()
        subprocess.run([*cli, "report", str(path)], cwd=ROOT, env=env, check=True, capture_output=True)
        out["report_s"] = time.monotonic() - start
    return out


def _db_bytes(db: Path | None) -> int:
    if db is None:
        return 0
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def _settled_db_bytes(db: Path | None, quiet_s: float = 3.0, limit_s: float = 120.0) -> int:
    """The database's size once the server has ingested the run (no growth for ``quiet_s``)."""
    size, since, deadline = _db_bytes(db), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.5)
        now = _db_bytes(db)
        if now != size:
            size, since = now, time.monotonic()
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=400, help="no-op trials per throughput run (random)")
    parser.add_argument("--tpe-trials", type=int, default=200)
    parser.add_argument("--big-trials", type=int, default=5000)
    parser.add_argument("--prefect-db", type=Path, help="the server's SQLite file, with PREFECT_API_URL")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    external = bool(os.environ.get("PREFECT_API_URL"))
    with _prefect_api():
        db = args.prefect_db if external else _harness_db()
        rates: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for sampler, n in (("random", args.trials), ("tpe", args.tpe_trials)):
                rates.setdefault(f"{sampler}_ref", []).append(reference_rate(n, sampler))
                rates.setdefault(sampler, []).append(ablate_rate(n, sampler))
        big = big_study(args.big_trials, db) if args.big_trials else None
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"{WORKERS} Dask worker processes x {THREADS} threads, no-op trials; medians of {args.repeats}")
    print(f"{'figure':<44}{'reference':>11}{'ablate':>10}{'ratio':>8}")
    for sampler, n in (("random", args.trials), ("tpe", args.tpe_trials)):
        label = f"throughput, {sampler} ({n} trials), trials/s"
        ref, ours = med[sampler + "_ref"], med[sampler]
        print(f"{label:<44}{ref:>11.1f}{ours:>10.1f}{ours / ref:>8.3f}")
    if big is None:
        return
    n = args.big_trials
    (r500, rend, rwall), (a500, aend, awall) = big["ref_mem"], big["mem"]
    print(f"{n}-trial study (random, 4 x 4), one run")
    print(f"{'driver RSS after ' + str(n // 10) + ' trials, MB':<44}{r500:>11.0f}{a500:>10.0f}{a500 / r500:>8.3f}")
    print(f"{'driver RSS at the end, MB':<44}{rend:>11.0f}{aend:>10.0f}{aend / rend:>8.3f}")
    print(f"{'RSS at the end / after ' + str(n // 10) + ' trials':<44}{rend / r500:>11.3f}{aend / a500:>10.3f}")
    print(f"{'whole run (fresh process), s':<44}{rwall:>11.1f}{awall:>10.1f}{awall / rwall:>8.3f}")
    print(f"{'ablate report on it, s':<44}{'':>11}{big['report_s']:>10.1f}")
    print(f"{'Prefect DB growth per trial, KB':<44}{'':>11}{big['db_per_trial_kb']:>10.1f}")


def _harness_db() -> Path | None:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or ""
    return Path(url.split("///", 1)[1]) if url.startswith("sqlite") and "///" in url else None


if __name__ == "__main__":
    main()
