"""The trial contract: ``train(params: dict, ctx: TrialContext) -> dict[str, float]``.

A trial function is any module-level function of that shape, importable where it runs. It knows
nothing of Optuna, Prefect or DVC: it gets its parameters, a seed, its data through
``ctx.load_data()`` and an output folder, reports per-step progress through ``ctx.report`` and
returns its metrics by name. :func:`execute_trial` runs one and writes its outputs to
``<trials_dir>/<number>/`` through a temporary folder and a rename, so a retried or killed trial
never leaves a half-written folder. The spec a worker gets and the result it returns are
ground-floor records (:mod:`ablate.vocab.trial`); here are the files of a trial's folder and the
check of what a trial function returned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ablate.errors import InvalidMetricError, MissingObjectiveError
from ablate.vocab.columns import FIXED_COLUMNS
from ablate.vocab.trial import TrialResult

RESULT = "result.json"


ERROR = "error.txt"


PRUNED = "pruned.json"  # a pruned trial's folder: its step, last metrics and params


HISTORY = "history.jsonl"  # every ctx.report of a trial: one JSON object a step


# A trial the run stopped as hung (past execution.trial_timeout_s and its grace) and whose worker it
# replaced: params, the message, how long it held its worker. Written by the driver before it acts,
# so a run killed while the worker is replaced does not run the trial again when it resumes.
TIMED_OUT = "timeout.json"


def seed_folder(base: int | str, seed: int) -> str:
    """The folder of one seed's run of a trial (``7.s2``) or of an ablation arm (``no-dropout.s2``)."""
    return f"{base}.s{seed}"


def check_metrics(metrics: Any, number: int, entrypoint: str, metric: str | Sequence[str] = "") -> dict[str, float]:
    """What a trial function returned, checked against the contract.

    Args:
        metrics: the return value; must be a non-empty dict of finite numbers by name, no name
            a fixed column of the trials table.
        number: the trial's number, for the message.
        entrypoint: the trial function, for the message.
        metric: the study's objective, or its objectives, which must be among them ("": not
            checked).

    Returns:
        The metrics as floats.

    Raises:
        InvalidMetricError: what is wrong, e.g. ``trial 3: study.metric 'val_accuracy' must be
            a finite number, but got inf``. Deterministic, so never retried.
    """
    if not isinstance(metrics, dict) or not metrics:
        raise InvalidMetricError(
            f"trial {number}: {entrypoint} must return a non-empty dict of metrics, but got {metrics!r}"[:300]
        )
    out = {}
    for name, value in metrics.items():
        try:
            out[str(name)] = float(value)
        except (TypeError, ValueError):
            raise InvalidMetricError(
                f"trial {number}: metric {name!r} must be a number, but got {value!r}"[:300]
            ) from None
    shadowing = [name for name in out if name in FIXED_COLUMNS]
    if shadowing:
        raise InvalidMetricError(
            f"trial {number}: metric names must not be fixed columns of the trials table "
            f"({', '.join(FIXED_COLUMNS)}), but got {shadowing[0]!r}"
        )
    objectives = [metric] if isinstance(metric, str) and metric else list(metric)
    for name in objectives:
        if name not in out:
            raise MissingObjectiveError(
                f"trial {number}: study.metric {name!r} must be among the returned metrics ({', '.join(out)}), "
                "but got none",
                name,
                tuple(out),
            )
    for name in sorted(out, key=lambda n: n not in objectives):  # the objectives first
        if not math.isfinite(out[name]):
            which = "study.metric" if name in objectives else "metric"
            raise InvalidMetricError(f"trial {number}: {which} {name!r} must be a finite number, but got {out[name]}")
    return out


def read_pruned(trial_dir: Path) -> dict[str, Any] | None:
    """A pruned trial's marker (step, metrics, params), or None."""
    try:
        return json.loads((trial_dir / PRUNED).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_stopped(trial_dir: Path) -> dict[str, Any] | None:
    """The record of a trial the run stopped as hung (:data:`TIMED_OUT`): params, reason,
    message, held_s; or None."""
    try:
        return json.loads((trial_dir / TIMED_OUT).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_result(trial_dir: Path) -> TrialResult | None:
    try:
        return TrialResult.from_dict(json.loads((trial_dir / RESULT).read_text()))
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
