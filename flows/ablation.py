"""ablation_flow: an ablation's arms x seeds as trial task runs on the Dask cluster.

The design is re-derived from the results after each round (an ablation path decides its next
step from the last round's means; an adaptive design gives the next round of seeds to the arms
still inconclusive), and every trial still missing runs through the same asynchronous loop,
retries, timeout and content-addressed cache as the search. The design and the runs so far are
recorded after every round, so ``ablate status`` shows the verdicts while the ablation runs.
"""

from __future__ import annotations

import time

from prefect.runtime import flow_run

from ablate._atomic import staged_dir
from ablate.ablation.design import PlanContext
from ablate.ablation.runs import AblationRun, metric_returned, record_ablation
from ablate.ablation.schedule import describe_look, next_trials
from ablate.errors import MissingObjectiveError
from ablate.runtime.outcomes import notes_of
from ablate.runtime.progress import Progress
from ablate.trial.contract import ERROR
from ablate.vocab import states
from ablate.vocab.facts import AblationFacts, Tally
from ablate.vocab.objectives import check_objective_known
from ablate.vocab.trial import TrialResult, TrialSpec
from flows.called import called_flow
from flows.trials import Outcome, Watch, run_trials
from tasks.trial import retry_delays, run_trial


def _name_ablation_run() -> str:
    p = flow_run.parameters
    on = f" on {p['run'].dataset}" if p["run"].dataset else ""
    return f"{p['run'].study} ablation{on} ({len(p['seeds'])} seeds)"


@called_flow(name="ablation", flow_run_name=_name_ablation_run)
def ablation_flow(
    run: AblationRun,
    ctx: PlanContext,
    seeds: list[int],
    metric: str,
    workers: int,
    capacity: int,
    scheduler: str,
    cache_dir: str,
    retries: int,
    retry_delay_s: float,
    baseline_from: str,
    resources: dict[str, float] | None = None,
    source: str = "",
    watch: Watch | None = None,
) -> AblationFacts:
    """Run the trials the ablation lacks, round after round; ``source``: the params file, named
    where a result shows that it misnames the study's metric."""
    trial_task = run_trial.with_options(retries=retries, retry_delay_seconds=retry_delays(retry_delay_s, retries))
    tally = Tally()
    attempted: set[str] = set()
    schedule = next_trials(run, ctx, seeds, metric, attempted)
    progress = Progress(len(schedule.todo), metric, ctx.direction, workers, show_best=False)
    start = time.monotonic()

    def on_done(spec: TrialSpec, outcome: Outcome, running: int) -> None:
        print(_record(spec, outcome, tally, progress, metric, running), flush=True)
        if isinstance(outcome, MissingObjectiveError) and not metric_returned(run.ablation_dir, metric):
            # A misspelt study.metric: stop at this first result (the trials in flight are cancelled).
            check_objective_known(outcome, spec.number, set(), source)

    while schedule.todo:
        attempted |= {s.folder for s in schedule.todo}
        run_trials(trial_task, iter(schedule.todo), capacity, cache_dir, scheduler, on_done, resources, watch)
        record_ablation(run, ctx, schedule.arms, seeds, baseline_from, schedule.counts)
        schedule = next_trials(run, ctx, seeds, metric, attempted)
        if ctx.cfg.adaptive:
            print(describe_look(schedule, schedule.look if schedule.todo else None), flush=True)
        progress.total += len(schedule.todo)  # a path's next round, or the next round of seeds
    record_ablation(run, ctx, schedule.arms, seeds, baseline_from, schedule.counts)
    return AblationFacts(
        executed=tally.executed,
        cached=tally.cached,
        failed=tally.failed,
        arms=len(schedule.arms),
        seeds=schedule.look,
        wall_s=round(time.monotonic() - start, 3),
    )


def _record(spec: TrialSpec, outcome: Outcome, tally: Tally, progress: Progress, metric: str, running: int) -> str:
    if isinstance(outcome, TrialResult):
        if outcome.cached:
            tally.cached += 1
        else:
            tally.executed += 1
        value = outcome.metrics.get(metric)
        note = "; ".join(filter(None, ["cached" if outcome.cached else "", *notes_of(outcome)]))
        return progress.finished(spec.label, states.COMPLETE, value, outcome.duration_s, running, note)
    tally.executed += 1
    tally.failed += 1
    message = f"{type(outcome).__name__}: {outcome}".strip()
    if not (spec.out_dir / ERROR).exists():  # the worker died before the trial could say why
        with staged_dir(spec.out_dir) as tmp:
            (tmp / ERROR).write_text(message + "\n")
    return progress.finished(spec.label, states.FAIL, None, None, running, message.splitlines()[0][:160])
