"""Trial functions for the benchmarks (module-level, importable by Dask workers)."""

from __future__ import annotations

import time
from typing import Any


def sleep_trial(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Busy for ``t`` seconds (sleeping), so scheduling overhead is all that differs."""
    time.sleep(float(params["t"]))
    return {"val_accuracy": 1.0 - abs(float(params["t"]) - 0.5)}


def sleep_plain(t: float) -> float:
    time.sleep(t)
    return 1.0 - abs(t - 0.5)
