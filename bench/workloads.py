"""Trial functions for the benchmarks (module-level, importable by Dask workers)."""

from __future__ import annotations

import time
from typing import Any


def stamped_sleep(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """``sleep_trial`` that also records when it ran and where (for timeline analysis)."""
    import os

    start = time.time()
    time.sleep(float(params["t"]))
    (ctx.out_dir / "stamps.txt").write_text(f"{os.getpid()} {start} {time.time()}\n")
    return {"val_accuracy": 1.0 - abs(float(params["t"]) - 0.5)}


def stamped_plain(t: float) -> tuple[float, int, float, float]:
    """The reference's trial: sleep ``t``; return the value, the process and when it ran."""
    import os

    start = time.time()
    time.sleep(t)
    return 1.0 - abs(t - 0.5), os.getpid(), start, time.time()
