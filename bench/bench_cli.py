"""Benchmark: the fixed cost of everyday commands, as users run them (a fresh process each).

On a finished study (the default one, ``params/digits.yaml``; run ``make run`` first), against a
long-lived local Prefect server (the one ``ablate`` starts and keeps):

- ``ablate --help``: the floor, process start and argument parsing;
- ``ablate status PARAMS``: reads the study, its fingerprint and DVC's record;
- ``ablate run PARAMS``: a no-op rerun of the finished study.

Medians over repeats, and the goals as ratios in this run: status <= 1.5x --help; the no-op rerun
<= 2x status. Usage: ``python bench/bench_cli.py [--repeats 5] [--params params/digits.yaml]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ABLATE = str(Path(sys.executable).parent / "ablate")


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--params", default="params/digits.yaml")
    args = ap.parse_args()
    commands = {
        "help": [ABLATE, "--help"],
        "status": [ABLATE, "status", args.params],
        "rerun": [ABLATE, "run", args.params],
    }
    wall(commands["rerun"])  # brings the study (and its report) up to date, and the server up
    times = {name: statistics.median(wall(c) for _ in range(args.repeats)) for name, c in commands.items()}
    status_ratio, rerun_ratio = times["status"] / times["help"], times["rerun"] / times["status"]
    print(f"fresh processes, medians of {args.repeats}, study {args.params} finished:")
    print(f"  ablate --help          {times['help']:6.2f} s")
    print(f"  ablate status          {times['status']:6.2f} s   {status_ratio:.2f}x --help   (goal <= 1.5x)")
    print(f"  ablate run (no-op)     {times['rerun']:6.2f} s   {rerun_ratio:.2f}x status    (goal <= 2x)")
    met = status_ratio <= 1.5 and rerun_ratio <= 2.0
    print(f"goals: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
