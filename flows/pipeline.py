"""study_flow: prepare -> search -> sync -> analyze, one study from its params to its report.

Each step is also a command of its own (``ablate prepare|search|analyze``), which is what the
stages of ``dvc.yaml`` run: the same flow, with ``steps`` naming one step and no sync (DVC
itself records the outputs of ``dvc repro``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prefect.runtime import flow_run
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

from ablate.data import load_prepared_info
from ablate.errors import NoTrialCompletedError
from ablate.report.outcome import StudyOutcome
from ablate.runtime.provenance import collect_provenance
from ablate.runtime.trial_cluster import TrialCluster, study_cluster_plan
from ablate.study.fingerprint import guard_study
from ablate.study.last_run import read_last_run, reported_run, write_last_run
from ablate.study.lock import StudyLock
from ablate.study.session import describe_search, search_line
from ablate.study.storage import needs_trials, one_storage_per_run
from ablate.vocab.facts import AblationFacts, BestTrial, RunFacts, SearchFacts, SyncResult
from ablate.vocab.params import Params
from ablate.vocab.provenance import Provenance
from ablate.vocab.steps import ABLATION, PREPARE, SEARCH, STEPS
from ablate.vocab.trial import PreparedData
from flows.called import called_flow
from flows.recorded import ended, wait_until_recorded
from flows.search import search_flow
from flows.trials import Watch, preloading, trial_task_runner
from tasks.analyze import IMPORTS as REPORT_IMPORTS
from tasks.analyze import analyze
from tasks.prepare import prepare
from tasks.sync import sync


def run_name(study: str, when: datetime) -> str:
    """A flow run's name in the UI: the study and when it was to start (UTC)."""
    return f"{study} {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _name_study_run() -> str:
    return run_name(flow_run.parameters["params"].study.name, flow_run.scheduled_start_time)


@called_flow(name="study", flow_run_name=_name_study_run)
def study_flow(params: Params, steps: tuple[str, ...] = STEPS, restart: bool = False) -> StudyOutcome:
    """Run ``steps`` of one study and return what the run did (and, with ``analyze``, the study as
    its report found it and the report's files).

    ``restart``: when the study's inputs changed, set the old study aside and start afresh.
    """
    start = time.monotonic()
    if "ablation" in steps and params.ablation is not None and params.ablation.retune is not None:
        from ablate.ablation.retune import budget_line, check_arms

        check_arms(params)  # as `ablate run` checks it (flows.cli.validate): also for a flow called from Python
        print(budget_line(params), flush=True)  # what re-tuning costs, before anything runs
    # The report's imports are made while the trials run, where a report follows them.
    preload = REPORT_IMPORTS if "analyze" in steps else ()
    with StudyLock(params.study_dir), one_storage_per_run(), trial_cluster(params) as cluster, preloading(preload):
        if "search" in steps and params.search is not None and not cluster.starting and needs_trials(params):
            cluster.start()  # in the background, while the data is prepared (the command may have begun it)
        # The study on each of data.sources by name, or on its one data.source (named "").
        views = params.datasets or {"": params}
        if len(views) > 1 and params.ablation is not None and {"ablation", "analyze"} <= set(steps):
            from ablate.ablation._hierarchical import build_model_meanwhile

            build_model_meanwhile()  # the analysis across the data sets fits a Stan model
        prepared_of = {
            name: _prepare(view, name) if "prepare" in steps else load_prepared_info(view.prepared_dir)
            for name, view in views.items()
        }
        prepared = next(iter(prepared_of.values()))  # a search's one data set
        if "search" in steps and params.search is not None:
            # What the trials run with: versions, git commit, the sampler auto chose, the pruner.
            provenance = collect_provenance().with_settings(describe_search(params.search, params.study))
            if cluster.plan.trial_resources:  # packed trials are not reproducible to the bit
                provenance = provenance.with_settings({"trials_per_gpu": params.execution.trials_per_gpu})
            run = RunFacts(search=run_search(params, prepared, cluster, provenance, restart), provenance=provenance)
            run = write_last_run(params, run)  # stamped with the time the search ended
        else:
            run = read_last_run(params)  # what the last search did, for the report
        if "ablation" in steps and params.ablation is not None:
            done = [run_ablation(view, prepared_of[name], cluster) for name, view in views.items()]
            if params.ablation.retune is not None:
                done.append(run_retuned(params, prepared, cluster))
            run = run.replace(ablation=AblationFacts.combined(done))
        cluster.close()  # the trials are done; sync and analyze need no workers
        sync_error = None
        if "sync" in steps:
            state = sync(params, (PREPARE, SEARCH, ABLATION), return_state=True)
            result = state.result(raise_on_failure=False)
            sync_error = result if isinstance(result, BaseException) else None
            run = run.replace(sync=SyncResult("failed", str(result)) if sync_error else result)
        if "analyze" not in steps:
            return StudyOutcome(run)
        if set(steps) == {"analyze"}:  # a report of the last run, whose facts its run.json keeps
            run = reported_run(params, run)
        else:
            run = run.replace(wall_s=round(time.monotonic() - start, 3))
        outcome = analyze(params, run)
        if "sync" in steps:
            # After a failed push, still record the report locally (dvc status stays clean); the
            # next successful run pushes everything that is missing.
            sync(params, ("analyze",), push=sync_error is None)
    if sync_error is not None:
        raise sync_error
    study = outcome.study
    if params.search is not None and study is not None and study.complete == 0:
        raise NoTrialCompletedError(
            f"no trial completed: {study.failed} of {params.search.n_trials} trials failed; "
            f"see {params.report_dir / 'trials.csv'} for each error"
        )
    return outcome


