"""Trial functions for the integration tests (module-level, so Dask workers can import them)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any


def quick(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """A fast, deterministic stand-in objective: peaks at x=0.3; ``sleep`` slows each of 3 steps."""
    x = float(params.get("x", 0.0))
    for step in range(1, 4):
        time.sleep(float(params.get("sleep", 0.0)) / 3)
        ctx.report(step, {"val_accuracy": step / 3 * (1 - (x - 0.3) ** 2)})
    (ctx.out_dir / "note.txt").write_text(f"x={x}\n")
    # Test-only side channel: one line per finished execution, to prove none runs twice.
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.number} {x!r}\n")
    return {"val_accuracy": 1 - (x - 0.3) ** 2, "val_loss": (x - 0.3) ** 2}


def flaky(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Raises on the first call for each configuration, succeeds on the next."""
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    marker = ctx.out_dir.parent / f".flaky-{key}"
    if not marker.exists():
        marker.write_text("failed once\n")
        raise RuntimeError(f"flaky: first call for {key} fails on purpose")
    return quick(params, ctx)


def always_fails(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    raise ValueError(f"always_fails: no configuration works (x={params.get('x')})")


def too_slow(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Reports forever: only the trial timeout ends it. Logs each start, to count attempts."""
    with (ctx.out_dir.parent.parent / "starts.log").open("a") as f:
        f.write(f"{ctx.number}\n")
    step = 0
    while True:
        step += 1
        time.sleep(0.05)
        ctx.report(step, {"val_accuracy": 0.0})


def misbehaves(params: dict[str, Any], ctx: Any) -> Any:
    """Fails as ``params["mode"]`` says; appends each attempt to attempts.log, to count them."""
    mode = params["mode"]
    log = ctx.out_dir.parent.parent / "attempts.log"
    with log.open("a") as f:
        f.write(f"{ctx.number} {mode}\n")
    attempt = log.read_text().splitlines().count(f"{ctx.number} {mode}")
    if mode == "io_once" and attempt == 1:
        raise OSError(5, "Input/output error (a flaky disk)")
    if mode == "oom":
        import torch

        raise torch.cuda.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {attempt}.00 GiB")
    if mode == "same_error":
        raise ValueError("misbehaves: the same error every time")
    returns = {
        "nan": {"val_accuracy": float("nan")},
        "inf": {"val_loss": 0.5, "val_accuracy": float("inf")},
        "no_metric": {"val_loss": 0.5},
        "state_metric": {"val_accuracy": 0.5, "state": 1.0},
        "not_a_dict": 0.5,
    }
    return returns.get(mode, {"val_accuracy": 0.9})


def dies(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Kills its worker process, as the OOM killer would; appends each attempt to attempts.log."""
    with (ctx.out_dir.parent.parent / "attempts.log").open("a") as f:
        f.write(f"{ctx.number}\n")
    os._exit(1)
