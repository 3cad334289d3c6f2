"""What crosses from the driver to a trial's worker and back: the prepared data set's record,
the link a trial reports its steps through, one trial's spec, and its result (what
``result.json`` holds). Small frozen records that pickle and print; the trial contract that
runs them is :mod:`ablate.trial.contract`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ablate.vocab.provenance import Provenance, TrialProvenance


@dataclass(frozen=True)
class PreparedData:
    """Where a prepared data set lies and what it is; small, so it travels in task inputs."""

    path: str
    data_hash: str
    task: str  # classification | regression
    n_features: int
    n_classes: int  # 0 for regression
    shapes: dict[str, list[int]]


@dataclass(frozen=True)
class PruningLink:
    """What a worker needs to report to the study; small and picklable."""

    # The study's journal file (absolute), reachable from the worker, or its database URL
    # (ablate.vocab.url.StorageURL: it travels with its password and shows without it).
    storage: Any
    study: str
    trial_id: int  # Optuna's storage id of the trial (not its number)
    metric: str
    pruner: str
    options: dict[str, Any] = field(default_factory=dict)


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
    provenance: Provenance | None = None  # the run's: recorded with the result, not part of the key
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
    provenance: TrialProvenance | None = None  # None: a result made without running the trial code
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
        stored["provenance"] = self.provenance.to_dict() if self.provenance is not None else {}
        return json.dumps(stored, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialResult:
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k not in _DRIVER_NOTES}
        fields["provenance"] = TrialProvenance.from_dict(d["provenance"]) if d.get("provenance") else None
        return cls(**fields)


_DRIVER_NOTES = ("moved", "straggler")


def hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