def _prepare(params: Params, name: str) -> PreparedData:
    """The prepare task of one data set (``name``: "" for a study's one data set)."""
    named = prepare.with_options(task_run_name=f"prepare {name}" if name else "prepare")
    state = named(params.data, params.study.seed, str(params.prepared_dir), return_state=True)
    ended(state.state_details.task_run_id)  # the search subflow starts once the server has it
    return state.result()


@contextlib.contextmanager
def without_heartbeats() -> Iterator[None]:
    """Flow runs started inside send no heartbeats, unless ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``
    is set in the environment.

    Prefect 3.8's heartbeat thread sleeps in 1 s steps and every flow run joins it as it ends:
    about 1 s per flow run (a study with a search subflow paid 2 s; a rerun with nothing to do
    took 1.1 s, 0.8 s of it that join). Heartbeats only serve an automation that marks silent
    flow runs crashed; whoever has one sets the variable and gets them back.
    """
    # Already off (the command's, around the study flow): new settings cost 0.1 s a time.
    if os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY") or get_current_settings().flows.heartbeat_frequency is None:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def trial_cluster(params: Params) -> TrialCluster:
    """The study's Dask cluster: the one the command began for this run, else one not started yet
    (see TrialCluster)."""
    plan = study_cluster_plan(params)
    begun = TrialCluster.adopt(plan)
    if begun is not None:
        return begun
    if plan.warning:
        print(plan.warning, flush=True)
    return TrialCluster(plan, report=lambda line: print(line, flush=True))


def run_ablation(params: Params, prepared: PreparedData, cluster: TrialCluster) -> AblationFacts:
    """The ablation step: plan the arms (from the search's best trial where the baseline is
    ``best``), then run the (arm, seed) trials it lacks; start a cluster only when some are missing."""
    # Imported here, not with this module: the ablation's statistics (scipy.stats, statsmodels:
    # ~0.6 s) are not on the way from `ablate run` of a search to its first trial.
    from ablate.ablation.plan import plan_ablation

    return _run_plan(params, plan_ablation(params, prepared, collect_provenance()), cluster)


