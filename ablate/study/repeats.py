"""search.seeds: one configuration run over R seeds, told to the optimizer as their mean.

One Optuna trial is R trial runs, the same :class:`~ablate.trial.contract.TrialSpec` but for its
seed (``study.seed + i``), folder (``trials/<n>.s<seed>/``) and name (``trial 7 seed 2``). Each
run is an ordinary trial run: its own task run, retries, timeout and cache entry (the seed is part
of the cache key), so a resumed study reruns only the seeds it lacks. Once all R have ended the
trial is told: COMPLETE with the mean of each metric and each objective's standard deviation beside
it (``<metric>_std``), or FAIL when any seed failed (the mean of the others would flatter it).
With R = 1 nothing changes: the run is the trial, as it always was.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ablate.errors import InvalidMetricError
from ablate.trial.contract import check_metrics, seed_folder
from ablate.vocab.trial import TrialResult, TrialSpec

Outcome = TrialResult | BaseException


def seed_runs(spec: TrialSpec, n_seeds: int) -> list[TrialSpec]:
    """The runs of one trial: ``spec`` itself when ``n_seeds`` is 1, else one per seed."""
    if n_seeds == 1:
        return [spec]
    seeds = seed_list(spec.seed, n_seeds)
    return [
        replace(
            spec, seed=s, folder=seed_folder(spec.number, s), name=f"{spec.name or f'trial {spec.number}'} seed {s}"
        )
        for s in seeds
    ]


def seed_list(first: int, n_seeds: int) -> list[int]:
    """The seeds of a trial's runs: ``first`` (``study.seed``), ``first + 1``, ..."""
    return [first + i for i in range(n_seeds)]


def std_column(metric: str) -> str:
    """The trials table's column of an objective's spread over seeds."""
    return f"{metric}_std"


@dataclass(frozen=True)
class SeedFailure:
    """The first seed (lowest) of a trial that failed, and why: the whole trial fails with it."""

    seed: int
    error: BaseException
    n_seeds: int

    def message(self) -> str:
        return f"seed {self.seed} (of {self.n_seeds}): {type(self.error).__name__}: {self.error}".strip()


@dataclass(frozen=True)
class SeedMean:
    """A trial whose seeds all completed: the result to tell and what else it records."""

    result: TrialResult  # the mean of each metric, each objective's std beside it
    attrs: dict[str, Any]  # n_seeds and the (first) objective by seed, kept with the trial
    note: str  # for the progress line: "mean of 3 seeds, std 0.0040"


def combine(
    number: int, outcomes: Mapping[int, Outcome], metric: str | Sequence[str], entrypoint: str
) -> SeedMean | SeedFailure:
    """What trial ``number`` is, from the outcome of each seed (by seed); ``metric``: the study's
    objective, or its objectives.

    Each seed's metrics are checked as a single trial's are (a cached result may lack the
    study's metrics): a seed that breaks the contract fails the trial like a seed that raised.
    """
    objectives = (metric,) if isinstance(metric, str) else tuple(metric)
    metric = objectives[0]
    for seed in sorted(outcomes):
        outcome = outcomes[seed]
        if isinstance(outcome, TrialResult):
            try:
                check_metrics(outcome.metrics, number, entrypoint, objectives)
            except InvalidMetricError as err:
                outcome = err
        if isinstance(outcome, BaseException):
            return SeedFailure(seed, outcome, len(outcomes))
    results: dict[int, TrialResult] = {s: outcomes[s] for s in sorted(outcomes)}  # type: ignore[misc]
    by_seed = {str(s): r.metrics[metric] for s, r in results.items()}  # JSON keys: strings
    attrs = {"n_seeds": len(results), "seed_values": by_seed}
    mean = mean_result(number, list(results.values()), objectives)
    note = f"mean of {len(results)} seeds, std {mean.metrics[std_column(metric)]:.4f}"
    return SeedMean(mean, attrs, note + (", cached" if mean.cached else ""))


def mean_result(number: int, results: list[TrialResult], objectives: Sequence[str]) -> TrialResult:
    """One result for a trial's seeds: each metric they all returned, averaged, the objectives
    first, each with its sample standard deviation after it; durations summed (the compute it
    took); cached only if every seed was."""
    names = [m for m in results[0].metrics if all(m in r.metrics for r in results)]
    means = {m: statistics.fmean(r.metrics[m] for r in results) for m in names}
    ordered = {}
    for metric in (m for m in objectives if m in means):
        ordered[metric] = means.pop(metric)
        ordered[std_column(metric)] = statistics.stdev(r.metrics[metric] for r in results)
    first = results[0]
    return replace(
        first,
        number=number,
        metrics={**ordered, **means},
        duration_s=round(sum(r.duration_s for r in results), 4),
        worker=_joined(r.worker for r in results),
        host=_joined(r.host for r in results),
        worker_address=_joined(r.worker_address for r in results),
        job_id=_joined(r.job_id for r in results),
        cached=all(r.cached for r in results),
        cache_key="",  # one per seed: in each run's folder (trials/<n>.s<seed>/result.json)
        interrupted=sum(r.interrupted for r in results),
    )


def _joined(values: Any) -> str:
    return ", ".join(dict.fromkeys(v for v in values if v))


@dataclass
class SeedRuns:
    """The runs of the trials in flight, gathered until each trial has all its seeds."""

    n_seeds: int
    _ended: dict[int, dict[int, Outcome]] = field(default_factory=dict)

    def add(self, spec: TrialSpec, outcome: Outcome) -> dict[int, Outcome] | None:
        """Record one run's end; returns the trial's outcomes by seed once it has them all."""
        ended = self._ended.setdefault(spec.number, {})
        ended[spec.seed] = outcome
        if len(ended) < self.n_seeds:
            return None
        return self._ended.pop(spec.number)
