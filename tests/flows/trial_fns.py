"""Trial functions for the integration tests (module-level, so Dask workers can import them)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any


def quick(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """A fast, deterministic stand-in objective: peaks at x=0.3; ``sleep`` slows each of 3 steps.
    With ``watch_jobs`` (a folder), each start is logged to starts.log there with its Slurm job's
    id, and a trial in job J waits at each step while the file hold-J is there."""
    x = float(params.get("x", 0.0))
    job = os.environ.get("SLURM_JOB_ID", "")
    watch = Path(params["watch_jobs"]) if params.get("watch_jobs") else None
    if watch:
        with (watch / "starts.log").open("a") as f:
            f.write(f"{ctx.number} {job}\n")
    for step in range(1, 4):
        time.sleep(float(params.get("sleep", 0.0)) / 3)
        while watch and (watch / f"hold-{job}").exists():
            time.sleep(0.05)
        ctx.report(step, {"val_accuracy": step / 3 * (1 - (x - 0.3) ** 2)})
    (ctx.out_dir / "note.txt").write_text(f"x={x}\n")
    # Test-only side channel: one line per finished execution, to prove none runs twice.
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.number} {x!r}\n")
    return {"val_accuracy": 1 - (x - 0.3) ** 2, "val_loss": (x - 0.3) ** 2}


def conditional(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """``quick``, refusing a knob its condition leaves out: ``momentum`` exists only with sgd,
    ``units_3`` only with 3 or more ``layers``."""
    expected = {"momentum": params["optimizer"] == "sgd", "units_3": params["layers"] >= 3}
    for knob, active in expected.items():
        if (knob in params) != active:
            raise AssertionError(f"conditional: {knob} must be {'given' if active else 'absent'}, but got {params}")
    return quick(params, ctx)


def seeded(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """``quick``'s value plus 0.01 per seed (so seeds differ), after ``sleep`` s; logs each run."""
    time.sleep(float(params.get("sleep", 0.0)))
    value = 1 - (float(params["x"]) - 0.3) ** 2 + 0.01 * ctx.seed
    for step in (1, 2):  # a learning curve that ends at the value
        ctx.report(step, {"val_accuracy": value - 0.1 * (2 - step)})
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.number} {ctx.seed}\n")
    return {"val_accuracy": value, "val_loss": 1 - value}


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


