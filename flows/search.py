"""search_flow: an asynchronous ask/tell loop over trial task runs on a Dask cluster.

No batch barrier: whenever one trial finishes it is told to Optuna and the next is asked and
submitted, keeping ``workers * (1 + queue_ahead)`` trials in flight so a free worker never waits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prefect import flow, get_run_logger

from ablate.config.schema import Params
from ablate.data import PreparedData
from ablate.errors import ConfigError, TrialPruned
from ablate.runtime.progress import Progress
from ablate.study.facts import SearchFacts
from ablate.study.session import StudySession
from ablate.trial.contract import TrialResult, TrialSpec
from ablate.trial.entrypoint import code_version
from ablate.trial.failures import classify
from flows.trials import Outcome, run_trials
from tasks.trial import retry_delays, run_trial


@flow(name="search")
def search_flow(
    params: Params,
    prepared: PreparedData,
    workers: int,
    capacity: int,
    scheduler: str,
    provenance: dict[str, Any],
    resources: dict[str, float] | None = None,
) -> SearchFacts:
    """Ask, run and tell until the study has its trials: ``capacity`` in flight on the Dask
    scheduler at ``scheduler``, each asking ``resources`` of its worker (a share of its GPU)."""
    logger = get_run_logger()
    session = StudySession(params, prepared, code_version(params.trial.entrypoint), provenance)
    rec = session.recover()
    if rec.recovered or rec.requeued:
        note = f"resuming: {rec.recovered} trial(s) recovered from their results, {rec.requeued} re-queued"
        print(note, flush=True)
        logger.warning(note)
    ex = params.execution
    trial_task = run_trial.with_options(
        retries=ex.retries, retry_delay_seconds=retry_delays(ex.retry_delay_s, ex.retries)
    )
    study = params.study
    progress = Progress(
        session.remaining(),
        study.metric,
        study.direction,
        workers,
        show_best=not study.multi_objective,
        other_metrics=study.other_metrics,
        constraints=study.constraints,
    )
    counts = {"executed": 0, "cached": 0, "recovered": rec.recovered, "requeued": rec.requeued}

    stop: list[ConfigError] = []  # a mistake in the params that only a trial's result reveals

    def asked() -> Iterator[TrialSpec]:
        while session.can_ask() and not stop:
            yield session.ask()

    def on_done(spec: TrialSpec, outcome: Outcome, running: int) -> None:
        try:
            print(_tell(session, spec, outcome, counts, progress, running), flush=True)
        except ConfigError as err:  # ask no more; the trials in flight end (and are cached) first
            stop.append(err)

    start = time.monotonic()
    run_trials(trial_task, asked(), capacity, str(params.cache_dir), scheduler, on_done, resources)
    if stop:
        raise stop[0]
    return SearchFacts(**counts, wall_s=round(time.monotonic() - start, 3))


def _tell(
    session: StudySession, spec: TrialSpec, outcome: Outcome, counts: dict, progress: Progress, running: int
) -> str:
    """Record one finished trial in the study and return its progress line."""
    label = f"trial {spec.number}"
    if isinstance(outcome, TrialResult):
        counts["cached" if outcome.cached else "executed"] += 1
        error = session.tell_result(spec.number, outcome)
        if error is None:
            value = outcome.metrics[session.params.study.metric]
            note = "cached" if outcome.cached else ""
            return progress.finished(label, "COMPLETE", value, outcome.duration_s, running, note, outcome.metrics)
        return progress.finished(label, "FAIL", None, outcome.duration_s, running, error)
    counts["executed"] += 1
    if isinstance(outcome, TrialPruned):
        session.tell_pruned(spec.number, outcome)
        return progress.finished(label, "PRUNED", None, None, running, str(outcome))
    reason = classify(outcome).reason
    message = f"{type(outcome).__name__}: {outcome}".strip()
    session.tell_failure(spec.number, message, reason)
    return progress.finished(label, "FAIL", None, None, running, message.splitlines()[0][:160])
