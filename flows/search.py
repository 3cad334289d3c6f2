"""search_flow: an asynchronous ask/tell loop over trial task runs on a Dask cluster.

No batch barrier: whenever one trial finishes it is told to Optuna and the next is asked and
submitted, keeping ``workers * (1 + queue_ahead)`` trials in flight so a free worker never waits.
Configurations of ``search.enqueue`` are asked first; with ``search.seeds`` R > 1 each asked
trial is R runs, told once all have ended; past ``search.timeout_s`` nothing more is asked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prefect import get_run_logger
from prefect.runtime import flow_run

from ablate.errors import ConfigError, MissingObjectiveError, TrialPruned
from ablate.runtime.outcomes import failure_facts, notes_of
from ablate.runtime.progress import Progress
from ablate.study.baselines import enqueue_baselines
from ablate.study.budget import SearchBudget
from ablate.study.repeats import SeedFailure, SeedMean, SeedRuns, combine, seed_runs
from ablate.study.session import StudySession
from ablate.trial.entrypoint import code_version
from ablate.trial.failures import classify
from ablate.vocab import states
from ablate.vocab.facts import SearchFacts, Tally
from ablate.vocab.params import Params
from ablate.vocab.provenance import Provenance
from ablate.vocab.trial import PreparedData, TrialResult, TrialSpec
from flows.called import called_flow
from flows.trials import Outcome, Watch, run_trials
from tasks.trial import retry_delays, run_trial


def _name_search_run() -> str:
    params = flow_run.parameters["params"]
    return f"{params.study.name} search ({params.search_section.n_trials} trials)"


@called_flow(name="search", flow_run_name=_name_search_run)
def search_flow(
    params: Params,
    prepared: PreparedData,
    workers: int,
    capacity: int,
    scheduler: str,
    provenance: Provenance,
    resources: dict[str, float] | None = None,
) -> SearchFacts:
    """Ask, run and tell until the study has its trials: ``capacity`` in flight on the Dask
    scheduler at ``scheduler``, each asking ``resources`` of its worker (a share of its GPU)."""
    logger = get_run_logger()
    budget = SearchBudget(params.search_section.timeout_s)
    session = StudySession(params, prepared, code_version(params.trial.entrypoint), provenance)
    rec = session.recover()
    if rec.recovered or rec.requeued:
        note = f"resuming: {rec.recovered} trial(s) recovered from their results, {rec.requeued} re-queued"
        print(note, flush=True)
        logger.warning(note)
    enqueued = enqueue_baselines(session.study, params.search_section.enqueue, params.search_section.n_trials)
    if enqueued:
        print(f"search: {enqueued} configuration(s) of search.enqueue run first", flush=True)
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
    tally = Tally()
    seeds = SeedRuns(params.search_section.seeds)

    stop: list[ConfigError] = []  # a mistake in the params that only a trial's result reveals

    def asked() -> Iterator[TrialSpec]:
        while session.can_ask() and not stop:
            if not budget.allows_ask():
                print(budget.describe_stop(), flush=True)
                return
            yield from seed_runs(session.ask(), seeds.n_seeds)

    def on_done(spec: TrialSpec, outcome: Outcome, running: int) -> None:
        if isinstance(outcome, TrialResult) and outcome.cached:
            tally.cached += 1
        else:
            tally.executed += 1
        try:
            if seeds.n_seeds > 1:
                ended = seeds.add(spec, outcome)
                if ended is None:  # the trial's other seeds are still running
                    return
                print(_tell_seeds(session, spec.number, ended, progress, running), flush=True)
                return
            print(_tell(session, spec.number, outcome, progress, running), flush=True)
        except ConfigError as err:  # ask no more; the trials in flight end (and are cached) first
            stop.append(err)

    start = time.monotonic()
    run_trials(trial_task, asked(), capacity, str(params.cache_dir), scheduler, on_done, resources, Watch.of(ex))
    if stop:
        raise stop[0]
    wall_s = round(time.monotonic() - start, 3)
    return SearchFacts(
        executed=tally.executed,
        cached=tally.cached,
        recovered=rec.recovered,
        requeued=rec.requeued,
        wall_s=wall_s,
        timed_out=budget.spent,
        enqueued=enqueued,
    )


def _tell_seeds(session: StudySession, number: int, ended: dict, progress: Progress, running: int) -> str:
    """Record a trial whose seeds have all ended: their mean, or the failure of one."""
    p = session.params
    outcome = combine(number, ended, p.study.metrics, p.trial.entrypoint)
    if isinstance(outcome, SeedMean):
        return _tell(session, number, outcome.result, progress, running, outcome.attrs, outcome.note)
    return _tell(session, number, outcome, progress, running, {"n_seeds": outcome.n_seeds})


def _tell(
    session: StudySession,
    number: int,
    outcome: Outcome | SeedFailure,
    progress: Progress,
    running: int,
    attrs: dict | None = None,
    note: str | None = None,
) -> str:
    """Record one finished trial in the study and return its progress line."""
    label = f"trial {number}"
    if isinstance(outcome, TrialResult):
        error = session.tell_result(number, outcome, attrs)
        if error is None:
            value = outcome.metrics[session.params.study.metric]
            note = ("cached" if outcome.cached else "") if note is None else note
            note = "; ".join(filter(None, [note, *notes_of(outcome)]))  # moved, straggler
            return progress.finished(label, states.COMPLETE, value, outcome.duration_s, running, note, outcome.metrics)
        return progress.finished(label, states.FAIL, None, outcome.duration_s, running, error)
    if isinstance(outcome, SeedFailure):
        message = outcome.message()
        session.tell_failure(number, message, classify(outcome.error).reason, attrs=attrs)
        if isinstance(outcome.error, MissingObjectiveError):
            session.check_objective(number, outcome.error)
        return progress.finished(label, states.FAIL, None, None, running, message.splitlines()[0][:160])
    if isinstance(outcome, TrialPruned):
        session.tell_pruned(number, outcome)
        return progress.finished(label, states.PRUNED, None, None, running, str(outcome))
    reason = classify(outcome).reason
    message = f"{type(outcome).__name__}: {outcome}".strip()
    held_s, attrs = failure_facts(outcome)
    session.tell_failure(number, message, reason, held_s, attrs)
    if isinstance(outcome, MissingObjectiveError):  # a misspelt study.metric stops the study here
        session.check_objective(number, outcome)
    return progress.finished(label, states.FAIL, None, None, running, message.splitlines()[0][:160])
