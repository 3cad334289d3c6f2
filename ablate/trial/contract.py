"""The trial contract: ``train(params: dict, ctx: TrialContext) -> dict[str, float]``.

A trial function is any module-level function of that shape, importable where it runs. It knows
nothing of Optuna, Prefect or DVC: it gets its parameters, a seed, its data through
``ctx.load_data()`` and an output folder, reports per-step progress through ``ctx.report`` and
returns its metrics by name. :func:`execute_trial` runs one and writes its outputs to
``<trials_dir>/<number>/`` through a temporary folder and a rename, so a retried or killed trial
never leaves a half-written folder.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ablate.data import PreparedData
from ablate.errors import InvalidMetricError, MissingObjectiveError
from ablate.pruners.link import PruningLink
from ablate.vocab.columns import FIXED_COLUMNS

RESULT = "result.json"


ERROR = "error.txt"


PRUNED = "pruned.json"  # a pruned trial's folder: its step, last metrics and params


HISTORY = "history.jsonl"  # every ctx.report of a trial: one JSON object a step


# A trial the run stopped as hung (past execution.trial_timeout_s and its grace) and whose worker it
# replaced: params, the message, how long it held its worker. Written by the driver before it acts,
# so a run killed while the worker is replaced does not run the trial again when it resumes.
TIMED_OUT = "timeout.json"


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to run one trial; small and picklable (paths, not arrays)."""

    study: str
    number: int
    params: dict[str, Any]
    seed: int
    entrypoint: str
    code_version: str
    data: PreparedData
    trials_dir: str
    timeout_s: float | None = None
    device: str = "auto"
    provenance: dict[str, Any] = field(default_factory=dict)  # recorded, not part of the key
    # The study's objective (a tuple: its objectives): a trial without each as a finite number fails.
    metric: str | tuple[str, ...] = ""
    # Ablation trials: input columns removed (feature-group ablation), scoring on the held-out
    # test split, and a folder and name that say which arm and seed they are.
    drop_features: tuple[str, ...] = ()
    score_test: bool = False
    folder: str | None = None  # under trials_dir; default: the number
    name: str | None = None  # shown in progress lines and as the Prefect task run's name
    # Search trials of a study with a pruner: where ctx.report sends progress. Not part of the
    # cache key: a trial that was not pruned computed exactly what it would have without pruning.
    pruning: PruningLink | None = None
    # DVCLive's monitor_system: the trial's CPU, memory and GPU use as series beside its metrics.
    monitor_system: bool = False

    @property
    def cache_key(self) -> str:
        """Content address of the result: what was run, on what data, with which code."""
        content: dict[str, Any] = {
            "params": self.params,
            "seed": self.seed,
            "data_hash": self.data.data_hash,
            "entrypoint": self.entrypoint,
            "code_version": self.code_version,
        }
        # Only when set, so the keys of plain search trials stay what they always were.
        if self.drop_features:
            content["drop_features"] = sorted(self.drop_features)
        if self.score_test:
            content["score_test"] = True
        return hash_json(content)

    @property
    def out_dir(self) -> Path:
        return Path(self.trials_dir) / (self.folder or str(self.number))

    @property
    def label(self) -> str:
        return self.name or f"trial-{self.number}"


def seed_folder(base: int | str, seed: int) -> str:
    """The folder of one seed's run of a trial (``7.s2``) or of an ablation arm (``no-dropout.s2``)."""
    return f"{base}.s{seed}"


@dataclass(frozen=True)
class TrialResult:
    """What a finished trial returns to the search (and what ``result.json`` holds)."""

    number: int
    metrics: dict[str, float]
    duration_s: float
    worker: str
    cached: bool
    cache_key: str
    params: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    # Where it ran: the host, the Dask worker's address, the batch job (SLURM_JOB_ID, PBS_JOBID).
    host: str = ""
    worker_address: str = ""
    job_id: str = ""
    # Earlier attempts cut off with their worker (a job cancelled, preempted or out of walltime).
    interrupted: int = 0
    # Set by the run's driver, never stored in result.json: why the trial ran on another worker
    # than the one it was first sent to, and why it was flagged as a straggler (empty: neither).
    moved: str = ""
    straggler: str = ""

    def to_json(self) -> str:
        stored = {k: v for k, v in asdict(self).items() if k not in _DRIVER_NOTES}
        return json.dumps(stored, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d and k not in _DRIVER_NOTES})


_DRIVER_NOTES = ("moved", "straggler")


def hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


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