def _run_plan(params: Params, plan: Any, cluster: TrialCluster) -> AblationFacts:
    """Run the (arm, seed) trials ``plan`` (an AblationPlan) lacks."""
    from ablate.ablation.runs import record_ablation
    from ablate.ablation.schedule import next_trials
    from flows.ablation import ablation_flow

    on = f" on data set {params.dataset}" if params.dataset else ""
    on += " re-tuned" if plan.ctx.tuned is not None else ""
    schedule = next_trials(plan.run, plan.ctx, plan.seeds, params.study.metric, set())
    for note in dict.fromkeys(plan.ctx.notes):  # the plan's, e.g. a component that changes nothing gets no arm
        print(f"ablation{on}: {note}", flush=True)
    cfg = params.ablation_section
    arms, todo = schedule.arms, schedule.todo
    if not todo:
        record_ablation(plan.run, plan.ctx, arms, plan.seeds, plan.baseline_from, schedule.counts)
        print(f"ablation{on}: {len(arms)} arms x {cfg.describe_seeds()} all finished; nothing to run", flush=True)
        return AblationFacts(arms=len(arms), seeds=schedule.look)
    print(
        f"ablation: study {params.study.name}{on}, policy {cfg.policy}, {len(arms)} arms x {cfg.describe_seeds()} "
        f"({len(todo)} trials to run; baseline: {plan.baseline_from}) on a {cluster.plan.describe()}",
        flush=True,
    )
    ex = params.execution
    workers = cluster.plan.workers
    capacity = cluster.plan.in_flight(ex.queue_ahead)
    wait_until_recorded()
    with without_heartbeats():  # the study flow's own (when on) cover this process
        return ablation_flow.with_options(task_runner=trial_task_runner(capacity))(
            plan.run,
            plan.ctx,
            plan.seeds,
            params.study.metric,
            workers,
            capacity,
            cluster.address(),
            str(params.cache_dir),
            ex.retries,
            ex.retry_delay_s,
            plan.baseline_from,
            cluster.plan.trial_resources,
            params.source,
            Watch.of(ex),
        )


def run_retuned(params: Params, prepared: PreparedData, cluster: TrialCluster) -> AblationFacts:
    """``ablation.retune``: every arm's own search (the same budget, sampler and seed), then the
    ablation over the paired seeds with each arm's best configuration."""
    from ablate.ablation.plan import plan_ablation
    from ablate.ablation.retune import budget_line, planned_arms, tuning_view
    from ablate.ablation.runs import plan_arms
    from ablate.study.storage import load_study
    from ablate.study.table import best_of

    base = collect_provenance()  # versions and git state: two git commands, asked once for every search
    arms = plan_arms(plan_ablation(params, prepared, base).ctx, {})
    views = [(arm, tuning_view(params, arm)) for arm in arms]  # every refusal before a search runs
    if len(arms) != planned_arms(params):  # said at the run's start with the arms the policy planned
        print(budget_line(params, len(arms)), flush=True)
    tuned, searched = {}, []
    for arm, view in views:
        provenance = base.with_settings(describe_search(view.search_section, view.study))
        done = run_search(view, prepared, cluster, provenance, restart=True)  # a changed arm starts afresh
        searched.append(done)
        best = BestTrial.from_dict(best_of(load_study(view), view, first=view.search_section.n_trials))  # its budget
        if best is None:
            raise NoTrialCompletedError(
                f"re-tune: no trial of arm {arm.name}'s search completed; see {view.study_dir / 'trials'}"
            )
        tuned[arm.name] = dict(best.params)
    facts = _run_plan(params, plan_ablation(params, prepared, base, tuned), cluster)
    # The searches' trials and time count as the re-tuned ablation's (what this run did).
    searches = [AblationFacts(executed=d.executed, cached=d.cached, wall_s=d.wall_s) for d in searched]
    return dataclasses.replace(AblationFacts.combined([facts, *searches]), arms=facts.arms, seeds=facts.seeds)


def run_search(
    params: Params, prepared: PreparedData, cluster: TrialCluster, provenance: Provenance, restart: bool = False
) -> SearchFacts:
    """The search step: start a cluster only when the study lacks trials."""
    # Before any trial runs or a cluster starts: the study's trials must all come from one set
    # of inputs (the data, the trial code and options, the space, ...).
    for note in guard_study(params, prepared.data_hash, restart):
        print(note, flush=True)
    if not needs_trials(params):
        print(
            f"search: study {params.study.name} already has its {params.search_section.n_trials} trials; "
            "nothing to run",
            flush=True,
        )
        return SearchFacts()
    print(search_line(params, provenance.settings, cluster.plan.describe()), flush=True)
    capacity = cluster.plan.in_flight(params.execution.queue_ahead)
    wait_until_recorded()
    with without_heartbeats():  # the study flow's own (when on) cover this process
        search = search_flow.with_options(task_runner=trial_task_runner(capacity))
        return search(
            params,
            prepared,
            cluster.plan.workers,
            capacity,
            cluster.address(),
            provenance,
            cluster.plan.trial_resources,
        )
