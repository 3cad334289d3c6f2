"""Benchmark: ``ablate report`` on a 5,000-trial study with the digits space (eight knobs: log,
integer, categorical), every trial reporting a 20-step learning curve, as a user runs it.

The trials are ``bench.workloads:synthetic_mlp`` (no training: the point is the report). The
search runs once (``ablate search``, a fresh process, 4 workers); ``ablate report`` is then timed
in fresh processes: right after the search (the Prefect server still ingesting its events), then,
once the server has settled, drawing every figure, and again finding them drawn from the same
trials (parameter importance is computed every time). Prints the wall times and the importance
table's top rows.

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

from bench.bench_scale import _harness_db, _settled_db_bytes  # noqa: E402
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
    external = bool(os.environ.get("PREFECT_API_URL"))  # then its database is not ours to watch
    with _prefect_api(), tempfile.TemporaryDirectory() as scratch:
        tmp = args.workdir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        path = study_params(tmp, args.trials)
        report_dir = tmp / "reports" / "report-bench"
        timed([*cli, "prepare", str(path)])
        search_s = timed([*cli, "search", str(path)])
        busy = timed([*cli, "report", str(path)])
        # The server ingests the search's events for a while after it: the reports below are timed
        # once it is done (its database stops growing), as bench_scale times its report.
        _settled_db_bytes(None if external else _harness_db())
        (report_dir / ".figures").unlink(missing_ok=True)  # draw them again
        first, again = timed([*cli, "report", str(path)]), timed([*cli, "report", str(path)])
        importance = (report_dir / "importance.csv").read_text().splitlines()
        pngs = sorted(p.name for p in report_dir.glob("*.png"))
    print(f"{args.trials} trials, 8 knobs, 20 steps each; search {search_s:.0f} s")
    print(f"ablate report right after the search (server busy): {busy:6.1f} s")
    print(f"ablate report, server settled, figures drawn:       {first:6.1f} s")
    print(f"ablate report, server settled, figures kept:        {again:6.1f} s")
    print("figures:", ", ".join(pngs))
    print("\n".join(importance[:4]))


if __name__ == "__main__":
    main()
