"""Trial functions for the benchmarks (module-level, importable by Dask workers)."""

from __future__ import annotations

import os
import time
from typing import Any


def stamped_sleep(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """``sleep_trial`` that also records when it ran and where (for timeline analysis)."""
    start = time.time()
    time.sleep(float(params["t"]))
    (ctx.out_dir / "stamps.txt").write_text(f"{os.getpid()} {start} {time.time()}\n")
    return {"val_accuracy": 1.0 - abs(float(params["t"]) - 0.5)}


def stamped_noop(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """A trial that does nothing but record when it ran (W1: orchestration cost alone)."""
    now = time.time()
    (ctx.out_dir / "stamps.txt").write_text(f"{os.getpid()} {now} {now}\n")
    return {"val_accuracy": float(params["t"])}


def stamped_plain(t: float) -> tuple[float, int, float, float]:
    """The reference's trial: sleep ``t``; return the value, the process and when it ran."""
    start = time.time()
    if t > 0:
        time.sleep(t)
    return 1.0 - abs(t - 0.5), os.getpid(), start, time.time()