def bootstrap_logreg(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """A logistic regression on a bootstrap resample of the training rows drawn with the trial's
    seed (so repeats differ, and repeat i resamples the same rows in every ablation arm)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    time.sleep(float(params.get("sleep", 0.0)))
    X_tr, y_tr, X_va, y_va = ctx.load_data()
    rows = np.random.default_rng(ctx.seed).integers(0, len(y_tr), len(y_tr))
    model = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=500).fit(X_tr[rows], y_tr[rows])
    out = {"val_accuracy": float(model.score(X_va, y_va))}
    if ctx.score_test:
        X_te, y_te = ctx.load_test()
        out["test_accuracy"] = float(model.score(X_te, y_te))
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.out_dir.name} {ctx.seed}\n")
    return out


def make_feature_groups_csv(path: Any, seed: int, n: int = 3000) -> None:
    """Synthetic data: the class depends on the ``sig_*`` columns only; ``noise_*`` and ``junk_*``
    are pure noise. Dropping the signal group must hurt; dropping a noise group must not."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sig = rng.normal(size=(n, 3))
    logits = 1.5 * sig[:, 0] - 1.0 * sig[:, 1] + 0.8 * sig[:, 2] + rng.normal(scale=0.5, size=n)
    frame = pd.DataFrame(sig, columns=["sig_a", "sig_b", "sig_c"])
    for prefix in ("noise", "junk"):
        for i in range(3):
            frame[f"{prefix}_{i}"] = rng.normal(size=n)
    frame["label"] = (logits > 0).astype(int)
    frame.to_csv(path, index=False)


def toy3(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Three switches with known effects (a: +0.2, b: +0.1, c: +0.05, a and b together: +0.1
    more), plus noise drawn from the seed and the configuration."""
    import numpy as np

    a, b, c = (float(params[k]) for k in "abc")
    noise = np.random.default_rng([ctx.seed, int(a), int(b), int(c)]).normal(scale=0.01)
    value = 0.5 + 0.2 * a + 0.1 * b + 0.05 * c + 0.1 * a * b + noise
    out = {"val_accuracy": value}
    if ctx.score_test:
        out["test_accuracy"] = value - 0.01
    return out


def bi_objective(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Two objectives to minimize with a known Pareto front: f1 = x + d, f2 = 1 - sqrt(x) + d for
    x in [0, 1] and a gap d >= 0. The front is d = 0, the curve f2 = 1 - sqrt(f1) for f1 in [0, 1]:
    there f1 rises as f2 falls, and d only adds to both. ``cost`` (= x) is a side metric to constrain.
    ``sleep``: seconds each trial takes.
    """
    import math

    time.sleep(float(params.get("sleep", 0.0)))
    x, d = float(params["x"]), float(params["d"])
    return {"f1": x + d, "f2": 1 - math.sqrt(x) + d, "cost": x}


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


def bad_start(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """5 steps of ``sleep``/5 s each. x >= 0.5 reports 1.0 at every step, x < 0.5 reports 0.0:
    a bad early value any median of good trials prunes at step 1. Logs each end (complete or
    pruned) to ends.log, to prove no trial ends twice."""
    good = float(params["x"]) >= 0.5
    ends = ctx.out_dir.parent.parent / "ends.log"
    for step in range(1, 6):
        time.sleep(float(params.get("sleep", 0.0)) / 5)
        try:
            ctx.report(step, {"val_accuracy": 1.0 if good else 0.0})
        except Exception:  # TrialPruned: record it, then let it go on (as a checkpoint save would)
            with ends.open("a") as f:
                f.write(f"{ctx.number} pruned\n")
            raise
    with ends.open("a") as f:
        f.write(f"{ctx.number} complete\n")
    return {"val_accuracy": float(params["x"]), "val_loss": 1 - float(params["x"])}


_COMPUTING = {"now": 0}
_COMPUTING_LOCK = __import__("threading").Lock()


class OutOfMemoryError(RuntimeError):
    """Named as torch.cuda.OutOfMemoryError is: ablate tells it by its class name."""


def crowded_oom(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """Runs out of (pretend) GPU memory when another trial computes in the same worker process
    while it does, as a large model packed beside others would; fine alone. ``always`` makes it
    run out of memory alone too. Logs each start, to count attempts."""
    with (ctx.out_dir.parent.parent / "starts.log").open("a") as f:
        f.write(f"{ctx.number}\n")
    with _COMPUTING_LOCK:
        _COMPUTING["now"] += 1
    try:
        crowded = False
        for _ in range(6):
            time.sleep(float(params.get("sleep", 0.5)) / 6)
            crowded |= _COMPUTING["now"] > 1
        if crowded or params.get("always"):
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (pretend)")
    finally:
        with _COMPUTING_LOCK:
            _COMPUTING["now"] -= 1
    return {"val_accuracy": 0.5, "alone": 1.0}


# Effects of removing each component of ``known_effects`` (on = 1), in units of min_effect 0.01:
# a matters (3x), b is real but small (0.6x), c and d do nothing.
KNOWN_EFFECTS = {"a": 0.03, "b": 0.006, "c": 0.0, "d": 0.0}


def known_effects(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """An accuracy-like score with known component effects: a seed-shared noise term (what every arm
    of one seed shares: the pairing removes it) and a small per-arm noise, both drawn from the seed.
    Logs each run, to prove none runs twice; ``sleep`` slows it."""
    import numpy as np

    time.sleep(float(params.get("sleep", 0.0)))
    on = {k: float(params[k]) for k in KNOWN_EFFECTS}
    shared = np.random.default_rng(ctx.seed).normal(scale=0.02)
    own = np.random.default_rng([ctx.seed, *(int(v) for v in on.values())]).normal(scale=0.003)
    value = 0.8 + sum(effect * on[k] for k, effect in KNOWN_EFFECTS.items()) + shared + own
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.out_dir.name} {ctx.seed}\n")
    out = {"val_accuracy": value}
    if ctx.score_test:
        out["test_accuracy"] = value - 0.005
    return out


def hangs(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """``mode: hang`` blocks in one native call for ``hang_s`` (``time.sleep`` in C: an exception
    raised in its thread waits for it to return), as a deadlocked collective would; a mode that
    starts with ``slow`` takes 10x ``sleep`` (a straggler); the others take ``sleep`` s over 3 steps. Logs each
    start to starts.log and each finished execution to executions.log."""
    root = ctx.out_dir.parent.parent
    with (root / "starts.log").open("a") as f:
        f.write(f"{ctx.number} {params['mode']}\n")
    if params["mode"] == "hang":
        time.sleep(float(params.get("hang_s", 300.0)))
    per_step = float(params.get("sleep", 0.0)) / 3 * (10 if params["mode"].startswith("slow") else 1)
    for step in range(1, 4):
        time.sleep(per_step)
        ctx.report(step, {"val_accuracy": step / 3})
    with (root / "executions.log").open("a") as f:
        f.write(f"{ctx.number} {params['mode']}\n")
    return {"val_accuracy": 1.0, "val_loss": 0.0}


def across_effects(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """``known_effects`` on several data sets: each data set its own level (from its number of
    input columns), component ``a`` worth 0.03 on every one, ``b`` worth nothing on any."""
    import numpy as np

    level = 0.6 + (ctx.n_features % 7) * 0.04
    on = {k: float(params[k]) for k in ("a", "b")}
    shared = np.random.default_rng([ctx.seed, ctx.n_features]).normal(scale=0.02)
    own = np.random.default_rng([ctx.seed, ctx.n_features, *(int(v) for v in on.values())]).normal(scale=0.003)
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.out_dir.parent.name}/{ctx.out_dir.name} {ctx.seed}\n")
    return {"val_accuracy": level + 0.03 * on["a"] + shared + own}


def retune_effects(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """A known truth for re-tuned ablations: ``norm`` moves the best learning rate (0.03 with it,
    0.003 without) and not the best score; ``aug`` is worth 0.03 whatever the rate. A rate a
    decade off its best costs 0.06."""
    import math

    import numpy as np

    time.sleep(float(params.get("sleep", 0.0)))
    best_lr = 0.03 if params["norm"] else 0.003
    off = math.log10(float(params["lr"]) / best_lr)
    shared = np.random.default_rng(ctx.seed).normal(scale=0.01)  # the seed's luck, paired across arms
    own = np.random.default_rng([ctx.seed, int(params["norm"]), int(params["aug"]), 100 + round(off * 10)]).normal(
        scale=0.002
    )
    with (ctx.out_dir.parent.parent / "executions.log").open("a") as f:
        f.write(f"{ctx.out_dir.parent.name}/{ctx.out_dir.name} {ctx.seed}\n")
    return {"val_accuracy": 0.85 - 0.06 * off**2 + 0.03 * int(params["aug"]) + shared + own}
