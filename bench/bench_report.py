"""Benchmark: ``ablate report`` on a 5,000-trial study with the digits space (eight knobs: log,
integer, categorical), every trial reporting a 20-step learning curve, as a user runs it.

The trials are ``bench.workloads:synthetic_mlp`` (no training: the point is the report). The
search runs once (``ablate search``, a fresh process, 4 workers); ``ablate report`` is then timed
twice in fresh processes: the first draws every figure, the second finds them drawn from the same
trials and copies them (parameter importance is computed both times). Prints the wall times and
the importance table's top rows.

Usage: ``python bench/bench_report.py [--trials 5000]`` (uses PREFECT_API_URL, or a temporary
Prefect server it starts). About 4 minutes on 2 cores, most of it the search.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_search import ABLATE_CLI, _prefect_api  # noqa: E402

SPACE = yaml.safe_load((ROOT / "params" / "digits.yaml").read_text())["search"]["space"]


def study_params(workdir: Path, n_trials: int) -> Path:
    raw = {
        "study": {"name": "report-bench", "seed": 0},
        "data": {"source": "sklearn:wine"},
        "trial": {"entrypoint": "bench.workloads:synthetic_mlp", "options": {"epochs": 20}},
        "search": {"sampler": "random", "n_trials": n_trials, "space": SPACE},
        "execution": {"workers": 4, "queue_ahead": 3, "retries": 0},
        "paths": {"data": str(workdir / "data"), "reports": str(workdir / "reports")},
    }
    path = workdir / "report-bench.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def timed(command: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--workdir", type=Path, help="keep the study here (default: a temporary folder)")
    args = parser.parse_args()
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    cli = [sys.executable, "-c", ABLATE_CLI]
    with _prefect_api(), tempfile.TemporaryDirectory() as scratch:
        tmp = args.workdir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        path = study_params(tmp, args.trials)
        timed([*cli, "prepare", str(path)])
        search_s = timed([*cli, "search", str(path)])
        first, again = timed([*cli, "report", str(path)]), timed([*cli, "report", str(path)])
        report = tmp / "reports" / "report-bench"
        importance = (report / "importance.csv").read_text().splitlines()
        pngs = sorted(p.name for p in report.glob("*.png"))
    print(f"{args.trials} trials, 8 knobs, 20 steps each; search {search_s:.0f} s")
    print(f"ablate report, figures drawn:   {first:6.1f} s")
    print(f"ablate report, figures kept:    {again:6.1f} s")
    print("figures:", ", ".join(pngs))
    print("\n".join(importance[:4]))


if __name__ == "__main__":
    main()
