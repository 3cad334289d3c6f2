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


def synthetic_mlp(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """A stand-in for the digits MLP that costs nothing: the same eight knobs, a learning curve
    of ``epochs`` steps reported through ``ctx.report``, and a final accuracy that depends on lr
    (most), dropout and activation, plus noise (for the report benchmark)."""
    import math

    import numpy as np

    rng = np.random.default_rng([ctx.number, ctx.seed])
    quality = 0.97 - 0.08 * (math.log10(params["lr"]) + 2.3) ** 2 - 0.1 * (params["dropout"] - 0.2) ** 2
    quality -= 0.01 * (params["activation"] == "tanh")
    final = min(0.99, max(0.1, quality + rng.normal(0, 0.005)))
    epochs = int(params.get("epochs", 20))
    for step in range(1, epochs + 1):
        ctx.report(step, {"val_accuracy": final * (1 - math.exp(-step / 3)) + rng.normal(0, 0.003)})
    return {"val_accuracy": final}
