"""What one run of a study did, as typed frozen records: the facts each step adds (trials
executed, cached, recovered, timings, the DVC sync), from the flows that run the steps to the
report, the command's last lines and ``ablate status``.

:meth:`RunFacts.to_dict` is the flat record ``run.json`` (in the report folder) and
``last_run.json`` (with the study, see :mod:`ablate.study.last_run`) keep, with stable keys for
scripts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ablate.vocab.provenance import Provenance

SyncStatus = Literal["pushed", "committed", "skipped", "failed"]  # committed: no remote to push to


@dataclass(frozen=True)
class SearchFacts:
    """What the search step did in this run."""

    executed: int = 0  # trials computed by their trial function
    cached: int = 0  # trials restored from the content-addressed cache
    recovered: int = 0  # RUNNING trials of a killed run told from their published results
    requeued: int = 0  # RUNNING trials of a killed run put back in the queue
    wall_s: float | None = None  # the search loop's wall time (None: no trial had to run)
    finished_at: str | None = None  # when the search step ended (UTC, ISO 8601): `ablate status` shows it
    timed_out: bool = False  # stopped asking on search.timeout_s, with trials left to run
    enqueued: int = 0  # configurations of search.enqueue this run enqueued


@dataclass(frozen=True)
class AblationFacts:
    """What the ablation step did in this run."""

    executed: int = 0
    cached: int = 0
    failed: int = 0
    arms: int = 0
    wall_s: float | None = None
    seeds: int = 0  # the most seeds any arm has been given (an adaptive design's latest look)

    @classmethod
    def combined(cls, parts: Sequence[AblationFacts]) -> AblationFacts:
        """One ablation run on several data sets, one after another: the trials of all, the arms
        and seeds of the largest, the time of all."""
        if len(parts) == 1:
            return parts[0]
        walls = [p.wall_s for p in parts if p.wall_s is not None]
        return cls(
            executed=sum(p.executed for p in parts),
            cached=sum(p.cached for p in parts),
            failed=sum(p.failed for p in parts),
            arms=max((p.arms for p in parts), default=0),
            wall_s=round(sum(walls), 3) if walls else None,
            seeds=max((p.seeds for p in parts), default=0),
        )


@dataclass(frozen=True)
class SyncResult:
    """What the sync step did: the study's outputs committed to DVC, and pushed to its remote."""

    status: SyncStatus
    reason: str = ""
    stages: list[str] = field(default_factory=list)
    study_hash: str | None = None  # the DVC hash of data/studies/<study>
    remote: str | None = None
    pushed: int = 0  # files uploaded by this sync (0 when the remote had them all)

    def to_dict(self) -> dict[str, Any]:
        if self.status == "failed":  # a sync that raised: what went wrong, as run.json has always kept it
            return {"status": self.status, "reason": self.reason}
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SyncResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def describe(self) -> str:
        """The command's ``dvc:`` line."""
        if self.status == "pushed":
            return f"study {self.study_hash} pushed to remote {self.remote!r}"
        return f"{self.status}{': ' + self.reason if self.reason else ''}"


@dataclass(frozen=True)
class BestTrial:
    """The study's best trial, as its report and ``run.json`` name it."""

    number: int
    metric: str
    value: float
    params: Mapping[str, Any] = field(default_factory=dict)  # the trial's params, options included

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> BestTrial | None:
        """From :func:`ablate.study.table.best_of`'s record (or run.json's ``best``)."""
        if not d:
            return None
        return cls(int(d["number"]), str(d["metric"]), float(d["value"]), dict(d.get("params") or {}))


@dataclass
class Tally:
    """The trials a step has run so far, counted as each one finishes; the step's facts are made
    from it when the step ends."""

    executed: int = 0  # computed by the trial function (failed ones too)
    cached: int = 0  # restored from the content-addressed cache
    failed: int = 0


@dataclass(frozen=True)
class StudyFacts:
    """The study as its report found it after a run: its trials by state against the budget, its
    best trial (one objective) or Pareto front (several), and the ablation's verdicts in one line.
    Read from the report's ``run.json`` record (:meth:`from_record`)."""

    complete: int = 0
    failed: int = 0
    pruned: int = 0
    running: int = 0
    n_trials: int = 0
    best: BestTrial | None = None
    front: Mapping[str, Any] | None = None  # ablate.study.table.front_of: size, trials, objectives
    ablation_summary: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StudyFacts:
        return cls(
            complete=int(record.get("complete", 0)),
            failed=int(record.get("failed", 0)),
            pruned=int(record.get("pruned", 0)),
            running=int(record.get("running", 0)),
            n_trials=int(record.get("n_trials", 0)),
            best=BestTrial.from_dict(record.get("best")),
            front=record.get("front"),
            ablation_summary=record.get("ablation_summary") or None,
        )


@dataclass(frozen=True)
class RunFacts:
    """One run of a study, as its steps recorded it."""

    search: SearchFacts = SearchFacts()
    provenance: Provenance | None = None  # None: the run ran no search, which records it
    ablation: AblationFacts | None = None
    sync: SyncResult | None = None  # None: the run did not sync
    wall_s: float | None = None  # the whole run, up to the report

    def replace(self, **changes: Any) -> RunFacts:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The flat record ``run.json`` and ``last_run.json`` hold (stable keys for scripts)."""
        s = self.search
        out: dict[str, Any] = {
            "executed": s.executed,
            "cached": s.cached,
            "recovered": s.recovered,
            "requeued": s.requeued,
            "provenance": self.provenance.to_dict() if self.provenance is not None else {},
        }
        if s.wall_s is not None:
            out["search_wall_s"] = s.wall_s
        if s.finished_at is not None:
            out["search_finished_at"] = s.finished_at
        if s.timed_out:
            out["search_timed_out"] = True
        if s.enqueued:
            out["enqueued"] = s.enqueued
        if self.ablation is not None:
            a = dataclasses.asdict(self.ablation)
            a["ablation_wall_s"] = a.pop("wall_s")
            out["ablation"] = a
        if self.sync is not None:
            out["sync"] = self.sync.to_dict()
        if self.wall_s is not None:
            out["wall_s"] = self.wall_s
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunFacts:
        ablation = d.get("ablation")
        if isinstance(ablation, Mapping):
            names = {f.name for f in dataclasses.fields(AblationFacts)}
            values = {**ablation, "wall_s": ablation.get("ablation_wall_s")}
            ablation = AblationFacts(**{k: v for k, v in values.items() if k in names})
        return cls(
            search=SearchFacts(
                executed=int(d.get("executed", 0)),
                cached=int(d.get("cached", 0)),
                recovered=int(d.get("recovered", 0)),
                requeued=int(d.get("requeued", 0)),
                wall_s=d.get("search_wall_s"),
                finished_at=d.get("search_finished_at"),
                timed_out=bool(d.get("search_timed_out", False)),
                enqueued=int(d.get("enqueued", 0)),
            ),
            provenance=Provenance.from_dict(d["provenance"]) if d.get("provenance") else None,
            ablation=ablation,
            sync=SyncResult.from_dict(d["sync"]) if isinstance(d.get("sync"), Mapping) else None,
            wall_s=d.get("wall_s"),
        )
